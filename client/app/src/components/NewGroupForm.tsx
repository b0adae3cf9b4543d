import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError, describeHandleInput } from '../model/describe-error.js';
import { parseHandles } from '../model/handle-input.js';
import type { Navigate } from '../route.js';
import { ErrorText } from './ErrorText.js';

/** Name a group and list its first members (handles separated by commas or spaces). */
export function NewGroupForm({ model, navigate, onBack }: { model: AppModel; navigate: Navigate; onBack: () => void }) {
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = parseHandles(members);
    const typed = members.split(/[\s,]+/).filter((part) => part !== '');
    const wrong = parsed.findIndex((input) => !input.ok);
    const firstWrong = parsed[wrong];
    if (firstWrong && !firstWrong.ok) {
      setError(describeHandleInput(firstWrong, typed[wrong] ?? ''));
      return;
    }
    const handles = [...new Set(parsed.flatMap((input) => (input.ok && input.handle !== model.handle ? [input.handle] : [])))];
    if (!name.trim() || handles.length === 0) {
      setError('Give the group a name and at least one other member.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const conversation = await model.createGroup(name.trim(), handles);
      navigate({ screen: 'chat', conversation });
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <section class="screen" aria-label="New group">
      <header class="pane-header">
        <button type="button" class="back" onClick={onBack} aria-label="Back to conversations">‹</button>
        <h2>New group</h2>
      </header>
      <form class="screen-body stack" onSubmit={submit}>
        <label for="group-name">Group name</label>
        <input id="group-name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} disabled={busy} />
        <label for="group-members">Members</label>
        <input id="group-members" placeholder="@bob, @carol" autoCapitalize="none" spellcheck={false} value={members} onInput={(e) => setMembers(e.currentTarget.value)} disabled={busy} />
        <p class="hint">Every message is encrypted separately for each member’s devices.</p>
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating…' : 'Create group'}</button>
      </form>
    </section>
  );
}

import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError, describeHandleInput } from '../model/describe-error.js';
import { parseHandle } from '../model/handle-input.js';
import type { Navigate } from '../route.js';
import { ErrorText } from './ErrorText.js';

/** A group's members: add by handle, remove (the removed member reads nothing sent after). */
export function GroupSettings({ model, groupId, navigate }: { model: AppModel; groupId: string; navigate: Navigate }) {
  const [handle, setHandle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const group = model.group(groupId);
  const back = () => navigate({ screen: 'chat', conversation: { kind: 'group', groupId } });
  const member = group?.members.includes(model.handle ?? '') ?? false;

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="screen" aria-label="Group members">
      <header class="pane-header">
        <button type="button" class="back always" onClick={back} aria-label="Back to the group">‹</button>
        <h2 title={group?.name}>{group?.name ?? 'Group'} · members</h2>
      </header>
      <div class="screen-body">
        {!group && <p class="empty">This group is not known on this device yet.</p>}
        {group && (
          <ul class="members">
            {group.members.map((m) => (
              <li key={m}>
                <span>{m === model.handle ? `${m} (you)` : m}</span>
                {member && (
                  <button type="button" class="link danger" disabled={busy} onClick={() => void run(() => model.removeMember(groupId, m))}>
                    {m === model.handle ? 'Leave' : 'Remove'}
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        {group && member && (
          <form
            class="stack"
            onSubmit={(event) => {
              event.preventDefault();
              const parsed = parseHandle(handle);
              if (!parsed.ok) return setError(describeHandleInput(parsed, handle));
              if (group.members.includes(parsed.handle)) return setError(`@${parsed.handle} is already a member.`);
              void run(async () => {
                await model.addMember(groupId, parsed.handle);
                setHandle('');
              });
            }}
          >
            <label for="add-member-handle">Add a member</label>
            <div class="row">
              <input id="add-member-handle" placeholder="@handle" autoCapitalize="none" spellcheck={false} value={handle} onInput={(e) => setHandle(e.currentTarget.value)} disabled={busy} />
              <button type="submit" disabled={busy || !handle.trim()}>Add</button>
            </div>
          </form>
        )}
        <ErrorText error={error} />
      </div>
    </section>
  );
}

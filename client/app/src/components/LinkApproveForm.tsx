import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { ErrorText } from './ErrorText.js';
import { QrScanner } from './QrScanner.js';

/**
 * On the device holding the account authority: enter the code a new device shows (typed, pasted
 * or scanned from its QR code; case, spaces and dashes do not matter). Success is
 * reported only once the new device confirmed (it registered and announced itself), which can
 * take until its code expires.
 */
export function LinkApproveForm({ model }: { model: AppModel }) {
  const [code, setCode] = useState('');
  const devices = model.devices;
  const approval = devices.approval;
  const waiting = approval?.state === 'waiting';

  if (!devices.hasAuthority) {
    return (
      <section class="stack link-approve" aria-labelledby="link-approve-heading">
        <h3 id="link-approve-heading">Link a new device</h3>
        <p class="hint" data-testid="link-needs-authority">
          Approve this on the device that created the account (or the one that recovered it): only that device can add
          devices. On the new device choose “Link to an existing account” and enter its code there.
        </p>
      </section>
    );
  }

  const approve = (text: string) => {
    if (!text.trim() || waiting) return;
    void devices.approveLink(text).then(() => {
      if (devices.approval?.state === 'linked') setCode('');
    });
  };
  const submit = (event: Event) => {
    event.preventDefault();
    approve(code);
  };

  return (
    <form class="stack link-approve" onSubmit={submit} aria-labelledby="link-approve-heading">
      <h3 id="link-approve-heading">Link a new device</h3>
      <p class="hint">On the new device choose “Link to an existing account”, then enter the code it shows or scan its QR code. Only link a device you hold.</p>
      <label for="link-code-input">Link code</label>
      <div class="row">
        <input
          id="link-code-input"
          autoCapitalize="none"
          autoComplete="off"
          spellcheck={false}
          value={code}
          onInput={(e) => {
            setCode(e.currentTarget.value);
            if (approval && !waiting) devices.clearApproval();
          }}
          disabled={waiting}
        />
        <button type="submit" class="primary" disabled={waiting || !code.trim()}>Link device</button>
        <QrScanner
          disabled={waiting}
          onCode={(text) => {
            setCode(text);
            approve(text);
          }}
        />
      </div>
      <div role="status" aria-live="polite" class="link-status">
        {waiting && <p class="hint waiting" data-testid="link-waiting">Waiting for the new device to confirm…</p>}
        {approval?.state === 'linked' && (
          <p class="success" data-testid="link-success">Linked: “{devices.labelOf(approval.deviceId)}” is now one of your devices. You can name it above.</p>
        )}
      </div>
      <ErrorText error={approval?.state === 'failed' ? approval.message : undefined} />
    </form>
  );
}

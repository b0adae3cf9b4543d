import type { AppModel } from '../model/app-model.js';
import { CopyButton } from './CopyButton.js';
import { useFocus } from './use-focus.js';

/**
 * On the device holding the account authority: the recovery key, shown only after an explicit
 * click. Whoever has it can take the account over, so it is meant for paper, not for the cloud.
 */
export function RecoveryKeySection({ model, recoveryKey, onShow, onHide }: {
  model: AppModel;
  recoveryKey: string | undefined;
  onShow: () => void;
  onHide: () => void;
}) {
  const keyRef = useFocus<HTMLDivElement>(recoveryKey !== undefined);
  const seenAt = model.devices.recoveryKeySeenAt();
  return (
    <section class="stack recovery" id="recovery-key" aria-labelledby="recovery-heading">
      <h3 id="recovery-heading">Recovery key</h3>
      <p class="hint">
        If you lose this device, the recovery key is the only way to get @{model.handle} back: with it you can recover the
        account in a new browser. Anyone who has it can take over your account.
      </p>
      {recoveryKey === undefined ? (
        <>
          {seenAt === undefined
            ? <p class="warning-text">You have not viewed your recovery key yet. Write it down now.</p>
            : <p class="hint">You last viewed it on {new Date(seenAt).toLocaleDateString()}.</p>}
          <button type="button" onClick={onShow}>Show recovery key</button>
        </>
      ) : (
        <div class="stack" ref={keyRef} tabIndex={-1} aria-label="Your recovery key">
          <output class="code recovery-key" data-testid="recovery-key">{recoveryKey}</output>
          <p><strong>Write it down on paper and keep it offline</strong>, somewhere safe — not in a screenshot, an email or a cloud note. Sealpost never sends it anywhere.</p>
          <div class="row">
            <CopyButton text={recoveryKey} label="Copy recovery key" />
            <button type="button" onClick={onHide}>Hide</button>
          </div>
        </div>
      )}
    </section>
  );
}

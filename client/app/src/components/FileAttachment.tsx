import { useEffect, useRef } from 'preact/hooks';
import type { AttachmentPointer } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { humanSize } from '../model/attachments.js';
import { RetryButton } from './RetryButton.js';
import { TransferBar } from './TransferBar.js';
import { useDownload, useObjectUrl } from './use-download.js';

/**
 * A file that is not shown inline: its name, size and a Download button. Download fetches,
 * decrypts and checks the whole file first (the SDK refuses a blob that is cut short or not the
 * one the sender uploaded), and only then saves it, through an <a download> on an object URL.
 */
export function FileAttachment({ model, pointer }: { model: AppModel; pointer: AttachmentPointer }) {
  const { state, start, cancel } = useDownload(model, pointer, false);
  const url = useObjectUrl(state.status === 'done' ? state.blob : undefined);
  const save = useRef<HTMLAnchorElement>(null);
  // Saved once when it arrived; the link stays to save it again.
  useEffect(() => {
    if (url) save.current?.click();
  }, [url]);
  const name = pointer.fileName;

  return (
    <div class="file-attachment" data-file={name}>
      <span class="file-label">
        <span class="file-name">{name}</span>
        <span class="file-size">{humanSize(pointer.size)}</span>
      </span>
      {state.status === 'idle' && <button type="button" aria-label={`Download ${name}`} onClick={start}>Download</button>}
      {state.status === 'downloading' && (
        <span class="transfer">
          <TransferBar label={`Downloading ${name}`} progress={state.progress} />
          <button type="button" aria-label={`Cancel downloading ${name}`} onClick={cancel}>Cancel</button>
        </span>
      )}
      {state.status === 'done' && url && <a class="button" ref={save} href={url} download={name} aria-label={`Save ${name} again`}>Save again</a>}
      {state.status === 'failed' && (
        <>
          <span class="error-text" role="alert">{state.error}</span>
          <RetryButton text="Try again" label={`Download ${name} again`} takeFocus={state.byUser} onClick={start} />
        </>
      )}
    </div>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import type { AttachmentPointer } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { dataUrlOf, shownSize, thumbnailUrl } from '../model/images.js';
import { ImageViewer } from './ImageViewer.js';
import { RetryButton } from './RetryButton.js';
import { TransferBar } from './TransferBar.js';
import { useDownload } from './use-download.js';

/**
 * A picture in the conversation. The thumbnail from the message shows at once, blurred, at the
 * size the full picture will have (the sender measured it), so nothing moves when the picture
 * itself has been downloaded and checked and takes its place. Clicking it opens it large.
 */
export function ImageAttachment({ model, pointer }: { model: AppModel; pointer: AttachmentPointer }) {
  const { state, start, cancel } = useDownload(model, pointer, true);
  const full = useDataUrl(state.status === 'done' ? state.blob : undefined);
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const name = pointer.fileName;
  const size = shownSize(pointer);
  const thumbnail = thumbnailUrl(pointer);

  let picture;
  if (full) {
    picture = <img class="full" src={full} alt={name} {...size} />;
  } else if (size) {
    // An SVG box, not an <img>: it keeps the picture's proportions exactly while it scales, where
    // an <img> would take the thumbnail's (rounded) ones and move by a pixel when the picture comes.
    picture = (
      <svg class={thumbnail ? 'thumb' : 'placeholder'} {...size} viewBox={`0 0 ${size.width} ${size.height}`} role="img" aria-label={name}>
        {thumbnail ? <image href={thumbnail} width="100%" height="100%" preserveAspectRatio="none" /> : <rect width="100%" height="100%" />}
      </svg>
    );
  } else {
    picture = thumbnail ? <img class="thumb" src={thumbnail} alt={name} /> : <span class="placeholder-text">{name}</span>;
  }

  return (
    <div class="image-attachment" data-file={name}>
      <button type="button" class="image-open" ref={opener} disabled={!full} aria-label={full ? `Open ${name}` : name} onClick={() => setOpen(true)}>
        {picture}
      </button>
      {state.status === 'downloading' && (
        <span class="transfer">
          <TransferBar label={`Downloading ${name}`} progress={state.progress} />
          <button type="button" aria-label={`Cancel downloading ${name}`} onClick={cancel}>Cancel</button>
        </span>
      )}
      {state.status === 'failed' && (
        <span class="transfer">
          <span class="error-text" role="alert">{state.error}</span>
          <RetryButton text="Try again" label={`Download ${name} again`} takeFocus={state.byUser} onClick={start} />
        </span>
      )}
      {open && full && (
        <ImageViewer
          src={full}
          name={name}
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
          }}
        />
      )}
    </div>
  );
}

/** The downloaded picture as a data: URL (see images.ts: the CSP refuses blob: images). */
function useDataUrl(blob: Blob | undefined): string | undefined {
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!blob) return undefined;
    let current = true;
    void dataUrlOf(blob).then((made) => current && setUrl(made), () => undefined);
    return () => {
      current = false;
    };
  }, [blob]);
  return url;
}

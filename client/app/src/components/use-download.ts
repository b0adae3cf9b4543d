import { useEffect, useRef, useState } from 'preact/hooks';
import type { AttachmentPointer, TransferProgress } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { percentOf } from './TransferBar.js';

export type DownloadState =
  | { status: 'idle' }
  | { status: 'downloading'; progress: TransferProgress | undefined }
  | { status: 'done'; blob: Blob }
  /** `byUser`: the user cancelled it (the view then puts focus on "Try again"). */
  | { status: 'failed'; error: string; byUser: boolean };

/**
 * One attachment's download for as long as its view is on screen: leaving the conversation
 * stops it, and the bytes go with the view (nothing of a file is kept in memory elsewhere).
 */
export function useDownload(model: AppModel, pointer: AttachmentPointer, automatic: boolean) {
  const [state, setState] = useState<DownloadState>({ status: 'idle' });
  const running = useRef<AbortController | undefined>(undefined);
  const mounted = useRef(true);

  const start = () => {
    if (running.current) return;
    const abort = new AbortController();
    running.current = abort;
    setState({ status: 'downloading', progress: undefined });
    let shown = -1;
    const onProgress = (progress: TransferProgress) => {
      // A redraw per whole percent, not per piece received.
      const percent = percentOf(progress);
      if (percent === shown || !mounted.current) return;
      shown = percent;
      setState({ status: 'downloading', progress });
    };
    model.attachments.download(pointer, { signal: abort.signal, onProgress }).then(
      (blob) => mounted.current && setState({ status: 'done', blob }),
      (error: unknown) => mounted.current && setState({ status: 'failed', error: describeError(error), byUser: abort.signal.aborted }),
    ).finally(() => {
      if (running.current === abort) running.current = undefined;
    });
  };
  const cancel = () => running.current?.abort();

  useEffect(() => {
    mounted.current = true;
    if (automatic) start();
    return () => {
      mounted.current = false;
      running.current?.abort();
    };
  }, []);

  return { state, start, cancel };
}

/** An object URL for `blob` while the view shows it; revoked when it goes. */
export function useObjectUrl(blob: Blob | undefined): string | undefined {
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!blob) return undefined;
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => {
      URL.revokeObjectURL(made);
      setUrl(undefined);
    };
  }, [blob]);
  return url;
}

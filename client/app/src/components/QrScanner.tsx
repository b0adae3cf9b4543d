import { useEffect, useRef, useState } from 'preact/hooks';
import { cameraProblem, hasCamera, qrReader } from '../model/qr-scan.js';
import { ErrorText } from './ErrorText.js';
import { useFocus } from './use-focus.js';

/** How often a frame is read: fast enough to feel instant, slow enough to leave the CPU alone. */
const SCAN_INTERVAL_MS = 200;

/**
 * "Scan QR code" and the camera view it opens. Shown only where the browser can see a camera;
 * gives the text of the first QR code it reads to `onCode` (which checks it like typed text).
 */
export function QrScanner({ onCode, disabled }: { onCode: (text: string) => void; disabled?: boolean }) {
  const [camera, setCamera] = useState(false);
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    let live = true;
    const check = () => void hasCamera().then((yes) => live && setCamera(yes));
    check();
    // A camera plugged in (or out) while the screen is open.
    navigator.mediaDevices?.addEventListener?.('devicechange', check);
    return () => {
      live = false;
      navigator.mediaDevices?.removeEventListener?.('devicechange', check);
    };
  }, []);

  if (!camera) return null;
  if (!open) {
    return <button type="button" ref={buttonRef} disabled={disabled} onClick={() => setOpen(true)}>Scan QR code</button>;
  }
  const close = () => {
    setOpen(false);
    setTimeout(() => buttonRef.current?.focus(), 0);
  };
  return (
    <CameraView
      onCode={(text) => {
        setOpen(false);
        onCode(text);
      }}
      onClose={close}
    />
  );
}

function CameraView({ onCode, onClose }: { onCode: (text: string) => void; onClose: () => void }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [reader, setReader] = useState<string | undefined>(undefined);
  const stopRef = useFocus<HTMLButtonElement>();

  useEffect(() => {
    let live = true;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    void (async () => {
      try {
        const { kind, read } = await qrReader();
        // The back camera on a phone; any camera elsewhere.
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false });
        const video = videoRef.current;
        if (!live || !video) return;
        video.srcObject = stream;
        await video.play();
        setReader(kind);
        const tick = async () => {
          if (!live) return;
          const text = await read(video).catch(() => undefined);
          if (!live) return;
          if (text) onCode(text);
          else timer = setTimeout(() => void tick(), SCAN_INTERVAL_MS);
        };
        void tick();
      } catch (error) {
        if (live) setProblem(cameraProblem(error));
      }
    })();
    return () => {
      live = false;
      clearTimeout(timer);
      // The camera light goes off as soon as the scanner closes.
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, []);

  return (
    <div
      class="scanner stack"
      role="group"
      aria-label="Scan the link code"
      data-reader={reader}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <video ref={videoRef} class="scanner-video" muted playsInline aria-label="Camera view" />
      <p class="hint" role="status">{reader ? 'Point the camera at the QR code on the new device.' : problem ? '' : 'Starting the camera…'}</p>
      <ErrorText error={problem} />
      <div class="row">
        <button type="button" ref={stopRef} onClick={onClose}>Stop scanning</button>
      </div>
    </div>
  );
}

/**
 * Reading a QR code from camera frames: the browser's own BarcodeDetector where it has one that
 * reads QR codes (Chrome on Android and macOS, Safari), else jsQR on the frame's pixels. jsQR is
 * loaded only when a scan starts, so the first load of the app does not pay for it.
 */

/** A frame source the decoders can read: a playing <video>, an <img> or a canvas. */
export type FrameSource = HTMLVideoElement | HTMLImageElement | HTMLCanvasElement;

/** Returns the text of a QR code seen in the frame, or undefined when none is readable yet. */
export type QrReader = (frame: FrameSource) => Promise<string | undefined>;

interface BarcodeDetectorLike {
  detect(source: FrameSource): Promise<Array<{ rawValue: string }>>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

type JsQr = (data: Uint8ClampedArray, width: number, height: number, options?: { inversionAttempts?: 'dontInvert' | 'attemptBoth' }) => { data: string } | null;

/** jsQR's module is CommonJS with `exports.default`: bundlers and Node hand its default over differently. */
async function loadJsQr(): Promise<JsQr> {
  const loaded = (await import('jsqr')) as unknown as { default: JsQr | { default: JsQr } };
  return typeof loaded.default === 'function' ? loaded.default : loaded.default.default;
}

function frameSize(frame: FrameSource): { width: number; height: number } {
  if (frame instanceof HTMLVideoElement) return { width: frame.videoWidth, height: frame.videoHeight };
  if (frame instanceof HTMLImageElement) return { width: frame.naturalWidth, height: frame.naturalHeight };
  return { width: frame.width, height: frame.height };
}

/** The jsQR reader: the frame drawn to a canvas (at most 800 px wide, which is plenty and fast). */
export async function jsQrReader(): Promise<QrReader> {
  const jsQR = await loadJsQr();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2D canvas');
  return async (frame) => {
    const { width, height } = frameSize(frame);
    if (width === 0 || height === 0) return undefined; // the video has no frame yet
    const scale = Math.min(1, 800 / width);
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context.drawImage(frame, 0, 0, canvas.width, canvas.height);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    // A code on a phone screen can be light on dark (dark mode): try both.
    return jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: 'attemptBoth' })?.data || undefined;
  };
}

/** The browser's BarcodeDetector, if it exists and reads QR codes. */
async function nativeReader(): Promise<QrReader | undefined> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (!Detector) return undefined;
  try {
    if (!(await Detector.getSupportedFormats()).includes('qr_code')) return undefined;
    const detector = new Detector({ formats: ['qr_code'] });
    return async (frame) => (await detector.detect(frame))[0]?.rawValue || undefined;
  } catch {
    return undefined;
  }
}

/** The best reader this browser has, and which one it is (shown to tests through a data attribute). */
export async function qrReader(): Promise<{ kind: 'native' | 'jsqr'; read: QrReader }> {
  const native = await nativeReader();
  return native ? { kind: 'native', read: native } : { kind: 'jsqr', read: await jsQrReader() };
}

/** Whether this browser can see a camera at all (labels need permission; the kind does not). */
export async function hasCamera(): Promise<boolean> {
  if (!navigator.mediaDevices?.enumerateDevices || !navigator.mediaDevices.getUserMedia) return false;
  try {
    return (await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'videoinput');
  } catch {
    return false;
  }
}

/** A camera error in words. */
export function cameraProblem(error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Sealpost may not use the camera. Allow it in the browser’s settings for this site, or type the code instead.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Type the code instead.';
  if (name === 'NotReadableError') return 'The camera is busy in another app. Close that app, or type the code instead.';
  return 'The camera could not be started. Type the code instead.';
}

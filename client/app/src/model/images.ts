/**
 * Pictures as attachments (docs/sdk.md "Files"). The SDK leaves the picture's facts to the app:
 * the sender measures it and makes a small JPEG thumbnail that travels inside the message, so
 * the receiver lays the picture out at its final size and shows something at once, before the
 * file itself has arrived.
 */
import type { AttachmentPointer } from '../../../sdk/index.js';

/** Raster types every browser decodes in an <img>; anything else (SVG too) is sent and shown as a file. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** The protocol's limit for a thumbnail (PROTOCOL.md §22; the SDK refuses larger ones as too_large). */
const MAX_THUMBNAIL_BYTES = 8 * 1024;
/** Tried in order until the JPEG fits: as large and clear as it can be, then smaller and rougher. */
const THUMBNAIL_TRIES = [
  { side: 128, quality: 0.7 }, { side: 128, quality: 0.5 }, { side: 96, quality: 0.5 },
  { side: 96, quality: 0.3 }, { side: 64, quality: 0.3 }, { side: 64, quality: 0.15 },
];
/** The protocol's largest image side; a picture beyond it is sent without its measurements. */
const MAX_SIDE = 65_535;
/** Pictures are shown inline in a box of this side at most (CSS shrinks them further on narrow screens). */
const SHOWN_SIDE = 300;
/**
 * Larger pictures are shown as a file to download: shown inline, each would be fetched as soon
 * as its message is on screen and held in memory as a data URL.
 */
const MAX_INLINE_BYTES = 25 * 1024 * 1024;

export interface ImageFacts {
  width: number;
  height: number;
  thumbnail?: Uint8Array;
}

/** Whether a received file is shown as a picture in the conversation. */
export function isInlineImage(pointer: AttachmentPointer): boolean {
  return INLINE_TYPES.has(pointer.contentType) && pointer.size <= MAX_INLINE_BYTES;
}

/**
 * A picture's size and thumbnail, or undefined for a file that is not a picture this browser
 * can decode (it is then sent as a plain file).
 */
export async function describeImage(file: Blob): Promise<ImageFacts | undefined> {
  if (!INLINE_TYPES.has(file.type)) return undefined;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined;
  }
  try {
    const { width, height } = bitmap;
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) return undefined;
    const thumbnail = await thumbnailOf(bitmap);
    return thumbnail ? { width, height, thumbnail } : { width, height };
  } finally {
    bitmap.close();
  }
}

async function thumbnailOf(bitmap: ImageBitmap): Promise<Uint8Array | undefined> {
  for (const { side, quality } of THUMBNAIL_TRIES) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    const context = canvas.getContext('2d');
    if (!context) return undefined;
    // JPEG has no transparency: transparent pixels would turn black.
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const jpeg = await canvas.convertToBlob({ type: 'image/jpeg', quality });
    if (jpeg.size <= MAX_THUMBNAIL_BYTES) return new Uint8Array(await jpeg.arrayBuffer());
  }
  return undefined;
}

/** The size a picture is laid out at (before and after it arrives), or undefined when the sender did not say. */
export function shownSize(pointer: AttachmentPointer): { width: number; height: number } | undefined {
  if (!pointer.width || !pointer.height) return undefined;
  const scale = Math.min(1, SHOWN_SIDE / Math.max(pointer.width, pointer.height));
  return { width: Math.max(1, Math.round(pointer.width * scale)), height: Math.max(1, Math.round(pointer.height * scale)) };
}

/** The thumbnail as a data: URL (the relay's CSP allows data: images, not blob: ones). */
export function thumbnailUrl(pointer: AttachmentPointer): string | undefined {
  if (!pointer.thumbnail) return undefined;
  const base64 = pointer.thumbnail.replace(/-/g, '+').replace(/_/g, '/');
  return `data:image/jpeg;base64,${base64}${'='.repeat((4 - (base64.length % 4)) % 4)}`;
}

/**
 * A downloaded picture as a data: URL. Not an object URL: the relay's Content-Security-Policy
 * allows `img-src 'self' data:`, so a blob: image would be refused.
 */
export function dataUrlOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the picture could not be read'));
    reader.readAsDataURL(blob);
  });
}

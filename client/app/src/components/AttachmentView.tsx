import type { AttachmentPointer } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { isInlineImage } from '../model/images.js';
import { FileAttachment } from './FileAttachment.js';
import { ImageAttachment } from './ImageAttachment.js';

/** A file message's file: a picture inline, anything else as a row to download. */
export function AttachmentView({ model, pointer }: { model: AppModel; pointer: AttachmentPointer }) {
  return isInlineImage(pointer) ? <ImageAttachment model={model} pointer={pointer} /> : <FileAttachment model={model} pointer={pointer} />;
}

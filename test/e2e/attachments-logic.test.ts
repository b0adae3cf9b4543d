/**
 * The web app's attachment logic without a browser: the upload rows' state machine
 * (client/app/src/model/attachments.ts) against a scripted SDK client, and the small pure parts
 * (sizes in words, error wording, a picture's laid-out size and thumbnail URL).
 */
import { describe, expect, it } from 'vitest';
import { MAX_ATTACHMENT_BYTES, SdkError, type AttachmentPointer, type SealpostClient, type TransferOptions } from '../../client/sdk/index.js';
import { Attachments, humanSize } from '../../client/app/src/model/attachments.js';
import { describeError } from '../../client/app/src/model/describe-error.js';
import { isInlineImage, shownSize, thumbnailUrl } from '../../client/app/src/model/images.js';
import { waitFor } from '../sdk/helpers.js';

const bob = { kind: 'direct', handle: 'bob' } as const;

function pointerFor(fileName: string, extra: Partial<AttachmentPointer> = {}): AttachmentPointer {
  return { id: `blob-${fileName}-0123456789`, key: 'k', digest: 'd', size: 3, contentType: 'application/octet-stream', fileName, ...extra };
}

/**
 * An SDK client whose uploads finish when the test says: `finish(name)` resolves the running
 * start(); an aborted signal rejects it with `cancelled`, as the SDK does.
 */
function scriptedClient() {
  const prepared: string[] = [];
  const starts: string[] = [];
  const sent: Array<{ target: unknown; fileName: string }> = [];
  const finishers = new Map<string, () => void>();
  let refuseNextSend: SdkError | undefined;
  const client = {
    prepareUpload(file: { fileName: string }) {
      prepared.push(file.fileName);
      let done = false;
      return {
        total: 1000,
        start({ signal, onProgress }: TransferOptions) {
          starts.push(file.fileName);
          if (done) return Promise.resolve(pointerFor(file.fileName));
          onProgress?.({ done: 0, total: 1000 });
          return new Promise<AttachmentPointer>((resolve, reject) => {
            signal?.addEventListener('abort', () => reject(new SdkError('cancelled', 'the transfer was cancelled')));
            finishers.set(file.fileName, () => {
              done = true;
              resolve(pointerFor(file.fileName));
            });
          });
        },
      };
    },
    async sendAttachment(target: unknown, pointer: AttachmentPointer) {
      const refusal = refuseNextSend;
      refuseNextSend = undefined;
      if (refusal) throw refusal;
      sent.push({ target, fileName: pointer.fileName });
      return { id: 'm1', stored: Promise.resolve() };
    },
  };
  return {
    client: client as unknown as SealpostClient,
    prepared, starts, sent,
    finish: (name: string) => finishers.get(name)?.(),
    refuseNextSend: (error: SdkError) => {
      refuseNextSend = error;
    },
  };
}

function file(name: string): File {
  return new File(['abc'], name, { type: 'application/octet-stream' });
}

describe('upload rows (model/attachments.ts)', () => {
  it('refuses a file over 100 MiB in words, without preparing or uploading anything', () => {
    const sdk = scriptedClient();
    const attachments = new Attachments(sdk.client, () => undefined);
    // Only the size is read before the check: no need to hold 100 MiB.
    const huge = { name: 'disk.iso', size: MAX_ATTACHMENT_BYTES + 1, type: 'application/octet-stream' } as File;
    attachments.attach(bob, [huge]);
    expect(attachments.uploadsIn(bob)).toMatchObject([{ fileName: 'disk.iso', status: 'refused', error: 'disk.iso is too large to send (100.1 MiB; the limit is 100 MiB). Nothing was uploaded.' }]);
    expect(sdk.prepared).toEqual([]);
  });

  it('sends several files one at a time, in order, each as its own message', async () => {
    const sdk = scriptedClient();
    const attachments = new Attachments(sdk.client, () => undefined);
    attachments.attach(bob, [file('one.txt'), file('two.txt')]);
    await waitFor(() => sdk.starts.length === 1, 'the first upload starts');
    expect(attachments.uploadsIn(bob).map((row) => row.status)).toEqual(['uploading', 'waiting']);
    expect(attachments.uploadsIn({ kind: 'direct', handle: 'carol' })).toEqual([]);
    sdk.finish('one.txt');
    await waitFor(() => sdk.starts.length === 2, 'the second upload starts');
    sdk.finish('two.txt');
    await waitFor(() => attachments.uploadsIn(bob).length === 0, 'both rows are messages');
    expect(sdk.sent).toEqual([{ target: { handle: 'bob' }, fileName: 'one.txt' }, { target: { handle: 'bob' }, fileName: 'two.txt' }]);
  });

  it('cancels an upload under way; Retry starts the same upload again (it resumes) instead of preparing a new one', async () => {
    const sdk = scriptedClient();
    const attachments = new Attachments(sdk.client, () => undefined);
    attachments.attach(bob, [file('clip.mov')]);
    await waitFor(() => sdk.starts.length === 1, 'the upload starts');
    const [row] = attachments.uploadsIn(bob);
    attachments.cancel(row!.localId);
    await waitFor(() => attachments.uploadsIn(bob)[0]?.status === 'cancelled', 'the row is cancelled');
    expect(attachments.uploadsIn(bob)[0]?.error).toBe('Cancelled.');
    attachments.retry(row!.localId);
    await waitFor(() => sdk.starts.length === 2, 'the upload starts again');
    sdk.finish('clip.mov');
    await waitFor(() => sdk.sent.length === 1, 'it is sent');
    expect(sdk.prepared).toEqual(['clip.mov']);
    expect(attachments.uploadsIn(bob)).toEqual([]);
  });

  it('after a refused send, Retry sends the finished upload again without uploading it again', async () => {
    const sdk = scriptedClient();
    const attachments = new Attachments(sdk.client, () => undefined);
    sdk.refuseNextSend(new SdkError('identity_changed', 'bob changed'));
    attachments.attach(bob, [file('notes.txt')]);
    await waitFor(() => sdk.starts.length === 1, 'the upload starts');
    sdk.finish('notes.txt');
    await waitFor(() => attachments.uploadsIn(bob)[0]?.status === 'failed', 'the send is refused');
    expect(attachments.uploadsIn(bob)[0]?.error).toBe('Their safety number changed: compare it and accept the new key first.');
    attachments.retry(attachments.uploadsIn(bob)[0]!.localId);
    await waitFor(() => sdk.sent.length === 1, 'it is sent');
    expect(sdk.prepared).toEqual(['notes.txt']);
  });

  it('cancels or removes files still waiting their turn without starting them', async () => {
    const sdk = scriptedClient();
    const attachments = new Attachments(sdk.client, () => undefined);
    attachments.attach(bob, [file('a.txt'), file('b.txt'), file('c.txt')]);
    await waitFor(() => sdk.starts.length === 1, 'the first upload starts');
    const [, second, third] = attachments.uploadsIn(bob);
    attachments.cancel(second!.localId);
    attachments.remove(third!.localId);
    expect(attachments.uploadsIn(bob).map((row) => [row.fileName, row.status])).toEqual([['a.txt', 'uploading'], ['b.txt', 'cancelled']]);
    sdk.finish('a.txt');
    await waitFor(() => sdk.sent.length === 1, 'the first is sent');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sdk.prepared).toEqual(['a.txt']);
  });
});

describe('attachment wording and pictures', () => {
  it('gives sizes in binary units, as the limit is given', () => {
    expect([humanSize(812), humanSize(4300), humanSize(20 * 1024 * 1024), humanSize(150 * 1024 * 1024 * 1024)]).toEqual(['812 B', '4.2 KiB', '20 MiB', '150 GiB']);
  });

  it('words the attachment errors for people', () => {
    expect(describeError(new SdkError('not_found', 'gone'))).toBe('This file is no longer on the relay (files are kept 30 days).');
    expect(describeError(new SdkError('digest_mismatch', 'bad'))).toBe('The file did not arrive intact; it was not opened.');
    expect(describeError(new SdkError('too_large', 'cap', { relayCode: 'too_large', status: 413 }))).toBe('The relay does not accept a file this large.');
    for (const code of ['quota_exceeded', 'truncated', 'file_changed', 'cancelled'] as const) {
      expect(describeError(new SdkError(code, 'x')), code).not.toContain(code);
    }
  });

  it('lays a picture out at its own proportions within 300 px, and shows only decodable raster types inline', () => {
    expect(shownSize(pointerFor('a.png', { width: 1200, height: 800 }))).toEqual({ width: 300, height: 200 });
    expect(shownSize(pointerFor('a.png', { width: 40, height: 30 }))).toEqual({ width: 40, height: 30 });
    expect(shownSize(pointerFor('a.png'))).toBeUndefined();
    expect(isInlineImage(pointerFor('a.png', { contentType: 'image/png' }))).toBe(true);
    expect(isInlineImage(pointerFor('a.svg', { contentType: 'image/svg+xml' }))).toBe(false);
    expect(isInlineImage(pointerFor('a.png', { contentType: 'image/png', size: 26 * 1024 * 1024 }))).toBe(false);
  });

  it('turns the base64url thumbnail into a padded base64 data: URL', () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xfb, 0xff]);
    const url = thumbnailUrl(pointerFor('a.jpg', { thumbnail: bytes.toString('base64url') }));
    expect(url).toBe(`data:image/jpeg;base64,${bytes.toString('base64')}`);
    expect(Buffer.from(url!.split(',')[1]!, 'base64')).toEqual(bytes);
  });
});

/**
 * Fan-out: one content, encrypted separately for every device in the verified device list of
 * every recipient and for the sender's own other devices (so all of a user's devices see the
 * conversation), sealed, and collected in ONE batch with the ratchet states that produced it.
 * A device that is not in the newest verified list is never encrypted to. Lists come from the
 * directory's cache (no round trip on the steady-state path); each envelope names the list
 * version it was sealed under, and the relay refuses it `stale_devices` when it holds a newer
 * one (outgoing.ts then refreshes and seals again). outgoing.ts owns what happens next.
 */
import { parseSigningPublicKey, sealEnvelope, toBase64Url } from '../../crypto/index.js';
import { encodeContent, type ContentDraft } from './content.js';
import type { ClientContext } from './context.js';
import { SdkError } from './errors.js';
import { headsFor } from './list-heads.js';
import { randomId } from './random.js';
import type { StoreBatch } from './store/local-store.js';
import type { ContactRecord, OutboxRecord } from './store/records.js';

export interface FanoutProblem {
  handle: string;
  deviceId?: string;
  error: SdkError;
}

export interface Fanout {
  batch: StoreBatch;
  envelopes: OutboxRecord[];
  problems: FanoutProblem[];
}

export interface FanoutOptions {
  /** The content these envelopes carry (PendingContentRecord id). */
  contentId: string;
  /** Copy to this account's other devices. */
  includeOwnDevices: boolean;
  /** Direct messages: any recipient problem aborts the whole send (nothing is queued). */
  strict: boolean;
  messageId?: string;
  /**
   * Ephemeral content (typing): only devices with a session and only cached lists — it never
   * claims a prekey bundle or looks anyone up.
   */
  ephemeral?: boolean;
  /** Only this one device (it must still be in its account's verified list). */
  onlyDevice?: string;
  /** Start a new session with each device instead of using the active one (after it could not decrypt). */
  freshSession?: boolean;
  /** Told of every problem as it is found (also when a strict fan-out then throws). */
  onProblem?: (problem: FanoutProblem) => void;
}

export async function prepareFanout(ctx: ClientContext, recipients: readonly string[], content: ContentDraft, options: FanoutOptions): Promise<Fanout> {
  const account = ctx.account();
  const fanout: Fanout = { batch: ctx.store.batch(), envelopes: [], problems: [] };
  for (const handle of recipients) {
    try {
      const contact = await contactFor(ctx, handle, options);
      if (!contact) continue;
      // Each recipient account gets the heads of the lists this copy was encrypted under.
      const plaintext = encodeContent(content, headsFor(ctx, handle));
      const sealed = await sealForDevices(ctx, fanout, contact, plaintext, true, options);
      if (sealed === 0 && !options.ephemeral) throw new SdkError('no_devices', `no device of ${handle} can be sent to`, { handle });
    } catch (error) {
      const problem = toSdkError(error);
      options.onProblem?.({ handle, error: problem });
      if (options.strict) throw problem;
      fanout.problems.push({ handle, error: problem });
    }
  }
  if (options.includeOwnDevices) {
    // Own devices are best effort: a failed copy must not stop the message itself.
    try {
      const self = await contactFor(ctx, account.handle, options);
      if (self) {
        const others = { ...self, devices: self.devices.filter((device) => device.deviceId !== account.deviceId) };
        await sealForDevices(ctx, fanout, others, encodeContent(content, headsFor(ctx, account.handle)), false, options);
      }
    } catch (error) {
      const problem = { handle: account.handle, error: toSdkError(error) };
      options.onProblem?.(problem);
      fanout.problems.push(problem);
    }
  }
  return fanout;
}

/** The cached verified list (a lookup only when there is none, or it is old); typing never looks up. */
function contactFor(ctx: ClientContext, handle: string, options: FanoutOptions): Promise<ContactRecord | undefined> {
  if (options.ephemeral) return Promise.resolve(ctx.directory.cached(handle));
  return ctx.directory.forSend(handle);
}

async function sealForDevices(
  ctx: ClientContext, fanout: Fanout, contact: ContactRecord, plaintext: Uint8Array, toRecipient: boolean, options: FanoutOptions,
): Promise<number> {
  const account = ctx.account();
  const list = contact.listHead?.version;
  if (list === undefined) throw new SdkError('untrusted_device_list', `no verified device list for ${contact.handle}`, { handle: contact.handle });
  let sealed = 0;
  for (const device of contact.devices) {
    if (options.ephemeral && !ctx.sessions.has(device.deviceId)) continue;
    if (options.onlyDevice !== undefined && device.deviceId !== options.onlyDevice) continue;
    try {
      const remote = { handle: contact.handle, deviceId: device.deviceId, identityKey: contact.identityKey };
      const message = await ctx.sessions.encrypt(fanout.batch, remote, plaintext, options.freshSession === true);
      const body = sealEnvelope({ senderHandle: account.handle, senderDeviceId: account.deviceId, message }, parseSigningPublicKey(device.deviceId));
      const record: OutboxRecord = {
        id: randomId(), to: device.deviceId, body: toBase64Url(body), contentId: options.contentId, handle: contact.handle, list,
        toRecipient, order: ctx.outbox.nextOrder(), ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
      };
      fanout.envelopes.push(record);
      sealed++;
    } catch (error) {
      const problem = { handle: contact.handle, deviceId: device.deviceId, error: toSdkError(error) };
      options.onProblem?.(problem);
      fanout.problems.push(problem);
    }
  }
  return sealed;
}

function toSdkError(error: unknown): SdkError {
  if (error instanceof SdkError) return error;
  return new SdkError('send_failed', error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * Fan-out: one content, encrypted separately for every device in the verified device list of
 * every recipient and for the sender's own other devices (so all of a user's devices see the
 * conversation), sealed, and written to the outbox in ONE batch with the ratchet states that
 * produced it. A device that is not in the newest verified list is never encrypted to.
 */
import { parseSigningPublicKey, sealEnvelope, toBase64Url } from '../../crypto/index.js';
import { encodeContent, type ContentDraft } from './content.js';
import type { ClientContext } from './context.js';
import { SdkError } from './errors.js';
import type { Emit } from './events.js';
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
  /** Copy to this account's other devices. */
  includeOwnDevices: boolean;
  /** Direct messages: any recipient problem aborts the whole send (nothing is queued). */
  strict: boolean;
  messageId?: string;
  /** Ephemeral content (typing) never claims a prekey bundle: only devices with a session get it. */
  existingSessionsOnly?: boolean;
}

export async function prepareFanout(ctx: ClientContext, recipients: string[], content: ContentDraft, options: FanoutOptions): Promise<Fanout> {
  const account = ctx.account();
  const fanout: Fanout = { batch: ctx.store.batch(), envelopes: [], problems: [] };
  for (const handle of recipients) {
    try {
      const contact = await resolveContact(ctx, handle);
      // Each recipient account gets the heads of the lists this copy was encrypted under.
      const plaintext = encodeContent(content, headsFor(ctx, handle));
      const sealed = await sealForDevices(ctx, fanout, contact, plaintext, true, options);
      if (sealed === 0 && !options.existingSessionsOnly) throw new SdkError('no_devices', `no device of ${handle} can be sent to`, { handle });
    } catch (error) {
      const problem = toSdkError(error);
      if (options.strict) throw problem;
      fanout.problems.push({ handle, error: problem });
    }
  }
  if (options.includeOwnDevices) {
    // Own devices are best effort: a failed copy must not stop the message itself.
    try {
      const self = await resolveContact(ctx, account.handle);
      const others = { ...self, devices: self.devices.filter((device) => device.deviceId !== account.deviceId) };
      await sealForDevices(ctx, fanout, others, encodeContent(content, headsFor(ctx, account.handle)), false, options);
    } catch (error) {
      fanout.problems.push({ handle: account.handle, error: toSdkError(error) });
    }
  }
  return fanout;
}

export function reportProblems(problems: FanoutProblem[], emit: Emit): void {
  for (const { error } of problems) {
    if (error.code !== 'untrusted_device' && error.code !== 'identity_changed') emit('rejected', error);
  }
}

/** A fresh verified lookup; the last verified one if the relay's HTTP side is unreachable. */
async function resolveContact(ctx: ClientContext, handle: string): Promise<ContactRecord> {
  try {
    return await ctx.directory.lookup(handle);
  } catch (error) {
    const cached = error instanceof SdkError && error.code === 'network' ? ctx.directory.cached(handle) : undefined;
    if (cached) return cached;
    throw error;
  }
}

async function sealForDevices(
  ctx: ClientContext, fanout: Fanout, contact: ContactRecord, plaintext: Uint8Array, toRecipient: boolean, options: FanoutOptions,
): Promise<number> {
  const account = ctx.account();
  const { messageId } = options;
  let sealed = 0;
  for (const device of contact.devices) {
    if (options.existingSessionsOnly && !ctx.sessions.has(device.deviceId)) continue;
    try {
      const remote = { handle: contact.handle, deviceId: device.deviceId, identityKey: contact.identityKey };
      const message = await ctx.sessions.encrypt(fanout.batch, remote, plaintext);
      const body = sealEnvelope({ senderHandle: account.handle, senderDeviceId: account.deviceId, message }, parseSigningPublicKey(device.deviceId));
      const record: OutboxRecord = {
        id: randomId(), to: device.deviceId, body: toBase64Url(body), toRecipient, order: ctx.outbox.nextOrder(),
        ...(messageId === undefined ? {} : { messageId }),
      };
      fanout.envelopes.push(record);
      sealed++;
    } catch (error) {
      fanout.problems.push({ handle: contact.handle, deviceId: device.deviceId, error: toSdkError(error) });
    }
  }
  return sealed;
}

function toSdkError(error: unknown): SdkError {
  if (error instanceof SdkError) return error;
  return new SdkError('send_failed', error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * The `send` event: validate the whole payload, then store durable envelopes through the group
 * commit and push ephemeral ones to live sockets only. Never throws: every refusal is an ack.
 * Durable envelopes first pass the sender's per-recipient budgets (inbound-limits.ts): one over
 * them is refused `rate_limited`, alone.
 */
import type { Config } from '../config.js';
import { errorAck, wireError } from '../errors.js';
import type { InboundLimits } from '../limits/inbound-limits.js';
import type { OutgoingEnvelope, SendAck, SendFailure } from '../../protocol/events.js';
import type { Delivery } from '../delivery/delivery.js';
import type { EnqueueItem, Store } from '../store/store.js';
import { checkEnvelope } from './validators.js';

export interface SendDeps {
  config: Config;
  store: Store;
  delivery: Delivery;
  inbound: InboundLimits;
}

const INBOUND_REFUSED = {
  pair: 'too many envelopes from this device to this recipient device; slow down',
  recipient: 'this recipient device has received its inbound byte budget for now; retry later',
} as const;

type Checked = { ok: true; envelopes: OutgoingEnvelope[]; single: boolean } | { ok: false; ack: SendAck };

export function checkSendPayload(payload: unknown, config: Config): Checked {
  const single = !Array.isArray(payload);
  const envelopes: unknown[] = Array.isArray(payload) ? payload : [payload];
  if (envelopes.length === 0) return { ok: false, ack: errorAck('invalid', 'empty batch') };
  if (envelopes.length > config.maxBatch) return { ok: false, ack: errorAck('too_large', `at most ${config.maxBatch} envelopes per send`) };
  for (const envelope of envelopes) {
    if (!checkEnvelope.Check(envelope)) {
      const first = checkEnvelope.Errors(envelope).First();
      return { ok: false, ack: errorAck('invalid', first ? `${first.path || 'envelope'}: ${first.message}` : 'malformed envelope') };
    }
    if (envelope.body.byteLength === 0) return { ok: false, ack: errorAck('invalid', 'empty body') };
    if (envelope.body.byteLength > config.maxBodyBytes) return { ok: false, ack: errorAck('too_large', `body exceeds ${config.maxBodyBytes} bytes`) };
  }
  return { ok: true, envelopes: envelopes as OutgoingEnvelope[], single };
}

/**
 * Envelopes sealed under an older device list than the relay holds for their recipient's
 * account: refused `stale_devices` with the current version, so the sender refreshes and sends
 * again to the current devices. One store read per distinct recipient device and account.
 */
async function staleEnvelopes(envelopes: readonly OutgoingEnvelope[], store: Store): Promise<Map<OutgoingEnvelope, number>> {
  const stale = new Map<OutgoingEnvelope, number>();
  const versionOf = new Map<string, Promise<number | undefined>>();
  const current = (deviceId: string) => {
    let version = versionOf.get(deviceId);
    if (!version) {
      version = store.getDevice(deviceId).then(async (device) => (device ? (await store.getAccount(device.handle))?.deviceList.version : undefined));
      versionOf.set(deviceId, version);
    }
    return version;
  };
  for (const envelope of envelopes) {
    if (envelope.list === undefined) continue;
    const version = await current(envelope.to);
    if (version !== undefined && version > envelope.list) stale.set(envelope, version);
  }
  return stale;
}

/** `from` is the socket's authenticated device id. */
export async function handleSend(payload: unknown, deps: SendDeps, from: string): Promise<SendAck> {
  const checked = checkSendPayload(payload, deps.config);
  if (!checked.ok) return checked.ack;
  const failed: SendFailure[] = [];
  const stale = await staleEnvelopes(checked.envelopes, deps.store);
  for (const [envelope, version] of stale) {
    failed.push({ id: envelope.id, to: envelope.to, error: wireError('stale_devices', `the recipient's device list is at version ${version}`) });
  }
  const usable = stale.size === 0 ? checked.envelopes : checked.envelopes.filter((e) => !stale.has(e));
  const ephemeral = usable.filter((e) => e.ephemeral === true);
  // Charged synchronously, in order: no other send runs between the check and the charge.
  const now = Date.now();
  const durable: OutgoingEnvelope[] = [];
  for (const e of usable) {
    if (e.ephemeral === true) continue;
    const refused = deps.inbound.take(from, e.to, e.body.byteLength, now);
    if (refused) failed.push({ id: e.id, to: e.to, error: wireError('rate_limited', INBOUND_REFUSED[refused]) });
    else durable.push(e);
  }

  if (durable.length > 0) {
    const expiresAt = now + deps.config.ttlMs;
    const items: EnqueueItem[] = durable.map((e) => ({ to: e.to, id: e.id, body: e.body, expiresAt }));
    const outcomes = await deps.delivery.store(items);
    outcomes.forEach((outcome, i) => {
      const envelope = durable[i];
      if (!envelope) return;
      if (outcome.status !== 'stored') deps.inbound.refund(from, envelope.to, envelope.body.byteLength, outcome.status === 'unknown_device');
      if (outcome.status === 'unknown_device' || outcome.status === 'quota_exceeded') {
        failed.push({ id: envelope.id, to: envelope.to, error: wireError(outcome.status) });
      }
    });
  }
  for (const envelope of ephemeral) {
    if (!(await deps.store.getDevice(envelope.to))) {
      failed.push({ id: envelope.id, to: envelope.to, error: wireError('unknown_device') });
      continue;
    }
    deps.delivery.ephemeral(envelope.to, { id: envelope.id, body: envelope.body, ephemeral: true });
  }

  if (checked.single && failed[0]) return { ok: false, error: failed[0].error };
  return { ok: true, failed };
}

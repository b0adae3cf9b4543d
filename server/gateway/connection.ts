/**
 * One authenticated socket: attached to delivery (its rooms, its drain), is told its prekey count,
 * and handles `send` and `ack`. Every incoming event first passes the socket's guard
 * (server/gateway/event-guard.ts: rate limit, idle timer, unknown events). Handlers validate
 * every payload, tolerate a missing or non-function ack callback, and turn every failure into a
 * typed ack — never a throw.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { RelayError, errorAck } from '../errors.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { InboundLimits } from '../limits/inbound-limits.js';
import type { RatePolicy } from '../limits/rate-policy.js';
import type { RelayMetrics } from '../metrics.js';
import type { AckResult, SendAck } from '../../protocol/events.js';
import type { Delivery } from '../delivery/delivery.js';
import type { Store } from '../store/store.js';
import { installEventGuard, type RelaySocket } from './event-guard.js';
import { handleSend } from './send.js';
import { checkAckRequest } from './validators.js';

export interface ConnectionDeps {
  config: Config;
  limits: RatePolicy;
  store: Store;
  delivery: Delivery;
  inbound: InboundLimits;
  metrics: RelayMetrics;
  log: FastifyBaseLogger;
}

const noReply = (): void => undefined;

/** A store that cannot take a write now (a full disk) says `unavailable`; anything else is a failure. */
const failureCode = (error: unknown): ErrorCode => (error instanceof RelayError && error.code === 'unavailable' ? 'unavailable' : 'internal');
const failureAck = (error: unknown) => (failureCode(error) === 'unavailable' ? errorAck('unavailable', (error as Error).message) : errorAck('internal'));

/** Socket.IO passes whatever the client sent; only a function can be called back. */
function replyOf<T>(payload: unknown, ack: unknown): (result: T) => void {
  if (typeof ack === 'function') return ack as (result: T) => void;
  // `socket.emit('send', callback)` with no payload: the callback arrives first.
  if (typeof payload === 'function' && ack === undefined) return payload as (result: T) => void;
  return noReply;
}

/** The payload, unless it is the callback standing in for a missing one (see replyOf). */
const payloadOf = (payload: unknown, ack: unknown): unknown => (typeof payload === 'function' && ack === undefined ? undefined : payload);

/** Envelopes a refused send stood for (a refused batch counts each of its envelopes, up to the cap). */
function envelopeCount(payload: unknown, maxBatch: number): number {
  return Array.isArray(payload) ? Math.max(1, Math.min(payload.length, maxBatch)) : 1;
}

export function onConnection(socket: RelaySocket, deps: ConnectionDeps): void {
  const { config, store, metrics, log } = deps;
  const deviceId = socket.data.deviceId;
  // Joins its device's rooms and drains its backlog before taking live pushes (server/delivery/).
  const attached = deps.delivery.attach(socket);
  installEventGuard(socket, {
    limits: deps.limits,
    idleTimeoutMs: config.idleTimeoutMs,
    onRateLimited: (event, args) => {
      if (event === 'send') metrics.refuse('rate_limited', envelopeCount(args[0], config.maxBatch));
    },
    onIdle: () => log.debug({ event: 'socket_idle' }, 'idle socket closed'),
  });
  metrics.sockets.inc();
  // Counts and reasons only: no device id, no address.
  log.debug({ event: 'socket_connected' }, 'socket connected');
  socket.on('disconnect', (reason) => {
    metrics.sockets.dec();
    log.debug({ event: 'socket_disconnected', reason }, 'socket disconnected');
  });

  const fail = (event: string, error: unknown): void => {
    log.error({ err: error, event }, 'socket event failed');
  };

  // Checked once: the record below would be built for every send even when trace is off.
  const trace = log.level === 'trace';

  socket.on('send', (rawPayload: unknown, rawAck: unknown) => {
    const started = performance.now();
    const stopTimer = (): void => metrics.eventDuration.send.observe((performance.now() - started) / 1000);
    const payload = payloadOf(rawPayload, rawAck);
    const reply = replyOf<SendAck>(rawPayload, rawAck);
    handleSend(payload, deps, deviceId).then(
      (result) => {
        if (trace) log.trace({ event: 'send', ok: result.ok, failed: result.ok ? result.failed.length : undefined }, 'send handled');
        if (result.ok) {
          metrics.envelopesAccepted.inc(envelopeCount(payload, config.maxBatch) - result.failed.length);
          for (const failure of result.failed) metrics.refuse(failure.error.code);
        } else metrics.refuse(result.error.code, envelopeCount(payload, config.maxBatch));
        stopTimer();
        reply(result);
      },
      (error: unknown) => {
        if (failureCode(error) === 'internal') fail('send', error);
        metrics.refuse(failureCode(error), envelopeCount(payload, config.maxBatch));
        stopTimer();
        reply(failureAck(error));
      },
    );
  });

  socket.on('ack', (rawRequest: unknown, rawAck: unknown) => {
    const started = performance.now();
    const stopTimer = (): void => metrics.eventDuration.ack.observe((performance.now() - started) / 1000);
    const payload = payloadOf(rawRequest, rawAck);
    const reply = replyOf<AckResult>(rawRequest, rawAck);
    if (!checkAckRequest.Check(payload)) {
      stopTimer();
      return reply(errorAck('invalid', 'expected {upTo: integer} or {ids: envelope ids}'));
    }
    const request = payload;
    // The device id is the socket's authenticated one: a device can only delete its own queue.
    const deleted = 'upTo' in request ? store.ackUpTo(deviceId, request.upTo) : store.ackIds(deviceId, request.ids);
    deleted
      .then((count) => {
        metrics.envelopesDelivered.inc(count);
        stopTimer();
        reply({ ok: true, deleted: count });
        deps.delivery.acknowledged(socket.id, request).catch((error: unknown) => fail('drain', error));
      })
      .catch((error: unknown) => {
        if (failureCode(error) === 'internal') fail('ack', error);
        stopTimer();
        reply(failureAck(error));
      });
  });

  void (async () => {
    try {
      const drain = await attached;
      socket.emit('prekeys', { oneTimePrekeys: await store.countOneTimePrekeys(deviceId) });
      await drain.nextPage();
    } catch (error) {
      fail('drain', error);
    }
  })();
}

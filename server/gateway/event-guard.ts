/**
 * Per-socket middleware (`socket.use`) run before every incoming event:
 * - re-arms the idle timer: a socket that sends nothing (no send, no ack) for idleTimeoutMs is
 *   closed, so abandoned or parked sockets do not hold memory and a per-IP slot forever;
 * - takes a token from the socket's bucket (limits/rate-policy.ts) and refuses with an ack
 *   `rate_limited` when it is empty — every event costs one, known or not;
 * - refuses events the relay does not define with an ack `invalid` instead of dropping them
 *   silently, so every reply a client can get is typed.
 */
import type { Socket } from 'socket.io';
import { errorAck } from '../errors.js';
import { SocketRateLimiter } from '../limits/token-bucket.js';
import type { RatePolicy } from '../limits/rate-policy.js';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../../protocol/events.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type RelaySocket = Socket<ClientToServerEvents, ServerToClientEvents, {}, SocketData>;

const KNOWN_EVENTS: ReadonlySet<string> = new Set<keyof ClientToServerEvents>(['send', 'ack']);

export interface EventGuardOptions {
  limits: RatePolicy;
  /** 0 = never close for idleness. */
  idleTimeoutMs: number;
  onRateLimited?: (event: string, args: unknown[]) => void;
  onIdle?: () => void;
}

/** The client's ack callback, if it asked for one: Socket.IO appends it as the last argument (after the event name). */
function ackOf(packet: unknown[]): ((result: unknown) => void) | undefined {
  const last = packet.length > 1 ? packet[packet.length - 1] : undefined;
  return typeof last === 'function' ? (last as (result: unknown) => void) : undefined;
}

export function installEventGuard(socket: RelaySocket, options: EventGuardOptions): void {
  const limiter = new SocketRateLimiter(options.limits);
  let idle: NodeJS.Timeout | undefined;
  if (options.idleTimeoutMs > 0) {
    idle = setTimeout(() => {
      options.onIdle?.();
      socket.disconnect(true);
    }, options.idleTimeoutMs);
    idle.unref();
    socket.once('disconnect', () => clearTimeout(idle));
  }

  socket.use((packet, next) => {
    idle?.refresh();
    const event: unknown = packet[0];
    const name = typeof event === 'string' ? event : '';
    if (!limiter.take(name)) {
      options.onRateLimited?.(name, packet.slice(1));
      ackOf(packet)?.(errorAck('rate_limited'));
      return;
    }
    if (!KNOWN_EVENTS.has(name)) {
      ackOf(packet)?.(errorAck('invalid', 'unknown event'));
      return;
    }
    next();
  });
}

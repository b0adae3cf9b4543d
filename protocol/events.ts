/**
 * The Socket.IO event maps shared by the relay, the SDK, the tests and the benchmark
 * (`Server<ClientToServerEvents, ServerToClientEvents, {}, SocketData>`). The relay sees only
 * these shapes: opaque sealed bodies addressed to device ids. docs/PROTOCOL.md §"Relay wire
 * protocol" restates them.
 */
import type { Ack, WireError } from './errors.js';

/** Handshake `auth` object: proof that the connecting client holds the device's Ed25519 key. */
export interface HandshakeAuth {
  /**
   * The protocol version the client speaks: 2 (http.ts PROTOCOL_VERSION). Checked before anything
   * else; any other value, or none (a v1 client), is refused with `unsupported_version`.
   */
  v: 2;
  /** base64url Ed25519 public key of the device. */
  deviceId: string;
  /** Milliseconds since the Unix epoch; must be within ±60 s (configurable) of the relay's clock. */
  timestamp: number;
  /** base64url of 16 random bytes; each nonce is accepted once within the freshness window. */
  nonce: string;
  /** base64url Ed25519 signature of crypto/statements.ts `signHandshake`. */
  signature: string;
}

export interface OutgoingEnvelope {
  /** Recipient device id. */
  to: string;
  /** base64url of 16 random bytes chosen by the sender; a resend reuses it (idempotent). */
  id: string;
  /** The sealed body, binary (≤ 64 KiB by default). */
  body: Uint8Array;
  /** Typing/presence: pushed to live sockets only, never stored, never acked. */
  ephemeral?: boolean;
  /**
   * The version of the recipient account's device list the sender sealed this envelope under.
   * When the relay holds a newer list, it refuses the envelope `stale_devices` (Signal's
   * mismatched-devices answer): the sender refreshes the list, verifies it and sends again, so
   * it never misses a device it could not know about. Senders that omit it are not checked.
   */
  list?: number;
}

export interface DeliveredEnvelope {
  id: string;
  /** The recipient device's queue sequence number; absent on ephemeral envelopes. */
  seq?: number;
  /** A Uint8Array through msgpack-parser.ts on any platform (stock parsers: see docs/relay-api.md). */
  body: Uint8Array;
  ephemeral?: true;
}

export interface SendFailure {
  id: string;
  to: string;
  error: WireError;
}

/**
 * `send` with one envelope: `{ok:true, failed:[]}` once it is durably stored (or pushed, if
 * ephemeral), else `{ok:false, error}`. With a batch: `{ok:false}` only when the batch as a
 * whole is refused (shape, size, rate); otherwise `{ok:true, failed}` lists the envelopes not
 * stored (e.g. `unknown_device`, `quota_exceeded`, `stale_devices`) and every other one is stored.
 */
export type SendAck = Ack<{ failed: SendFailure[] }>;

/** Acknowledge processed envelopes: cumulatively up to a sequence number, or by id. */
export type AckRequest = { upTo: number } | { ids: string[] };

export type AckResult = Ack<{ deleted: number }>;

export interface ClientToServerEvents {
  send: (payload: OutgoingEnvelope | OutgoingEnvelope[], ack: (result: SendAck) => void) => void;
  ack: (request: AckRequest, ack: (result: AckResult) => void) => void;
}

export interface ServerToClientEvents {
  /**
   * Envelopes for this device, in queue order. During a backlog drain each page is sent only
   * after the previous page was acknowledged; live envelopes follow once the backlog is empty.
   */
  envelopes: (batch: DeliveredEnvelope[]) => void;
  /** How many one-time prekeys the relay still holds for this device (sent on connect and when low). */
  prekeys: (status: { oneTimePrekeys: number }) => void;
}

export interface SocketData {
  deviceId: string;
}

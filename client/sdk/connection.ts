/**
 * The Socket.IO connection to the relay. `auth` is a function, so every (re)connect signs a
 * fresh handshake (new timestamp and nonce; a replayed one is refused). Socket.IO reconnects
 * by itself after transport failures; when the relay refuses the handshake or closes the
 * socket itself, Socket.IO stops, so this class retries with its own capped, jittered backoff
 * — except for refusals that retrying cannot cure (an unknown or removed device).
 */
import { io, type Socket } from 'socket.io-client';
import type { AckRequest, AckResult, ClientToServerEvents, DeliveredEnvelope, HandshakeAuth, OutgoingEnvelope, SendAck, ServerToClientEvents } from '../../protocol/events.js';
import { signHandshake, toBase64Url } from '../../crypto/index.js';
import { PROTOCOL_VERSION } from '../../protocol/http.js';
import { msgpackParser } from '../../protocol/msgpack-parser.js';
import { randomBytes } from './random.js';

export type ConnectionState = 'connected' | 'connecting' | 'offline';

export interface ConnectionOptions {
  relayUrl: string;
  deviceId: string;
  devicePrivateKey: Uint8Array;
  onEnvelopes: (batch: DeliveredEnvelope[]) => void;
  onPrekeys: (status: { oneTimePrekeys: number }) => void;
  onState: (state: ConnectionState, reason?: string) => void;
  onConnected: () => void;
  /** First retry delay in ms (doubles up to `maxBackoffMs`, ±50 % jitter). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Handshake refusals that a retry cannot fix: stop and report `offline`. */
const FATAL_REFUSALS = new Set(['unknown_device', 'unauthorized', 'forbidden', 'bad_signature', 'unsupported_version']);

export class RelayConnection {
  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private stopped = true;
  private currentState: ConnectionState = 'offline';

  constructor(private readonly options: ConnectionOptions) {}

  get state(): ConnectionState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.socket?.connected === true;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const backoffMs = this.options.backoffMs ?? 500;
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(this.options.relayUrl, {
      transports: ['websocket'],
      auth: (callback) => callback(this.signedHandshake() as unknown as object),
      reconnectionDelay: backoffMs,
      reconnectionDelayMax: this.options.maxBackoffMs ?? 10_000,
      randomizationFactor: 0.5,
      forceNew: true,
      parser: msgpackParser,
    });
    this.socket = socket;
    this.setState('connecting');
    socket.on('connect', () => {
      this.attempts = 0;
      this.setState('connected');
      this.options.onConnected();
    });
    socket.on('disconnect', (reason) => {
      if (this.stopped) return;
      this.setState('connecting', reason);
      // The relay closed us on purpose (e.g. during its shutdown): Socket.IO will not retry.
      if (reason === 'io server disconnect') this.retryLater();
    });
    socket.on('connect_error', (error) => {
      if (this.stopped || socket.active) return; // transport error: Socket.IO retries itself
      if (FATAL_REFUSALS.has(error.message)) {
        this.setState('offline', error.message);
        return;
      }
      this.setState('connecting', error.message);
      this.retryLater();
    });
    socket.on('envelopes', (batch) => this.options.onEnvelopes(batch));
    socket.on('prekeys', (status) => this.options.onPrekeys(status));
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = undefined;
    this.setState('offline', 'stopped');
  }

  /** Drops the transport without stopping: the client reconnects as after a network failure. */
  simulateNetworkFailure(): void {
    (this.socket?.io.engine as { close?: () => void } | undefined)?.close?.();
  }

  /** Sends envelopes; resolves with the relay's ack, or rejects on timeout / no connection. */
  async send(envelopes: OutgoingEnvelope[], timeoutMs = 10_000): Promise<SendAck> {
    const socket = this.connectedSocket();
    return socket.timeout(timeoutMs).emitWithAck('send', envelopes);
  }

  async ack(request: AckRequest, timeoutMs = 10_000): Promise<AckResult> {
    const socket = this.connectedSocket();
    return socket.timeout(timeoutMs).emitWithAck('ack', request);
  }

  private connectedSocket(): Socket<ServerToClientEvents, ClientToServerEvents> {
    if (!this.socket?.connected) throw new Error('not connected');
    return this.socket;
  }

  private retryLater(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const base = Math.min((this.options.backoffMs ?? 500) * 2 ** this.attempts, this.options.maxBackoffMs ?? 10_000);
    this.attempts++;
    const delay = base * (0.5 + Math.random());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.socket?.connect();
    }, delay);
  }

  private signedHandshake(): HandshakeAuth {
    const timestamp = Date.now();
    const nonce = toBase64Url(randomBytes(16));
    const relayHost = new URL(this.options.relayUrl).host;
    const signature = signHandshake({ relayHost, deviceId: this.options.deviceId, timestamp, nonce }, this.options.devicePrivateKey);
    return { v: PROTOCOL_VERSION, deviceId: this.options.deviceId, timestamp, nonce, signature: toBase64Url(signature) };
  }

  private setState(state: ConnectionState, reason?: string): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.onState(state, reason);
  }
}

/**
 * Socket.IO clients for sealpost and for the bare Socket.IO forwarder: the same events and
 * acks (protocol/events.ts), WebSocket transport only (no long-polling upgrade), one
 * Manager per client (`forceNew`) so every device has its own connection, no reconnection.
 */
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import * as msgpackParser from 'socket.io-msgpack-parser';
import type { ParserName } from '../config.js';
import type { AckRequest, AckResult, ClientToServerEvents, OutgoingEnvelope, SendAck, ServerToClientEvents } from '../../protocol/events.js';
import { BenchError, loopbackSource, mapLimit, type BenchClient, type BenchDevice, type Driver, type EnvelopeHandler } from './driver.js';
import { handshakeAuth, registerDevice, type SealpostDevice } from './sealpost-identity.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

class SocketIoClient implements BenchClient {
  constructor(
    readonly deviceId: string,
    private readonly socket: ClientSocket,
  ) {}

  send(envelopes: OutgoingEnvelope | OutgoingEnvelope[]): Promise<SendAck> {
    // No per-emit timeout: the scenario's own deadline abandons what is still open.
    return new Promise((resolve) => this.socket.emit('send', envelopes, resolve));
  }

  ack(request: AckRequest): Promise<AckResult> {
    return new Promise((resolve) => this.socket.emit('ack', request, resolve));
  }

  close(): void {
    this.socket.disconnect();
  }
}

interface Options {
  /** One relay, or a cluster's nodes: a device connects to `urls[device.node % urls.length]`. */
  urls: readonly string[];
  parser: ParserName;
  /** sealpost: register real accounts and sign handshakes; bare: any id will do. */
  authenticated: boolean;
  /** Spread connections over this many loopback source addresses (scenario (d)'s many sockets); 1 by default. */
  sourceAddresses?: number;
}

export function socketIoDriver(options: Options): Driver {
  const sealpostDevices = new Map<string, SealpostDevice>();
  if (options.urls.length === 0) throw new BenchError('socketIoDriver needs at least one URL');
  const urlOf = (node: number): string => options.urls[node % options.urls.length] as string;
  let connects = 0;
  return {
    async createDevices(count: number): Promise<BenchDevice[]> {
      if (!options.authenticated) return Array.from({ length: count }, () => ({ id: randomBytes(32).toString('base64url') }));
      // Registrations go round the nodes too: in a cluster any node writes the shared directory.
      return mapLimit(Array.from({ length: count }), 16, async (_, i) => {
        const device = await registerDevice(urlOf(i));
        sealpostDevices.set(device.id, device);
        return { id: device.id };
      });
    },

    connect(device: BenchDevice, onEnvelopes?: EnvelopeHandler): Promise<BenchClient> {
      const sealpost = sealpostDevices.get(device.id);
      if (options.authenticated && sealpost === undefined) throw new BenchError(`unknown bench device ${device.id}`);
      const url = urlOf(device.node ?? 0);
      const localAddress = loopbackSource(connects++, options.sourceAddresses ?? 1);
      const socket: ClientSocket = io(url, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        autoConnect: false,
        timeout: 30_000,
        // engine.io-client hands localAddress to ws, which binds the socket to it.
        ...(localAddress === undefined ? {} : { localAddress }),
        // The stock msgpack parser, not the SDK's wrapper: bench bodies are Buffers, already msgpack bin.
        ...(options.parser === 'msgpack' ? { parser: msgpackParser } : {}),
        auth: (cb) => cb(sealpost ? { ...handshakeAuth(url, sealpost) } : { deviceId: device.id }),
      });
      const client = new SocketIoClient(device.id, socket);
      if (onEnvelopes) socket.on('envelopes', (batch) => onEnvelopes(client, batch));
      return new Promise((resolve, reject) => {
        socket.once('connect', () => resolve(client));
        socket.once('connect_error', (error) => reject(new BenchError(`connect refused: ${error.message}`)));
        socket.connect();
      });
    },
  };
}

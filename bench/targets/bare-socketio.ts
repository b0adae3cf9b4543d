/**
 * The peer a user would pick: a minimal Socket.IO server that forwards the same `send` event
 * to the recipient's room and relays the recipient's `ack` back to the sender's callback.
 * It authenticates nothing beyond reading the device id, validates little and stores nothing.
 * Usage: node dist/bench/targets/bare-socketio.js --port N
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import type {
  AckRequest,
  AckResult,
  ClientToServerEvents,
  OutgoingEnvelope,
  SendAck,
  ServerToClientEvents,
  SocketData,
} from '../../protocol/events.js';
import { PendingAcks, parseListenArgs, stopOnSignalOrTimeout } from './forwarding.js';

const { host, port } = parseListenArgs(process.argv.slice(2));
const http = createServer();
const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(http, {
  maxHttpBufferSize: 8 * 1024 * 1024,
});
const pending = new PendingAcks();

io.use((socket, next) => {
  const deviceId: unknown = (socket.handshake.auth as { deviceId?: unknown }).deviceId;
  if (typeof deviceId !== 'string' || deviceId.length === 0) return next(new Error('unauthorized'));
  socket.data.deviceId = deviceId;
  next();
});

io.on('connection', (socket) => {
  const device = socket.data.deviceId;
  void socket.join(device);

  socket.on('send', (payload: OutgoingEnvelope | OutgoingEnvelope[], ack: (r: SendAck) => void) => {
    const batch = Array.isArray(payload) ? payload : [payload];
    // The sender's callback fires once the recipient has acked every envelope of the call.
    let left = batch.length;
    const done = (): void => {
      if (--left === 0 && typeof ack === 'function') ack({ ok: true, failed: [] });
    };
    for (const envelope of batch) {
      const seq = pending.add(envelope.to, done);
      io.to(envelope.to).emit('envelopes', [{ id: envelope.id, seq, body: envelope.body }]);
    }
  });

  socket.on('ack', (request: AckRequest, ack: (r: AckResult) => void) => {
    const deleted = 'upTo' in request ? pending.ackUpTo(device, request.upTo) : 0;
    if (typeof ack === 'function') ack({ ok: true, deleted });
  });

  socket.on('disconnect', () => {
    if ((io.sockets.adapter.rooms.get(device)?.size ?? 0) === 0) pending.forget(device);
  });
});

http.listen(port, host, () => {
  const address = http.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : port })}\n`);
});
stopOnSignalOrTimeout(() => {
  void io.close();
});

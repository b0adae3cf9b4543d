/**
 * The floor: the bare forwarder's behaviour on the `ws` library with one binary frame per
 * message (targets/raw-frames.ts). The device id comes from the URL (`/?device=…`).
 * Usage: node dist/bench/targets/raw-ws.js --port N
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { FRAME, decodeFrame, encodeFrame } from './raw-frames.js';
import { PendingAcks, parseListenArgs, stopOnSignalOrTimeout } from './forwarding.js';

const { host, port } = parseListenArgs(process.argv.slice(2));
const http = createServer();
const wss = new WebSocketServer({ server: http, maxPayload: 8 * 1024 * 1024 });
const rooms = new Map<string, Set<WebSocket>>();
const pending = new PendingAcks();

wss.on('connection', (ws, request) => {
  const device = new URL(request.url ?? '/', 'http://localhost').searchParams.get('device');
  if (!device) {
    ws.close(4401, 'unauthorized');
    return;
  }
  let room = rooms.get(device);
  if (room === undefined) {
    room = new Set();
    rooms.set(device, room);
  }
  room.add(ws);

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const frame = decodeFrame(data);
    if (frame === undefined) return;
    if (frame.type === FRAME.send) {
      const req = frame.req;
      const seq = pending.add(frame.to, () => ws.send(encodeFrame({ type: FRAME.sendAck, req, ok: true })));
      const out = encodeFrame({ type: FRAME.envelope, seq, id: frame.id, body: frame.body });
      for (const peer of rooms.get(frame.to) ?? []) peer.send(out);
    } else if (frame.type === FRAME.ack) {
      const deleted = pending.ackUpTo(device, frame.upTo);
      ws.send(encodeFrame({ type: FRAME.ackResult, req: frame.req, deleted }));
    }
  });

  ws.on('close', () => {
    const live = rooms.get(device);
    live?.delete(ws);
    if (live !== undefined && live.size === 0) {
      rooms.delete(device);
      pending.forget(device);
    }
  });
});

http.listen(port, host, () => {
  const address = http.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : port })}\n`);
});
stopOnSignalOrTimeout(() => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  http.close();
});

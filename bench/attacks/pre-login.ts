/**
 * Attack 3 (issue 18 item 3): what a connection costs before (and just after) login. Before the
 * fix 120 anonymous connections took the relay to 1.66 GB, 8 connections sending million-key
 * msgpack maps pushed /healthz to 2.5 s, and idle TCP connections stayed open 70 s and more.
 * Four attackers at once, for the whole duration:
 *  a. anonymous Engine.IO WebSockets from ONE address (127.0.0.1), 40 at a time, each held
 *     until the relay closes it (never a handshake);
 *  b. 128 KiB frames on anonymous connections (4 loops, addresses 127.0.4.x);
 *  c. a msgpack map declaring 1.1 million keys (6.6 MB, all keys present): 4 loops on anonymous
 *     connections and 4 on connections that completed a signed handshake (127.0.5.x);
 *  d. 200 raw TCP connections (127.0.6.x): 100 send nothing, 100 half a request header; when
 *     does the relay close them?
 * For a diagnosis, PRELOGIN_PARTS=a,c (environment) runs only those parts (c1: the maps before
 * the handshake only, c2: after it only).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { encode } from '../../protocol/msgpack.js';
import { errorText, flood, handshakeAuth, ready, register, sleep, Tally, type Device } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';
import { percentile } from '../stats.js';

const ANONYMOUS_AT_ONCE = 40;
const IDLE_TCP = 200;

function engineUrl(url: string): string {
  return `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
}

/** An Engine.IO WebSocket that got its open packet; rejects with the upgrade refusal. Frames go with a zero mask (no attacker CPU on 6.6 MB frames). */
function anonymous(url: string, localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(engineUrl(url), { localAddress, perMessageDeflate: false, generateMask: (mask) => void mask.fill(0) });
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no open packet within 10 s'));
    }, 10_000);
    ws.once('message', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`closed ${code}`));
    });
  });
}

/** Resolves with the close code (or "open" if still open after `ms`, then terminates it). */
function closeCode(ws: WebSocket, ms: number): Promise<string> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve('still open');
    }, ms);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(String(code));
    });
  });
}

/** A raw Engine.IO WebSocket after a signed msgpack CONNECT and its CONNECT answer. */
async function handshaken(url: string, device: Device, localAddress: string): Promise<WebSocket> {
  const ws = await anonymous(url, localAddress);
  ws.send(encode({ type: 0, nsp: '/', data: handshakeAuth(url, device) }));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no CONNECT answer within 10 s')), 10_000);
    ws.once('message', (_data, binary) => {
      clearTimeout(timer);
      if (binary) resolve();
      else reject(new Error('unexpected text frame'));
    });
    ws.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`closed ${code}`));
    });
  });
  return ws;
}

/** A msgpack map declaring `pairs` keys and holding them all (uint32 keys, nil values): 6.6 MB for 1.1 million. */
export function hugeMap(pairs: number): Buffer {
  const frame = Buffer.alloc(5 + pairs * 6);
  frame[0] = 0xdf;
  frame.writeUInt32BE(pairs, 1);
  for (let i = 0, at = 5; i < pairs; i++, at += 6) {
    frame[at] = 0xce;
    frame.writeUInt32BE(i, at + 1);
    frame[at + 5] = 0xc0;
  }
  return frame;
}

export async function preLogin(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const device = await register(p.url, 'maps');
  const tally = new Tally();
  const started = performance.now();
  const until = started + p.durationMs;
  const big = Buffer.alloc(128 * 1024, 0x41);
  const map = hugeMap(1_100_000);
  const anonymousHeldMs: number[] = [];
  const parts = new Set((process.env['PRELOGIN_PARTS'] ?? 'a,b,c,d').split(','));
  // c1: maps before the handshake, c2: after it; c: both.
  const part = (name: string, run: () => Promise<unknown>): Promise<unknown> => (parts.has(name) || parts.has(name.slice(0, 1)) ? run() : Promise.resolve());

  // a. anonymous connections from one address, held until the relay drops them.
  const a = part('a', () => flood(ANONYMOUS_AT_ONCE, until, 100_000, async () => {
    const t0 = performance.now();
    try {
      const ws = await anonymous(p.url, '127.0.0.1');
      tally.add('a anonymous opened');
      const code = await closeCode(ws, Math.max(0, until - performance.now()) + 2000);
      if (code !== 'still open') anonymousHeldMs.push(performance.now() - t0);
      tally.add(`a anonymous ended ${code}`);
    } catch (error) {
      tally.add(`a anonymous refused ${errorText(error).replace(/^Unexpected server response: /, 'HTTP ')}`);
      await sleep(20);
    }
  }));

  // b. 128 KiB frames before the handshake.
  const b = part('b', () => flood(4, until, 100_000, async (i) => {
    try {
      const ws = await anonymous(p.url, `127.0.4.${(i % 8) + 1}`);
      const gone = closeCode(ws, 5000);
      ws.send(big);
      tally.add(`b 128KiB frame: close ${await gone}`);
    } catch (error) {
      tally.add(`b refused ${errorText(error)}`);
      await sleep(20);
    }
  }));

  // c. million-key maps, before and after a signed handshake.
  const cAnon = part('c1', () => flood(4, until, 100_000, async (i) => {
    try {
      const ws = await anonymous(p.url, `127.0.5.${(i % 8) + 1}`);
      const gone = closeCode(ws, 5000);
      ws.send(map);
      tally.add(`c map before handshake: close ${await gone}`);
    } catch (error) {
      tally.add(`c refused ${errorText(error)}`);
      await sleep(20);
    }
  }));
  const cAuth = part('c2', () => flood(4, until, 100_000, async (i) => {
    try {
      const ws = await handshaken(p.url, device, `127.0.5.${(i % 8) + 101}`);
      const gone = closeCode(ws, 5000);
      ws.send(map);
      tally.add(`c map after handshake: close ${await gone}`);
    } catch (error) {
      tally.add(`c handshaken refused ${errorText(error)}`);
      await sleep(20);
    }
  }));

  // d. idle and half-header TCP connections.
  const closedAfter: number[] = [];
  const idle: Socket[] = [];
  const d = part('d', () => Promise.all(
    Array.from(
      { length: parts.has('d') ? IDLE_TCP : 0 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const port = Number(new URL(p.url).port);
          const t0 = performance.now();
          const socket = tcpConnect({ host: '127.0.0.1', port, localAddress: `127.0.6.${(i % 100) + 1}` }, () => {
            if (i % 2 === 1) socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
          });
          idle.push(socket);
          socket.on('data', () => undefined);
          socket.on('error', () => undefined);
          socket.once('close', () => {
            closedAfter.push(performance.now() - t0);
            resolve();
          });
          setTimeout(resolve, Math.max(0, until - performance.now()));
        }),
    ),
  ));

  await Promise.all([a, b, cAnon, cAuth, d]);
  const stillOpen = idle.filter((s) => !s.destroyed && !s.closed).length;
  for (const s of idle) s.destroy();
  tally.add('d tcp closed by relay', closedAfter.length);
  tally.add('d tcp still open at end', stillOpen);
  const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');
  return {
    summary:
      `a: one address held ≤ ${ANONYMOUS_AT_ONCE} anonymous sockets: ${tally.get('a anonymous opened')} opened (relay closed them after ${s(percentile(anonymousHeldMs, 50))}), ` +
      `${tally.sum('a anonymous refused')} refused at the upgrade; b: ${tally.sum('b 128KiB')} × 128 KiB frames (${JSON.stringify(pick(tally.counts, 'b '))}); ` +
      `c: ${tally.sum('c map')} million-key maps (${JSON.stringify(pick(tally.counts, 'c '))}); ` +
      `d: ${closedAfter.length}/${IDLE_TCP} idle or half-header TCP connections closed, median ${s(percentile(closedAfter, 50))}, max ${s(closedAfter.length ? Math.max(...closedAfter) : NaN)}, ${stillOpen} open at the end`,
    counts: tally.counts,
    details: { anonymousHeldP50Ms: percentile(anonymousHeldMs, 50), idleClosedP50Ms: percentile(closedAfter, 50), idleClosedMaxMs: closedAfter.length ? Math.max(...closedAfter) : null },
  };
}

function pick(counts: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

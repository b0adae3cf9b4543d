/**
 * Shared by both processes of scenario (f): real SealpostClients on a profile store of the
 * chosen kind, the message text that carries its own send time, and the messages between the
 * sender's process and the recipient's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilePersistence, MemoryPersistence, SealpostClient } from '../../client/sdk/node.js';
import type { SdkStore } from '../config.js';
import { BenchError } from './driver.js';

/** Sender → recipient process. */
export type ToReceiver =
  | { type: 'start'; url: string; store: SdkStore; bob: string; alice: string; messages: number; timeoutMs: number }
  | { type: 'burst' };

/** Recipient → sender process. */
export type FromReceiver =
  /** bob registered, his second device linked, both connected. */
  | { type: 'ready' }
  /** Both devices received the warm-up message. */
  | { type: 'warm' }
  | {
      type: 'done';
      /** send() call → `message` event on bob's first device, ms, one per message. */
      latenciesMs: number[];
      /** Wall-clock (ms since the epoch, sub-ms) when each device had every message; undefined if it never did. */
      firstAllAt?: number;
      secondAllAt?: number;
      /** Problems either device reported (rejected envelopes, errors). */
      errors: number;
      /** This process's CPU from the burst's start to the end, % of one core. */
      cpuPct: number;
    }
  | { type: 'error'; message: string };

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export const WARMUP_SEQ = -1;

/** A text of exactly `bytes` ASCII characters: `seq:sentAt:` then filler. */
export function burstText(seq: number, sentAt: number, bytes: number): string {
  const head = `${seq}:${sentAt.toFixed(3)}:`;
  return head + 'x'.repeat(Math.max(0, bytes - head.length));
}

export function parseBurstText(text: string): { seq: number; sentAt: number } | undefined {
  const [seq, sentAt] = text.split(':', 2);
  const parsed = { seq: Number(seq), sentAt: Number(sentAt) };
  return Number.isInteger(parsed.seq) && Number.isFinite(parsed.sentAt) ? parsed : undefined;
}

export interface SdkBenchClient {
  client: SealpostClient;
  /** Closes the client and removes its profile directory (file store). */
  dispose(): Promise<void>;
}

/** A fresh client; the file store lives in its own temporary directory, as a CLI profile would. */
export async function openClient(store: SdkStore, name: string): Promise<SdkBenchClient> {
  const dir = store === 'file' ? mkdtempSync(join(tmpdir(), `sealpost-bench-${name}-`)) : undefined;
  const persistence = dir === undefined ? new MemoryPersistence() : new FilePersistence(dir);
  const client = await SealpostClient.open({ persistence, reconnectBackoffMs: 100 });
  return {
    client,
    async dispose() {
      await Promise.race([client.close(), new Promise((resolve) => setTimeout(resolve, 5_000))]).catch(() => undefined);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitUntil(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new BenchError(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function connected(client: SealpostClient, what: string): Promise<void> {
  client.connect();
  await waitUntil(() => client.connectionState === 'connected', `${what} connects`, 15_000);
}

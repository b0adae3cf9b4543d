/**
 * The notice bus on a real Redis (server/cluster/redis-bus.ts): the notices one node publishes in
 * one turn go out as one command, and each still reaches the node subscribed to its device, in
 * order, with Redis' count of listening nodes as each publish's answer.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../server/cluster/redis-bus.js';
import type { Notice } from '../../server/delivery/notice-bus.js';
import { startRedis, type RedisHandle } from '../support/redis.js';

let redis: RedisHandle;
let sender: RedisBus;
let holder: RedisBus;

/** Resolves once the bus's subscriber connection is up (at most 5 s). */
async function ready(bus: RedisBus): Promise<void> {
  for (const started = Date.now(); !bus.healthy; ) {
    if (Date.now() - started > 5_000) throw new Error('the bus did not connect to Redis within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  redis = await startRedis();
  sender = new RedisBus(redis.url);
  holder = new RedisBus(redis.url);
  await Promise.all([ready(sender), ready(holder)]);
});

afterAll(async () => {
  await sender?.close();
  await holder?.close();
  await redis?.stop();
});

describe('RedisBus', () => {
  it('sends the notices of one turn together: each heard in order on its device, each answered with its listeners', async () => {
    const heard: [string, Notice][] = [];
    holder.onNotice((deviceId, notice) => heard.push([deviceId, notice]));
    await holder.subscribe('dev-a');
    await holder.subscribe('dev-b');

    // Redis' count of script calls: EVALSHA, or EVAL when Redis did not have the script yet.
    const admin = new Redis(redis.url);
    const scriptCalls = async () => {
      const stats = await admin.info('commandstats');
      return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const scriptsBefore = await scriptCalls();

    const body = (byte: number) => new Uint8Array([byte, byte, byte]);
    // Published in one synchronous run, as a commit's notices are (delivery.ts).
    const answers = Promise.all([
      sender.publish('dev-a', { kind: 'stored', seq: 1, envelopes: [{ id: 'e1', seq: 1, body: body(1) }] }),
      sender.publish('dev-b', { kind: 'stored', seq: 7 }),
      sender.publish('dev-nobody', { kind: 'prekeys', count: 3 }),
      sender.publish('dev-a', { kind: 'stored', seq: 2, envelopes: [{ id: 'e2', seq: 2, body: body(2) }] }),
    ]);
    expect(await answers).toEqual([1, 1, 0, 1]);
    const scripts = (await scriptCalls()) - scriptsBefore;
    admin.disconnect();
    expect(scripts).toBeGreaterThanOrEqual(1);
    expect(scripts).toBeLessThanOrEqual(2);
    await expect.poll(() => heard.length).toBe(3);
    expect(heard).toEqual([
      ['dev-a', { kind: 'stored', seq: 1, envelopes: [{ id: 'e1', seq: 1, body: body(1) }] }],
      ['dev-b', { kind: 'stored', seq: 7 }],
      ['dev-a', { kind: 'stored', seq: 2, envelopes: [{ id: 'e2', seq: 2, body: body(2) }] }],
    ]);

    // A lone notice goes as a plain PUBLISH, answered the same way.
    expect(await sender.publish('dev-b', { kind: 'removed' })).toBe(1);
    await expect.poll(() => heard.at(-1)).toEqual(['dev-b', { kind: 'removed' }]);
  });

  it('answers undefined, never rejects, while Redis is away', async () => {
    await redis.restart();
    await ready(sender);
    const lost = new RedisBus('redis://127.0.0.1:1');
    try {
      expect(await Promise.all([lost.publish('dev-a', { kind: 'removed' }), lost.publish('dev-b', { kind: 'removed' })])).toEqual([undefined, undefined]);
    } finally {
      await lost.close();
    }
  });
});

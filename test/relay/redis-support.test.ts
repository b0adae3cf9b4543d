/**
 * test/support/redis.ts: a throwaway redis-server answers on 127.0.0.1, keeps nothing across a
 * restart on the same port (no persistence), and is gone after stop.
 */
import { Redis } from 'ioredis';
import { readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../support/redis.js';

let redis: RedisHandle | undefined;
afterAll(async () => redis?.stop());

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

describe('a test Redis', () => {
  it('starts, answers, restarts empty on the same port, and stops', async () => {
    redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    await withClient(redis.url, async (client) => {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      await client.set('sealpost:probe', 'before');
    });

    const port = redis.port;
    await redis.restart();
    expect(redis.port).toBe(port);
    await withClient(redis.url, async (client) => {
      expect(await client.ping()).toBe('PONG');
      expect(await client.get('sealpost:probe')).toBeNull();
    });
    expect(readdirSync(redis.dir)).toEqual([]);

    await redis.stop();
    redis = undefined;
    expect(await refused(port)).toBe(true);
  });

  it('says what to install when redis-server is missing', async () => {
    await expect(startRedis({ binary: '/nonexistent/redis-server' })).rejects.toThrow("install Debian's `redis-server` package");
  });
});

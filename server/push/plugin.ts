/**
 * Opens Web Push for the relay (unless --no-push): the subscription store and VAPID key pair in
 * the relay's data (push-store.ts), the sender, the notifier hooked to delivery, and their
 * closing with the app. server/routes/push.ts calls it and serves the routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { MemoryPushStore, type PushStore } from './push-store.js';
import { PushNotifier } from './notifier.js';
import { PgPushStore } from './pg-push-store.js';
import { RedisPushGate } from './push-gate.js';
import { PushSender } from './sender.js';
import { SqlitePushStore } from './sqlite-push-store.js';
import { loadOrCreateVapidFile, newVapidKeys, vapidPath, type VapidKeys } from './vapid.js';

export interface PushService {
  store: PushStore;
  keys: VapidKeys;
}

/**
 * VAPID `sub`: where push services can reach the operator. --push-subject, else the relay's
 * https:// public origin, else a placeholder (push services accept it; set --push-subject).
 */
export function pushSubject(config: Config): string {
  if (config.pushSubject) return config.pushSubject;
  if (config.publicOrigin?.startsWith('https://')) return config.publicOrigin;
  return 'mailto:postmaster@localhost';
}

async function openStore(app: FastifyInstance): Promise<PushStore> {
  const { config } = app.relay;
  if (config.postgres) return PgPushStore.open(config.postgres);
  if (config.db === ':memory:' || config.db === '') {
    app.log.warn('database is in memory: push subscriptions and the VAPID key pair are lost on exit');
    return new MemoryPushStore(newVapidKeys());
  }
  return new SqlitePushStore(config.db, loadOrCreateVapidFile(vapidPath(config.db)));
}

export async function openPush(app: FastifyInstance): Promise<PushService> {
  const { config, metrics } = app.relay;
  const store = await openStore(app);
  const keys = await store.vapidKeys();
  const sender = new PushSender({ keys, subject: pushSubject(config), allowInsecure: config.pushAllowInsecureEndpoints });
  const gate = config.redis ? new RedisPushGate(config.redis) : undefined;
  const notifier = new PushNotifier({ store, sender, gate, minIntervalMs: config.pushMinIntervalMs, sent: metrics.pushSent, log: app.log });
  app.delivery.onStoredWithoutSocket((deviceId) => notifier.stored(deviceId));
  app.addHook('onClose', async () => {
    await notifier.close();
    gate?.close();
    await store.close();
  });
  return { store, keys };
}

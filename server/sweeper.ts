/**
 * The TTL sweeper: deletes expired envelopes every sweepIntervalMs (unref'd; stops on close), and
 * in a cluster the expired rows of the shared tables too (nonces, link blobs: `alsoSweep`).
 */
import type { FastifyInstance } from 'fastify';

export function startSweeper(app: FastifyInstance, alsoSweep?: (now: number) => Promise<void>): void {
  const { config, metrics } = app.relay;
  let running = false;
  const sweep = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const now = Date.now();
      await alsoSweep?.(now);
      const deleted = await app.store.sweepExpired(now);
      if (deleted > 0) {
        metrics.envelopesExpired.inc(deleted);
        app.log.info({ event: 'sweep', deleted }, 'expired envelopes deleted');
      }
    } catch (error) {
      app.log.error({ err: error }, 'sweep failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), config.sweepIntervalMs);
  timer.unref();
  app.addHook('preClose', async () => clearInterval(timer));
}

/**
 * The TTL sweeper: deletes expired envelopes every sweepIntervalMs (unref'd; stops on close), and
 * in a cluster the expired rows of the shared tables too (nonces, link blobs: `alsoSweep`), then
 * expired attachment blobs (app.blobs, each store deleting its own bytes).
 */
import type { FastifyInstance } from 'fastify';
import './blobs/plugin.js';

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
    }
    // Attachment blobs past their expiry, and uploads left unfinished, with their bytes (server/blobs/).
    try {
      const blobs = await app.blobs.sweepExpired(Date.now());
      if (blobs > 0) app.log.info({ event: 'sweep', blobs }, 'expired attachments deleted');
    } catch (error) {
      app.log.error({ err: error }, 'attachment sweep failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), config.sweepIntervalMs);
  timer.unref();
  app.addHook('preClose', async () => clearInterval(timer));
}

/** Progress lines on stderr when BENCH_DEBUG=1: where a stuck scenario stopped. */
const enabled = process.env['BENCH_DEBUG'] === '1';
const start = performance.now();

export function debug(message: string): void {
  if (enabled) process.stderr.write(`[load ${((performance.now() - start) / 1000).toFixed(2)}s] ${message}\n`);
}

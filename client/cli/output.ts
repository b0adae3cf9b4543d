/** Where the CLI writes: the process by default, a capture in tests that call `run()` in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Ends long-running commands (`listen`, `link`) from outside; SIGINT/SIGTERM do it for the process. */
  signal?: AbortSignal;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Resolves when `signal` aborts, or on SIGINT/SIGTERM when running as the process. */
export function untilStopped(io: CliIo): Promise<void> {
  return new Promise((resolve) => {
    if (io.signal) {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

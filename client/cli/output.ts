/** Where the CLI writes: the process (bin/sealpost.ts), or a capture in tests that call its main() in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Ends long-running commands (`listen`, `link`) from outside; SIGINT/SIGTERM do it for the process. */
  signal?: AbortSignal;
}

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

/**
 * The PostgreSQL store's connections: one pg.Pool per store, every session committing with
 * `synchronous_commit = on`, and the one place that tells "PostgreSQL cannot be reached now"
 * (StoreUnavailableError, answered `unavailable` and retried by clients) from a failure.
 *
 * The pool mends itself: a connection that fails is destroyed rather than returned, an idle one
 * that PostgreSQL closes is dropped, and the next query opens a new connection. So a restarted or
 * failed-over server is used again without reopening the store. No message built here contains
 * the URL; a stray copy of its password in a driver error is masked, and that error not chained.
 */
import pg from 'pg';
import { StoreUnavailableError } from '../store.js';

export interface PoolOptions {
  /** Connections this process keeps at most (default 10). */
  maxConnections?: number;
  /** How long a query waits to get a connection before it is refused `unavailable` (default 5 s). */
  connectTimeoutMs?: number;
}

/**
 * int8 values (sequence numbers, expiry times, counts) as numbers rather than pg's default
 * strings: every one the store keeps is far below 2^53.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Node's socket errors that mean the server is down, unreachable or went away. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** What pg says when a connection broke, could not be made in time, or was closed under a query. */
const DRIVER_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * SQLSTATEs of a server that cannot take the request now but may soon: connection exceptions
 * (class 08), insufficient resources (class 53: disk full, out of memory, too many connections),
 * a server shutting down, crashed or starting up (57P01-57P03), and a read-only transaction
 * (25006: a standby, e.g. during a failover).
 */
function isTransientState(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('08') || code.startsWith('53') || ['57P01', '57P02', '57P03', '25006'].includes(code));
}

export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  if (error instanceof pg.DatabaseError) return isTransientState(error.code);
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && SOCKET_CODES.has(code)) || DRIVER_MESSAGES.test(error.message);
}

export class PgPool {
  readonly #pool: pg.Pool;
  readonly #password: string;

  constructor(url: string, options: PoolOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // Not chained: Node's invalid-URL error carries the input, password included.
      throw new Error('the PostgreSQL URL is not a valid postgres:// URL');
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error('the PostgreSQL URL must start with postgres:// or postgresql://');
    this.#password = decodeURIComponent(parsed.password);
    // The commit that answers a sender must be on PostgreSQL's disk (and on its synchronous
    // standbys, if any), whatever the role's or database's default says. Set at connection
    // start-up, in the URL: pg lets the URL's own `options` replace a separate one.
    parsed.searchParams.set('options', `${parsed.searchParams.get('options') ?? ''} -c synchronous_commit=on`.trim());
    this.#pool = new pg.Pool({
      connectionString: parsed.href,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      // Finds a connection whose server vanished without a word (a host down, a cut network).
      keepAlive: true,
      types: TYPES,
    });
    // An idle connection that fails (PostgreSQL restarted, the network cut) is dropped by the
    // pool, which then emits 'error'; with no listener that would end the process.
    this.#pool.on('error', () => undefined);
  }

  /** `error` as thrown to callers: StoreUnavailableError when PostgreSQL cannot be reached now. */
  translate(error: unknown): unknown {
    if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
    const cause = error as Error;
    // A connection tried on several addresses fails with an AggregateError whose message is empty.
    const reason = this.#mask(cause.message || String((cause as { code?: unknown }).code));
    // A driver error that repeats the password (a mistyped URL can put it in the host name) is
    // not chained: loggers print causes with their fields.
    return new StoreUnavailableError(`PostgreSQL is unavailable (${reason}); try again later`, this.#mentionsPassword(cause) ? undefined : { cause });
  }

  #mask(text: string): string {
    return this.#password ? text.split(this.#password).join('***') : text;
  }

  #mentionsPassword(error: Error): boolean {
    const texts = [error.message, error.stack ?? '', ...Object.values(error).filter((v): v is string => typeof v === 'string')];
    return this.#password !== '' && texts.some((text) => text.includes(this.#password));
  }

  /** One statement, outside any transaction (atomic on its own). */
  async query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(config)).rows;
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * Runs `work` between BEGIN and COMMIT on one connection. Any error rolls back; a connection
   * that cannot even roll back is broken and is destroyed instead of returned to the pool. A
   * COMMIT cut off by a lost connection may have committed: the caller is told `unavailable`,
   * and a retried write then finds what it wrote (a duplicate envelope, a taken handle).
   */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    // A checked-out connection that breaks also emits 'error' (besides failing its query); with no
    // listener that event would end the process. The failed query is what reports it.
    const ignore = () => undefined;
    client.on('error', ignore);
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      throw this.translate(error);
    } finally {
      client.removeListener('error', ignore);
      client.release(broken);
    }
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

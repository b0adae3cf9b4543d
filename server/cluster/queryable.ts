/** What the cluster's shared tables need of a PostgreSQL connection pool (server/store/postgres/pool.ts). */
export interface Queryable {
  query(text: string, params?: readonly unknown[]): Promise<{ rowCount: number | null; rows: Record<string, unknown>[] }>;
  /** Runs `work` in one transaction on one connection, committed when it resolves. */
  transaction<T>(work: (tx: Pick<Queryable, 'query'>) => Promise<T>): Promise<T>;
}

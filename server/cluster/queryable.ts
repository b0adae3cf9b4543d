/** What the cluster's shared tables need of PostgreSQL (the store's pool, server/store/postgres/pool.ts): rows of one statement, or one transaction. */
export type Rows = Record<string, unknown>[];

export interface Queryable {
  query(text: string, params?: readonly unknown[]): Promise<Rows>;
  /** Runs `work` in one transaction on one connection, committed when it resolves. */
  transaction<T>(work: (tx: Pick<Queryable, 'query'>) => Promise<T>): Promise<T>;
}

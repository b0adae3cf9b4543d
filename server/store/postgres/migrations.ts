/**
 * Numbered schema migrations of the PostgreSQL store, applied in order, each in its own
 * transaction that also records it in `schema_migrations`. Never edit a released migration:
 * add one. Several relay processes may start at once against one database: every step holds a
 * transaction-scoped advisory lock and re-reads the applied version under it, so each migration
 * runs exactly once and a process that waited finds nothing left to do.
 *
 * The tables hold what the SQLite store holds (DESIGN.md "What the relay stores") — no sender,
 * no IP address, no timestamp other than an envelope's expiry.
 */
import type { PgPool } from './pool.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'accounts and devices',
    sql: `
      CREATE TABLE accounts (
        handle       text PRIMARY KEY,
        identity_key text NOT NULL,
        -- The latest signed device list as JSON text: jsonb would reorder its keys.
        device_list  text NOT NULL
      );
      CREATE TABLE devices (
        device_id      text PRIMARY KEY,
        handle         text NOT NULL REFERENCES accounts(handle) ON DELETE CASCADE,
        spk_key_id     bigint NOT NULL, -- key ids go up to 2^32 - 1
        spk_public_key text NOT NULL,
        spk_signature  text NOT NULL,
        -- The queue's bookkeeping, changed only by a transaction that holds this row's lock: the
        -- next sequence number (never reused, so "ack up to N" never deletes a later envelope)
        -- and the totals the quotas and the metrics read without scanning the queue.
        next_seq       bigint NOT NULL DEFAULT 1,
        queue_count    integer NOT NULL DEFAULT 0,
        queue_bytes    bigint NOT NULL DEFAULT 0
      );
      CREATE INDEX devices_by_handle ON devices (handle);`,
  },
  {
    version: 2,
    name: 'one-time prekeys',
    sql: `
      CREATE TABLE one_time_prekeys (
        inserted   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the oldest key goes first
        device_id  text NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
        key_id     bigint NOT NULL,
        public_key text NOT NULL,
        UNIQUE (device_id, key_id)
      );
      CREATE INDEX one_time_prekeys_by_device ON one_time_prekeys (device_id, inserted);`,
  },
  {
    version: 3,
    name: 'envelope queue',
    sql: `
      CREATE TABLE queue (
        device_id   text NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
        seq         bigint NOT NULL,
        envelope_id text NOT NULL,
        body        bytea NOT NULL,
        size        integer NOT NULL,
        expires_at  bigint NOT NULL, -- milliseconds since the epoch
        PRIMARY KEY (device_id, seq),
        UNIQUE (device_id, envelope_id)
      );
      -- Sealed bodies are random bytes: compressing them only costs CPU.
      ALTER TABLE queue ALTER COLUMN body SET STORAGE EXTERNAL;
      CREATE INDEX queue_by_expiry ON queue (expires_at);`,
  },
  {
    version: 4,
    name: 'state shared by cluster nodes: nonces and link blobs',
    sql: `
      -- Handshake and signed-request nonces (server/cluster/pg-nonces.ts): a replay to any node is refused.
      CREATE TABLE nonces (
        signer     text NOT NULL,
        nonce      text NOT NULL,
        expires_at bigint NOT NULL, -- milliseconds since the epoch
        PRIMARY KEY (signer, nonce)
      );
      CREATE INDEX nonces_by_expiry ON nonces (expires_at);
      -- Link blobs sealed to a device being linked (server/cluster/pg-mailbox.ts); no address is stored.
      CREATE TABLE link_blobs (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        device_id  text NOT NULL,
        body       text NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX link_blobs_by_device ON link_blobs (device_id, id);
      CREATE INDEX link_blobs_by_expiry ON link_blobs (expires_at);`,
  },
  {
    version: 5,
    name: 'attachment blobs',
    sql: `
      -- One row per attachment blob (server/blobs/pg-blob-store.ts): no key, file name or type.
      CREATE TABLE attachments (
        id                text PRIMARY KEY,
        owner             text NOT NULL, -- the uploading account's handle, for its quota
        size              bigint NOT NULL,
        received          bigint NOT NULL DEFAULT 0,
        expires_at        bigint NOT NULL, -- milliseconds since the epoch
        upload_expires_at bigint NOT NULL, -- an unfinished upload is deleted then
        token_hash        bytea NOT NULL    -- SHA-256 of the upload token
      );
      CREATE INDEX attachments_by_owner ON attachments (owner, expires_at);
      CREATE INDEX attachments_by_expiry ON attachments (expires_at);
      CREATE INDEX attachments_by_upload_expiry ON attachments (upload_expires_at) WHERE received < size;
      -- The bytes, in pieces of up to 1 MiB keyed by where each starts; contiguous from 0.
      CREATE TABLE attachment_chunks (
        attachment_id text NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
        start_offset  bigint NOT NULL,
        data          bytea NOT NULL,
        PRIMARY KEY (attachment_id, start_offset)
      );
      -- Encrypted bytes do not compress.
      ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL;`,
  },
  {
    version: 6,
    name: 'push subscriptions and the VAPID key pair',
    sql: `
      -- Web Push (server/push/pg-push-store.ts): one subscription per device, deleted with it.
      CREATE TABLE push_subscriptions (
        device_id text PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
        endpoint  text NOT NULL,
        p256dh    text NOT NULL,
        auth      text NOT NULL
      );
      -- The relay's VAPID key pair, one row made by the first node to start: every node signs
      -- pushes with the same key, which browsers bound the subscriptions to.
      CREATE TABLE push_vapid (
        id          smallint PRIMARY KEY CHECK (id = 1),
        public_key  text NOT NULL,
        private_key text NOT NULL
      );`,
  },
  {
    version: 7,
    name: 'enqueue in one call',
    // The whole enqueue transaction of queue.ts in one statement, so a group commit costs the
    // node one round trip instead of six (BEGIN, lock, duplicates, INSERT, UPDATE, COMMIT): the
    // node's CPU goes per statement, not per byte (docs/performance.md). Same rules, same lock
    // order (device rows in id order, then queue rows); a function called alone is its own
    // transaction. The bodies come as ONE binary parameter, cut by their sizes, so they travel
    // as bytes, not as an array literal's hex text.
    sql: `
      CREATE FUNCTION sealpost_enqueue(
        p_to text[], p_ids text[], p_sizes integer[], p_expires bigint[], p_bodies bytea,
        p_max_envelopes integer, p_max_bytes bigint,
        p_budget bigint -- bytes the relay-wide cap still allows; NULL: no cap
      ) RETURNS bigint[] -- per item, in order: its seq (>= 1) when stored; 0 unknown device; -1 duplicate; -2 over a quota
      LANGUAGE plpgsql AS $fn$
      DECLARE
        devs text[]; next_seqs bigint[]; counts integer[]; totals bigint[];
        touched boolean[];
        outcome bigint[] := '{}';
        d integer;
        body_size integer;
        body_at integer := 1;
      BEGIN
        SELECT coalesce(array_agg(device_id), '{}'), array_agg(next_seq), array_agg(queue_count), array_agg(queue_bytes)
          INTO devs, next_seqs, counts, totals
          FROM (SELECT device_id, next_seq, queue_count, queue_bytes FROM devices
                WHERE device_id = ANY (p_to) ORDER BY device_id FOR NO KEY UPDATE) AS locked;
        touched := array_fill(false, ARRAY[cardinality(devs)]);
        FOR i IN 1 .. coalesce(cardinality(p_to), 0) LOOP
          body_size := p_sizes[i];
          d := array_position(devs, p_to[i]);
          IF d IS NULL THEN
            outcome := outcome || 0::bigint;
          ELSIF counts[d] > 0 AND EXISTS (SELECT 1 FROM queue WHERE device_id = p_to[i] AND envelope_id = p_ids[i]) THEN
            outcome := outcome || -1::bigint;
          ELSIF counts[d] + 1 > p_max_envelopes OR totals[d] + body_size > p_max_bytes OR body_size > p_budget THEN
            -- (with p_budget NULL the last test is NULL, and NULL OR false is not true: no cap)
            outcome := outcome || -2::bigint;
          ELSE
            INSERT INTO queue (device_id, seq, envelope_id, body, size, expires_at)
              VALUES (p_to[i], next_seqs[d], p_ids[i], substring(p_bodies FROM body_at FOR body_size), body_size, p_expires[i]);
            outcome := outcome || next_seqs[d];
            next_seqs[d] := next_seqs[d] + 1;
            counts[d] := counts[d] + 1;
            totals[d] := totals[d] + body_size;
            p_budget := p_budget - body_size;
            touched[d] := true;
          END IF;
          body_at := body_at + body_size;
        END LOOP;
        UPDATE devices AS t SET next_seq = v.next_seq, queue_count = v.count, queue_bytes = v.bytes
          FROM unnest(devs, next_seqs, counts, totals, touched) AS v(device_id, next_seq, count, bytes, changed)
          WHERE t.device_id = v.device_id AND v.changed;
        RETURN outcome;
      END
      $fn$;`,
  },
  {
    version: 8,
    name: 'queue vacuumed by dead rows',
    // The queue is insert-then-delete: its live rows are few (what is undelivered) and its dead
    // ones many. Autovacuum's default waits for dead rows to reach a fifth of the table, and the
    // table (and its indexes) then grows with every delivery: in the cluster benchmark, 500 live
    // rows had 80,000 dead beside them and 93 MB of heap after 40 s, and PostgreSQL's CPU per
    // message doubled over the run (docs/performance.md, "Cluster, fifth session"). Vacuumed
    // every 5,000 dead rows, unthrottled (the table is small), the heap stays small and reused.
    sql: `
      ALTER TABLE queue SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                             autovacuum_vacuum_cost_delay = 0);`,
  },
  {
    version: 9,
    name: 'enqueue and acks in one call',
    // A node's queue writes of one round — the group commit's envelopes and the cumulative acks
    // that arrived meanwhile — as ONE statement and one commit (queue.ts), where acks were a
    // statement of their own beside each enqueue (docs/performance.md, "Cluster, sixth session").
    // sealpost_enqueue's rules and lock order, with the ack devices locked in the same id-ordered
    // pass; acks are applied first, so what they delete frees quota for the envelopes. Set-based
    // where sealpost_enqueue went row by row: one query finds the duplicates of the whole call and
    // one INSERT writes every accepted envelope (a statement run per row is most of PostgreSQL's
    // CPU per envelope in batches). Deleted envelopes come back as three parallel arrays (device,
    // seq, size), so the node can tell each ack how many it deleted. sealpost_enqueue stays: nodes
    // of the previous release call it until they are replaced.
    sql: `
      CREATE FUNCTION sealpost_write_queue(
        p_to text[], p_ids text[], p_sizes integer[], p_expires bigint[], p_bodies bytea,
        p_max_envelopes integer, p_max_bytes bigint,
        p_budget bigint, -- bytes the relay-wide cap still allows; NULL: no cap
        p_ack_devices text[], p_ack_up_to bigint[], -- per ack: delete the device's envelopes with seq <= up_to
        OUT outcome bigint[], -- per item, in order: its seq (>= 1) when stored; 0 unknown device; -1 duplicate; -2 over a quota
        OUT acked_devices text[], OUT acked_seqs bigint[], OUT acked_sizes integer[])
      LANGUAGE plpgsql AS $fn$
      DECLARE
        devs text[]; next_seqs bigint[]; counts integer[]; totals bigint[];
        touched boolean[];
        -- Per item: -1 already queued; k > 0 repeats item k of this call; 0 neither.
        earlier integer[];
        new_to text[] := '{}'; new_seqs bigint[] := '{}'; new_ids text[] := '{}';
        new_at integer[] := '{}'; new_sizes integer[] := '{}'; new_expires bigint[] := '{}';
        d integer;
        body_size integer;
        body_at integer := 1;
      BEGIN
        outcome := '{}';
        SELECT coalesce(array_agg(device_id), '{}'), array_agg(next_seq), array_agg(queue_count), array_agg(queue_bytes)
          INTO devs, next_seqs, counts, totals
          FROM (SELECT device_id, next_seq, queue_count, queue_bytes FROM devices
                WHERE device_id = ANY (p_to || p_ack_devices) ORDER BY device_id FOR NO KEY UPDATE) AS locked;
        touched := array_fill(false, ARRAY[cardinality(devs)]);
        WITH gone AS (
          DELETE FROM queue AS q USING unnest(p_ack_devices, p_ack_up_to) AS w(device_id, up_to)
          WHERE q.device_id = w.device_id AND q.seq <= w.up_to
          RETURNING q.device_id, q.seq, q.size)
        SELECT coalesce(array_agg(device_id), '{}'), coalesce(array_agg(seq), '{}'), coalesce(array_agg(size), '{}')
          INTO acked_devices, acked_seqs, acked_sizes FROM gone;
        FOR i IN 1 .. cardinality(acked_devices) LOOP
          d := array_position(devs, acked_devices[i]);
          counts[d] := counts[d] - 1;
          totals[d] := totals[d] - acked_sizes[i];
          touched[d] := true;
        END LOOP;
        SELECT array_agg(CASE WHEN q.envelope_id IS NOT NULL THEN -1 WHEN w.first < w.ord THEN w.first ELSE 0 END ORDER BY w.ord)
          INTO earlier
          FROM (SELECT t.device_id, t.envelope_id, t.ord::integer AS ord,
                       min(t.ord::integer) OVER (PARTITION BY t.device_id, t.envelope_id) AS first
                FROM unnest(p_to, p_ids) WITH ORDINALITY AS t(device_id, envelope_id, ord)) AS w
          LEFT JOIN queue AS q ON q.device_id = w.device_id AND q.envelope_id = w.envelope_id;
        FOR i IN 1 .. coalesce(cardinality(p_to), 0) LOOP
          body_size := p_sizes[i];
          d := array_position(devs, p_to[i]);
          IF earlier[i] > 0 THEN
            -- The same envelope twice in one call: a duplicate once the first is stored; else
            -- refused as the first was (the counts only grew since, the budget only shrank).
            outcome := outcome || CASE WHEN outcome[earlier[i]] > 0 THEN -1::bigint ELSE outcome[earlier[i]] END;
          ELSIF d IS NULL THEN
            outcome := outcome || 0::bigint;
          ELSIF earlier[i] < 0 THEN
            outcome := outcome || -1::bigint;
          ELSIF counts[d] + 1 > p_max_envelopes OR totals[d] + body_size > p_max_bytes OR body_size > p_budget THEN
            -- (with p_budget NULL the last test is NULL, and NULL OR false is not true: no cap)
            outcome := outcome || -2::bigint;
          ELSE
            new_to := new_to || p_to[i];
            new_seqs := new_seqs || next_seqs[d];
            new_ids := new_ids || p_ids[i];
            new_at := new_at || body_at;
            new_sizes := new_sizes || body_size;
            new_expires := new_expires || p_expires[i];
            outcome := outcome || next_seqs[d];
            next_seqs[d] := next_seqs[d] + 1;
            counts[d] := counts[d] + 1;
            totals[d] := totals[d] + body_size;
            p_budget := p_budget - body_size;
            touched[d] := true;
          END IF;
          body_at := body_at + body_size;
        END LOOP;
        INSERT INTO queue (device_id, seq, envelope_id, body, size, expires_at)
          SELECT n.device_id, n.seq, n.envelope_id, substring(p_bodies FROM n.body_at FOR n.size), n.size, n.expires_at
          FROM unnest(new_to, new_seqs, new_ids, new_at, new_sizes, new_expires) AS n(device_id, seq, envelope_id, body_at, size, expires_at);
        UPDATE devices AS t SET next_seq = v.next_seq, queue_count = v.count, queue_bytes = v.bytes
          FROM unnest(devs, next_seqs, counts, totals, touched) AS v(device_id, next_seq, count, bytes, changed)
          WHERE t.device_id = v.device_id AND v.changed;
      END
      $fn$;`,
  },
  {
    version: 10,
    name: 'queue writes planned by key, once',
    // sealpost_write_queue (version 9) unchanged but for how its statements are planned. Every one
    // of them reaches rows by key: devices by id, queue rows by (device, seq) or (device, envelope
    // id). Planned at each call (PL/pgSQL's custom plans: the arrays are parameters), version 9 let
    // the planner judge each table by its current size, and on a queue of a few thousand rows, most
    // of them dead between vacuums, it deleted acks by a sequential scan of the whole queue joined
    // by hash, and updated the devices by a sequential scan of every device. In the cluster
    // benchmark, planning and those scans were about a third of PostgreSQL's CPU per message
    // (docs/performance.md, "Cluster, seventh session"), and such a scan grows with the table. Now,
    // for this function's statements only:
    // - enable_seqscan = off: the planner takes the keys at every table size (a nested loop over
    //   the call's few items, each an index probe), never a scan of the table;
    // - plan_cache_mode = force_generic_plan: each statement is planned once per connection (and
    //   again when the tables' statistics change), not at every call.
    sql: `
        ALTER FUNCTION sealpost_write_queue(text[], text[], integer[], bigint[], bytea, integer, bigint, bigint, text[], bigint[])
          SET enable_seqscan = off
          SET plan_cache_mode = force_generic_plan;`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** Any constant: what matters is that every relay process takes the same one. */
const MIGRATION_LOCK = 0x5ea1_9057;

/**
 * Applies every migration newer than the database's, one transaction each; refuses a database
 * written by a newer relay. Returns the version the database is at.
 */
export async function migrate(pool: PgPool, migrations: readonly PgMigration[] = MIGRATIONS): Promise<number> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const latest = ordered.at(-1)?.version ?? 0;
  for (;;) {
    const step = await pool.transaction(async (client): Promise<{ done: number } | { applied: number }> => {
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT COALESCE(max(version), 0) AS version FROM schema_migrations');
      const current = rows[0]?.version ?? 0;
      if (current > latest) throw new Error(`database schema version ${current} is newer than this relay (${latest}); upgrade the relay`);
      const next = ordered.find((m) => m.version > current);
      if (!next) return { done: current };
      await client.query(next.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [next.version, next.name]);
      return { applied: next.version };
    });
    if ('done' in step) return step.done;
  }
}

/** The SQLite store's statements, kept visible as constants (the EXPLAIN QUERY PLAN test reads them). */
export const SQL = {
  insertAccount: 'INSERT INTO accounts (handle, identity_key, device_list) VALUES (?, ?, ?)',
  getAccount: 'SELECT handle, identity_key, device_list FROM accounts WHERE handle = ?',
  setDeviceList: 'UPDATE accounts SET device_list = ? WHERE handle = ?',
  insertDevice: `INSERT INTO devices (device_id, handle, spk_key_id, spk_public_key, spk_signature)
                 VALUES (?, ?, ?, ?, ?)`,
  getDevice: 'SELECT * FROM devices WHERE device_id = ?',
  listDevices: 'SELECT * FROM devices WHERE handle = ? ORDER BY device_id',
  deleteDevice: 'DELETE FROM devices WHERE device_id = ? AND handle = ?',
  rotateSignedPrekey: 'UPDATE devices SET spk_key_id = ?, spk_public_key = ?, spk_signature = ? WHERE device_id = ?',
  insertOneTimePrekey: 'INSERT OR IGNORE INTO one_time_prekeys (device_id, key_id, public_key) VALUES (?, ?, ?)',
  oldestOneTimePrekey: 'SELECT inserted, key_id, public_key FROM one_time_prekeys WHERE device_id = ? ORDER BY inserted LIMIT 1',
  deleteOneTimePrekey: 'DELETE FROM one_time_prekeys WHERE inserted = ?',
  countOneTimePrekeys: 'SELECT COUNT(*) AS n FROM one_time_prekeys WHERE device_id = ?',
  // devices.next_seq bounds the numbers handed out for the device: raised a block ahead by the
  // tables' own enqueue, or at each checkpoint of the queue log, which holds those handed out since.
  reservedSeq: 'SELECT next_seq FROM devices WHERE device_id = ?',
  raiseNextSeq: 'UPDATE devices SET next_seq = MAX(next_seq, ?) WHERE device_id = ?',
  // When a device's queue is first used or removed. INDEXED BY: the planner would walk
  // (device_id, envelope_id), whose entries are wider than the primary key's (device_id, seq).
  queueTotals: 'SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM queue INDEXED BY sqlite_autoindex_queue_1 WHERE device_id = ?',
  // Only for a device with envelopes in SQLite: is a new envelope a duplicate of one of them?
  envelopeExists: 'SELECT 1 FROM queue WHERE device_id = ? AND envelope_id = ?',
  // An enqueue without the queue log, after its duplicate check: a conflict here is a bug, and fails.
  insertEnvelope: 'INSERT INTO queue (device_id, seq, envelope_id, body, size, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  // From the queue log, at a checkpoint or when replaying after a crash (a replayed envelope may
  // already be here: the crash came between the checkpoint and the deletion of its log file).
  insertFromLog: `INSERT INTO queue (device_id, seq, envelope_id, body, size, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                  ON CONFLICT DO NOTHING`,
  readQueue: `SELECT seq, envelope_id, body FROM queue
              WHERE device_id = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
  ackUpTo: 'DELETE FROM queue WHERE device_id = ? AND seq <= ? RETURNING size',
  ackId: 'DELETE FROM queue WHERE device_id = ? AND envelope_id = ? RETURNING size',
  sweepExpired: 'DELETE FROM queue WHERE expires_at <= ? RETURNING device_id, size',
  // Metrics scrape.
  countAllDevices: 'SELECT COUNT(*) AS n FROM devices',
  // A scan, only at open (and after a failed write): the store then keeps the totals in memory.
  allQueueTotals: 'SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM queue',
} as const;

/** The SQLite store's statements, kept visible as constants (the EXPLAIN QUERY PLAN test reads them). */
export const SQL = {
  insertAccount: 'INSERT INTO accounts (handle, identity_key) VALUES (?, ?)',
  getAccount: 'SELECT handle, identity_key FROM accounts WHERE handle = ?',
  insertDevice: `INSERT INTO devices (device_id, handle, cert_created_at, cert_signature, spk_key_id, spk_public_key, spk_signature)
                 VALUES (?, ?, ?, ?, ?, ?, ?)`,
  getDevice: 'SELECT * FROM devices WHERE device_id = ?',
  listDevices: 'SELECT * FROM devices WHERE handle = ? ORDER BY cert_created_at, device_id',
  countDevices: 'SELECT COUNT(*) AS n FROM devices WHERE handle = ?',
  deleteDevice: 'DELETE FROM devices WHERE device_id = ? AND handle = ?',
  rotateSignedPrekey: 'UPDATE devices SET spk_key_id = ?, spk_public_key = ?, spk_signature = ? WHERE device_id = ?',
  insertOneTimePrekey: 'INSERT OR IGNORE INTO one_time_prekeys (device_id, key_id, public_key) VALUES (?, ?, ?)',
  oldestOneTimePrekey: 'SELECT inserted, key_id, public_key FROM one_time_prekeys WHERE device_id = ? ORDER BY inserted LIMIT 1',
  deleteOneTimePrekey: 'DELETE FROM one_time_prekeys WHERE inserted = ?',
  countOneTimePrekeys: 'SELECT COUNT(*) AS n FROM one_time_prekeys WHERE device_id = ?',
  queueState: 'SELECT next_seq, queue_count, queue_bytes FROM devices WHERE device_id = ?',
  setQueueState: 'UPDATE devices SET next_seq = ?, queue_count = ?, queue_bytes = ? WHERE device_id = ?',
  adjustQueueTotals: 'UPDATE devices SET queue_count = queue_count - ?, queue_bytes = queue_bytes - ? WHERE device_id = ?',
  envelopeExists: 'SELECT 1 FROM queue WHERE device_id = ? AND envelope_id = ?',
  insertEnvelope: 'INSERT INTO queue (device_id, seq, envelope_id, body, size, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  readQueue: `SELECT seq, envelope_id, body FROM queue
              WHERE device_id = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
  ackUpTo: 'DELETE FROM queue WHERE device_id = ? AND seq <= ? RETURNING size',
  ackId: 'DELETE FROM queue WHERE device_id = ? AND envelope_id = ? RETURNING size',
  sweepExpired: 'DELETE FROM queue WHERE expires_at <= ? RETURNING device_id, size',
  // Metrics scrape: the per-device running totals, summed (one pass over devices, not the queue).
  relayStats: 'SELECT COUNT(*) AS devices, COALESCE(SUM(queue_count), 0) AS envelopes, COALESCE(SUM(queue_bytes), 0) AS bytes FROM devices',
} as const;

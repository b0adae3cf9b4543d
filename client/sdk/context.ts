import type { RelayConnection } from './connection.js';
import type { Directory } from './directory.js';
import type { Outbox } from './outbox.js';
import type { RelayHttp } from './relay-http.js';
import type { Sessions } from './sessions.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord } from './store/records.js';

/** What the sending and receiving pipelines share with the client that owns them. */
export interface ClientContext {
  store: LocalStore;
  http: RelayHttp;
  directory: Directory;
  sessions: Sessions;
  outbox: Outbox;
  connection: RelayConnection;
  account(): AccountRecord;
}

/**
 * The parts of a SealpostClient that exist once its device has an account (after register /
 * link / recover), built once, in dependency order: directory, sessions, prekey keeper, relay
 * connection, outbox, the outgoing pipeline and the delivered-receipt batcher. What the
 * connection and the outbox report is routed here into those parts, each as a step of the
 * client's serial queue, so nothing that arrives runs beside a send.
 */
import type { LocalIdentity } from '../../crypto/index.js';
import type { DeliveredEnvelope } from '../../protocol/events.js';
import { RelayConnection, type ConnectionState } from './connection.js';
import type { ClientContext } from './context.js';
import { Directory } from './directory.js';
import { SdkError } from './errors.js';
import type { Emit } from './events.js';
import { receiveBatch } from './inbound.js';
import { deviceSigner, localIdentityOf } from './local-identity.js';
import { Outbox } from './outbox.js';
import { Outgoing } from './outgoing.js';
import { PrekeyKeeper } from './prekey-keeper.js';
import type { PrekeyPolicy } from './prekeys.js';
import { randomId } from './random.js';
import { ReceiptBatcher } from './receipt-batcher.js';
import type { RelayHttp } from './relay-http.js';
import { Sessions } from './sessions.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord } from './store/records.js';

/** What the client lends its parts. */
export interface ClientPartsHost {
  store: LocalStore;
  http: RelayHttp;
  account(): AccountRecord;
  emit: Emit;
  prekeyPolicy: PrekeyPolicy;
  /** First reconnect delay in ms; undefined: the connection's default. */
  reconnectBackoffMs: number | undefined;
  /** Runs a step in the client's serial queue. */
  serial<T>(task: () => Promise<T>): Promise<T>;
  /** The same, without a caller to report to: failures become `error` events. */
  background(task: () => Promise<unknown>): void;
}

export class ClientParts {
  readonly ctx: ClientContext;
  readonly outgoing: Outgoing;
  readonly prekeys: PrekeyKeeper;
  /** Queued behind the current step, not awaited inside it: receipts are sends like any other. */
  readonly receipts = new ReceiptBatcher((handle, messageIds) =>
    this.host.background(() => this.outgoing.content([handle], { type: 'receipt', id: randomId(), ts: Date.now(), receipt: 'delivered', messageIds }, false)));

  /** The connection's and the outbox's callbacks reach the parts only when an event arrives. */
  constructor(private readonly host: ClientPartsHost) {
    const { store, http } = host;
    const account = host.account();
    const identity = (): LocalIdentity => localIdentityOf(host.account());
    const directory = new Directory(store, http, () => host.account(), host.emit);
    const sessions = new Sessions(store, http, identity, () => deviceSigner(host.account()));
    this.prekeys = new PrekeyKeeper(store, http, () => host.account(), host.prekeyPolicy);
    const connection = new RelayConnection({
      relayUrl: account.relayUrl,
      deviceId: account.deviceId,
      devicePrivateKey: identity().device.privateKey,
      ...(host.reconnectBackoffMs === undefined ? {} : { backoffMs: host.reconnectBackoffMs }),
      onEnvelopes: (batch) => host.background(() => this.receive(batch)),
      onPrekeys: (status) => host.background(() => this.prekeys.replenish(status.oneTimePrekeys)),
      onState: (state, reason) => this.onConnectionState(state, reason),
      onConnected: () => this.onConnected(),
    });
    // Results change sessions (a stale list means sealing again): they run in the serial queue.
    const outbox = new Outbox(store, connection, (result) => host.background(() => this.outgoing.onResult(result)));
    this.ctx = { store, http, directory, sessions, outbox, connection, account: () => host.account() };
    this.outgoing = new Outgoing(this.ctx, host.emit);
  }

  /** On close: waiting receipts go into the outbox (out at the next connect); nothing more is sent. */
  stop(): void {
    this.receipts.flush();
    this.ctx.connection.stop();
    this.ctx.outbox.stop();
    this.prekeys.stop();
  }

  private async receive(batch: DeliveredEnvelope[]): Promise<void> {
    const { receipts, undecryptable, heardFrom } = await receiveBatch(this.ctx, batch, this.host.emit);
    for (const deviceId of heardFrom) this.outgoing.heardFrom(deviceId);
    this.receipts.add(receipts);
    for (const [deviceId, handle] of undecryptable) this.host.background(() => this.outgoing.decryptionError(handle, deviceId));
  }

  private onConnectionState(state: ConnectionState, reason: string | undefined): void {
    if (state !== 'connected') this.ctx.outbox.reset();
    this.host.emit('state', reason === undefined ? { state } : { state, reason });
  }

  private onConnected(): void {
    void this.ctx.outbox.flush();
    // Self-monitoring: does the relay still serve the list our authority signed, with us in it?
    void this.host.serial(() => this.ctx.directory.lookup(this.host.account().handle)).catch((error: unknown) => {
      if (!(error instanceof SdkError) || !['untrusted_device_list', 'device_removed', 'network'].includes(error.code)) this.host.emit('error', error);
    });
    this.host.background(() => this.prekeys.rotateIfDue());
  }
}

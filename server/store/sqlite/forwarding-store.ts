/**
 * A Store that hands every call to another. A layer extends it and overrides the calls it takes
 * over (logged-store.ts); SqliteStore extends it to put the layers it composed behind one class.
 */
import type { Store } from '../store.js';

export class ForwardingStore<Inner extends Store = Store> implements Store {
  constructor(protected readonly inner: Inner) {}

  createAccount(...args: Parameters<Store['createAccount']>): ReturnType<Store['createAccount']> {
    return this.inner.createAccount(...args);
  }

  getAccount(...args: Parameters<Store['getAccount']>): ReturnType<Store['getAccount']> {
    return this.inner.getAccount(...args);
  }

  listDevices(...args: Parameters<Store['listDevices']>): ReturnType<Store['listDevices']> {
    return this.inner.listDevices(...args);
  }

  getDevice(...args: Parameters<Store['getDevice']>): ReturnType<Store['getDevice']> {
    return this.inner.getDevice(...args);
  }

  addDevice(...args: Parameters<Store['addDevice']>): ReturnType<Store['addDevice']> {
    return this.inner.addDevice(...args);
  }

  publishDeviceList(...args: Parameters<Store['publishDeviceList']>): ReturnType<Store['publishDeviceList']> {
    return this.inner.publishDeviceList(...args);
  }

  claimBundle(...args: Parameters<Store['claimBundle']>): ReturnType<Store['claimBundle']> {
    return this.inner.claimBundle(...args);
  }

  putPrekeys(...args: Parameters<Store['putPrekeys']>): ReturnType<Store['putPrekeys']> {
    return this.inner.putPrekeys(...args);
  }

  countOneTimePrekeys(...args: Parameters<Store['countOneTimePrekeys']>): ReturnType<Store['countOneTimePrekeys']> {
    return this.inner.countOneTimePrekeys(...args);
  }

  enqueue(...args: Parameters<Store['enqueue']>): ReturnType<Store['enqueue']> {
    return this.inner.enqueue(...args);
  }

  durable(): Promise<void> {
    return this.inner.durable();
  }

  readQueue(...args: Parameters<Store['readQueue']>): ReturnType<Store['readQueue']> {
    return this.inner.readQueue(...args);
  }

  ackUpTo(...args: Parameters<Store['ackUpTo']>): ReturnType<Store['ackUpTo']> {
    return this.inner.ackUpTo(...args);
  }

  ackIds(...args: Parameters<Store['ackIds']>): ReturnType<Store['ackIds']> {
    return this.inner.ackIds(...args);
  }

  sweepExpired(...args: Parameters<Store['sweepExpired']>): ReturnType<Store['sweepExpired']> {
    return this.inner.sweepExpired(...args);
  }

  queueStats(...args: Parameters<Store['queueStats']>): ReturnType<Store['queueStats']> {
    return this.inner.queueStats(...args);
  }

  relayStats(): ReturnType<Store['relayStats']> {
    return this.inner.relayStats();
  }

  isWritable(): Promise<boolean> {
    return this.inner.isWritable();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

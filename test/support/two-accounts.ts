import { afterAll } from 'vitest';
import type { Config } from '../../server/config.js';
import { makeAccount, registerAll, type TestAccount } from './identity.js';
import { startRelay, type RelayHandle } from './relay.js';

export interface TwoAccounts {
  relay: RelayHandle;
  alice: TestAccount;
  bob: TestAccount;
}

/** The most common fixture: a fresh relay with two registered one-device accounts. */
export async function relayWithTwoAccounts(overrides: Partial<Config> = {}): Promise<TwoAccounts> {
  const relay = await startRelay(overrides);
  const alice = await makeAccount();
  const bob = await makeAccount();
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
  return { relay, alice, bob };
}

/**
 * For suites that start a relay per test: call at the top of the file. `setup` starts one with
 * two accounts, `track` adopts one started otherwise; all are closed after the suite.
 */
export function relaysClosedAfterAll(): { setup(overrides?: Partial<Config>): Promise<TwoAccounts>; track(relay: RelayHandle): RelayHandle } {
  const relays: RelayHandle[] = [];
  afterAll(async () => {
    for (const r of relays) await r.close();
  });
  const track = (relay: RelayHandle): RelayHandle => {
    relays.push(relay);
    return relay;
  };
  return {
    track,
    async setup(overrides = {}) {
      const accounts = await relayWithTwoAccounts(overrides);
      track(accounts.relay);
      return accounts;
    },
  };
}

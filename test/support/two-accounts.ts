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

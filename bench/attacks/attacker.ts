/**
 * One attacker, as its own process (so its CPU is not the runner's and the runner's probes time
 * the relay, not the attack): `node dist/bench/attacks/attacker.js <attack> '<AttackParams JSON>'`.
 * Prints one line `RESULT <AttackOutcome JSON>` and exits.
 */
import { signedFlood } from './signed-flood.js';
import { pushFloodControl, slowReader } from './slow-reader.js';
import { preLogin } from './pre-login.js';
import { forgedXff } from './forged-xff.js';
import { diskFill, queueFillTiny } from './queue-fill.js';
import { lookupFlood } from './lookups.js';
import { mailboxManyAddresses, mailboxOneAddress } from './mailbox.js';
import type { Attack, AttackParams } from './types.js';

export const ATTACKS: Record<string, Attack> = {
  idle: async (p) => {
    await new Promise((resolve) => setTimeout(resolve, p.durationMs));
    return { summary: 'no attack', counts: {} };
  },
  'signed-flood': signedFlood,
  'slow-reader': slowReader,
  'push-flood-control': pushFloodControl,
  'pre-login': preLogin,
  'forged-xff': forgedXff,
  'queue-fill-tiny': queueFillTiny,
  'disk-fill': diskFill,
  lookups: lookupFlood,
  'mailbox-one-address': mailboxOneAddress,
  'mailbox-many-addresses': mailboxManyAddresses,
};

async function main(): Promise<void> {
  const [name, json] = process.argv.slice(2);
  const attack = name === undefined ? undefined : ATTACKS[name];
  if (!attack || json === undefined) throw new Error(`usage: attacker.js <${Object.keys(ATTACKS).join('|')}> '<params JSON>'`);
  const outcome = await attack(JSON.parse(json) as AttackParams);
  process.stdout.write(`RESULT ${JSON.stringify(outcome)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`attacker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

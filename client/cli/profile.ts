/**
 * Where a CLI profile lives: `--profile DIR`, else $SEALPOST_PROFILE, else a per-user
 * directory ($XDG_CONFIG_HOME or ~/.config, then sealpost/default). Node-only.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FilePersistence, SealpostClient } from '../sdk/node.js';

export function profileDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.SEALPOST_PROFILE) return env.SEALPOST_PROFILE;
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'sealpost', 'default');
}

export function openProfile(dir: string): Promise<SealpostClient> {
  return SealpostClient.open({ persistence: new FilePersistence(dir) });
}

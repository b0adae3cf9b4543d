/** The built `sealpost` binary (dist/bin/sealpost.js): help, unknown commands, bad flags. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../bin/sealpost.js';

const CLI = join(process.cwd(), 'dist/bin/sealpost.js');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, ...env } });

describe('sealpost binary', () => {
  it('is built', () => {
    expect(existsSync(CLI), 'run `npm run build:server` (npm test builds first)').toBe(true);
  });

  it('prints help and exits 0; no command or an unknown one prints help on stderr and exits 2', () => {
    for (const asked of [['--help'], ['help'], ['-h']]) {
      const help = run(asked);
      expect(help.status, asked.join(' ')).toBe(0);
      expect(help.stdout).toContain('Usage: sealpost <command>');
      expect(help.stdout).toContain('serve');
    }
    const serveHelp = run(['serve', '--help']);
    expect(serveHelp.status).toBe(0);
    expect(serveHelp.stdout).toContain('SEALPOST_PORT');
    expect(serveHelp.stdout).toContain('--tls-cert');
    expect(run(['help', 'serve']).stdout).toBe(serveHelp.stdout);
    for (const args of [['frobnicate'], ['help', 'frobnicate']]) {
      const unknown = run(args);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain('unknown command "frobnicate"');
      expect(unknown.stderr).toContain('Usage: sealpost');
      expect(unknown.stdout).toBe('');
    }
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('Usage: sealpost <command>');
  });

  it('shows the help of every command of the table', () => {
    for (const { name } of COMMANDS) {
      const help = run([name, '--help']);
      expect(help.status, `${name}: ${help.stderr}`).toBe(0);
      expect(help.stdout).toContain(`Usage: sealpost ${name}`);
    }
  });

  it('refuses bad flags with exit 2, the flag named and the serve help', () => {
    const bad = run(['serve', '--port', 'eighty']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('sealpost serve: --port: expected a non-negative integer, got "eighty"');
    expect(bad.stderr).toContain('Usage: sealpost serve');
    expect(run(['serve', '--cors-origin', '*']).status).toBe(2);
    const unknown = run(['serve', '--prot', '80']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown flag --prot');
  });

  it('refuses a bad cluster setup before starting, without printing a password', () => {
    const redisAlone = run(['serve', '--redis', 'redis://:sesame@127.0.0.1:6379']);
    expect(redisAlone.status).toBe(2);
    expect(redisAlone.stderr).toContain('--redis needs --postgres: the cluster keeps its data in PostgreSQL');
    const withDb = run(['serve', '--db', '/nonexistent/relay.db'], { SEALPOST_POSTGRES: 'postgres://relay:hunter2@127.0.0.1/sealpost' });
    expect(withDb.status).toBe(2);
    expect(withDb.stderr).toContain('SEALPOST_POSTGRES cannot be used with --db');
    const wrongScheme = run(['serve', '--postgres', 'mysql://relay:hunter2@127.0.0.1/sealpost']);
    expect(wrongScheme.status).toBe(2);
    expect(wrongScheme.stderr).toContain('--postgres: expected a postgres:// or postgresql:// URL');
    for (const failed of [redisAlone, withDb, wrongScheme]) expect(failed.stderr + failed.stdout).not.toMatch(/sesame|hunter2/);
  });
});

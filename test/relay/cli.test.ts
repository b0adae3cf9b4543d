/** The built `sealpost` binary: help, unknown commands, bad flags. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'dist/server/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15_000 });

describe('sealpost binary', () => {
  it('is built', () => {
    expect(existsSync(CLI), 'run `npm run build:server` (npm test builds first)').toBe(true);
  });

  it('prints help and exits 0; unknown commands print help and exit 2', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('serve');
    const serveHelp = run('serve', '--help');
    expect(serveHelp.status).toBe(0);
    expect(serveHelp.stdout).toContain('SEALPOST_PORT');
    expect(serveHelp.stdout).toContain('--tls-cert');
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
    expect(unknown.stderr).toContain('Usage: sealpost');
  });

  it('refuses bad flags with exit 2 and the serve help', () => {
    const bad = run('serve', '--port', 'eighty');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--port');
    expect(run('serve', '--cors-origin', '*').status).toBe(2);
  });
});

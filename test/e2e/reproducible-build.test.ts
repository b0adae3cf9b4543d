/**
 * The web app's build is reproducible: two builds of the same tree, into different folders,
 * give byte-identical bundles and so the same bundle hash — what lets anyone check the hash a
 * browser pinned (About this app) against a build from source (docs/verify-client.md). Also
 * checks that the documented shell one-liner computes the same hash as the build prints.
 *
 * In the browser group only because it is heavy (two Vite builds), like the browser suites.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle, type BundleManifest } from '../../client/app/bundle-manifest.js';

const CONFIG = resolve('client/app/vite.config.ts');
/** The command docs/verify-client.md gives, run inside a build folder. */
const HASH_COMMAND = "find . -type f ! -name '*.br' ! -name '*.gz' ! -name version.json | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum";

async function buildInto(dir: string): Promise<BundleManifest> {
  await build({ configFile: CONFIG, logLevel: 'silent', build: { outDir: dir, emptyOutDir: true } });
  return JSON.parse(readFileSync(join(dir, 'version.json'), 'utf8')) as BundleManifest;
}

describe('reproducible web app build', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same bundle hash twice, and version.json lists exactly the files built', async () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'sealpost-build-a-')), mkdtempSync(join(tmpdir(), 'sealpost-build-b-'))] as [string, string];
    dirs.push(a, b);
    const first = await buildInto(a);
    const second = await buildInto(b);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(second.files).toEqual(first.files);
    expect(second.hash).toBe(first.hash);
    // version.json is true to the folder: rehashing the files gives the same listing and hash.
    expect(readBundle(a, first.version)).toEqual(first);
    expect(first.files['index.html']).toBeDefined();
    expect(first.files['sw.js']).toBeDefined();
    expect(Object.keys(first.files).some((path) => /^assets\/index-.*\.js$/.test(path))).toBe(true);

    const shell = execFileSync('sh', ['-c', HASH_COMMAND], { cwd: a, encoding: 'utf8' });
    expect(shell.split(/\s+/)[0]).toBe(first.hash);
  }, 180_000);
});

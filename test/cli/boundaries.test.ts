/**
 * server/ and client/ never import each other: what both need lives in protocol/ or crypto/,
 * and the one place that holds both sides is bin/ (the `sealpost` binary). Every source file
 * of both folders is scanned, static imports, re-exports and dynamic import() alike.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const SIDES = ['server', 'client'] as const;
type Side = (typeof SIDES)[number];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.(ts|tsx|mts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier in `code`: `from '…'`, `import '…'`, `import('…')`, `require('…')`. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const match of code.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g)) {
    found.push((match[1] ?? match[2] ?? match[3])!);
  }
  return found;
}

function sideOf(path: string): Side | undefined {
  const top = relative(ROOT, path).split(sep)[0];
  return SIDES.find((side) => side === top);
}

/** The imports in `code` (a file at `file`) that reach into the other side. */
function crossings(file: string, code: string): string[] {
  const own = sideOf(file);
  return specifiers(code).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const target = sideOf(resolve(dirname(file), spec));
    return target !== undefined && target !== own;
  });
}

describe('no imports between server/ and client/', () => {
  it('finds an import of the other side, in each form', () => {
    const file = join(ROOT, 'server', 'gateway', 'x.ts');
    expect(crossings(file, "import { a } from '../../client/sdk/node.js';")).toEqual(['../../client/sdk/node.js']);
    expect(crossings(file, "export * from '../../client/cli/main.js'")).toEqual(['../../client/cli/main.js']);
    expect(crossings(file, "const m = await import('../../client/cli/main.js');")).toEqual(['../../client/cli/main.js']);
    expect(crossings(join(ROOT, 'client', 'cli', 'y.ts'), "import type { Config } from '../../server/config.js';")).toEqual(['../../server/config.js']);
    expect(crossings(file, "import '../../client/app/main.tsx';")).toEqual(['../../client/app/main.tsx']);
    // Shared folders and the side's own files are fine.
    expect(crossings(file, "import { codec } from '../../protocol/codec.js';\nimport { a } from '../errors.js';\nimport x from 'fastify';")).toEqual([]);
  });

  it.each(SIDES)('no file in %s/ imports the other side', (side) => {
    const files = sources(join(ROOT, side));
    expect(files.length).toBeGreaterThan(10);
    const found = files.flatMap((file) => crossings(file, readFileSync(file, 'utf8')).map((spec) => `${relative(ROOT, file)} imports ${spec}`));
    expect(found).toEqual([]);
  });
});

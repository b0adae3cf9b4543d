/**
 * The HAProxy configuration of docs/cluster.md, as written there (only its addresses replaced by
 * loopback ones), in front of three relay nodes: clients connect through it over WebSocket with no
 * sticky sessions, messages cross nodes, and the relay counts the client's address, not HAProxy's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/proc.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { envelopeTo, Inbox, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, registerAll } from '../support/identity.js';

const HAPROXY = '/usr/sbin/haproxy';
/** Requests per minute per client address on the limited routes, cluster-wide. */
const IP_LIMIT = 8;

/** The documented configuration, between its markers in docs/cluster.md. */
function documentedConfig(): string {
  const doc = readFileSync(join(process.cwd(), 'docs/cluster.md'), 'utf8');
  const block = /<!-- haproxy\.cfg begin -->\n```\n([\s\S]*?)```\n<!-- haproxy\.cfg end -->/.exec(doc);
  if (!block?.[1]) throw new Error('docs/cluster.md has no haproxy.cfg block');
  return block[1];
}

/**
 * A PUT from a given loopback source address: HAProxy's own address (127.0.0.1) is the trusted
 * proxy, so the client must come from another one for its forged header to be the test's point.
 */
function putFrom(localAddress: string, path: string, headers: Record<string, string>, body: string, base = url): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}${path}`, { method: 'PUT', localAddress, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
    request.end(body);
  });
}

let cluster: TestCluster;
let haproxy: ChildProcess;
let dir: string;
let url: string;

beforeAll(async () => {
  if (!existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: install Debian's \`haproxy\` package`);
  cluster = await startCluster(3, { trustProxy: ['127.0.0.1'], ipRateLimitPerMinute: IP_LIMIT });
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'sealpost-haproxy-'));
  const documented = documentedConfig();
  const servers = documented.match(/^\s*server node\d .*$/gm) ?? [];
  expect(servers).toHaveLength(3);
  let config = documented.replace(/^(\s*)bind :443 ssl crt \S+$/m, `$1bind 127.0.0.1:${port}`);
  servers.forEach((line, i) => {
    config = config.replace(line, line.replace(/\d+\.\d+\.\d+\.\d+:\d+/, cluster.nodes[i]!.host));
  });
  expect(config).not.toContain('10.0.0.');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  haproxy = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  haproxy.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  url = `http://127.0.0.1:${port}`;
  // Up once HAProxy listens and its health checks have passed for every node.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await Promise.all(Array.from({ length: 6 }, () => fetch(`${url}/healthz`).then((r) => r.status === 200, () => false)));
    if (up.every(Boolean)) break;
    if (Date.now() > deadline || haproxy.exitCode !== null) throw new Error(`HAProxy did not come up: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  haproxy?.kill('SIGKILL');
  await cluster?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the documented HAProxy configuration in front of three nodes', () => {
  it('carries WebSocket clients spread over the nodes, and messages between them', async () => {
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(url, alice);
    await registerAll(url, bob);
    // Several sockets per device: leastconn spreads them over the nodes.
    const senders = await Promise.all(Array.from({ length: 3 }, () => connectDevice(url, alice.devices[0]!)));
    let inbox: Inbox | undefined;
    // Acknowledges as the SDK does: a page read from the store waits for its ack.
    const reader = await connectDevice(url, bob.devices[0]!, (s) => {
      inbox = new Inbox(s);
      s.on('envelopes', (batch) => {
        const last = batch.at(-1)?.seq;
        if (last !== undefined) s.emit('ack', { upTo: last }, () => undefined);
      });
    });
    const spread = await Promise.all(cluster.nodes.map(async (node) => (await node.app.io.fetchSockets()).length));
    expect(spread.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    for (const [i, s] of senders.entries()) expect((await send(s, envelopeTo(bob.devices[0]!, `via ${i}`))).ok).toBe(true);
    await inbox!.waitForCount(3, 10_000);
    expect(inbox!.envelopes.map((e) => e.seq)).toEqual([1, 2, 3]);
    for (const s of [...senders, reader]) s.close();
  });

  it('counts each client once across the nodes (shared per-IP counters), by the address HAProxy saw, not a header the client forged', async () => {
    // 12 link puts, each with a different forged left-most X-Forwarded-For, spread by leastconn
    // over three nodes: with per-node counters or the left-most entry believed, all would pass.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const target = (await makeAccount()).devices[0]!.id;
      statuses.push(await putFrom('127.0.0.2', `/v2/provisioning/${target}`, { 'x-forwarded-for': `203.0.113.${i}` }, JSON.stringify({ body: 'AAAA' })));
    }
    // The suite's two registrations and these puts share one budget of IP_LIMIT requests a minute.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 204).length).toBeLessThanOrEqual(IP_LIMIT);
  });

  it('shares the per-IP counters between nodes: requests spread evenly over three nodes meet one budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const target = (await makeAccount()).devices[0]!.id;
      statuses.push(await putFrom('127.0.0.3', `/v2/provisioning/${target}`, {}, JSON.stringify({ body: 'AAAA' }), cluster.nodes[i % 3]!.url));
    }
    // Four requests per node: under each node's own budget of IP_LIMIT, over the shared one.
    expect(statuses.filter((s) => s === 204)).toHaveLength(IP_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12 - IP_LIMIT);
  });
});

/**
 * Issue 18 item 4: per-IP limits hold behind the documented reverse proxy. A real nginx (started
 * here, no daemon, config and logs in a temp dir) proxies to a relay run with
 * `--trust-proxy 127.0.0.1`, with the X-Forwarded-For line of docs/self-hosting.md
 * (`$proxy_add_x_forwarded_for`, which appends). Clients connect to nginx from their own loopback
 * addresses (127.0.0.2, 127.0.0.3) and send forged X-Forwarded-For headers: the relay still counts
 * each by its real address (the right-most untrusted entry), so a forged header buys no extra bundle
 * claims or sockets, and one client's exhausted budget does not touch another's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../crypto/encoding.js';
import { signRequest } from '../../crypto/statements.js';
import { socketClientIp } from '../../server/http/client-ip.js';
import { handshakeAuth, makeAccount, openSocket, randomId, registerAll, type ClientSocket, type TestAccount, type TestDevice } from '../support/identity.js';
import { freePort } from '../../bench/proc.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

function findNginx(): string | undefined {
  for (const path of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) if (existsSync(path)) return path;
  const which = spawnSync('which', ['nginx'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}
const NGINX = findNginx();


/** The location block of docs/self-hosting.md, on plain HTTP and a test port. */
function nginxConfig(dir: string, port: number, upstream: string): string {
  return `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 127.0.0.1:${port};
        client_max_body_size 1m;
        location / {
            proxy_pass ${upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
        }
    }
}
`;
}

/** A signed bundle claim sent to `base` from the local address `from`, with extra headers. */
function claimFrom(base: string, from: string, requester: TestDevice, targetId: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(base);
  const path = `/v2/devices/${targetId}/bundle`;
  const timestamp = Date.now();
  const nonce = randomId();
  const signature = toBase64Url(signRequest({ relayHost: url.host, method: 'POST', path, timestamp, nonce, body: new Uint8Array(0) }, requester.keys.privateKey));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        localAddress: from,
        method: 'POST',
        path,
        agent: false,
        headers: {
          'x-sealpost-device-id': requester.id,
          'x-sealpost-timestamp': String(timestamp),
          'x-sealpost-nonce': nonce,
          'x-sealpost-device-signature': signature,
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('socketClientIp: the right-most address that is not a trusted proxy', () => {
  const headers = (xff?: string) => (xff === undefined ? {} : { 'x-forwarded-for': xff });
  it('ignores forged entries left of the one the trusted proxy appended', () => {
    expect(socketClientIp('127.0.0.1', headers('6.6.6.6, 203.0.113.5'), ['127.0.0.1'])).toBe('203.0.113.5');
    expect(socketClientIp('::ffff:127.0.0.1', headers('6.6.6.6,203.0.113.5'), ['127.0.0.1'])).toBe('203.0.113.5');
    // A chain of trusted proxies is walked through; the first untrusted hop is the client.
    expect(socketClientIp('10.0.0.2', headers('6.6.6.6, 198.51.100.4, 10.0.0.9'), ['10.0.0.0/8'])).toBe('198.51.100.4');
    expect(socketClientIp('127.0.0.1', headers('2001:db8::1'), ['127.0.0.1', '::1'])).toBe('2001:db8::1');
  });
  it('believes no header from a peer that is not a listed proxy, nor when none is listed', () => {
    expect(socketClientIp('198.51.100.9', headers('203.0.113.5'), ['127.0.0.1'])).toBe('198.51.100.9');
    expect(socketClientIp('127.0.0.1', headers('203.0.113.5'), [])).toBe('127.0.0.1');
    expect(socketClientIp('127.0.0.1', headers(), ['127.0.0.1'])).toBe('127.0.0.1');
  });
});

describe.skipIf(!NGINX && !process.env.CI)('behind nginx with $proxy_add_x_forwarded_for (docs/self-hosting.md)', () => {
  const CLAIMS_PER_IP = 6;
  const SOCKETS_PER_IP = 3;
  let relay: RelayHandle;
  let dir: string;
  let nginx: ChildProcess | undefined;
  let proxyUrl: string;
  let alice: TestAccount;
  let bob: TestAccount;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx-light); .ci/run installs it');
    relay = await startRelay({ trustProxy: ['127.0.0.1'], ipRateLimitPerMinute: CLAIMS_PER_IP, maxConnectionsPerIp: SOCKETS_PER_IP, bundleClaimsPerTarget: 1000, bundleClaimsPerDevice: 1000 });
    alice = await makeAccount({ devices: 1 });
    bob = await makeAccount({ devices: 1 });
    await registerAll(relay.url, alice);
    await registerAll(relay.url, bob);
    dir = mkdtempSync(join(tmpdir(), 'sealpost-nginx-'));
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, relay.url));
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proxyUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await fetch(`${proxyUrl}/healthz`)).ok) break;
      } catch {
        /* not listening yet */
      }
      if (nginx.exitCode !== null || Date.now() > deadline) {
        const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
        throw new Error(`nginx did not start: ${stderr} ${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 30_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a client forging X-Forwarded-For gets no more bundle claims than its per-IP limit; another client keeps its own', async () => {
    const target = bob.devices[0]!.id;
    const forged = (i: number): Record<string, string> => ({ 'x-forwarded-for': `203.0.113.${i}, 198.51.100.${i}` });
    const statuses: number[] = [];
    for (let i = 0; i < CLAIMS_PER_IP * 3; i++) statuses.push(await claimFrom(proxyUrl, '127.0.0.2', alice.devices[0]!, target, forged(i)));
    expect(statuses.filter((s) => s === 200).length).toBe(CLAIMS_PER_IP);
    expect(statuses.filter((s) => s === 429).length).toBe(CLAIMS_PER_IP * 2);
    // Another real address behind the same proxy is not held back by the first one's budget.
    expect(await claimFrom(proxyUrl, '127.0.0.3', alice.devices[0]!, target, forged(99))).toBe(200);
  });

  it('a client forging X-Forwarded-For opens no more sockets than --max-connections-per-ip', async () => {
    const agent = new Agent({ localAddress: '127.0.0.2' } as ConstructorParameters<typeof Agent>[0]);
    const outcomes: string[] = [];
    for (let i = 0; i < SOCKETS_PER_IP + 3; i++) {
      const socket = openSocket(proxyUrl, handshakeAuth(proxyUrl, alice.devices[0]!), { extraHeaders: { 'x-forwarded-for': `203.0.113.${i}` }, agent: agent as unknown as string });
      sockets.push(socket);
      outcomes.push(
        await new Promise<string>((resolve) => {
          socket.once('connect', () => resolve('connected'));
          socket.once('connect_error', (error) => resolve(error.message));
        }),
      );
    }
    expect(outcomes.filter((o) => o === 'connected').length).toBe(SOCKETS_PER_IP);
    expect(outcomes.filter((o) => o === 'rate_limited').length).toBe(3);
    // Bob, from another address through the same proxy, still gets in.
    const other = new Agent({ localAddress: '127.0.0.3' } as ConstructorParameters<typeof Agent>[0]);
    const bobSocket = openSocket(proxyUrl, handshakeAuth(proxyUrl, bob.devices[0]!), { agent: other as unknown as string });
    sockets.push(bobSocket);
    expect(await new Promise<string>((resolve) => {
      bobSocket.once('connect', () => resolve('connected'));
      bobSocket.once('connect_error', (error) => resolve(error.message));
    })).toBe('connected');
  });
});

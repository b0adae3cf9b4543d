/**
 * A relay that lies over HTTP: the client talks to the real relay through this fetch, and a
 * test rewrites the account lookups it wants to forge (an older device list, a device the list
 * does not name, a malformed entry). What a malicious operator could serve, without mocking
 * any of our own parts: the relay, the SDK and libsodium stay real.
 */
import type { AccountViewJson } from '../../protocol/http.js';

export type LookupRewrite = (view: AccountViewJson) => unknown;

export class LyingRelay {
  private readonly lookups = new Map<string, LookupRewrite>();
  /** Hands out bundles without their one-time prekey (the relay keeps it back). */
  withholdOneTimePrekeys = false;

  /** Serve `rewrite(real answer)` for GET /v2/accounts/:handle from now on. */
  lieAbout(handle: string, rewrite: LookupRewrite): void {
    this.lookups.set(handle, rewrite);
  }

  honest(): void {
    this.lookups.clear();
    this.withholdOneTimePrekeys = false;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    const path = new URL(String(input)).pathname;
    if (this.withholdOneTimePrekeys && /^\/v2\/devices\/[^/]+\/bundle$/.test(path) && response.ok) {
      const { oneTimePrekey: _withheld, ...bundle } = (await response.json()) as Record<string, unknown>;
      return new Response(JSON.stringify(bundle), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    const match = /^\/v2\/accounts\/([^/]+)$/.exec(path);
    const rewrite = match && (init?.method ?? 'GET') === 'GET' ? this.lookups.get(decodeURIComponent(match[1]!)) : undefined;
    if (!rewrite || !response.ok) return response;
    const view = (await response.json()) as AccountViewJson;
    return new Response(JSON.stringify(rewrite(view)), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

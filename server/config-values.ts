/**
 * How each setting of the relay's configuration (config.ts) is read from text — a flag's value
 * or a SEALPOST_* variable — and checked: the value types the option table is built from, and
 * the one error they throw.
 */
import { proxyEntryError } from './http/client-ip.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** bin/sealpost.ts prints the message with the command's help and exits with this code. */
  readonly exitCode = 2;
}

/** How one setting is read from text (a flag's value or a variable's) and checked. */
export interface ValueType<T> {
  /** The value's placeholder in --help; none for a switch. */
  readonly value?: string;
  /** A switch: `--x` sets it, `--no-x` clears it; its variable takes true or false. */
  readonly switch?: true;
  /** The flag may be repeated; its values are joined with commas, as its variable lists them. */
  readonly repeats?: true;
  /** Parsed when the flag comes without a value, for the error it gives (a value is required). */
  readonly bare?: string;
  parse(raw: string, source: string): T;
}

export function int(min: number, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  return {
    value: 'N',
    parse(raw, source) {
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${source}: expected a non-negative integer, got "${raw}"`);
      const value = Number(raw);
      if (value < min) throw new ConfigError(`${source}: must be ≥ ${min}`);
      if (value > max) throw new ConfigError(`${source}: must be ≤ ${max}`);
      return value;
    },
  };
}

export function text(value: string): ValueType<string> {
  return {
    value,
    parse(raw, source) {
      if (raw.length === 0) throw new ConfigError(`${source}: must not be empty`);
      return raw;
    },
  };
}

export function oneOf<T extends string>(choices: readonly T[], value = choices.join('|')): ValueType<T> {
  const expected = choices.length === 2 ? choices.join(' or ') : `one of ${choices.join('|')}`;
  return {
    value,
    parse(raw, source) {
      if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${source}: expected ${expected}, got "${raw}"`);
      return raw as T;
    },
  };
}

const YES = ['1', 'true', 'yes', ''];
const NO = ['0', 'false', 'no'];

export const onOff: ValueType<boolean> = {
  switch: true,
  parse(raw, source) {
    if (YES.includes(raw)) return true;
    if (NO.includes(raw)) return false;
    throw new ConfigError(`${source}: expected true or false, got "${raw}"`);
  },
};

export function list(value: string): ValueType<readonly string[]> {
  return { value, repeats: true, parse: (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) };
}

const TRUST_TRUE_REFUSED =
  'is refused: it would believe X-Forwarded-For from anyone, so any client could pick the address its per-IP limits count. List the addresses of your reverse proxies instead (IPs or CIDRs, comma-separated), e.g. --trust-proxy 127.0.0.1 for a proxy on this machine';

/** --trust-proxy: the reverse proxies' IPs or CIDRs; false/no/0 = none; true is refused. */
export const proxies: ValueType<readonly string[]> = {
  value: 'ADDRESSES',
  repeats: true,
  // A bare --trust-proxy once meant "trust anyone": it is read as that and refused with the reason.
  bare: '',
  parse(raw, source) {
    const value = raw.trim().toLowerCase();
    if (NO.includes(value)) return [];
    if (YES.includes(value)) throw new ConfigError(`${source} ${raw === '' ? '(no value)' : `"${raw}"`} ${TRUST_TRUE_REFUSED}`);
    const entries = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    for (const entry of entries) {
      const error = proxyEntryError(entry);
      if (error) throw new ConfigError(`${source}: ${error}; list your reverse proxies' IP addresses or CIDRs, comma-separated`);
    }
    return entries;
  },
};

/** --public-origin: an http(s) origin with no path, query or fragment; returned as URL.origin. */
export function parsePublicOrigin(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${source}: expected a URL such as https://relay.example.org, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${source}: must be an http:// or https:// URL`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new ConfigError(`${source}: must be an origin only (scheme, host, optional port), got "${raw}"`);
  }
  return url.origin;
}

export const origin: ValueType<string> = { value: 'URL', parse: parsePublicOrigin };

/** --push-subject: a mailto: or https: URL, as VAPID (RFC 8292) asks. */
export const contact: ValueType<string> = {
  value: 'URL',
  parse(raw, source) {
    const protocol = URL.canParse(raw) ? new URL(raw).protocol : undefined;
    if (protocol !== 'mailto:' && protocol !== 'https:') throw new ConfigError(`${source}: expected a mailto: or https: URL, e.g. mailto:admin@example.org`);
    return raw;
  },
};

/**
 * The URL of a service of cluster mode (--postgres, --redis). It may hold a password, so an
 * error never quotes it: it names the scheme at most, and only of a value shaped scheme://…
 * (in `user:password@host` the "scheme" would be the user name).
 */
export function serviceUrl(schemes: readonly string[]): ValueType<string> {
  const expected = `expected a ${schemes.map((s) => `${s}//`).join(' or ')} URL`;
  return {
    value: 'URL',
    parse(raw, source) {
      const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(raw)?.[1]?.toLowerCase();
      if (scheme === undefined || !URL.canParse(raw)) throw new ConfigError(`${source}: ${expected} (the value is not shown: it may hold a password)`);
      if (!schemes.includes(scheme)) throw new ConfigError(`${source}: ${expected}, got one beginning "${scheme}//"`);
      return raw;
    },
  };
}

/** A service URL with its password replaced by ***, for logs. */
export function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.href;
}

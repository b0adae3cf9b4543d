/**
 * The relay's one error table: every wire ErrorCode with its HTTP status and default message,
 * and the helpers that build HTTP bodies and socket acks from it. test/relay/errors.test.ts
 * keeps the table consistent with protocol/errors.ts.
 */
import type { ErrorCode, WireError } from '../protocol/errors.js';

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const ERRORS: Readonly<Record<ErrorCode, ErrorSpec>> = Object.freeze({
  invalid: { status: 400, message: 'the request is malformed' },
  too_large: { status: 413, message: 'the request exceeds a size limit' },
  rate_limited: { status: 429, message: 'too many requests; slow down' },
  quota_exceeded: { status: 403, message: 'a quota is exhausted' },
  unknown_device: { status: 404, message: 'no such device' },
  not_found: { status: 404, message: 'not found' },
  unauthorized: { status: 401, message: 'authentication is required' },
  stale_timestamp: { status: 401, message: 'the signed timestamp is outside the accepted window' },
  replayed_nonce: { status: 401, message: 'the nonce was already used' },
  bad_signature: { status: 401, message: 'a signature does not verify' },
  forbidden: { status: 403, message: 'not allowed' },
  conflict: { status: 409, message: 'already exists' },
  unavailable: { status: 503, message: 'the relay cannot serve this now' },
  stale_devices: { status: 409, message: 'the recipient account has a newer device list; refresh it and send again' },
  unsupported_version: { status: 410, message: 'this relay speaks Sealpost protocol v2; update the client' },
  internal: { status: 500, message: 'internal error' },
});

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** A refusal with a stable code; the HTTP error handler and the gateway turn it into a body or ack. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.statusCode = ERRORS[code].status;
  }
}

export function wireError(code: ErrorCode, message?: string): WireError {
  return { code, message: message ?? ERRORS[code].message };
}

export function errorBody(code: ErrorCode, message?: string): { error: WireError } {
  return { error: wireError(code, message) };
}

export function errorAck(code: ErrorCode, message?: string): { ok: false; error: WireError } {
  return { ok: false, error: wireError(code, message) };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

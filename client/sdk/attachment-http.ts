/**
 * The relay's blob routes (docs/relay-api.md §"Attachments") as plain HTTP calls, each one
 * request: the upload's PATCH and HEAD (authorized by the upload token the signed POST gave),
 * and the download's GET (no authorization: the blob id is the capability). Retrying and
 * resuming are attachments.ts's; refusals become SdkErrors here, in one place, with the codes an
 * app words: `too_large`, `quota_exceeded`, `not_found`, else `relay_error` with the relay's code.
 * Uses the platform fetch (or the client's), so it runs in browsers and Node alike.
 */
import type { ErrorCode } from '../../protocol/errors.js';
import { HEADER_UPLOAD_OFFSET, UPLOAD_CONTENT_TYPE } from '../../protocol/http.js';
import { SdkError } from './errors.js';

/** What the signed POST answered: where the blob goes and the token that lets us write it. */
export interface UploadSlot {
  id: string;
  uploadToken: string;
  expiresAt: number;
}

export class BlobHttp {
  private readonly origin: string;

  constructor(relayUrl: string, private readonly fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args)) {
    this.origin = new URL(relayUrl).origin;
  }

  /**
   * Sends `bytes` at `offset`; resolves to the relay's offset afterwards: `offset + bytes.length`
   * when it took them, or where it stands when it did not (409 `conflict`: the caller goes on from there).
   */
  async append(slot: UploadSlot, offset: number, bytes: Uint8Array, signal?: AbortSignal): Promise<number> {
    const response = await this.call('PATCH', slot.id, {
      authorization: `Bearer ${slot.uploadToken}`, [HEADER_UPLOAD_OFFSET]: String(offset), 'content-type': UPLOAD_CONTENT_TYPE,
    }, signal, bytes);
    if (response.status === 204 || response.status === 409) {
      await response.body?.cancel();
      return offsetOf(response);
    }
    throw await refusal(response);
  }

  /** How many bytes of the upload the relay holds (HEAD), to resume from there. */
  async received(slot: UploadSlot, signal?: AbortSignal): Promise<number> {
    const response = await this.call('HEAD', slot.id, { authorization: `Bearer ${slot.uploadToken}` }, signal);
    if (!response.ok) throw await refusal(response);
    return offsetOf(response);
  }

  /**
   * The blob from byte `from` on. The answer must start there: a 206 for a range (or a 200 when
   * `from` is 0); a relay that answers a range with the whole blob is refused, not skipped through.
   */
  async download(id: string, from: number, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.call('GET', id, from > 0 ? { range: `bytes=${from}-` } : {}, signal);
    if (!response.ok) throw await refusal(response);
    if (from > 0 && response.status !== 206) {
      await response.body?.cancel();
      throw new SdkError('invalid_reply', 'the relay answered a ranged download with another range', { status: response.status });
    }
    if (!response.body) throw new SdkError('invalid_reply', 'the relay sent no attachment body', { status: response.status });
    return response.body;
  }

  private async call(method: string, id: string, headers: Record<string, string>, signal?: AbortSignal, body?: Uint8Array): Promise<Response> {
    try {
      return await this.fetchImpl(`${this.origin}/v2/attachments/${encodeURIComponent(id)}`, {
        method,
        headers,
        ...(body ? { body: body as unknown as BodyInit } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw cancelled(cause);
      throw new SdkError('network', `relay unreachable: ${method} /v2/attachments`, { cause });
    }
  }
}

/** The refusal an AbortSignal causes, wherever it interrupted the transfer. */
export function cancelled(cause?: unknown): SdkError {
  return new SdkError('cancelled', 'the transfer was cancelled', cause === undefined ? {} : { cause });
}

/** Whether a failed request may pass when sent again: the network, or the relay busy or failing. */
export function retryable(error: unknown): boolean {
  if (!(error instanceof SdkError)) return false;
  if (error.code === 'network') return true;
  return error.code === 'relay_error' && ((error.details.status ?? 0) >= 500 || error.details.relayCode === 'rate_limited');
}

/** A relay refusal of an attachment request, by its wire code (HEAD answers carry no body: the status says it). */
export async function refusal(response: Response): Promise<SdkError> {
  const body = await response.text().catch(() => '');
  let error: { code?: ErrorCode; message?: string } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  const relayCode: ErrorCode = error?.code ?? BY_STATUS[response.status] ?? 'internal';
  const details = { relayCode, status: response.status };
  const message = error?.message ?? `the relay answered ${response.status}`;
  if (relayCode === 'too_large' || relayCode === 'quota_exceeded' || relayCode === 'not_found') return new SdkError(relayCode, message, details);
  return new SdkError('relay_error', message, details);
}

/** For answers without a body (HEAD). */
const BY_STATUS: Record<number, ErrorCode> = { 401: 'unauthorized', 404: 'not_found', 409: 'conflict', 413: 'too_large', 429: 'rate_limited', 503: 'unavailable' };

function offsetOf(response: Response): number {
  const offset = Number(response.headers.get(HEADER_UPLOAD_OFFSET));
  if (!Number.isSafeInteger(offset) || offset < 0) throw new SdkError('invalid_reply', 'the relay gave no valid Upload-Offset', { status: response.status });
  return offset;
}

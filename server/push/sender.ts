/**
 * One push request to a push service (RFC 8030), built by the `web-push` library — the VAPID
 * JWT (RFC 8292) and the payload's aes128gcm encryption to the subscription's keys (RFC 8291) —
 * and sent here rather than by `web-push`'s own sender, for three reasons: that one always uses
 * https (a test's push service on 127.0.0.1 speaks plain http), it cannot refuse a name that
 * resolves to a private address (subscription-check.ts guardedLookup does), and it cannot be
 * cancelled when the relay stops.
 *
 * What a push says is fixed (docs/PROTOCOL.md §"Web Push"): the same few bytes every time, no
 * sender, no text, no handle, no count. `Topic` makes a push replace the one still waiting at the
 * push service for the same subscription, so a device that was offline gets one, not a pile;
 * TTL is an hour (a "something arrived" older than that says nothing the app will not show).
 */
import http from 'node:http';
import https from 'node:https';
import webpush from 'web-push';
import type { StoredSubscription } from './push-store.js';
import { endpointProblem, guardedLookup } from './subscription-check.js';
import type { VapidKeys } from './vapid.js';

/** The whole payload of every push: a format version, for the service worker. Nothing about the message. */
export const PUSH_PAYLOAD = '{"v":1}';
/** One topic per subscription: a newer push replaces an undelivered older one. */
export const PUSH_TOPIC = 'sealpost';
export const PUSH_TTL_SECONDS = 3600;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * How a push went: `sent` (2xx), `gone` (404/410: the subscription no longer exists),
 * `rejected` (another answer: the push service refused or is overloaded), `failed` (no answer:
 * network, timeout, a refused address).
 */
export type PushOutcome =
  | { result: 'sent' | 'gone' | 'rejected'; status: number }
  | { result: 'failed'; code: string };

export interface PushSenderOptions {
  keys: VapidKeys;
  /** VAPID `sub`: where a push service can reach the relay's operator (mailto: or https:). */
  subject: string;
  /** --push-allow-insecure-endpoints: http:// and loopback addresses too (development and tests). */
  allowInsecure: boolean;
  timeoutMs?: number;
}

export class PushSender {
  // Keep-alive: a relay sends most pushes to the same few push services.
  readonly #agents = { 'https:': new https.Agent({ keepAlive: true, maxSockets: 32 }), 'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }) };

  constructor(private readonly options: PushSenderOptions) {}

  /** Never throws: every way a push can end is an outcome. */
  async send(subscription: StoredSubscription, signal?: AbortSignal): Promise<PushOutcome> {
    const { keys, subject, allowInsecure } = this.options;
    // Checked again at send time: the flag may have been turned off since the subscription was taken.
    if (endpointProblem(subscription.endpoint, allowInsecure)) return { result: 'failed', code: 'ENOTPUSHABLE' };
    let details: webpush.RequestDetails;
    try {
      details = webpush.generateRequestDetails({ endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } }, PUSH_PAYLOAD, {
        vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        TTL: PUSH_TTL_SECONDS,
        urgency: 'normal',
        topic: PUSH_TOPIC,
        contentEncoding: 'aes128gcm',
      });
    } catch {
      return { result: 'failed', code: 'EINVALIDSUBSCRIPTION' };
    }
    const url = new URL(details.endpoint);
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return new Promise<PushOutcome>((resolve) => {
      const transport = url.protocol === 'http:' ? http : https;
      const request = transport.request(
        url,
        {
          method: details.method,
          headers: details.headers,
          agent: this.#agents[url.protocol === 'http:' ? 'http:' : 'https:'],
          lookup: guardedLookup(allowInsecure) as unknown as http.RequestOptions['lookup'],
          signal: combined,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          // The answer's body says nothing the relay needs: read and dropped.
          response.resume();
          response.on('end', () => resolve({ result: classify(status), status }));
          response.on('error', () => resolve({ result: classify(status), status }));
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        resolve({ result: 'failed', code: timeout.aborted ? 'ETIMEDOUT' : signal?.aborted ? 'ECANCELED' : (error.code ?? 'EPUSH') });
      });
      request.end(details.body ?? undefined);
    });
  }

  close(): void {
    this.#agents['https:'].destroy();
    this.#agents['http:'].destroy();
  }
}

function classify(status: number): 'sent' | 'gone' | 'rejected' {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 404 || status === 410) return 'gone';
  return 'rejected';
}

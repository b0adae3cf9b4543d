/**
 * Web Push routes (docs/relay-api.md §"Web Push"), present unless --no-push (then every
 * /v2/push route answers 404 `not_found`, like any route this relay does not have: a client
 * learns that push is off, not that it failed for now).
 *
 * - GET /v2/push/key: the relay's VAPID public key, the `applicationServerKey` a browser
 *   subscribes with. Public, like any public key.
 * - PUT /v2/push/subscription: a registered device (signed request, named in
 *   x-sealpost-device-id) registers its PushSubscription; one per device, a new one replaces it.
 * - DELETE /v2/push/subscription: the same device removes it.
 *
 * Refusals in order: the body's shape (schema, 400), the endpoint and keys (400 `invalid`), then
 * the signed-request checks (signed-request.ts), so a malformed request burns no nonce.
 */
import type { FastifyInstance } from 'fastify';
import { RelayError } from '../errors.js';
import { verifyRegisteredRequester } from '../http/signed-request.js';
import { ErrorBody, SignedRequestHeaders } from '../../protocol/http.js';
import { PushKey, PushStatus, PushSubscriptionBody, type PushStatusJson, type PushSubscriptionJson } from '../../protocol/push.js';
import { openPush } from '../push/plugin.js';
import { endpointProblem, keysProblem } from '../push/subscription-check.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 413: ErrorBody, 429: ErrorBody, 503: ErrorBody };

export async function pushRoutes(app: FastifyInstance): Promise<void> {
  const { config, limits } = app.relay;
  if (!config.push) return;
  const push = await openPush(app);
  const rateLimit = limits.perIpRoute;

  app.get('/push/key', { schema: { response: { 200: PushKey, ...errors } }, config: { rateLimit } }, async () => ({ publicKey: push.keys.publicKey }));

  app.put<{ Body: PushSubscriptionJson }>(
    '/push/subscription',
    { schema: { headers: SignedRequestHeaders, body: PushSubscriptionBody, response: { 200: PushStatus, ...errors } }, config: { rateLimit } },
    async (request): Promise<PushStatusJson> => {
      const { endpoint, keys } = request.body;
      const problem = endpointProblem(endpoint, config.pushAllowInsecureEndpoints) ?? keysProblem(keys);
      if (problem) throw new RelayError('invalid', problem);
      const deviceId = await verifyRegisteredRequester(request, app.store, app.relay, 'a push subscription');
      const outcome = await push.store.put(deviceId, { endpoint, p256dh: keys.p256dh, auth: keys.auth });
      if (outcome === 'unknown_device') throw new RelayError('unauthorized', 'the requesting device is not registered');
      return { enabled: true };
    },
  );

  app.delete(
    '/push/subscription',
    { schema: { headers: SignedRequestHeaders, response: { 200: PushStatus, ...errors } }, config: { rateLimit } },
    async (request): Promise<PushStatusJson> => {
      const deviceId = await verifyRegisteredRequester(request, app.store, app.relay, 'removing a push subscription');
      await push.store.delete(deviceId);
      return { enabled: false };
    },
  );
}

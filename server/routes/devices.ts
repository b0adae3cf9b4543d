/**
 * Prekey routes: claim a bundle (consumes one one-time prekey) and upload/rotate prekeys.
 *
 * A claim is a signed request by a registered device, named in `x-sealpost-device-id`: one-time
 * prekeys are a scarce resource of their owner, and an anonymous claimer could drain them (every
 * later session would then start without one). Claims are limited per client IP, per requesting
 * device and per target device (claim-limits.ts); the device budgets are spent only by requests
 * whose signature verifies, so nobody can spend another device's budget by naming it.
 */
import type { FastifyInstance } from 'fastify';
import { RelayError } from '../errors.js';
import { signingKey } from '../http/keys.js';
import { verifyRegisteredRequester, verifySignedRequest } from '../http/signed-request.js';
import { ClaimLimits } from '../limits/claim-limits.js';
import {
  DeviceParams,
  ErrorBody,
  PrekeyBundle,
  PrekeyStatus,
  UploadPrekeysBody,
  type PrekeyBundleJson,
  type UploadPrekeysRequest,
} from '../../protocol/http.js';
import { checkOneTimePrekeys, checkSignedPrekey } from './registration.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 413: ErrorBody, 429: ErrorBody };

export async function deviceRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.relay;
  const claims = new ClaimLimits(app.relay.limits.bundleClaims, app.relay.buckets);

  app.post<{ Params: { deviceId: string } }>(
    '/devices/:deviceId/bundle',
    {
      schema: { params: DeviceParams, response: { 200: PrekeyBundle, ...errors } },
      config: { rateLimit: app.relay.limits.perIpRoute },
    },
    async (request): Promise<PrekeyBundleJson> => {
      const { deviceId } = request.params;
      const requester = await verifyRegisteredRequester(request, app.store, app.relay, 'a bundle claim');
      const spent = await claims.take(requester, deviceId);
      if (spent === 'requester') throw new RelayError('rate_limited', 'this device claims too many bundles; retry in a minute');
      if (spent === 'target') throw new RelayError('rate_limited', "this device's bundle is claimed too often; retry in a minute");
      const bundle = await app.store.claimBundle(deviceId);
      if (!bundle) throw new RelayError('unknown_device');
      if (bundle.remaining < config.prekeyLowThreshold) app.delivery.prekeysLow(deviceId, bundle.remaining);
      return {
        handle: bundle.account.handle,
        identityKey: bundle.account.identityKey,
        deviceId,
        signedPrekey: bundle.device.signedPrekey,
        ...(bundle.oneTimePrekey ? { oneTimePrekey: bundle.oneTimePrekey } : {}),
      };
    },
  );

  app.put<{ Params: { deviceId: string }; Body: UploadPrekeysRequest }>(
    '/devices/:deviceId/prekeys',
    { schema: { params: DeviceParams, body: UploadPrekeysBody, response: { 200: PrekeyStatus, ...errors } }, config: { rateLimit: app.relay.limits.perIpRoute } },
    async (request) => {
      const { deviceId } = request.params;
      if (!(await app.store.getDevice(deviceId))) throw new RelayError('unknown_device');
      const devicePublicKey = signingKey(deviceId, 'deviceId');
      const { signedPrekey, oneTimePrekeys = [] } = request.body;
      if (signedPrekey) checkSignedPrekey(devicePublicKey, signedPrekey);
      checkOneTimePrekeys(oneTimePrekeys);
      await verifySignedRequest(request, devicePublicKey, app.relay);
      return { oneTimePrekeys: await app.store.putPrekeys(deviceId, signedPrekey, oneTimePrekeys) };
    },
  );
}

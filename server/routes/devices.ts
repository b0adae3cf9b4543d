/** Prekey routes: claim a bundle (consumes one one-time prekey) and upload/rotate prekeys. */
import type { FastifyInstance } from 'fastify';
import { RelayError } from '../errors.js';
import { signingKey } from '../http/keys.js';
import { verifySignedRequest } from '../http/signed-request.js';
import { DeviceParams, ErrorBody, PrekeyBundle, PrekeyStatus, UploadPrekeysBody, type PrekeyBundleJson, type UploadPrekeysRequest } from '../protocol/http.js';
import { checkOneTimePrekeys, checkSignedPrekey } from './registration.js';
import { deviceRoom } from '../types.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 413: ErrorBody, 429: ErrorBody };

export async function deviceRoutes(app: FastifyInstance): Promise<void> {
  const { config, nonces } = app.relay;

  app.post<{ Params: { deviceId: string } }>(
    '/devices/:deviceId/bundle',
    {
      schema: { params: DeviceParams, response: { 200: PrekeyBundle, ...errors } },
      config: { rateLimit: app.relay.limits.perIpRoute },
    },
    async (request): Promise<PrekeyBundleJson> => {
      const { deviceId } = request.params;
      const bundle = await app.store.claimBundle(deviceId);
      if (!bundle) throw new RelayError('unknown_device');
      if (bundle.remaining < config.prekeyLowThreshold) app.io.to(deviceRoom(deviceId)).emit('prekeys', { oneTimePrekeys: bundle.remaining });
      return {
        handle: bundle.account.handle,
        identityKey: bundle.account.identityKey,
        deviceId,
        certificate: bundle.device.certificate,
        signedPrekey: bundle.device.signedPrekey,
        ...(bundle.oneTimePrekey ? { oneTimePrekey: bundle.oneTimePrekey } : {}),
      };
    },
  );

  app.put<{ Params: { deviceId: string }; Body: UploadPrekeysRequest }>(
    '/devices/:deviceId/prekeys',
    { schema: { params: DeviceParams, body: UploadPrekeysBody, response: { 200: PrekeyStatus, ...errors } } },
    async (request) => {
      const { deviceId } = request.params;
      const device = await app.store.getDevice(deviceId);
      if (!device) throw new RelayError('unknown_device');
      const account = await app.store.getAccount(device.handle);
      if (!account) throw new RelayError('unknown_device');
      const devicePublicKey = signingKey(deviceId, 'deviceId');
      const { signedPrekey, oneTimePrekeys = [] } = request.body;
      if (signedPrekey) checkSignedPrekey(devicePublicKey, signedPrekey, signingKey(account.identityKey, 'identityKey'));
      checkOneTimePrekeys(oneTimePrekeys);
      verifySignedRequest(request, { device: devicePublicKey }, config.handshakeSkewMs, nonces);
      return { oneTimePrekeys: await app.store.putPrekeys(deviceId, signedPrekey, oneTimePrekeys) };
    },
  );
}

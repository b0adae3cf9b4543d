/** The provisioning mailbox routes (device linking; a departure from DESIGN.md, see docs/relay-api.md). */
import type { FastifyInstance } from 'fastify';
import { fromBase64Url } from '../../crypto/encoding.js';
import { RelayError } from '../errors.js';
import { signingKey } from '../http/keys.js';
import { verifySignedRequest } from '../http/signed-request.js';
import { DeviceParams, ErrorBody, ProvisioningClaimed, ProvisioningPutBody, type ProvisioningPutRequest } from '../../protocol/http.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 429: ErrorBody };

export async function provisioningRoutes(app: FastifyInstance): Promise<void> {
  const { config, mailbox } = app.relay;
  const ipLimit = { rateLimit: app.relay.limits.perIpRoute };

  app.put<{ Params: { deviceId: string }; Body: ProvisioningPutRequest }>(
    '/provisioning/:deviceId',
    { schema: { params: DeviceParams, body: ProvisioningPutBody, response: { 204: {}, ...errors } }, config: ipLimit },
    async (request, reply) => {
      const { deviceId } = request.params;
      signingKey(deviceId, 'deviceId');
      let bytes: Uint8Array;
      try {
        bytes = fromBase64Url(request.body.body);
      } catch (cause) {
        throw new RelayError('invalid', 'body is not unpadded base64url', { cause });
      }
      if (bytes.byteLength > config.maxBodyBytes) throw new RelayError('too_large', `body exceeds ${config.maxBodyBytes} bytes`);
      const result = await mailbox.put(deviceId, request.body.body, request.ip);
      if (result === 'id_full') throw new RelayError('quota_exceeded', 'this provisioning mailbox is full');
      if (result === 'ip_full') throw new RelayError('rate_limited', 'this address holds too many link blobs; retry once they are claimed or expire');
      if (result === 'full') throw new RelayError('quota_exceeded', 'the provisioning mailboxes are full; retry later');
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { deviceId: string } }>(
    '/provisioning/:deviceId/claim',
    { schema: { params: DeviceParams, response: { 200: ProvisioningClaimed, ...errors } }, config: ipLimit },
    async (request) => {
      const { deviceId } = request.params;
      await verifySignedRequest(request, signingKey(deviceId, 'deviceId'), app.relay);
      return { bodies: await mailbox.claim(deviceId) };
    },
  );
}

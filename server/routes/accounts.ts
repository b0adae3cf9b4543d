/**
 * Account directory routes: create an account with its first device, look one up by exact
 * handle, add and remove devices. Mutations are signed requests (server/http/signed-request.ts).
 */
import type { FastifyInstance } from 'fastify';
import { RelayError } from '../errors.js';
import { signingKey } from '../http/keys.js';
import { verifySignedRequest } from '../http/signed-request.js';
import {
  AccountView,
  AddDeviceBody,
  CreateAccountBody,
  DeviceCreated,
  ErrorBody,
  HandleDeviceParams,
  HandleParams,
  type AccountViewJson,
  type AddDeviceRequest,
  type CreateAccountRequest,
} from '../protocol/http.js';
import type { DeviceRecord } from '../store/store.js';
import { deviceRoom } from '../types.js';
import { checkDeviceRegistration } from './registration.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 429: ErrorBody };

function publicDevice(d: DeviceRecord): AccountViewJson['devices'][number] {
  return { deviceId: d.deviceId, certificate: d.certificate, signedPrekey: d.signedPrekey };
}

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { config, nonces } = app.relay;
  const ipLimit = { rateLimit: app.relay.limits.perIpRoute };

  app.post<{ Body: CreateAccountRequest }>(
    '/accounts',
    { schema: { body: CreateAccountBody, response: { 201: DeviceCreated, ...errors } }, config: ipLimit },
    async (request, reply) => {
      const { handle, identityKey, device } = request.body;
      const identity = signingKey(identityKey, 'identityKey');
      const { devicePublicKey, record } = checkDeviceRegistration(device, handle, identity);
      verifySignedRequest(request, { identity, device: devicePublicKey }, config.handshakeSkewMs, nonces);
      const created = await app.store.createAccount({ handle, identityKey }, record, device.oneTimePrekeys);
      if (!created) throw new RelayError('conflict', 'handle or device id already registered');
      request.log.info({ event: 'account_created' }, 'account created');
      return reply.code(201).send({ handle, deviceId: device.deviceId });
    },
  );

  app.get<{ Params: { handle: string } }>(
    '/accounts/:handle',
    { schema: { params: HandleParams, response: { 200: AccountView, ...errors } } },
    async (request) => {
      const account = await app.store.getAccount(request.params.handle);
      if (!account) throw new RelayError('not_found', 'no such account');
      const devices = await app.store.listDevices(account.handle);
      return { handle: account.handle, identityKey: account.identityKey, devices: devices.map(publicDevice) };
    },
  );

  app.post<{ Params: { handle: string }; Body: AddDeviceRequest }>(
    '/accounts/:handle/devices',
    { schema: { params: HandleParams, body: AddDeviceBody, response: { 201: DeviceCreated, ...errors } }, config: ipLimit },
    async (request, reply) => {
      const { handle } = request.params;
      const account = await app.store.getAccount(handle);
      if (!account) throw new RelayError('not_found', 'no such account');
      const identity = signingKey(account.identityKey, 'identityKey');
      const { devicePublicKey, record } = checkDeviceRegistration(request.body.device, handle, identity);
      verifySignedRequest(request, { identity, device: devicePublicKey }, config.handshakeSkewMs, nonces);
      const outcome = await app.store.addDevice(record, request.body.device.oneTimePrekeys, config.maxDevicesPerAccount);
      if (outcome === 'no_account') throw new RelayError('not_found', 'no such account');
      if (outcome === 'conflict') throw new RelayError('conflict', 'device already registered');
      if (outcome === 'quota_exceeded') throw new RelayError('quota_exceeded', `an account has at most ${config.maxDevicesPerAccount} devices`);
      request.log.info({ event: 'device_added' }, 'device added');
      return reply.code(201).send({ handle, deviceId: record.deviceId });
    },
  );

  app.delete<{ Params: { handle: string; deviceId: string } }>(
    '/accounts/:handle/devices/:deviceId',
    { schema: { params: HandleDeviceParams, response: errors } },
    async (request, reply) => {
      const { handle, deviceId } = request.params;
      const account = await app.store.getAccount(handle);
      if (!account) throw new RelayError('not_found', 'no such account');
      const identity = signingKey(account.identityKey, 'identityKey');
      verifySignedRequest(request, { identity }, config.handshakeSkewMs, nonces);
      if (!(await app.store.removeDevice(handle, deviceId))) throw new RelayError('unknown_device');
      // Its queue and prekeys went with it; its live sockets must not keep a session either.
      app.io.in(deviceRoom(deviceId)).disconnectSockets(true);
      request.log.info({ event: 'device_removed' }, 'device removed');
      return reply.code(204).send();
    },
  );
}

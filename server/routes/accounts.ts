/**
 * Account directory routes: create an account with its first device, look one up by exact
 * handle, add a device, publish a newer device list. Protocol v2: the account's authority
 * (identity key) never signs a request; it signs device lists, and the relay stores the newest
 * one it can verify. A device is registered exactly while the stored list names it, so every
 * list that leaves devices out deletes them (prekeys and queue too) and closes their sockets.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RelayError } from '../errors.js';
import { signingKey } from '../http/keys.js';
import { verifySignedRequest } from '../http/signed-request.js';
import {
  AccountView,
  AddDeviceBody,
  CreateAccountBody,
  DeviceCreated,
  DeviceListPublished,
  ErrorBody,
  HandleParams,
  PublishDeviceListBody,
  type AccountViewJson,
  type AddDeviceRequest,
  type CreateAccountRequest,
  type DeviceListPublishedJson,
  type PublishDeviceListRequest,
} from '../protocol/http.js';
import type { AccountRecord, DeviceRecord } from '../store/store.js';
import { deviceRoom } from '../types.js';
import { checkDeviceList, deviceListRefused } from './device-list-check.js';
import { checkDeviceRegistration } from './registration.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 429: ErrorBody };

/** The registered devices in the order of the account's list (they are the same set). */
function publicDevices(account: AccountRecord, devices: readonly DeviceRecord[]): AccountViewJson['devices'] {
  const order = new Map(account.deviceList.devices.map((d, i) => [d.deviceId, i]));
  const rank = (d: DeviceRecord): number => order.get(d.deviceId) ?? Number.MAX_SAFE_INTEGER;
  return [...devices].sort((a, b) => rank(a) - rank(b)).map((d) => ({ deviceId: d.deviceId, signedPrekey: d.signedPrekey }));
}

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { config, nonces } = app.relay;
  const ipLimit = { rateLimit: app.relay.limits.perIpRoute };

  /** Closes the live sockets of devices a new list removed: they must not keep a session. */
  const disconnect = (request: FastifyRequest, removed: readonly string[]): void => {
    for (const deviceId of removed) app.io.in(deviceRoom(deviceId)).disconnectSockets(true);
    if (removed.length > 0) request.log.info({ event: 'devices_removed', count: removed.length }, 'devices removed');
  };

  const accountOf = async (handle: string): Promise<AccountRecord> => {
    const account = await app.store.getAccount(handle);
    if (!account) throw new RelayError('not_found', 'no such account');
    return account;
  };

  app.post<{ Body: CreateAccountRequest }>(
    '/accounts',
    { schema: { body: CreateAccountBody, response: { 201: DeviceCreated, ...errors } }, config: ipLimit },
    async (request, reply) => {
      const { handle, identityKey, device, deviceList } = request.body;
      // The list is the proof of possession of the identity key: version ≥ 1, naming this device only.
      checkDeviceList(deviceList, handle, signingKey(identityKey, 'identityKey'));
      if (deviceList.devices.length !== 1 || deviceList.devices[0]?.deviceId !== device.deviceId) {
        throw new RelayError('invalid', 'the first device list names exactly the registering device');
      }
      const { devicePublicKey, record } = checkDeviceRegistration(device, handle);
      verifySignedRequest(request, devicePublicKey, config.handshakeSkewMs, nonces);
      const created = await app.store.createAccount({ handle, identityKey, deviceList }, record, device.oneTimePrekeys);
      if (!created) throw new RelayError('conflict', 'handle or device id already registered');
      request.log.info({ event: 'account_created' }, 'account created');
      return reply.code(201).send({ handle, deviceId: device.deviceId });
    },
  );

  app.get<{ Params: { handle: string } }>(
    '/accounts/:handle',
    { schema: { params: HandleParams, response: { 200: AccountView, ...errors } } },
    async (request): Promise<AccountViewJson> => {
      const account = await accountOf(request.params.handle);
      const devices = await app.store.listDevices(account.handle);
      return { handle: account.handle, identityKey: account.identityKey, deviceList: account.deviceList, devices: publicDevices(account, devices) };
    },
  );

  // A linked or recovered device registers itself: signed by its own key, carrying a newer list
  // from the authority that names it. Devices that list leaves out go (recovery lists one).
  app.post<{ Params: { handle: string }; Body: AddDeviceRequest }>(
    '/accounts/:handle/devices',
    { schema: { params: HandleParams, body: AddDeviceBody, response: { 201: DeviceCreated, ...errors } }, config: ipLimit },
    async (request, reply) => {
      const { handle } = request.params;
      const { device, deviceList } = request.body;
      const account = await accountOf(handle);
      checkDeviceList(deviceList, handle, signingKey(account.identityKey, 'identityKey'));
      if (!deviceList.devices.some((d) => d.deviceId === device.deviceId)) throw new RelayError('invalid', 'the device list does not name the new device');
      const { devicePublicKey, record } = checkDeviceRegistration(device, handle);
      verifySignedRequest(request, devicePublicKey, config.handshakeSkewMs, nonces);
      const outcome = await app.store.addDevice(record, device.oneTimePrekeys, deviceList, config.maxDevicesPerAccount);
      if (outcome.status === 'conflict') throw new RelayError('conflict', 'device already registered');
      if (outcome.status === 'quota_exceeded') throw new RelayError('quota_exceeded', `an account has at most ${config.maxDevicesPerAccount} devices`);
      if (outcome.status !== 'added') throw deviceListRefused(outcome);
      disconnect(request, outcome.removed);
      request.log.info({ event: 'device_added' }, 'device added');
      return reply.code(201).send({ handle, deviceId: record.deviceId });
    },
  );

  // Not a signed request: the list's authority signature is the proof, and its strictly
  // increasing version makes a replayed (or older) list useless.
  app.put<{ Params: { handle: string }; Body: PublishDeviceListRequest }>(
    '/accounts/:handle/device-list',
    { schema: { params: HandleParams, body: PublishDeviceListBody, response: { 200: DeviceListPublished, ...errors } }, config: ipLimit },
    async (request): Promise<DeviceListPublishedJson> => {
      const { handle } = request.params;
      const { deviceList } = request.body;
      const account = await accountOf(handle);
      checkDeviceList(deviceList, handle, signingKey(account.identityKey, 'identityKey'));
      const outcome = await app.store.publishDeviceList(handle, deviceList);
      if (outcome.status !== 'published') throw deviceListRefused(outcome);
      disconnect(request, outcome.removed);
      request.log.info({ event: 'device_list_published' }, 'device list published');
      return { version: deviceList.version, removed: outcome.removed };
    },
  );
}

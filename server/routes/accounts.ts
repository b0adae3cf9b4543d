/**
 * Account directory routes: create an account with its first device, look one up by exact
 * handle, add a device, publish a newer device list, and the recovery lookup. Protocol v2: the
 * account's authority (identity key) signs device lists, and the relay stores the newest one it
 * can verify; it signs one request, the recovery lookup of its own list.
 *
 * Handles must not be enumerable: a lookup is a signed request by a registered device, limited
 * per device and per IP; the recovery lookup, adding a device and publishing a list answer an
 * unknown handle exactly like a wrong signature. (Registration must say that a handle is taken:
 * it is limited per IP.) A device is registered exactly while the stored list names it, so every
 * list that leaves devices out deletes them (prekeys and queue too) and closes their sockets.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RelayError } from '../errors.js';
import { signingKey } from '../http/keys.js';
import { generateSigningKeyPair } from '../../crypto/keys.js';
import { verifyRegisteredRequester, verifySignedRequest } from '../http/signed-request.js';
import {
  AccountView,
  AddDeviceBody,
  CreateAccountBody,
  DeviceCreated,
  DeviceListPublished,
  ErrorBody,
  HandleParams,
  PublishDeviceListBody,
  RecoveryView,
  type AccountViewJson,
  type RecoveryViewJson,
  type AddDeviceRequest,
  type CreateAccountRequest,
  type DeviceListPublishedJson,
  type PublishDeviceListRequest,
} from '../../protocol/http.js';
import type { AccountRecord, DeviceRecord } from '../store/store.js';
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
  const { config, limits } = app.relay;
  const ipLimit = { rateLimit: limits.perIpRoute };
  const lookupsByDevice = app.relay.buckets('lookups-by-device', limits.lookups.perDevice);
  // A key nobody holds (its private half is dropped here): what is signed for an unknown handle
  // (a recovery lookup, a device list) is checked against it, so it fails exactly as a wrong
  // signature does, and these routes tell nobody which handles exist.
  const decoyKey = generateSigningKeyPair().publicKey;

  /** The account's authority key, or the decoy for a handle nobody holds. */
  const authorityOf = async (handle: string): Promise<Uint8Array> => {
    const account = await app.store.getAccount(handle);
    return account ? signingKey(account.identityKey, 'identityKey') : decoyKey;
  };

  /** Closes the live sockets of devices a new list removed: they must not keep a session. */
  const disconnect = (request: FastifyRequest, removed: readonly string[]): void => {
    app.delivery.removed(removed);
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
      await verifySignedRequest(request, devicePublicKey, app.relay);
      const created = await app.store.createAccount({ handle, identityKey, deviceList }, record, device.oneTimePrekeys);
      if (!created) throw new RelayError('conflict', 'handle or device id already registered');
      request.log.info({ event: 'account_created' }, 'account created');
      return reply.code(201).send({ handle, deviceId: device.deviceId });
    },
  );

  // Signed by a registered device (named in x-sealpost-device-id, as for bundle claims) and
  // limited per IP and per device, so nobody can sweep the handle space.
  app.get<{ Params: { handle: string } }>(
    '/accounts/:handle',
    { schema: { params: HandleParams, response: { 200: AccountView, ...errors } }, config: { rateLimit: limits.lookups.perIp } },
    async (request): Promise<AccountViewJson> => {
      const requester = await verifyRegisteredRequester(request, app.store, app.relay, 'a lookup');
      if (!(await lookupsByDevice.has(requester))) throw new RelayError('rate_limited', 'this device looks up too many accounts; retry in a minute');
      await lookupsByDevice.take(requester);
      const account = await accountOf(request.params.handle);
      const devices = await app.store.listDevices(account.handle);
      return { handle: account.handle, identityKey: account.identityKey, deviceList: account.deviceList, devices: publicDevices(account, devices) };
    },
  );

  // The recovery lookup: a device that holds only the recovery key (the account identity key)
  // learns the newest list, to sign the next version. Signed by that key over the usual request
  // statement; an unknown handle and a wrong key both answer 401 bad_signature.
  app.get<{ Params: { handle: string } }>(
    '/accounts/:handle/device-list',
    { schema: { params: HandleParams, response: { 200: RecoveryView, ...errors } }, config: ipLimit },
    async (request): Promise<RecoveryViewJson> => {
      const account = await app.store.getAccount(request.params.handle);
      await verifySignedRequest(request, account ? signingKey(account.identityKey, 'identityKey') : decoyKey, app.relay);
      if (!account) throw new RelayError('bad_signature'); // unreachable: nothing verifies with the decoy key
      return { handle: account.handle, identityKey: account.identityKey, deviceList: account.deviceList };
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
      checkDeviceList(deviceList, handle, await authorityOf(handle));
      if (!deviceList.devices.some((d) => d.deviceId === device.deviceId)) throw new RelayError('invalid', 'the device list does not name the new device');
      const { devicePublicKey, record } = checkDeviceRegistration(device, handle);
      await verifySignedRequest(request, devicePublicKey, app.relay);
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
      checkDeviceList(deviceList, handle, await authorityOf(handle));
      const outcome = await app.store.publishDeviceList(handle, deviceList);
      if (outcome.status !== 'published') throw deviceListRefused(outcome);
      disconnect(request, outcome.removed);
      request.log.info({ event: 'device_list_published' }, 'device list published');
      return { version: deviceList.version, removed: outcome.removed };
    },
  );
}

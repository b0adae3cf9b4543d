/**
 * The two Socket.IO rooms of a device, on each node. Only the delivery module joins and names
 * them (delivery.ts, socket-drain.ts, live-sockets.ts).
 *
 * - `deviceRoom`: every socket of the device, draining its backlog or live. Notices that are not
 *   envelopes go there: prekey counts, and disconnection when the device is removed.
 * - `liveRoom`: only the sockets that have caught up with the store and take live pushes of
 *   stored envelopes (a socket drains first, joins when a read comes back empty).
 */
export function deviceRoom(deviceId: string): string {
  return `device:${deviceId}`;
}

export function liveRoom(deviceId: string): string {
  return deviceId;
}

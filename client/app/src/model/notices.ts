/**
 * The one general notice shown until dismissed (NoticeBar): the latest problem worth telling
 * the user that belongs to no form and no message — a device or device list the SDK refused,
 * a relay that may show people different devices, this device removed, an incoming message
 * dropped, a connection the relay refused, an error. A network error's notice goes by itself
 * once the connection is back.
 */
import { SdkError, type ConnectionState, type SealpostClient } from '../../../sdk/index.js';
import { describeDeviceRefusal, describeError, describeListRefusal, describeRejection } from './describe-error.js';

/** Incoming envelopes that were dropped: worth telling the user. */
const SHOWN_REJECTIONS = new Set(['decrypt_failed', 'untrusted_sender', 'invalid_content']);

export class Notices {
  /** The notice shown, if any. */
  current: string | undefined;
  private clearsOnReconnect = false;

  constructor(private readonly client: SealpostClient, private readonly changed: () => void) {}

  /** Wires the SDK events that show a notice (once, on start). */
  listen(): void {
    this.client.on('device_refused', (refusal) => {
      this.show(describeDeviceRefusal(refusal.handle, refusal.reason));
    });
    this.client.on('device_list_refused', (refusal) => {
      this.show(describeListRefusal(refusal.handle, refusal.reason));
    });
    this.client.on('device_list_mismatch', (mismatch) => {
      const whose = mismatch.kind === 'sender' ? `${mismatch.handle}'s devices` : 'your devices';
      this.show(`${mismatch.from}'s message was sent with a different list of ${whose} than the relay shows you. The relay may be showing different people different devices.`);
    });
    this.client.on('device_removed', () => {
      this.show('This device was removed from your account. It can no longer send or read new messages. Erase it under Devices to start again.');
    });
    this.client.on('rejected', (error) => {
      if (!SHOWN_REJECTIONS.has(error.code)) return; // send refusals already show on their message
      this.show(describeRejection(error.code));
    });
    this.client.on('error', (error) => {
      this.show(describeError(error), error instanceof SdkError && error.code === 'network');
    });
  }

  /** From the SDK's `state` event: the relay refusing this app or this device is explained. */
  connectionChanged(state: ConnectionState, reason: string | undefined): void {
    if (state === 'connected' && this.clearsOnReconnect) this.current = undefined;
    if (state === 'offline' && reason === 'unsupported_version') {
      this.show('The relay speaks a different Sealpost protocol version than this app, so it stopped connecting. Reload the page; if this stays, the relay needs an update.');
    }
    if (state === 'offline' && reason === 'unknown_device') {
      this.show('The relay no longer knows this device: it was removed from the account. Erase it under Devices to start again.');
    }
  }

  show(text: string, clearsOnReconnect = false): void {
    this.current = text;
    this.clearsOnReconnect = clearsOnReconnect;
    this.changed();
  }

  dismiss(): void {
    this.current = undefined;
    this.changed();
  }
}

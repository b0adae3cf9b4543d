/**
 * Messages between the runner and a load-generator process (Node IPC over `fork`). The load
 * generator announces phases; the runner samples the target's CPU time or RSS at each one and
 * answers `continue`, so server-side figures cover exactly the interval the load measured.
 */
import type { BenchConfig, ParserName, ScenarioName, SdkStore, TargetName } from './config.js';

export type Phase =
  /** The measured interval begins (after warm-up) — sample CPU. */
  | 'measure-start'
  /** The measured interval ends — sample CPU. */
  | 'measure-end'
  /** Devices exist, nothing connected yet — sample the baseline RSS. */
  | 'before-connect'
  /** All idle connections are up — let the target settle, then sample RSS. */
  | 'connected'
  /** (h) the transfers begin — sample the baseline RSS, then sample it until 'transfer-end'. */
  | 'transfer-start'
  /** (h) the transfers are over — stop sampling, keep the peak. */
  | 'transfer-end';

export interface LoadJob {
  scenario: ScenarioName;
  target: TargetName;
  /** e.g. http://127.0.0.1:41234 (empty for the in-process crypto scenario). */
  url: string;
  /** Every relay to spread clients over: the cluster's nodes (absent or [url] for one process). */
  urls?: string[];
  parser: ParserName;
  config: BenchConfig;
  /** (f) which profile store the clients use. */
  store?: SdkStore;
}

/** What a load generator measured. Absent fields do not apply to that scenario. */
export interface LoadResult {
  /** Completed messages (or envelopes, or crypto round trips) in the measured interval. */
  completed: number;
  /** Interval the rates are computed over, in seconds. */
  seconds: number;
  msgPerSec?: number;
  /** send → message complete (see README "Performance": sender acked AND recipient's ack processed). */
  p50Ms?: number;
  p99Ms?: number;
  /** send → the sender's own ack (sealpost: durable write; bare/raw: the relayed recipient ack). */
  relayAckP50Ms?: number;
  relayAckP99Ms?: number;
  /** Envelopes refused, lost or not completed before the grace period ended. */
  errors: number;
  duplicates?: number;
  fillMsgPerSec?: number;
  /** (e) one-way crypto round trips per second (the alternating figure is msgPerSec). */
  oneWayPerSec?: number;
  connections?: number;
  connectSeconds?: number;
  /** Load generator CPU over the measured interval, % of one core. */
  loadCpuPct: number;
  /** (f) all `stored` promises resolved (relay acked every envelope), per second of the burst. */
  ackedMsgPerSec?: number;
  /** (f) every message reached the recipient's second (linked) device, per second of the burst. */
  secondDeviceMsgPerSec?: number;
  /** (f) the send() calls themselves (each resolves once encrypted and queued locally), per second. */
  queuedMsgPerSec?: number;
  /** (f) the recipient's process (both devices), % of one core over the burst. */
  receiverCpuPct?: number;
  /**
   * (g) CPU µs per forged envelope (mean, p99) and wall-clock µs (mean): a plain ratchet
   * message, a prekey message, and a genuine message for scale.
   */
  forgedMessageMeanUs?: number;
  forgedMessageP99Us?: number;
  forgedMessageWallMeanUs?: number;
  forgedPrekeyMeanUs?: number;
  forgedPrekeyP99Us?: number;
  forgedPrekeyWallMeanUs?: number;
  genuineMeanUs?: number;
  genuineP99Us?: number;
  genuineWallMeanUs?: number;
  /** (h) file size and its blob (encrypted, padded) size, MiB. */
  fileMiB?: number;
  ciphertextMiB?: number;
  /** (h) SDK encrypt + upload, and download + decrypt, MiB of the file per second. */
  sdkUploadMiBps?: number;
  sdkDownloadMiBps?: number;
  /** (h) curl PATCHes (4 MiB each) and curl GET of as many bytes as the blob, MiB per second. */
  curlUploadMiBps?: number;
  curlDownloadMiBps?: number;
  /** (i) navigation start → a usable page on emulated slow 4G: median, fastest and slowest load, ms. */
  firstLoadMs?: number;
  firstLoadMinMs?: number;
  firstLoadMaxMs?: number;
  /** (i) bytes on the wire per load (headers included, as Chromium counts them), median, KiB. */
  firstLoadKiB?: number;
}

export type LoadToRunner =
  | { type: 'phase'; phase: Phase }
  | { type: 'result'; result: LoadResult }
  | { type: 'error'; message: string };

export type RunnerToLoad = { type: 'job'; job: LoadJob } | { type: 'continue' };

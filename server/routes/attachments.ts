/**
 * Attachment routes (docs/relay-api.md §"Attachments"): a registered device begins an upload with a
 * signed POST and gets an id and an upload token; it sends the bytes in PATCHes at increasing
 * offsets (resumable: HEAD says where to go on); anyone holding the id downloads the complete blob
 * with GET, whole or by one byte range. Bytes stream between the socket and the blob store
 * (server/blobs/) and are never held whole in memory.
 *
 * Two refusals leave with a status other than their code's usual one, as the attachment contract
 * fixes it: a quota spent is 429 `quota_exceeded` (a client backs off: expiry frees quota), and a
 * range past the end is 416 `invalid`.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RelayError, errorBody } from '../errors.js';
import { verifyRegisteredRequester } from '../http/signed-request.js';
import type { ErrorCode } from '../../protocol/errors.js';
import {
  ATTACHMENT_PATCH_MAX_BYTES,
  ATTACHMENT_UPLOAD_WINDOW_MS,
  AttachmentCreated,
  AttachmentParams,
  CreateAttachmentBody,
  DownloadHeaders,
  ErrorBody,
  HEADER_UPLOAD_LENGTH,
  HEADER_UPLOAD_OFFSET,
  SignedRequestHeaders,
  UPLOAD_CONTENT_TYPE,
  UploadChunkHeaders,
  UploadTokenHeaders,
  type AttachmentCreatedJson,
  type CreateAttachmentRequest,
} from '../../protocol/http.js';
import type { BlobRecord } from '../blobs/blob-store.js';
import { parseRange } from '../blobs/range.js';
import { bearerToken, newSecret, tokenHash, tokenMatches } from '../blobs/tokens.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 416: ErrorBody, 429: ErrorBody, 503: ErrorBody };
/** A browser client on another origin (--cors-origin) must be able to read these. */
const EXPOSED = `${HEADER_UPLOAD_OFFSET}, ${HEADER_UPLOAD_LENGTH}, content-range`;

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

export async function attachmentRoutes(app: FastifyInstance): Promise<void> {
  const { config, metrics } = app.relay;
  // Per minute as a bucket: the minute's worth may come at once, then it refills evenly.
  const uploadsPerDevice = app.relay.buckets('attachment-uploads', { ratePerSecond: config.attachmentUploadsPerDevice / 60, burst: config.attachmentUploadsPerDevice });
  const quota = { maxBlobs: config.maxAttachmentsPerAccount, maxBytes: config.maxAttachmentBytesPerAccount };

  const refused = (reason: ErrorCode, message?: string): RelayError => {
    metrics.attachmentUploadsRefused.inc({ reason });
    return new RelayError(reason, message);
  };

  app.post<{ Body: CreateAttachmentRequest }>(
    '/attachments',
    {
      schema: { headers: SignedRequestHeaders, body: CreateAttachmentBody, response: { 201: AttachmentCreated, ...errors } },
      config: { rateLimit: app.relay.limits.perIpRoute },
    },
    async (request, reply) => {
      const requester = await verifyRegisteredRequester(request, app.store, app.relay, 'an attachment upload');
      const { size } = request.body;
      if (size > config.maxAttachmentBytes) throw refused('too_large', `an attachment is at most ${config.maxAttachmentBytes} bytes`);
      if (!(await uploadsPerDevice.has(requester))) throw refused('rate_limited', 'this device begins too many uploads; retry in a minute');
      await uploadsPerDevice.take(requester);
      // Its account is the blob's owner: quotas are per account, over all its devices.
      const device = await app.store.getDevice(requester);
      if (!device) throw new RelayError('unauthorized', 'the requesting device is not registered');
      const now = Date.now();
      const created: AttachmentCreatedJson = { id: newSecret(), uploadToken: newSecret(), expiresAt: now + config.attachmentTtlMs };
      const blob = {
        id: created.id,
        owner: device.handle,
        size,
        expiresAt: created.expiresAt,
        uploadExpiresAt: now + Math.min(ATTACHMENT_UPLOAD_WINDOW_MS, config.attachmentTtlMs),
        tokenHash: tokenHash(created.uploadToken),
      };
      let outcome: 'created' | 'quota_exceeded';
      try {
        outcome = await app.blobs.create(blob, quota, now);
      } catch (error) {
        if (error instanceof RelayError) metrics.attachmentUploadsRefused.inc({ reason: error.code });
        throw error;
      }
      if (outcome === 'quota_exceeded') {
        metrics.attachmentUploadsRefused.inc({ reason: 'quota_exceeded' });
        const message = `an account holds at most ${quota.maxBlobs} attachments and ${quota.maxBytes} bytes of them until they expire`;
        return reply.code(429).type('application/json').send(errorBody('quota_exceeded', message));
      }
      return reply.code(201).send(created);
    },
  );

  /** The live blob named by the path whose upload token the request bears: 401 and 404 otherwise. */
  const authorizedUpload = async (request: IdRequest): Promise<BlobRecord> => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new RelayError('unauthorized', 'an upload needs "Authorization: Bearer <uploadToken>"');
    const record = await app.blobs.stat(request.params.id, Date.now());
    if (!record) throw new RelayError('not_found', 'no such attachment upload (or it expired)');
    if (!tokenMatches(token, record.tokenHash)) throw new RelayError('unauthorized', 'wrong upload token');
    return record;
  };

  const offsetHeaders = (reply: FastifyReply, received: number): FastifyReply =>
    reply.header(HEADER_UPLOAD_OFFSET, String(received)).header('cache-control', 'no-store').header('access-control-expose-headers', EXPOSED);

  await app.register(async (uploads) => {
    // Only raw upload bodies here, handed over unread: the handler checks token and offset before
    // it reads a byte, then streams the body to the store. Any other content type is 400 unread.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser(UPLOAD_CONTENT_TYPE, (_request, payload, done) => done(null, payload));

    uploads.patch<{ Params: { id: string } }>(
      '/attachments/:id',
      { schema: { params: AttachmentParams, headers: UploadChunkHeaders, response: { 204: { type: 'null' }, ...errors } } },
      async (request, reply) => {
        const offset = Number(request.headers[HEADER_UPLOAD_OFFSET]);
        if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== UPLOAD_CONTENT_TYPE) {
          throw new RelayError('invalid', `an upload's content type is ${UPLOAD_CONTENT_TYPE}`);
        }
        const record = await authorizedUpload(request);
        offsetHeaders(reply, record.received);
        if (offset !== record.received) throw new RelayError('conflict', `the upload is at offset ${record.received}`);
        const declared = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
        if (declared !== undefined && declared > ATTACHMENT_PATCH_MAX_BYTES) throw refused('too_large', `a PATCH carries at most ${ATTACHMENT_PATCH_MAX_BYTES} bytes`);
        if (declared !== undefined && offset + declared > record.size) throw refused('too_large', `the attachment was declared ${record.size} bytes`);
        const body = (request.body as Readable | undefined) ?? Readable.from([]);
        let outcome;
        try {
          outcome = await app.blobs.append(record.id, offset, body, ATTACHMENT_PATCH_MAX_BYTES, Date.now());
        } catch (error) {
          // The client went away (or the request timed out) mid-body: what arrived is kept; nobody reads this answer.
          if (request.raw.destroyed || request.raw.readableAborted) throw new RelayError('invalid', 'the upload was cut off; resume from the offset HEAD gives', { cause: error });
          throw error;
        }
        if (outcome.status === 'not_found') throw new RelayError('not_found', 'no such attachment upload (or it expired)');
        offsetHeaders(reply, outcome.received);
        if (outcome.status === 'conflict') throw new RelayError('conflict', `the upload is at offset ${outcome.received}`);
        if (outcome.status === 'too_large') throw refused('too_large', `the attachment was declared ${record.size} bytes; a PATCH carries at most ${ATTACHMENT_PATCH_MAX_BYTES}`);
        return reply.code(204).send();
      },
    );

    uploads.head<{ Params: { id: string } }>(
      '/attachments/:id',
      { schema: { params: AttachmentParams, headers: UploadTokenHeaders, response: errors } },
      async (request, reply) => {
        const record = await authorizedUpload(request);
        return offsetHeaders(reply, record.received).header(HEADER_UPLOAD_LENGTH, String(record.size)).code(200).send();
      },
    );

    uploads.get<{ Params: { id: string }; Headers: { range?: string } }>(
      '/attachments/:id',
      {
        // HEAD is the upload status above, not a bodiless GET.
        exposeHeadRoute: false,
        // The reply is the blob's bytes (a stream): only refusals are JSON.
        schema: { params: AttachmentParams, headers: DownloadHeaders, response: errors },
        config: { rateLimit: { max: config.attachmentDownloadsPerIp, timeWindow: 60_000 } },
      },
      async (request, reply) => {
        const record = await app.blobs.stat(request.params.id, Date.now());
        // An unfinished upload is not there yet for a downloader.
        if (!record || record.received !== record.size) throw new RelayError('not_found', 'no such attachment (or it expired)');
        void reply
          .header('content-type', 'application/octet-stream')
          .header('accept-ranges', 'bytes')
          .header('cache-control', 'private, no-store')
          .header('access-control-expose-headers', EXPOSED);
        const range = parseRange(request.headers.range, record.size);
        if (range.kind === 'unsatisfiable') {
          return reply.code(416).header('content-range', `bytes */${record.size}`).type('application/json').send(errorBody('invalid', `the attachment has ${record.size} bytes`));
        }
        const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, record.size];
        const bytes = await app.blobs.read(record.id, start, end);
        if (!bytes) throw new RelayError('not_found', 'no such attachment (or it expired)');
        if (range.kind === 'partial') void reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${record.size}`);
        return reply.header('content-length', String(end - start)).send(bytes);
      },
    );
  });
}

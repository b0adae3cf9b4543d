/**
 * Every failure leaves as `{error:{code, message}}` JSON with the table's status: schema
 * violations, malformed JSON, wrong content types, oversize bodies, unknown routes, rate limits
 * and our own RelayErrors. Only a genuine bug is `internal` (500), and it is logged.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, RelayError, errorBody, isErrorCode } from '../errors.js';
import type { ErrorCode } from '../../protocol/errors.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'invalid',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid',
  FST_ERR_VALIDATION: 'invalid',
};

export function classify(error: FastifyError | RelayError | Error): { code: ErrorCode; message: string } {
  if (error instanceof RelayError) return { code: error.code, message: error.message };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return { code: 'invalid', message: error.message };
  if (fastifyError.code && FASTIFY_CODES[fastifyError.code]) return { code: FASTIFY_CODES[fastifyError.code] as ErrorCode, message: error.message };
  if (isErrorCode(fastifyError.code)) return { code: fastifyError.code, message: error.message };
  const status = fastifyError.statusCode;
  if (status === 429) return { code: 'rate_limited', message: ERRORS.rate_limited.message };
  if (status === 413) return { code: 'too_large', message: ERRORS.too_large.message };
  if (status !== undefined && status >= 400 && status < 500) return { code: 'invalid', message: error.message };
  return { code: 'internal', message: ERRORS.internal.message };
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, message } = classify(error);
    if (code === 'internal') request.log.error({ err: error }, 'request failed');
    else request.log.info({ code }, 'request refused');
    return reply.code(ERRORS[code].status).type('application/json').send(errorBody(code, message));
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody('not_found', 'no such route')));
}

/** Keys that would reach an object's prototype machinery if a handler ever merged a body into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class ForbiddenKey extends Error {}

/**
 * JSON bodies are parsed here (not by Fastify's default parser) so the exact bytes stay on
 * the request for signature verification. An empty body parses to undefined. A `__proto__`,
 * `constructor` or `prototype` key anywhere in the body (however it is escaped) is refused
 * 400 `invalid`, like any other unknown field, rather than silently dropped.
 */
export function installRawJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    try {
      done(
        null,
        JSON.parse(raw.toString('utf8'), (key, value: unknown) => {
          if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key);
          return value;
        }),
      );
    } catch (error) {
      if (error instanceof ForbiddenKey) done(new RelayError('invalid', `a "${error.message}" key is not allowed in a body`), undefined);
      else done(new RelayError('invalid', 'body is not valid JSON'), undefined);
    }
  });
}

/**
 * Errors Node's HTTP parser raises before Fastify has a request (headers beyond the 16 KiB
 * limit, malformed request lines): typed bodies too, instead of Fastify's default shape.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'too_large', 'request headers exceed the size limit']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'invalid', 'request timed out']
        : [400, 'invalid', 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** Router-level refusals (a path parameter over maxParamLength, a malformed URL): 400 invalid, without echoing the path. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'malformed URL';
  void reply.code(400).type('application/json').send(errorBody('invalid', message));
}

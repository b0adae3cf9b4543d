/**
 * Structured pino logging that never records an envelope body, a request body, a header value
 * or an IP address: the request serializer keeps only method, route and a request id, and
 * Fastify's own per-request logging is replaced by one line per response (server/app.ts).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export function createLogger(level: LogLevel, stream?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sealpost-relay' },
      // Defence in depth: if a future log call passes one of these by mistake, it is censored.
      redact: { paths: ['body', '*.body', 'req.headers', 'headers', 'auth', '*.auth', 'ip', '*.ip', 'remoteAddress', '*.remoteAddress'], censor: '[redacted]' },
      serializers: {
        req: (req: { method?: string; url?: string; routeOptions?: { url?: string }; id?: string }) => ({
          id: req.id,
          method: req.method,
          // The route pattern, not the URL: paths carry handles and device ids.
          route: req.routeOptions?.url ?? 'unmatched',
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    stream,
  );
}

// What every HTTP request leaves behind: a request id (echoed to the client), one log line and
// the per-route request metrics.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** Route labels of the metrics: the first path segment when it is one of ours, else `other`. */
const KNOWN_ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics', '/portal', '/evidence', '/extracts', '/idp']);

export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    // Health probes and metrics scrapes would drown the log.
    autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
    serializers: {
      // The path only: a GET query string can carry variables, which can carry personal data.
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
      }),
      // The status only: response headers carry personal data (an evidence file's name and digest,
      // sealed at rest, in Content-Disposition and X-Evidence-SHA256) and, on the development
      // provider's redirects, authorization codes (Location).
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const first = `/${(req.originalUrl.split('?')[0] ?? '').split('/')[1] ?? ''}`;
      const route = KNOWN_ROUTES.has(first) ? first : 'other';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };
}

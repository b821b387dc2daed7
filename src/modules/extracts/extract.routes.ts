// `GET /extracts/:id/csv`: a built extract's CSV for its research body's researchers, with
// the same bearer token as /graphql. Each download is recorded before the file leaves;
// errors answer in the GraphQL shape (`errors[].extensions.code`).
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Principal } from '../../auth/principal.ts';
import { AppError, unauthenticated } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { isStoreUnavailable } from '../../store/errors.ts';
import type { ExtractService } from './extract.service.ts';

type Deps = {
  extracts: ExtractService;
  /** The verified caller of a request (established once per request, shared with the rate limiter). */
  callerOf: (req: Request) => Promise<Principal | null>;
  limiter: RequestHandler;
};

const HTTP_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
};

const logOf = (req: Request): Logger => (req as Request & { log: Logger }).log;

function sendError(req: Request, res: Response, error: unknown): void {
  let status = 500;
  let body: { message: string; extensions: Record<string, unknown> };
  if (error instanceof AppError) {
    const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
    status = extensions.reason === 'EXPIRED' ? 410 : (HTTP_STATUS[error.code] ?? 400);
    body = { message: error.message, extensions };
  } else if (isStoreUnavailable(error)) {
    status = 503;
    body = { message: 'The data store is unavailable; retry shortly.', extensions: { code: 'STORE_UNAVAILABLE' } };
  } else {
    logOf(req).error({ err: error }, 'extract download failed');
    body = { message: 'Internal server error; it has been logged.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  res.status(status).json({ errors: [body] });
}

export function extractRouter(deps: Deps): express.Router {
  const { extracts, callerOf, limiter } = deps;
  const router = express.Router();
  router.get('/:id/csv', limiter, async (req, res) => {
    try {
      const principal = await callerOf(req);
      if (!principal) throw unauthenticated();
      const { csv, filename } = await extracts.download(principal, String(req.params.id));
      res
        .status(200)
        .set({
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${filename}"`,
          'x-content-type-options': 'nosniff',
          'cache-control': 'private, no-store',
        })
        .send(csv);
    } catch (error) {
      sendError(req, res, error);
    }
  });
  return router;
}

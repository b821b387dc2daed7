// `GET /extracts/:id/csv`: a built extract's CSV for its research body's researchers, with
// the same bearer token as /graphql. Each download is recorded before the file leaves;
// errors answer in the GraphQL shape (`errors[].extensions.code`).
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Principal } from '../../auth/principal.ts';
import { unauthenticated } from '../../errors.ts';
import { errorAnswer } from '../../http/errors.ts';
import type { Logger } from '../../logger.ts';
import { FILE_NEVER_A_PAGE } from '../evidence/evidence.routes.ts';
import type { ExtractService } from './extract.service.ts';

type Deps = {
  extracts: ExtractService;
  /** The verified caller of a request (established once per request, shared with the rate limiter). */
  callerOf: (req: Request) => Promise<Principal | null>;
  limiter: RequestHandler;
};

const logOf = (req: Request): Logger => (req as Request & { log: Logger }).log;

function sendError(req: Request, res: Response, error: unknown): void {
  // An expired or withdrawn extract is gone for good: 410.
  const { status, body } = errorAnswer(error, logOf(req), 'extract download failed', (reason) =>
    reason === 'EXPIRED' || reason === 'WITHDRAWN' ? 410 : undefined,
  );
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
          ...FILE_NEVER_A_PAGE,
          'cache-control': 'private, no-store',
        })
        .send(csv);
    } catch (error) {
      sendError(req, res, error);
    }
  });
  return router;
}

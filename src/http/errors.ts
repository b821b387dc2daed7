// Body-parser and other request errors: a GraphQL-shaped answer, never a stack.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.ts';

export function httpErrorHandler() {
  return (error: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = error.status ?? 500;
    if (status >= 500) (req as Request & { log?: Logger }).log?.error({ err: error }, 'request failed');
    const message =
      error.type === 'entity.too.large'
        ? 'The request body is too large.'
        : error.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON.'
          : status >= 500
            ? 'Internal server error; it has been logged.'
            : error.message;
    res
      .status(status)
      .json({ errors: [{ message, extensions: { code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT' } }] });
  };
}

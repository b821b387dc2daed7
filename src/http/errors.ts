// Errors of the plain HTTP routes (body parsing, uploads, downloads): a GraphQL-shaped
// answer (`errors[].extensions.code`), never a stack.
import type { NextFunction, Request, Response } from 'express';
import { AppError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { isStoreUnavailable } from '../store/errors.ts';

/** The HTTP status of each error code on the plain routes (anything else a client caused is a 400). */
const ROUTE_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  CONSENT_REQUIRED: 409,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
};

export type ErrorAnswer = { status: number; body: { message: string; extensions: Record<string, unknown> } };

/**
 * How a route answers an error: an AppError with its code (and the route's own status for
 * a `reason` it knows, e.g. 413 for a file too large), a store outage as STORE_UNAVAILABLE,
 * anything else logged and answered without detail.
 */
export function errorAnswer(
  error: unknown,
  log: Logger,
  what: string,
  statusOfReason: (reason: unknown) => number | undefined = () => undefined,
): ErrorAnswer {
  if (error instanceof AppError) {
    const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
    const status =
      (extensions.reason !== undefined ? statusOfReason(extensions.reason) : undefined) ?? ROUTE_STATUS[error.code] ?? 400;
    return { status, body: { message: error.message, extensions } };
  }
  if (isStoreUnavailable(error)) {
    return {
      status: 503,
      body: { message: 'The data store is unavailable; retry shortly.', extensions: { code: 'STORE_UNAVAILABLE' } },
    };
  }
  log.error({ err: error }, what);
  return {
    status: 500,
    body: { message: 'Internal server error; it has been logged.', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
  };
}

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

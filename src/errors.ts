// Every error a client can see, one factory each, with a stable `extensions.code`.
// Services throw these; anything else that escapes is logged and reaches the client
// as INTERNAL_SERVER_ERROR without detail.
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  BUDGET_EXCEEDED: 'BUDGET_EXCEEDED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  CONSENT_REQUIRED: 'CONSENT_REQUIRED',
  RATE_LIMITED: 'RATE_LIMITED',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  // Refused before it runs, like a query that does not validate: a request error.
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
};

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    const status = HTTP_STATUS[code];
    super(message, { extensions: { code, ...details, ...(status ? { http: { status } } : {}) } });
    this.name = 'AppError';
  }

  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const unauthenticated = () => new AppError('UNAUTHENTICATED', 'A valid access token is required.');

export const forbidden = (action: string) =>
  new AppError('FORBIDDEN', `Your role does not permit this action (${action}).`, { action });

/** Used for missing records and for other organisations' records alike. */
/** An id as an answer quotes it: ids are short, and a client's megabyte of junk is not sent back twice. */
const quotedId = (id: string) => (id.length > 100 ? `${id.slice(0, 100)}…` : id);

export const notFound = (kind: string, id: string) =>
  new AppError('NOT_FOUND', `${kind} ${JSON.stringify(quotedId(id))} was not found.`, { kind, id: quotedId(id) });

export type FieldProblem = { path: string; message: string };

export const badInput = (message: string, problems: FieldProblem[] = []) =>
  new AppError('BAD_USER_INPUT', message, problems.length > 0 ? { problems } : {});

export const conflict = (message: string, currentVersion?: number) =>
  new AppError('CONFLICT', message, currentVersion === undefined ? {} : { currentVersion });

/** The same idempotency key is being processed by another request (a retry that came too soon). */
export const requestInProgress = () =>
  new AppError('CONFLICT', 'A request with this idempotency key is still in progress; retry shortly with the same key.', {
    reason: 'REQUEST_IN_PROGRESS',
    retryAfterSeconds: 1,
  });

export const budgetExceeded = (message: string, figures: Record<string, unknown>) =>
  new AppError('BUDGET_EXCEEDED', message, { figures });

/** Spending dated after the programme's window (and any extension the member state gave). */
export const spendingWindowClosed = (programme: string, day: string, lastDay: string, field: string) =>
  new AppError(
    'BAD_USER_INPUT',
    `${field} (${day}) is after the spending window of ${programme}, which ended on ${lastDay}; the member state can extend it (extendSpendingWindow).`,
    { reason: 'SPENDING_WINDOW_CLOSED', lastDay, problems: [{ path: field, message: `after the spending window (${lastDay})` }] },
  );

export const invalidTransition = (from: string, attempted: string, allowed: readonly string[]) =>
  new AppError(
    'INVALID_TRANSITION',
    `Cannot go from ${from} to ${attempted}. Allowed from ${from}: ${allowed.length > 0 ? allowed.join(', ') : 'none'}.`,
    { from, attempted, allowed },
  );

/** A write on a case whose personal data was erased (its key destroyed): nothing personal can be added. */
export const caseErased = (id: string) =>
  new AppError('INVALID_TRANSITION', `Case ${JSON.stringify(id)} was erased; it takes no more personal data.`, {
    reason: 'ERASED',
    id,
  });

/** Personal content would be shared (referral, plan, progress, survey) while the returnee's consent is not active. */
export const consentRequired = (id: string, action: string, status: string, expiresOn: string, purpose: string) =>
  new AppError(
    'CONSENT_REQUIRED',
    status === 'ACTIVE'
      ? `Case ${JSON.stringify(id)}: ${action} needs the returnee's consent to ${purpose}, which it does not cover; the member state must renew it with that purpose (renewConsent).`
      : `Case ${JSON.stringify(id)}: ${action} shares personal data, but the returnee's consent is ${status.toLowerCase()} (it ran to ${expiresOn}); the member state must renew it first (renewConsent).`,
    { id, action, consentStatus: status, purpose },
  );

export const rateLimited = (retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });

export const queryTooComplex = (message: string, details: Record<string, unknown>) =>
  new AppError('QUERY_TOO_COMPLEX', message, details);

export const storeUnavailable = () =>
  new AppError(
    'STORE_UNAVAILABLE',
    'The data store is unavailable; retry shortly (a write retried with the same idempotency key is applied once).',
  );

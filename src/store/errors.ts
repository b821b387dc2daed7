// Which store errors mean "the store is not available right now" (the client gets
// STORE_UNAVAILABLE and retries, with its idempotency key) rather than a fault of ours.
// On a MongoDB replica set that is every election, step-down, shutdown and majority out of
// reach, not only an unreachable server: the server says so with error labels and codes,
// and the driver with its own error classes. Judged by label first (the server knows best),
// then by code (older servers and write-concern errors carry no label), then by class.
import mongoose from 'mongoose';

const { MongoError, MongoNetworkError, MongoServerSelectionError } = mongoose.mongo;

/** Labels a server or the driver puts on an error worth retrying elsewhere or later. */
const RETRY_LABELS = ['RetryableWriteError', 'RetryableError', 'ResetPool', 'PoolRequestedRetry', 'SystemOverloadedError'];

/**
 * Server error codes of a node that is not (or no longer) the primary, is shutting down, is
 * unreachable, or could not satisfy the read preference, read concern, write concern or time
 * limit in time: the driver's retryable set, plus the write-concern and time-limit failures.
 */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired: the query's time limit (ERIN_STORE_MAX_TIME) ran out
  64, // WriteConcernTimeout: the majority did not acknowledge within ERIN_STORE_WRITE_TIMEOUT
  89, // NetworkTimeout
  91, // ShutdownInProgress
  100, // UnsatisfiableWriteConcern: not enough members up for the write concern
  133, // FailedToSatisfyReadPreference
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** The driver's classes for a server it could not reach, select or keep talking to. */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
  'MongoOperationTimeoutError',
  'MongoStalePrimaryError',
  'MongoWriteConcernError',
]);

type ErrorLike = {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errorLabels?: unknown;
  writeConcernError?: unknown;
  writeConcernErrors?: unknown;
  result?: unknown;
  errorResponse?: unknown;
};

function hasRetryLabel(error: ErrorLike): boolean {
  if (error instanceof MongoError) return RETRY_LABELS.some((label) => error.hasErrorLabel(label));
  return Array.isArray(error.errorLabels) && error.errorLabels.some((label) => RETRY_LABELS.includes(String(label)));
}

/** A write-concern error anywhere in a write's answer: the write's outcome on the majority is unknown. */
function hasWriteConcernError(error: ErrorLike): boolean {
  if (error.writeConcernError) return true;
  if (Array.isArray(error.writeConcernErrors) && error.writeConcernErrors.length > 0) return true;
  const result = error.result as { getWriteConcernError?: () => unknown; writeConcernError?: unknown } | undefined;
  if (result?.writeConcernError) return true;
  if (typeof result?.getWriteConcernError === 'function' && result.getWriteConcernError()) return true;
  return Boolean((error.errorResponse as { writeConcernError?: unknown } | undefined)?.writeConcernError);
}

function isUnavailableItself(error: ErrorLike): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (typeof error.name === 'string' && UNAVAILABLE_ERROR_NAMES.has(error.name)) return true;
  if (hasRetryLabel(error)) return true;
  if (typeof error.code === 'number' && UNAVAILABLE_CODES.has(error.code)) return true;
  if (hasWriteConcernError(error)) return true;
  return (
    typeof error.message === 'string' &&
    /Client must be connected|connection .* closed|ECONNREFUSED|not (?:master|primary)|node is recovering/i.test(error.message)
  );
}

/** True when an error means the store could not serve the request now (not a bad request, not a bug). */
export function isStoreUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && typeof e === 'object' && e !== null; depth += 1) {
    const err = e as ErrorLike;
    if (isUnavailableItself(err)) return true;
    e = err.originalError ?? err.cause;
  }
  return false;
}

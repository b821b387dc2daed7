// What a MongoDB 7 replica set answers at an election, at shutdown or when a majority is
// out of reach, built with the driver's own error classes (no replica set runs here): each
// must reach the client as STORE_UNAVAILABLE (retry), never INTERNAL_SERVER_ERROR, and a
// client's mistake or a duplicate must not be taken for an outage.
import mongoose from 'mongoose';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createErrorFormatter } from '../src/graphql/plugins.ts';
import { createLogger } from '../src/logger.ts';
import { isStoreUnavailable } from '../src/store/errors.ts';
import { isDuplicateKey } from '../src/store/store.ts';

const {
  MongoServerError,
  MongoWriteConcernError,
  MongoBulkWriteError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoServerClosedError,
  MongoTopologyClosedError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
} = mongoose.mongo;

/** A server error as the driver builds it from a reply. */
const serverError = (code: number, codeName: string, errorLabels: string[] = []) =>
  new MongoServerError({ ok: 0, code, codeName, errmsg: `${codeName} (from the server)`, errorLabels });

const FAILOVER_CODES: [number, string][] = [
  [10107, 'NotWritablePrimary'],
  [13435, 'NotPrimaryNoSecondaryOk'],
  [13436, 'NotPrimaryOrSecondary'],
  [10058, 'LegacyNotPrimary'],
  [11602, 'InterruptedDueToReplStateChange'],
  [11600, 'InterruptedAtShutdown'],
  [189, 'PrimarySteppedDown'],
  [91, 'ShutdownInProgress'],
  [6, 'HostUnreachable'],
  [7, 'HostNotFound'],
  [89, 'NetworkTimeout'],
  [9001, 'SocketException'],
  [262, 'ExceededTimeLimit'],
  [50, 'MaxTimeMSExpired'],
  [133, 'FailedToSatisfyReadPreference'],
  [134, 'ReadConcernMajorityNotAvailableYet'],
  [64, 'WriteConcernTimeout'],
  [100, 'UnsatisfiableWriteConcern'],
];

describe('the store-error classifier', () => {
  it.each(FAILOVER_CODES)('takes server error %i (%s) for an unavailable store', (code, codeName) => {
    expect(isStoreUnavailable(serverError(code, codeName))).toBe(true);
  });

  it('takes any error the server labels retryable for an unavailable store, whatever its code', () => {
    for (const label of ['RetryableWriteError', 'ResetPool', 'PoolRequestedRetry', 'SystemOverloadedError', 'RetryableError']) {
      expect(isStoreUnavailable(serverError(12345, 'SomethingNew', [label])), label).toBe(true);
    }
  });

  it('takes a write-concern error (a write the majority did not acknowledge in time) for an unavailable store', () => {
    const timeout = new MongoWriteConcernError({
      writeConcernError: { code: 64, codeName: 'WriteConcernTimeout', errmsg: 'waiting for replication timed out', errInfo: {} },
    } as never);
    expect(isStoreUnavailable(timeout)).toBe(true);
    const steppedDown = new MongoWriteConcernError({
      writeConcernError: { code: 91, codeName: 'ShutdownInProgress', errmsg: 'shutting down' },
      errorLabels: ['RetryableWriteError'],
    } as never);
    expect(isStoreUnavailable(steppedDown)).toBe(true);
  });

  it('takes a bulk write stopped by a write-concern error for an unavailable store', () => {
    const bulk = new MongoBulkWriteError(
      {
        message: 'write concern error',
        code: 64,
        writeConcernError: { code: 64, errmsg: 'waiting for replication timed out' },
      } as never,
      {
        insertedCount: 3,
        matchedCount: 0,
        modifiedCount: 0,
        deletedCount: 0,
        upsertedCount: 0,
        insertedIds: {},
        upsertedIds: {},
        getWriteConcernError: () => ({ code: 64, errmsg: 'waiting for replication timed out' }),
        getWriteErrors: () => [],
      } as never,
    );
    expect(isStoreUnavailable(bulk)).toBe(true);
  });

  it('takes the driver’s own connection errors for an unavailable store', () => {
    const errors = [
      new MongoNetworkError('connection 3 to 10.0.0.5:27017 closed'),
      new MongoNetworkTimeoutError('connection timed out'),
      new MongoServerSelectionError('Server selection timed out after 3000 ms', { type: 'ReplicaSetNoPrimary' } as never),
      new MongoStalePrimaryError('primary with an older election id'),
      new MongoServerClosedError(),
      new MongoTopologyClosedError(),
      new MongoNotConnectedError('Client must be connected before running operations'),
      new MongoOperationTimeoutError('Timed out during operation'),
    ];
    for (const error of errors) expect(isStoreUnavailable(error), error.name).toBe(true);
  });

  it('finds the outage behind the errors that wrap it (mongoose, GraphQL)', () => {
    const wrapped = new Error('loading the case failed', { cause: serverError(11602, 'InterruptedDueToReplStateChange') });
    expect(isStoreUnavailable(wrapped)).toBe(true);
    expect(isStoreUnavailable(new GraphQLError('x', { originalError: serverError(189, 'PrimarySteppedDown') }))).toBe(true);
  });

  it('does not take a duplicate, a bad query or a programming error for an outage', () => {
    const duplicate = serverError(11000, 'DuplicateKey');
    expect(isStoreUnavailable(duplicate)).toBe(false);
    expect(isDuplicateKey(duplicate)).toBe(true);
    expect(isStoreUnavailable(serverError(2, 'BadValue'))).toBe(false);
    expect(isStoreUnavailable(serverError(79, 'UnknownReplWriteConcern'))).toBe(false);
    expect(isStoreUnavailable(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(isStoreUnavailable(undefined)).toBe(false);
  });

  it('answers STORE_UNAVAILABLE to a GraphQL client when the primary steps down mid-request', () => {
    const format = createErrorFormatter(createLogger('silent'));
    const error = new GraphQLError('stepped down', {
      path: ['createCase'],
      originalError: serverError(10107, 'NotWritablePrimary', ['RetryableWriteError']),
    });
    const answer = format({ message: error.message, path: ['createCase'] }, error);
    expect(answer.extensions?.code).toBe('STORE_UNAVAILABLE');
  });
});

// The evidence endpoints: `POST /evidence?caseId=…&kind=…` with the file's name in the
// `X-File-Name` header (URL-encoded UTF-8) takes the file as the raw request body (any declared
// content type; the content decides) and answers with the new file's id; `GET /evidence/:id`
// downloads it. Both take the same bearer token as /graphql and answer errors in the GraphQL
// shape (`errors[].extensions.code`). The name stays out of the URL, which proxies and access
// logs keep (a returnee's name on a passport scan); `&filename=` is still read, deprecated.
import { once } from 'node:events';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Principal } from '../../auth/principal.ts';
import { badInput, unauthenticated } from '../../errors.ts';
import { errorAnswer } from '../../http/errors.ts';
import type { Logger } from '../../logger.ts';
import { idempotencyKey as idempotencyKeySchema, parseInput } from '../../validation.ts';
import { fileTooLarge, type EvidenceService, type OpenedEvidence, type Upload, type UploadRefusal } from './evidence.service.ts';

type Deps = {
  evidence: EvidenceService;
  /** The request's caller, as the rate limit established it. */
  callerOf: (req: Request) => Promise<Principal | null>;
  limiter: RequestHandler;
};

/** How long, and how many bytes, a refused upload is still read (and dropped) so the client sees the answer. */
const LINGER_MS = 10_000;
const LINGER_EXTRA_BYTES = 1024 * 1024;

const REFUSAL_STATUS: Record<UploadRefusal, number> = { TOO_LARGE: 413, UNSUPPORTED_TYPE: 415, EMPTY: 400 };

/**
 * A file is the gateway's origin's only content that someone else wrote: were a browser ever to
 * show one as a page (a PDF with script, an image a browser mistook for HTML), it would run with the
 * portal's origin (its tokens, its service worker's files). Opened, it runs nothing, loads nothing
 * and is nobody's origin (sandbox), is framed by no one, and is read by no other site's page.
 */
export const FILE_NEVER_A_PAGE = {
  'content-security-policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
} as const;

export function presentEvidence(doc: OpenedEvidence) {
  return {
    id: doc._id,
    caseId: doc.caseId,
    kind: doc.kind,
    filename: doc.filename,
    contentType: doc.contentType,
    size: doc.size,
    sha256: doc.sha256,
    uploadedAt: doc.uploadedAt,
    downloadUrl: `/evidence/${doc._id}`,
  };
}

/** The client closed the connection during its upload: nothing to answer, nothing to log as a failure. */
class ClientGone extends Error {
  override name = 'ClientGone';
}

function logOf(req: Request): Logger {
  return (req as Request & { log: Logger }).log;
}

function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The file's name: the `X-File-Name` header (percent-encoded UTF-8, as `encodeURIComponent`
 * writes it), else the deprecated `filename` query parameter. A header that does not decode is
 * refused without repeating it (it is personal data).
 */
function fileName(req: Request): string | null {
  const header = req.headers['x-file-name'];
  if (typeof header === 'string') {
    try {
      return decodeURIComponent(header);
    } catch {
      throw badInput('X-File-Name: not a URL-encoded UTF-8 file name (encode it with encodeURIComponent).', [
        { path: 'X-File-Name', message: 'not URL-encoded UTF-8' },
      ]);
    }
  }
  return queryText(req, 'filename') ?? null;
}

/** Feeds the request body to the upload, one piece at a time (the body is paused while a chunk is stored). */
function receive(req: Request, upload: Upload): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    let chain: Promise<void> = Promise.resolve();
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      req.off('data', onData);
      req.pause();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onData = (piece: Buffer) => {
      req.pause();
      chain = chain
        .then(() => upload.write(piece))
        .then(() => {
          if (!failed) req.resume();
        }, fail);
    };
    req.on('data', onData);
    req.once('end', () => {
      void chain.then(() => {
        if (!failed) resolve();
      });
    });
    req.once('error', fail);
    req.once('close', () => {
      if (!req.complete) fail(new ClientGone('the client went away during the upload'));
    });
  });
}

/**
 * Answers a refused upload while the client may still be sending: the rest of the body
 * is read and dropped for a while (so the client gets to read the answer), then the
 * connection is cut. Nothing of it is kept.
 */
function lingerAndDrop(req: Request, limitBytes: number): void {
  if (req.complete || req.destroyed) return;
  let dropped = 0;
  const timer = setTimeout(() => req.destroy(), LINGER_MS);
  timer.unref();
  req.on('data', (piece: Buffer) => {
    dropped += piece.length;
    if (dropped > limitBytes + LINGER_EXTRA_BYTES) req.destroy();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function sendError(req: Request, res: Response, error: unknown, limitBytes: number): void {
  if (error instanceof ClientGone) {
    logOf(req).info('upload abandoned by the client; nothing of it was kept');
    res.destroy();
    return;
  }
  const { status, body } = errorAnswer(error, logOf(req), 'evidence request failed', (reason) =>
    typeof reason === 'string' ? REFUSAL_STATUS[reason as UploadRefusal] : undefined,
  );
  if (!res.headersSent) res.status(status).json({ errors: [body] });
  else res.destroy();
  lingerAndDrop(req, limitBytes);
}

export function evidenceRouter(deps: Deps): express.Router {
  const { evidence, callerOf, limiter } = deps;
  const limit = evidence.uploadLimitBytes;
  const router = express.Router();

  router.post('/', limiter, async (req, res) => {
    try {
      const principal = await callerOf(req);
      if (!principal) throw unauthenticated();
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) throw fileTooLarge(limit);
      const key = req.headers['idempotency-key'];
      const idempotencyKey = typeof key === 'string' ? parseInput(idempotencyKeySchema, key, 'Idempotency-Key') : null;
      const upload = await evidence.begin(principal, queryText(req, 'caseId') ?? '', {
        kind: queryText(req, 'kind'),
        filename: fileName(req),
      });
      try {
        await receive(req, upload);
      } catch (error) {
        await upload.abort();
        throw error;
      }
      const { evidence: doc, replayed } = await upload.finish(idempotencyKey);
      res.status(replayed ? 200 : 201).json({ evidence: presentEvidence(doc) });
    } catch (error) {
      sendError(req, res, error, limit);
    }
  });

  router.get('/:id', limiter, async (req, res) => {
    try {
      const principal = await callerOf(req);
      if (!principal) throw unauthenticated();
      const { evidence: doc, body } = await evidence.download(principal, String(req.params.id));
      // The first chunk is read before the headers, so a file that does not open is a 500, not a broken 200.
      const first = await body.next();
      res.status(200).set({
        'content-type': doc.contentType,
        'content-length': String(doc.size),
        'content-disposition': `attachment; filename="${doc.filename.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(doc.filename)}`,
        'x-content-type-options': 'nosniff',
        ...FILE_NEVER_A_PAGE,
        'cache-control': 'private, no-store',
        'x-evidence-sha256': doc.sha256 ?? '',
      });
      if (!first.done && !res.write(first.value)) await once(res, 'drain');
      for await (const piece of body) {
        if (!res.write(piece)) await once(res, 'drain');
      }
      res.end();
    } catch (error) {
      sendError(req, res, error, limit);
    }
  });

  return router;
}

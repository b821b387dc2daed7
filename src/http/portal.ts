// The partner portal: static files served by the gateway under /portal.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';

export const PORTAL_DIR = fileURLToPath(new URL('../../portal/', import.meta.url));

/** The portal's files, or undefined when this build ships without them. */
export function portalRoute(): RequestHandler | undefined {
  if (!existsSync(PORTAL_DIR)) return undefined;
  return express.static(PORTAL_DIR, { index: 'index.html', maxAge: '1h' });
}

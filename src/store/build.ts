// Builds the embedded store (a Go program embedding FerretDB) when its binary is
// missing or older than its sources.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const STORE_SOURCE_DIR = fileURLToPath(new URL('../../tools/embedded-store/', import.meta.url));
export const STORE_BINARY = path.join(STORE_SOURCE_DIR, 'bin', 'embedded-store');

const GO_FALLBACK_DIRS = ['/usr/local/go/bin', '/usr/lib/go/bin'];

function newestSourceTime(): number {
  let newest = 0;
  for (const name of readdirSync(STORE_SOURCE_DIR)) {
    if (name.endsWith('.go') || name === 'go.mod' || name === 'go.sum') {
      newest = Math.max(newest, statSync(path.join(STORE_SOURCE_DIR, name)).mtimeMs);
    }
  }
  return newest;
}

export function storeBinaryIsCurrent(): boolean {
  if (!existsSync(STORE_BINARY)) return false;
  return statSync(STORE_BINARY).mtimeMs >= newestSourceTime();
}

export class StoreBuildError extends Error {
  override name = 'StoreBuildError';
}

/** Builds the binary if needed; resolves to true when it built. */
export async function ensureStoreBinary(
  options: {
    force?: boolean;
    log?: (line: string) => void;
    /** Where to look for `go` (default: PATH, then the usual install folders). */
    searchPath?: string;
    /** Where to write the binary (default: tools/embedded-store/bin). */
    output?: string;
  } = {},
): Promise<boolean> {
  if (!options.force && storeBinaryIsCurrent()) return false;
  const pathWithGo = options.searchPath ?? [process.env.PATH ?? '', ...GO_FALLBACK_DIRS].join(path.delimiter);
  options.log?.(`building the embedded store in ${STORE_SOURCE_DIR} (first run takes a minute)`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['build', '-trimpath', '-o', options.output ?? STORE_BINARY, '.'], {
      cwd: STORE_SOURCE_DIR,
      env: { ...process.env, PATH: pathWithGo, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        new StoreBuildError(
          error.code === 'ENOENT'
            ? 'Go is not installed, so the embedded store cannot be built. Install Go 1.24 or newer (https://go.dev/dl/) ' +
                'and put it on PATH, or set MONGODB_URI to a MongoDB 7 server.'
            : `cannot run go: ${error.message}`,
        ),
      );
    });
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new StoreBuildError(`building the embedded store failed (go build exited with ${code})`));
    });
  });
  return true;
}

// What the benchmarks share: a gateway configuration for measuring (development mode for the
// development issuer's tokens, no rate limit in the way) and the memory figure.
import { loadConfig, type Config } from '../src/config.ts';

export function benchConfig(dataDir: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    ERIN_DEV_MODE: 'true',
    ERIN_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ERIN_RATE_LIMIT: '100000000',
    ERIN_STORE_TIMEOUT: '10s',
  });
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** This process's heap after a full GC (with --expose-gc) and its RSS, in MiB. */
export function memory(): { rssMiB: number; heapMiB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed) };
}

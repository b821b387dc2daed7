#!/usr/bin/env node
// The `erin` command: the TypeScript source through tsx in a checkout, the compiled
// CLI (dist/) in a built image that ships no source.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}

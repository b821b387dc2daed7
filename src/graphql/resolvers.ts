// The resolver maps of the schema, collected from the modules: every `*.resolvers.ts` under
// src/modules contributes its exported `…Resolvers` maps, so a new module needs no wiring here.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Resolvers } from './generated/types.ts';
import { scalarResolvers } from './scalars.ts';

export const MODULES_DIR = fileURLToPath(new URL('../modules/', import.meta.url));

// .ts when run from source (tsx, vitest), .js when run from the build.
const RESOLVER_FILE = /\.resolvers\.[cm]?[jt]s$/;

function resolverFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => RESOLVER_FILE.test(file) && !file.endsWith('.d.ts'))
    .sort()
    .map((file) => path.join(dir, file));
}

export async function loadResolvers(dir = MODULES_DIR): Promise<Resolvers[]> {
  const maps: Resolvers[] = [scalarResolvers];
  for (const file of resolverFiles(dir)) {
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (name.endsWith('Resolvers') && typeof value === 'object' && value !== null) maps.push(value);
    }
  }
  return maps;
}

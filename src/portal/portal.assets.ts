// The portal's files, built once when the gateway starts: its ES modules bundled and minified
// by esbuild (so the first load of a partner on a slow link stays small), every file compressed
// ahead with brotli and gzip, and all of it kept in memory with a content hash for caching.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { Kind, parse, print, stripIgnoredCharacters, visit, type DefinitionNode, type FragmentDefinitionNode } from 'graphql';

export type Asset = { type: string; body: Buffer; br: Buffer; gzip: Buffer; etag: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

function asset(name: string, body: Buffer): Asset {
  return {
    type: TYPES[path.extname(name)] ?? 'application/octet-stream',
    body,
    br: brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/**
 * `import { Case } from '../graphql/case.graphql'`: each operation of a .graphql file as a
 * string with the fragments it uses, whitespace stripped (the files stay readable and are
 * validated against the schema by the tests).
 */
export function operationsOf(source: string): Record<string, string> {
  const definitions = parse(source).definitions;
  const fragments = new Map(
    definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d] as const),
  );
  const used = (node: DefinitionNode, seen = new Set<string>()): Set<string> => {
    visit(node, {
      FragmentSpread(spread) {
        if (seen.has(spread.name.value)) return;
        seen.add(spread.name.value);
        const fragment = fragments.get(spread.name.value);
        if (fragment) used(fragment, seen);
      },
    });
    return seen;
  };
  const operations: Record<string, string> = {};
  for (const d of definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION || !d.name) continue;
    const text = [d, ...[...used(d)].map((name) => fragments.get(name)!)].map((n) => print(n)).join('\n');
    operations[d.name.value] = stripIgnoredCharacters(text);
  }
  return operations;
}

const graphqlOperations: Plugin = {
  name: 'graphql-operations',
  setup(b) {
    b.onLoad({ filter: /\.graphql$/ }, (args) => ({
      contents: Object.entries(operationsOf(readFileSync(args.path, 'utf8')))
        .map(([name, text]) => `export const ${name} = ${JSON.stringify(text)};`)
        .join('\n'),
      loader: 'js',
    }));
  },
};

/** Builds the portal from `dir` (index.html, style.css, locales/*.json, src/main.js, src/sw.js). */
export async function buildPortalAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const result = await build({
    entryPoints: { app: path.join(dir, 'src/main.js'), sw: path.join(dir, 'src/sw.js') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    outdir: '/out',
    legalComments: 'none',
    plugins: [graphqlOperations],
    logLevel: 'silent',
  });
  for (const file of result.outputFiles) assets.set(`/${path.basename(file.path)}`, asset(file.path, Buffer.from(file.contents)));
  for (const name of ['index.html', 'style.css']) assets.set(`/${name}`, asset(name, readFileSync(path.join(dir, name))));
  for (const name of readdirSync(path.join(dir, 'locales')).filter((n) => n.endsWith('.json'))) {
    // Catalogues are sent without the indentation they are kept with.
    const catalogue = JSON.stringify(JSON.parse(readFileSync(path.join(dir, 'locales', name), 'utf8')));
    assets.set(`/locales/${name}`, asset(name, Buffer.from(catalogue)));
  }
  return assets;
}

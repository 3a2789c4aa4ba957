#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js and everything it imports from dist/src) into a
// few ES module chunks under dist/src/bundle, for bin/fjord.js. Why: a cold `fjord dev` spent most
// of its start loading ~270 separate modules (resolve, read, compile each); chunks keep the lazy
// command loading (`fjord topic` does not load the broker) with a tenth of the files. npm packages
// stay external (native addons, CJS). Run after tsc: `npm run build` does both.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside dist/src so that `new URL('../cli/main.js', import.meta.url)` (start-cluster) still
// names the compiled CLI.
const outdir = join(root, 'dist', 'src', 'bundle');
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, 'dist', 'src', 'cli', 'main.js')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir,
  logLevel: 'warning',
});
if (result.errors.length) process.exit(1);

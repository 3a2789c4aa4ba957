#!/usr/bin/env node
// Runs the bundled CLI (scripts/bundle-cli.mjs, a few chunks instead of ~270 modules: most of a
// cold start) unless it is missing or older than the last compile; then the compiled tree.
import { statSync } from 'node:fs';

const mtime = (rel) => {
  try {
    return statSync(new URL(rel, import.meta.url)).mtimeMs;
  } catch {
    return -1;
  }
};
const bundle = mtime('../dist/src/bundle/main.js');
await import(bundle >= 0 && bundle >= mtime('../dist/.tsbuildinfo') ? '../dist/src/bundle/main.js' : '../dist/src/cli/main.js');

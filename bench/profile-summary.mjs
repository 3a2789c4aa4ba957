#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and inclusive time of
// chosen frames, optionally for a time window, so "where the time goes" can be read without
// DevTools. Usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N] [--from S --to S]
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const file = argv[0];
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : dflt; };
const top = opt('--top', 40);
const from = opt('--from', 0);
const to = opt('--to', Infinity);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anon)'} ${url ? `${url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : ''}`.trim();
};
const self = new Map();
const incl = new Map();
let t = prof.startTime;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  const sec = (t - prof.startTime) / 1e6;
  if (sec < from || sec > to) continue;
  const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i];
  const n = byId.get(prof.samples[i]);
  const key = name(n);
  if (n.callFrame.functionName === '(idle)') continue;
  total += dt;
  self.set(key, (self.get(key) ?? 0) + dt);
  const seen = new Set();
  for (let id = n.id; id !== undefined; id = parent.get(id)) {
    const k = name(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + dt);
  }
}
const ms = (x) => (x / 1000).toFixed(0).padStart(7);
const pct = (x) => ((100 * x) / total).toFixed(1).padStart(5);
console.log(`busy (non-idle) ${ms(total)} ms over ${((t - prof.startTime) / 1e6).toFixed(1)} s`);
console.log('\nself time');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);
console.log('\ninclusive time');
for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);

// --callers NAME: which call paths (up to 6 frames) lead to samples whose own frame is NAME.
const callersOf = argv.includes('--callers') ? argv[argv.indexOf('--callers') + 1] : undefined;
if (callersOf) {
  const paths = new Map();
  for (let i = 0; i < prof.samples.length; i++) {

    const n = byId.get(prof.samples[i]);
    if (!name(n).startsWith(callersOf)) continue;
    const chain = [];
    for (let id = parent.get(n.id); id !== undefined && chain.length < 6; id = parent.get(id)) chain.push(name(byId.get(id)));
    const k = chain.join(' < ');
    paths.set(k, (paths.get(k) ?? 0) + (prof.timeDeltas[i + 1] ?? 0));
  }
  console.log(`\ncallers of ${callersOf}`);
  for (const [k, v] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${ms(v)} ms  ${k}`);
}

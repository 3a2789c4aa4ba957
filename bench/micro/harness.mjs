// A tiny micro-benchmark harness in the style of pino's / undici's benches: each case runs for a
// fixed time after a warm-up, several rounds, and reports ops/s (median of rounds) with the
// spread, so a regression in a hot function shows without running the whole broker bench.
// Cases may be async; `setup` runs once before timing.

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** Runs `fn` repeatedly for `ms`; returns operations per second. */
async function timeFor(fn, ms) {
  let ops = 0;
  const start = now();
  let elapsed = 0;
  while (elapsed < ms) {
    // 32 calls between clock reads keeps the timer cost out of fast cases.
    for (let i = 0; i < 32; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    ops += 32;
    elapsed = now() - start;
  }
  return (ops * 1000) / elapsed;
}

/**
 * cases: [{ name, fn, bytes? }] — `bytes` per op turns ops/s into MB/s as well.
 * Options: rounds (5), roundMs (300), warmupMs (200); `--quick` halves them.
 */
export async function run(title, cases, opts = {}) {
  const quick = process.argv.includes('--quick');
  const rounds = opts.rounds ?? (quick ? 3 : 5);
  const roundMs = opts.roundMs ?? (quick ? 150 : 300);
  const warmupMs = opts.warmupMs ?? (quick ? 100 : 200);
  const filter = process.argv.find((a) => a.startsWith('--grep='))?.slice(7);
  const results = [];
  console.log(`\n${title}`);
  for (const c of cases) {
    if (filter && !c.name.includes(filter)) continue;
    await timeFor(c.fn, warmupMs);
    const samples = [];
    for (let r = 0; r < rounds; r++) samples.push(await timeFor(c.fn, roundMs));
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)];
    const spread = ((samples[samples.length - 1] - samples[0]) / median) * 100;
    const mbs = c.bytes ? `  ${((median * c.bytes) / 1e6).toFixed(1).padStart(8)} MB/s` : '';
    console.log(`  ${c.name.padEnd(48)} ${Math.round(median).toLocaleString('en-US').padStart(12)} ops/s  ±${spread.toFixed(1)}%${mbs}`);
    results.push({ name: c.name, opsPerSec: median, spreadPct: spread });
  }
  return results;
}

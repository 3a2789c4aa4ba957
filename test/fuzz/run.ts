// `npm run fuzz -- --frames N [--connections C] [--seed S] [--round R] [--keep-data-dir]`: a long fuzz pass
// against a broker child process; prints the figures the README's Reliability section quotes.
import { parseArgs } from 'node:util';
import { fuzz, rssOf } from './fuzzer.js';
import { idleRss, kcatReadsToEnd, startFuzzTarget } from './harness.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '16' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    round: { type: 'string', default: '1000' },
    'keep-data-dir': { type: 'boolean', default: false },
  },
});
const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
const log = (s: string) => process.stdout.write(`[fuzz] ${s}\n`);

const target = await startFuzzTarget();
let failed = false;
try {
  const pid = target.broker.child.pid!;
  const baseline = await idleRss(pid, 2000);
  log(`broker pid ${pid} on ${target.broker.bootstrap}, seed ${values.seed}, baseline RSS ${mb(baseline)}`);
  const report = await fuzz({
    port: target.broker.port,
    pid,
    frames: Number(values.frames),
    connections: Number(values.connections),
    roundFrames: Number(values.round),
    seed: Number(values.seed),
    frameTimeoutMs: 1000,
    isAlive: target.alive,
    log,
  });
  const after = target.alive() ? await idleRss(pid, 5000) : 0;
  // V8 keeps the young generation it grew under load until its next garbage collection after
  // the traffic stops (a scavenge that sees a low allocation rate shrinks it); the broker's own
  // idle timers (buffer pool drop at 10-20 s) release more. RSS once settled, 30 s after the run:
  const settled = target.alive() ? await idleRss(pid, 25_000) : 0;
  const reads = target.alive() ? await kcatReadsToEnd(target) : [];
  log(`frames ${report.frames} · connections ${report.connections} · answered ${report.answered} · closed by broker ${report.closedByBroker} · unanswered ${report.unanswered}`);
  log(`crashes ${report.crashes} · hangs ${report.hangs} · rounds ${report.rounds} · max liveness latency ${report.maxLivenessMs} ms · ${(report.elapsedMs / 1000).toFixed(0)} s`);
  log(`RSS baseline ${mb(baseline)} · peak ${mb(report.rssPeak)} · after 5 s idle ${mb(after)} (now ${mb(rssOf(pid))})`);
  for (const r of reads) log(`kcat ${r.topic}: offsets ${r.earliest}..${r.latest}, ${r.kcatRecords} records read ${r.ok ? 'to the end' : `FAILED ${r.detail}`}`);
  // The run leaves state a fresh broker did not have (the fuzzed CreatePartitions alone grows a
  // topic to thousands of partitions; groups, producer ids). A broker restarted on the same data
  // dir holds that state and nothing else: RSS above it is what the run leaked or kept.
  let sameState = 0;
  if (target.alive()) {
    await target.restart();
    sameState = await idleRss(target.broker.child.pid!, 5000);
  }
  const ratio = (x: number, base: number) => (x / Math.max(base, 1)).toFixed(2);
  log(`RSS after the run ${mb(after)}: ${ratio(after, baseline)}x the pre-traffic baseline (${mb(baseline)}), ${ratio(after, sameState)}x a broker restarted on the same data dir (${mb(sameState)}, same state, idle 5 s)`);
  log(`RSS settled (lowest in the 30 s after the run) ${mb(settled)}: ${ratio(settled, baseline)}x the pre-traffic baseline`);
  // Issue #18's bound: settled RSS within 2x the pre-traffic baseline (and never 2x the same
  // state's RSS, even right after the run: that would be memory the run keeps, not state).
  failed = report.crashes > 0 || report.hangs > 0 || reads.some((r) => !r.ok) || after > 2 * Math.max(sameState, baseline, 1) || settled > 2 * baseline;
} finally {
  await target.dispose(values['keep-data-dir']);
  if (values['keep-data-dir']) log(`data dir kept: ${target.dataDir}`);
}
process.exit(failed ? 1 : 0);

// `npm run chaos -- --minutes N [--partitions P] [--session-timeout-ms T]`: the long chaos run.
// Prints progress and the counts; exits 1 on any violation of the guarantees.
import { FAULT_KINDS, runChaos, type FaultKind } from './harness.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const minutes = Number(flag('--minutes') ?? 10);
const partitions = Number(flag('--partitions') ?? 3);
const sessionTimeoutMs = Number(flag('--session-timeout-ms') ?? 3000);
const faults = (flag('--faults')?.split(',') ?? [...FAULT_KINDS]) as FaultKind[];
for (const f of faults) {
  if (!FAULT_KINDS.includes(f)) {
    console.error(`unknown fault "${f}" (known: ${FAULT_KINDS.join(', ')})`);
    process.exit(2);
  }
}
if (!(minutes > 0) || !(partitions > 0)) {
  console.error('usage: npm run chaos -- --minutes N [--partitions P] [--session-timeout-ms T] [--faults kill-leader,pause,...]');
  process.exit(2);
}

const stamp = () => new Date().toISOString().slice(11, 19);
const report = await runChaos({
  durationMs: minutes * 60_000,
  partitions,
  sessionTimeoutMs,
  faults,
  log: (line) => console.log(`${stamp()} ${line}`),
});
console.log(JSON.stringify(report, null, 2));
const faultTotal = Object.values(report.faults).reduce((a, b) => a + b, 0);
console.log(
  `chaos: ${report.recordsAcked} records acked, ${report.failedSends} sends failed after retries, ${faultTotal} faults injected, ` +
    `${report.leaderChanges} leader changes, longest unavailability per partition ${JSON.stringify(report.longestUnavailabilityMs)} ms, ` +
    `${report.violations.length} violation(s)`,
);
for (const v of report.violations) console.log(`VIOLATION ${v}`);
process.exit(report.violations.length > 0 ? 1 : 0);

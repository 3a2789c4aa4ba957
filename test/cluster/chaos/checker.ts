// What the chaos clients were told, and the checks against what the log holds afterwards.
// Record values are "<writer>:<seq>" with seq increasing per writer, so order and duplicates
// can be read off the final log without any other bookkeeping.

/** One record a producer was told is durable (acks=all). */
export interface AckedRecord {
  partition: number;
  offset: number;
  value: string;
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  value: string;
}

export class ChaosLedger {
  readonly acked: AckedRecord[] = [];
  /** Per consumer name: every record delivered, in delivery order (re-deliveries included). */
  readonly consumed = new Map<string, ConsumedRecord[]>();
  /** Per group, per partition: committed offsets in the order they were observed. */
  readonly committed = new Map<string, Map<number, number[]>>();
  /** Sends that failed after the client's retries (outcome unknown: in the log at most once). */
  failedSends = 0;
  failedRecords = 0;

  recordConsumed(consumer: string, record: ConsumedRecord): void {
    let list = this.consumed.get(consumer);
    if (!list) this.consumed.set(consumer, (list = []));
    list.push(record);
  }

  recordCommitted(group: string, partition: number, offset: number): void {
    let byPartition = this.committed.get(group);
    if (!byPartition) this.committed.set(group, (byPartition = new Map()));
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    if (list[list.length - 1] !== offset) list.push(offset);
  }
}

/** The final log: per partition, value by offset (undefined = no record at that offset). */
export type FinalLog = Map<number, (string | undefined)[]>;

function parseValue(value: string): { writer: string; seq: number } | undefined {
  const i = value.lastIndexOf(':');
  if (i <= 0) return undefined;
  const seq = Number(value.slice(i + 1));
  return Number.isInteger(seq) ? { writer: value.slice(0, i), seq } : undefined;
}

/** Every violation of the chaos guarantees, as readable lines (empty = all held). */
export function checkChaos(ledger: ChaosLedger, log: FinalLog, limit = 20): string[] {
  const violations: string[] = [];
  const add = (line: string) => {
    if (violations.length < limit) violations.push(line);
    else if (violations.length === limit) violations.push('... (more violations left out)');
  };

  // 1. No acknowledged record lost (and it stays at the offset the producer was given).
  let lost = 0;
  for (const a of ledger.acked) {
    const found = log.get(a.partition)?.[a.offset];
    if (found !== a.value) {
      lost++;
      add(`acked record lost: ${a.value} at partition ${a.partition} offset ${a.offset}, log has ${found ?? 'nothing'}`);
    }
  }

  // 2. No duplicates, 3. per-writer order in each partition.
  const seen = new Map<string, string>();
  for (const [partition, values] of log) {
    const lastSeq = new Map<string, number>();
    values.forEach((value, offset) => {
      if (value === undefined) return;
      const where = `partition ${partition} offset ${offset}`;
      const prev = seen.get(value);
      if (prev) add(`duplicate record ${value}: ${prev} and ${where}`);
      else seen.set(value, where);
      const parsed = parseValue(value);
      if (!parsed) return;
      const last = lastSeq.get(parsed.writer);
      if (last !== undefined && parsed.seq <= last) add(`out of order: ${value} at ${where} after seq ${last}`);
      lastSeq.set(parsed.writer, parsed.seq);
    });
  }

  // 4. Every consumer read what the log holds at that offset (so all consumers saw the same
  //    per-partition order and nobody read a record that later disappeared), and never skipped.
  for (const [consumer, records] of ledger.consumed) {
    const position = new Map<number, number>();
    for (const r of records) {
      const logged = log.get(r.partition)?.[r.offset];
      if (logged !== r.value) {
        add(`${consumer} read ${r.value} at partition ${r.partition} offset ${r.offset}; the log has ${logged ?? 'nothing'} there`);
      }
      const prev = position.get(r.partition);
      if (prev !== undefined && r.offset > prev + 1) {
        const skipped = log.get(r.partition)?.slice(prev + 1, r.offset).filter((v) => v !== undefined).length ?? 0;
        if (skipped > 0) add(`${consumer} skipped ${skipped} record(s) in partition ${r.partition} between offsets ${prev} and ${r.offset}`);
      }
      position.set(r.partition, r.offset);
    }
  }

  // 5. Committed offsets never move backwards.
  for (const [group, byPartition] of ledger.committed) {
    for (const [partition, offsets] of byPartition) {
      for (let i = 1; i < offsets.length; i++) {
        if (offsets[i]! < offsets[i - 1]!) add(`group ${group} partition ${partition}: committed offset moved back from ${offsets[i - 1]} to ${offsets[i]}`);
      }
    }
  }
  if (lost > 0 && violations.length < limit) violations.unshift(`${lost} acknowledged record(s) lost in total`);
  return violations;
}

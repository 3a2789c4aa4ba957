// A partition replica hosted on this broker: its log, leadership and the high watermark, plus
// the parked fetches woken when the high watermark moves. Single node: this broker leads every
// partition and the high watermark follows the durable log end (acks=all == acks=1 here).
import { decodeRecordsSync } from '../protocol/records/batch.js';
import type { AppendResult, PartitionLog } from '../storage/index.js';
import type { TopicSettings } from './replica-manager.js';

export type BatchInfoForAppend = Parameters<PartitionLog['append']>[1];

export class Partition {
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly index: number,
    public topicId: string,
    readonly log: PartitionLog,
    public settings: TopicSettings,
    public leaderId: number,
    public leaderEpoch: number,
    public replicas: number[],
    public isr: number[],
  ) {
    log.onHighWatermark = () => this.wakeWaiters();
    // ListOffsets by timestamp must find the exact record inside compressed batches too.
    log.recordTimestamps = (batch) => decodeRecordsSync(batch);
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /**
   * Appends validated batches as leader; resolves once the write is durable and visible.
   * Single node: the ISR is this broker alone, so the log advances the high watermark to its
   * durable end by itself, and each advance wakes the parked fetches (see the constructor).
   */
  appendAsLeader(buf: Buffer, batches: BatchInfoForAppend, logAppendTime?: number): Promise<AppendResult> {
    return this.log.append(buf, batches, this.leaderEpoch, logAppendTime === undefined ? undefined : { logAppendTime });
  }

  /** Parked fetches (and other waiters) for the next high watermark advance. */
  get waiterCount(): number {
    return this.waiters.size;
  }

  /** Registers a one-shot callback for the next high watermark advance; returns its canceller. */
  onNextAdvance(callback: () => void): () => void {
    this.waiters.add(callback);
    return () => this.waiters.delete(callback);
  }

  wakeWaiters(): void {
    if (this.waiters.size === 0) return;
    const current = [...this.waiters];
    this.waiters.clear();
    for (const w of current) w();
  }
}

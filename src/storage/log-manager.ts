import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { CleanResult } from './cleaner.js';
import { defaultLogConfig, isCompacted, type LogConfig } from './config.js';
import {
  formatOffsetCheckpoint,
  parsePartitionDirName,
  partitionDirName,
  readOffsetCheckpoint,
  writeFileAtomic,
} from './files.js';
import { pClose, pFdatasync, pOpen, pWritevAll } from './fsio.js';
import { FlushScheduler, type FlushSchedulerOptions } from './flush-scheduler.js';
import { CLEAN_SHUTDOWN_FILE, PartitionLog, type CompactOptions } from './partition-log.js';
import { LogDirHealth } from './log-dir-health.js';
import { SegmentFdCache } from './segment-fds.js';
import { WriteAheadLog, WalRecordType, type WalRecord } from './wal.js';

const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

export interface LogManagerOptions {
  /** A shared scheduler, or options to create one. Default: group commit, 2 ms window. */
  flush?: FlushScheduler | FlushSchedulerOptions;
  /** Config for partitions found on disk at load(); default: defaultLogConfig. */
  configFor?: (topic: string) => LogConfig;
  /** log.retention.check.interval.ms (default 300000). */
  retentionCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms (default 60000). */
  checkpointIntervalMs?: number;
  /** How often segment.ms rolls and flush.ms flushes are checked (default 1000). */
  tickMs?: number;
  /** Parallel partition opens during load (default 8). */
  loadConcurrency?: number;
  /** log.cleaner.enable: run the cleaner for compacted logs in the background (default true). */
  cleanerEnabled?: boolean;
  /** log.cleaner.backoff.ms: pause between cleaner passes over all compacted logs (default 15000). */
  cleanerBackoffMs?: number;
  /** Called when cleaning a log fails (the log is skipped until the next pass). */
  onCleanerError?: (log: PartitionLog, error: Error) => void;
  /** fjord.storage.min.free.bytes: appends are refused while the dir has less free space (default 64 MiB; 0 = no floor). */
  minFreeBytes?: number;
  /** How often free space is probed (default 1000 ms). */
  freeSpaceProbeMs?: number;
  /** How often offline partitions are tried for a reload from disk (default 2000 ms). */
  offlineReloadMs?: number;
  /** One line per storage state change (low space, rollback, partition offline). */
  log?: (msg: string) => void;
  /**
   * fjord.wal.enable: make group-commit appends durable through one write-ahead log per data dir
   * (one fdatasync per round for all partitions; see wal.ts). Default false here (the broker
   * turns it on); ignored in interval mode.
   */
  wal?: boolean;
  /** fjord.wal.segment.bytes: WAL file size that triggers a roll and a checkpoint (default 128 MiB). */
  walFileBytes?: number;
  /**
   * fjord.log.max.open.segment.files: most segment log files held open at once by this manager's
   * logs (least recently used clean ones are closed; default 2048). 0 = no bound.
   */
  maxOpenSegmentFiles?: number;
  /** A clean segment file unused this long is closed (checked every tickMs; default 60000; 0 = never). */
  segmentFileIdleMs?: number;
}

/** All partition logs under one data directory. */
export class LogManager {
  readonly scheduler: FlushScheduler;
  private readonly logs = new Map<string, PartitionLog>();
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private cleanerPass: Promise<Map<string, CleanResult>> | undefined;
  private cleanerTimer: NodeJS.Timeout | undefined;
  /** Whether the last load() found a clean-shutdown marker. */
  lastLoadWasClean = false;
  /** Called with the new log of a partition reloaded after going offline (the replica swaps it in). */
  onReloaded: ((log: PartitionLog) => void) | undefined;
  private reloading = false;
  private readonly reloadBackoff = new Map<string, { at: number; ms: number }>();
  /** The data dir's write-ahead log (after load(), when enabled). */
  wal: WriteAheadLog | undefined;

  /** Disk state of the data dir: appends are refused while it is low on space. */
  readonly health: LogDirHealth;
  /** The bound on open segment files of this manager's logs (undefined: unbounded). */
  readonly segmentFds: SegmentFdCache | undefined;

  constructor(
    readonly dataDir: string,
    private readonly opts: LogManagerOptions = {},
  ) {
    this.scheduler = opts.flush instanceof FlushScheduler ? opts.flush : new FlushScheduler(opts.flush ?? { mode: 'group-commit' });
    this.health = new LogDirHealth(dataDir, opts.minFreeBytes ?? 64 * 1024 * 1024, opts.log);
    const maxOpen = opts.maxOpenSegmentFiles ?? 2048;
    this.segmentFds = maxOpen > 0 ? new SegmentFdCache(maxOpen, opts.segmentFileIdleMs ?? 60_000) : undefined;
  }

  /** Hooks a log to this dir's disk state and storage event log. */
  private adopt(log: PartitionLog): PartitionLog {
    log.dirHealth = this.health;
    log.onStorageEvent = this.opts.log;
    return log;
  }

  private key(topic: string, partition: number): string {
    return partitionDirName(topic, partition);
  }

  /** Opens every `<topic>-<partition>` directory (running recovery when the last shutdown was not clean). */
  async load(): Promise<void> {
    await fsp.mkdir(this.dataDir, { recursive: true });
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    let clean = false;
    try {
      await fsp.access(marker);
      clean = true;
    } catch {
      clean = false;
    }
    this.lastLoadWasClean = clean;
    const recoveryPoints = await readOffsetCheckpoint(path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT));
    const logStarts = await readOffsetCheckpoint(path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT));
    const cleanerPoints = await readOffsetCheckpoint(path.join(this.dataDir, CLEANER_OFFSET_CHECKPOINT));
    const entries = await fsp.readdir(this.dataDir, { withFileTypes: true });
    const todo: { dir: string; topic: string; partition: number }[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.endsWith('-delete')) {
        await fsp.rm(path.join(this.dataDir, e.name), { recursive: true, force: true });
        continue;
      }
      const tp = parsePartitionDirName(e.name);
      if (tp) todo.push({ dir: e.name, ...tp });
    }
    const configFor = this.opts.configFor ?? (() => defaultLogConfig);
    const conc = this.opts.loadConcurrency ?? 8;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const t = todo[next++]!;
        const topicId = (await PartitionLog.readTopicId(path.join(this.dataDir, t.dir))) ?? '';
        const log = await PartitionLog.open(this.dataDir, t.topic, t.partition, topicId, configFor(t.topic), this.scheduler, {
          cleanShutdown: clean,
          recoveryPoint: recoveryPoints.get(t.dir) ?? 0,
          logStartOffset: logStarts.get(t.dir) ?? 0,
          cleanerCheckpoint: cleanerPoints.get(t.dir),
          fdCache: this.segmentFds,
        });
        this.logs.set(t.dir, this.adopt(log));
      }
    };
    await Promise.all(Array.from({ length: Math.min(conc, todo.length) }, worker));
    await this.replayWal(this.opts.wal === true && this.scheduler.groupCommit);
    // From now on a crash must be detected: remove the marker, then checkpoint what was recovered.
    await fsp.rm(marker, { force: true });
    await this.checkpointRecoveryPoints();
  }

  /**
   * Replays the WAL into the loaded logs (batches the segments lost after a power failure come
   * back; truncations repeat in order), makes every log it touched durable in its segments, then
   * starts a fresh WAL and hands it to the scheduler. Also run with the WAL disabled, so that
   * turning it off never drops what it acknowledged.
   */
  private async replayWal(enable: boolean): Promise<void> {
    const touched = new Set<PartitionLog>();
    const inFlight = new Map<PartitionLog, Promise<unknown>[]>();
    await WriteAheadLog.replay(this.dataDir, (r) => this.applyWalRecord(r, touched, inFlight), this.opts.log);
    for (const ps of inFlight.values()) await Promise.all(ps);
    for (const log of touched) await log.flush();
    if (!enable) return WriteAheadLog.remove(this.dataDir);
    this.wal = await WriteAheadLog.start(this.dataDir, {
      fileBytes: this.opts.walFileBytes ?? 128 * 1024 * 1024,
      groupCommitMs: this.scheduler.groupCommitMs,
      log: this.opts.log,
    });
    this.scheduler.wal = this.wal;
  }

  private async applyWalRecord(r: WalRecord, touched: Set<PartitionLog>, inFlight: Map<PartitionLog, Promise<unknown>[]>): Promise<void> {
    const log = this.logs.get(r.key);
    // a deleted topic, or another incarnation of the name
    if (!log || log.offline || (r.topicId && log.topicId && r.topicId !== log.topicId)) return;
    touched.add(log);
    const fail = (e: Error): void => this.opts.log?.(`WAL replay into ${r.key}: ${e.message}`);
    if (r.type === WalRecordType.Data) {
      // not awaited one by one: offsets are assigned synchronously, fsyncs are shared
      const ps = inFlight.get(log) ?? [];
      ps.push(log.replayWalData(r.data).catch(fail));
      inFlight.set(log, ps);
      return;
    }
    await Promise.all(inFlight.get(log) ?? []);
    inFlight.delete(log);
    if (r.type === WalRecordType.Truncate) await log.truncateTo(r.offset).catch(fail);
    else if (r.type === WalRecordType.Reset) await log.truncateFullyAndStartAt(r.offset).catch(fail);
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(this.key(topic, partition));
  }

  /** Creates (or returns the existing) log for a partition. */
  async create(topic: string, partition: number, topicId: string, config: LogConfig): Promise<PartitionLog> {
    const k = this.key(topic, partition);
    const existing = this.logs.get(k);
    if (existing) return existing;
    const log = await PartitionLog.open(this.dataDir, topic, partition, topicId, config, this.scheduler, {
      cleanShutdown: false,
      fdCache: this.segmentFds,
    });
    // Without a topic id, WAL replay cannot tell this log from an earlier one of the same name:
    // a reset marker starts its history in the WAL.
    if (this.wal && !topicId && log.logEndOffset === log.logStartOffset) {
      await this.wal.appendMarker(undefined, WalRecordType.Reset, k, '', log.logEndOffset);
    }
    this.logs.set(k, this.adopt(log));
    return log;
  }

  /** Deletes every partition of a topic (files included). */
  async deleteTopic(topic: string): Promise<void> {
    for (const [k, log] of [...this.logs]) {
      if (log.topic !== topic) continue;
      this.logs.delete(k);
      await log.delete();
    }
    await this.checkpointRecoveryPoints();
  }

  all(): Iterable<PartitionLog> {
    return this.logs.values();
  }

  /** Writes recovery-point-offset-checkpoint and log-start-offset-checkpoint (Kafka formats). */
  async checkpointRecoveryPoints(): Promise<void> {
    const logs = [...this.logs.values()];
    await writeFileAtomic(
      path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT),
      formatOffsetCheckpoint(logs.map((l) => ({ topic: l.topic, partition: l.partition, offset: l.segmentRecoveryPoint }))),
    );
    await writeFileAtomic(
      path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT),
      formatOffsetCheckpoint(logs.map((l) => ({ topic: l.topic, partition: l.partition, offset: l.logStartOffset }))),
    );
  }

  /** Retention, segment.ms rolls, flush.ms flushes and recovery-point checkpoints on timers. */
  startBackgroundTasks(): void {
    if (this.timers.length) return;
    const retention = setInterval(() => void this.runRetention(Date.now()), this.opts.retentionCheckIntervalMs ?? 300000);
    const tick = setInterval(() => {
      const now = Date.now();
      for (const l of this.logs.values()) {
        l.maybeRoll(now);
        void l.maybeFlush(now)?.catch(() => undefined);
      }
      this.segmentFds?.sweepIdle(now);
    }, this.opts.tickMs ?? 1000);
    const checkpoint = setInterval(() => void this.checkpointRecoveryPoints().catch(() => undefined), this.opts.checkpointIntervalMs ?? 60000);
    const freeSpace = setInterval(() => void this.health.probe(), this.opts.freeSpaceProbeMs ?? 1000);
    void this.health.probe();
    const reload = setInterval(() => void this.reloadOffline().catch(() => undefined), this.opts.offlineReloadMs ?? 2000);
    for (const t of [retention, tick, checkpoint, freeSpace, reload]) {
      t.unref();
      this.timers.push(t);
    }
    if (this.opts.cleanerEnabled !== false) this.scheduleCleaner();
  }

  /**
   * Reloads partitions that went offline after an I/O error or a failed fsync, once the log dir
   * takes a write + fsync again: the files are re-opened through recovery and truncated to the
   * last offset that was durable before the failure (what was written after it may have been
   * dropped from the page cache — the fsync lesson), and the new log replaces the old one through
   * `onReloaded`. A partition that fails again waits twice as long before the next try (≤ 1 min).
   * Returns how many partitions came back.
   */
  async reloadOffline(now = Date.now()): Promise<number> {
    if (this.reloading || this.closed) return 0;
    const due = [...this.logs.entries()].filter(([k, l]) => l.offline && (this.reloadBackoff.get(k)?.at ?? 0) <= now);
    if (due.length === 0) return 0;
    this.reloading = true;
    let reloaded = 0;
    try {
      if (!(await this.logDirWritable())) return 0;
      for (const [k, old] of due) {
        const durable = old.durableEndOffset;
        await old.close().catch(() => undefined);
        const fresh = await PartitionLog.open(this.dataDir, old.topic, old.partition, old.topicId, old.config, this.scheduler, {
          cleanShutdown: false,
          recoveryPoint: Math.min(durable, old.segmentRecoveryPoint),
          logStartOffset: old.logStartOffset,
          fdCache: this.segmentFds,
        });
        if (fresh.logEndOffset > durable) await fresh.truncateTo(durable);
        this.logs.set(k, this.adopt(fresh));
        const prev = this.reloadBackoff.get(k)?.ms ?? 1000;
        this.reloadBackoff.set(k, { at: now + Math.min(prev * 2, 60_000), ms: Math.min(prev * 2, 60_000) });
        this.opts.log?.(`${k} reloaded from disk at offset ${fresh.logEndOffset} (its durable end before the I/O error); it serves again`);
        this.onReloaded?.(fresh);
        reloaded++;
      }
    } finally {
      this.reloading = false;
    }
    return reloaded;
  }

  /** A probe file written and fsynced through the storage's file layer (faults included). */
  private async logDirWritable(): Promise<boolean> {
    const probe = path.join(this.dataDir, '.fjord-write-probe');
    let fd: number | undefined;
    try {
      fd = await pOpen(probe, 'w');
      await pWritevAll(fd, [Buffer.from(String(Date.now()))], 0);
      await pFdatasync(fd);
      return true;
    } catch {
      return false;
    } finally {
      if (fd !== undefined) await pClose(fd).catch(() => undefined);
    }
  }

  /** The cleaner re-arms after each pass (a long pass never overlaps the next one). */
  private scheduleCleaner(): void {
    if (this.closed) return;
    this.cleanerTimer = setTimeout(() => {
      this.cleanerTimer = undefined;
      void this.runCleaner(Date.now())
        .catch(() => undefined)
        .finally(() => this.scheduleCleaner());
    }, this.opts.cleanerBackoffMs ?? 15000);
    this.cleanerTimer.unref();
  }

  /**
   * One cleaner pass over every compacted log (cleanup.policy contains 'compact'), then the
   * cleaner-offset-checkpoint file. Results by "<topic>-<partition>". A pass already running is
   * awaited instead of starting a second one.
   */
  runCleaner(now = Date.now(), opts: CompactOptions = {}): Promise<Map<string, CleanResult>> {
    if (this.cleanerPass) return this.cleanerPass;
    const p = (async () => {
      const out = new Map<string, CleanResult>();
      for (const [k, log] of [...this.logs]) {
        if (this.closed) break;
        if (!isCompacted(log.config)) continue;
        try {
          out.set(k, await log.compact(now, opts));
        } catch (e) {
          this.opts.onCleanerError?.(log, e as Error);
        }
      }
      if (!this.closed) await this.checkpointCleaner().catch(() => undefined);
      return out;
    })().finally(() => {
      this.cleanerPass = undefined;
    });
    this.cleanerPass = p;
    return p;
  }

  /** Writes cleaner-offset-checkpoint (Kafka's format) for compacted logs that were cleaned. */
  async checkpointCleaner(): Promise<void> {
    const entries = [...this.logs.values()]
      .filter((l) => isCompacted(l.config) && l.cleanerCheckpoint >= 0)
      .map((l) => ({ topic: l.topic, partition: l.partition, offset: l.cleanerCheckpoint }));
    await writeFileAtomic(path.join(this.dataDir, CLEANER_OFFSET_CHECKPOINT), formatOffsetCheckpoint(entries));
  }

  /** One retention pass over all logs; returns the number of deleted segments. */
  async runRetention(now: number): Promise<number> {
    let n = 0;
    for (const l of this.logs.values()) {
      try {
        n += await l.applyRetention(now);
      } catch {
        // a failing log must not stop retention for the others
      }
    }
    return n;
  }

  /** Stops tasks, closes every log, writes checkpoints and the clean-shutdown marker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.cleanerTimer) clearTimeout(this.cleanerTimer);
    this.cleanerTimer = undefined;
    await this.scheduler.flushAll();
    for (const l of this.logs.values()) await l.close(); // each close stops its cleaning first
    if (this.wal) {
      // every log fsynced its segments at close: nothing is left to replay, unless one is offline
      const allDurable = [...this.logs.values()].every((l) => !l.offline);
      this.scheduler.wal = undefined;
      await this.wal.close(allDurable);
      this.wal = undefined;
    }
    await this.cleanerPass?.catch(() => undefined);
    await this.checkpointRecoveryPoints();
    await this.checkpointCleaner().catch(() => undefined);
    await writeFileAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
  }
}

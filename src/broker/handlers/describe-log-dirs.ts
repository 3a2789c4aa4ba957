// DescribeLogDirs (v0-4): Fjord has one log dir, the data dir; partition sizes come from the
// logs, total/usable bytes from statfs.
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCode } from '../../protocol/errors.js';
import type { DescribeLogDirsRequest, DescribeLogDirsResponseInput } from '../../protocol/gen/describe-log-dirs.js';
import { ApiKey } from '../../protocol/gen/index.js';
import { defineHandler } from '../handler.js';
import { allowedOnCluster, Op } from '../../security/authz.js';

type DirOut = NonNullable<DescribeLogDirsResponseInput['results']>[number];
type TopicOut = NonNullable<DirOut['topics']>[number];

export default defineHandler<DescribeLogDirsRequest, DescribeLogDirsResponseInput>({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 5, // v5 adds IsCordoned (KIP-1066): Fjord never cordons a log dir
  async handle(req, ctx) {
    const { broker } = ctx;
    if (!allowedOnCluster(ctx, Op.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const dir = resolve(broker.dataDir);
    const wanted = req.topics === null ? null : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const byTopic = new Map<string, TopicOut & { partitions: NonNullable<TopicOut['partitions']>[number][] }>();
    for (const p of broker.replicas.all()) {
      if (wanted) {
        const parts = wanted.get(p.topic);
        if (!parts?.has(p.index)) continue;
      }
      let t = byTopic.get(p.topic);
      if (!t) {
        t = { name: p.topic, partitions: [] };
        byTopic.set(p.topic, t);
      }
      t.partitions.push({ partitionIndex: p.index, partitionSize: p.log.sizeBytes, offsetLag: 0, isFutureKey: false });
    }
    const topics = [...byTopic.values()].sort((a, b) => a.name!.localeCompare(b.name!));
    for (const t of topics) t.partitions.sort((a, b) => a.partitionIndex! - b.partitionIndex!);
    let totalBytes = -1;
    let usableBytes = -1;
    let errorCode: number = ErrorCode.NONE;
    try {
      const s = await statfs(dir);
      totalBytes = s.blocks * s.bsize;
      usableBytes = s.bavail * s.bsize;
    } catch {
      errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode, logDir: dir, topics, totalBytes, usableBytes }],
    };
  },
});

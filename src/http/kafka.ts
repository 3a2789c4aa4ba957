// The HTTP services' only way to the log: the Kafka protocol through @platformatic/kafka (the
// library the CLI uses), so the registry and the REST proxy work against any Kafka cluster.
import { Admin, Consumer, Producer, type BaseOptions } from '@platformatic/kafka';

export interface KafkaAccess {
  brokers: string[];
  clientId: string;
  /** TLS and SASL towards the cluster (the service's own identity, or an HTTP user's). */
  security?: Pick<BaseOptions, 'tls' | 'sasl'>;
}

export function baseOptions(k: KafkaAccess): BaseOptions {
  return {
    ...k.security,
    clientId: k.clientId,
    bootstrapBrokers: k.brokers,
    connectTimeout: 5000,
    requestTimeout: 30_000,
    timeout: 15_000,
    retries: 5,
    retryDelay: 200,
    autocreateTopics: false,
  };
}

export function newAdmin(k: KafkaAccess): Admin {
  return new Admin(baseOptions(k));
}

export function newProducer(k: KafkaAccess): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer({ ...baseOptions(k), acks: -1 }) as Producer<Buffer, Buffer, Buffer, Buffer>;
}

export function newConsumer(k: KafkaAccess, groupId: string, extra: Record<string, unknown> = {}): Consumer<Buffer, Buffer, Buffer, Buffer> {
  return new Consumer({ ...baseOptions(k), groupId, ...extra } as ConstructorParameters<typeof Consumer>[0]) as Consumer<Buffer, Buffer, Buffer, Buffer>;
}

export interface RawRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: bigint;
  headers: [Buffer, Buffer][];
}

/**
 * Reads one partition with plain Fetch requests from a position (no group): the registry
 * replays `_schemas` from offset 0 and then tails it.
 */
export class PartitionReader {
  private position = 0n;
  private stopped = false;
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;

  constructor(
    k: KafkaAccess,
    private readonly topic: string,
    private readonly partition: number,
  ) {
    this.consumer = newConsumer(k, `${k.clientId}-reader`, { maxWaitTime: 500 });
  }

  get offset(): bigint {
    return this.position;
  }

  async endOffset(): Promise<bigint> {
    const res = await this.consumer.listOffsets({ topics: [this.topic], partitions: { [this.topic]: [this.partition] }, timestamp: -1n });
    return res.get(this.topic)?.[this.partition] ?? 0n;
  }

  /** One Fetch round; returns the records after the current position and advances it. */
  async poll(maxWaitMs: number): Promise<RawRecord[]> {
    const md = await this.consumer.metadata({ topics: [this.topic] });
    const t = md.topics.get(this.topic);
    const leader = t?.partitions[this.partition]?.leader ?? -1;
    if (!t || leader < 0) {
      await new Promise((r) => setTimeout(r, 100));
      return [];
    }
    const resp = await this.consumer.fetch({
      node: leader,
      maxWaitTime: maxWaitMs,
      topics: [
        {
          topicId: t.id,
          partitions: [{ partition: this.partition, currentLeaderEpoch: -1, fetchOffset: this.position, lastFetchedEpoch: -1, partitionMaxBytes: 4 * 1024 * 1024 }],
        },
      ],
    });
    const out: RawRecord[] = [];
    for (const tr of resp.responses) {
      for (const pr of tr.partitions) {
        if (pr.errorCode === 1) {
          const low = await this.consumer.listOffsets({ topics: [this.topic], partitions: { [this.topic]: [this.partition] }, timestamp: -2n });
          this.position = low.get(this.topic)?.[this.partition] ?? 0n;
          continue;
        }
        if (pr.errorCode !== 0) continue;
        for (const batch of pr.records ?? []) {
          const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
          if (last < this.position) continue;
          if ((batch.attributes & 0x20) !== 0) {
            this.position = last + 1n;
            continue;
          }
          for (const rec of batch.records) {
            const offset = batch.firstOffset + BigInt(rec.offsetDelta);
            if (offset < this.position) continue;
            out.push({
              offset,
              key: rec.key && rec.key.length >= 0 ? (rec.key as Buffer) : null,
              value: (rec.value as Buffer | null) ?? null,
              timestamp: batch.firstTimestamp + BigInt(rec.timestampDelta),
              headers: (rec.headers ?? []) as [Buffer, Buffer][],
            });
            this.position = offset + 1n;
          }
          if (last + 1n > this.position) this.position = last + 1n;
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await Promise.resolve(this.consumer.close(true)).catch(() => {});
  }

  get closed(): boolean {
    return this.stopped;
  }
}

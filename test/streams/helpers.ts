// Helpers for streams tests against a real broker: topic setup, producing, reading whole topics.
import { Kafka, logLevel } from 'kafkajs';
import { baseClientOptions, PartitionReader } from '../../src/streams/kafka-io.js';
import type { Deserializer } from '../../src/streams/index.js';

export function kafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'streams-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
}

export async function createTopics(bootstrap: string, topics: Record<string, number>): Promise<void> {
  const admin = kafka(bootstrap).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

export interface ProduceRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  timestamp: number;
}

export async function produce(bootstrap: string, records: ProduceRecord[]): Promise<void> {
  const producer = kafka(bootstrap).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One send per record keeps the cross-topic order the cases are written in.
    for (const r of records) await producer.send({ topic: r.topic, acks: -1, messages: [{ key: r.key, value: r.value, timestamp: String(r.timestamp) }] });
  } finally {
    await producer.disconnect();
  }
}

export async function produceBatch(bootstrap: string, topic: string, messages: Array<{ key: string | null; value: string; timestamp?: number }>): Promise<void> {
  const producer = kafka(bootstrap).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000).map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp === undefined ? undefined : String(m.timestamp) })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every record of a topic (all partitions, from the start to the current end). */
export async function readTopic<V>(bootstrap: string, topic: string, valueDeserializer: Deserializer<V>, readCommitted = false): Promise<Array<{ key: string | null; value: V | null; partition: number }>> {
  const reader = new PartitionReader(baseClientOptions('streams-test-reader', [bootstrap]), readCommitted);
  try {
    const n = await reader.partitionsOf(topic);
    const parts = [...Array(n).keys()];
    const end = await reader.endOffsets(topic, parts);
    const pos = new Map(parts.map((p) => [p, 0n]));
    const out: Array<{ key: string | null; value: V | null; partition: number }> = [];
    const deadline = Date.now() + 10_000;
    while (parts.some((p) => pos.get(p)! < end.get(p)!) && Date.now() < deadline) {
      const res = await reader.fetch(parts.filter((p) => pos.get(p)! < end.get(p)!).map((p) => ({ topic, partition: p, offset: pos.get(p)! })), 50);
      for (const [k, r] of res) {
        const p = Number(k.slice(k.lastIndexOf(':') + 1));
        for (const rec of r.records) if (rec.offset < end.get(p)!) out.push({ key: rec.key?.toString() ?? null, value: valueDeserializer.deserialize(topic, rec.value), partition: p });
        pos.set(p, r.next);
      }
    }
    return out;
  } finally {
    await reader.close();
  }
}

/** Polls check() until it returns true or the timeout passes; returns the last result. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Broker settings that give KIP-1071 (streams) groups the short session timeout the classic tests ask the client for. */
export const FAST_STREAMS_GROUPS = {
  'group.streams.session.timeout.ms': '2000',
  'group.streams.min.session.timeout.ms': '1000',
  'group.streams.heartbeat.interval.ms': '300',
  'group.streams.min.heartbeat.interval.ms': '100',
};

// Shared helpers for the Connect tests: HTTP calls, waiting on conditions, reading topics.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { fjordCommand, freePort, repoRoot } from '../helpers/broker.js';

export async function http(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ReadRecord {
  key: string | null;
  value: string | null;
  offset: number;
  partition: number;
  headers: IHeaders;
}

/** Reads a topic from the beginning until `until(records)` holds (bounded by a timeout). */
export async function readTopic(bootstrap: string, topic: string, until: (records: ReadRecord[]) => boolean, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        records.push({
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          offset: Number(message.offset),
          partition,
          headers: message.headers ?? {},
        });
        if (until(records)) done();
      },
    });
    const timer = setTimeout(() => done(), timeoutMs);
    await finished;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

export async function produce(bootstrap: string, topic: string, messages: { key?: string | null; value: string | null }[]): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key ?? null, value: m.value })) });
  await producer.disconnect();
}

export const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' };

export interface WorkerProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

/**
 * A `fjord connect` worker as its own process (so tests can kill -9 it), listening on `port`
 * (a free one by default); resolves once its REST API answers.
 */
export async function spawnWorkerProcess(
  bootstrap: string,
  groupId: string,
  config: Record<string, string>,
  port?: number,
): Promise<WorkerProcess> {
  const listen = port ?? (await freePort());
  const { cmd, args } = fjordCommand();
  const configArgs = Object.entries(config).flatMap(([k, v]) => ['--config', `${k}=${v}`]);
  const child = spawn(cmd, [...args, 'connect', '--bootstrap', bootstrap, '--group-id', groupId, '--listen', `127.0.0.1:${listen}`, ...configArgs], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${listen}`;
  await waitFor(`worker REST API (${out})`, async () => (await http(url, 'GET', '/connectors')).status === 200, 30_000);
  return { child, url, exited };
}

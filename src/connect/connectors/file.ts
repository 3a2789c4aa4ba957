// FileStreamSource/Sink under Kafka's class names: lines of a file to a topic and back. The source
// offset is the byte position after the last line sent ({position} for partition {filename}).
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectorPlugin, SinkRecord, SinkTask, SourceRecord, SourceTask, SourceTaskContext } from '../sdk.js';
import { simpleConnector, CONNECT_VERSION } from '../sdk.js';

class FileSourceTask implements SourceTask {
  private file!: string;
  private topic!: string;
  private batchSize = 2000;
  private position = 0;
  private handle: FileHandle | null = null;
  private carry = Buffer.alloc(0);

  start(config: Record<string, string>, context: SourceTaskContext): void {
    this.file = config['file'] ?? '';
    this.topic = config['topic'] ?? '';
    this.batchSize = Number(config['batch.size'] ?? 2000);
    const offset = context.offset({ filename: this.file });
    this.position = Number(offset?.['position'] ?? 0);
  }

  async poll(signal: AbortSignal): Promise<SourceRecord[] | null> {
    if (!this.handle) {
      try {
        this.handle = await open(this.file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await sleep(200, undefined, { signal }).catch(() => {});
        return null;
      }
    }
    let data = this.carry;
    // Lines left over from a read that had more than batch.size of them go out before reading on.
    if (data.indexOf(0x0a) < 0) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const readAt = this.position + this.carry.length;
      const { bytesRead } = await this.handle.read(buf, 0, buf.length, readAt);
      if (bytesRead === 0) {
        await sleep(100, undefined, { signal }).catch(() => {});
        return null;
      }
      data = Buffer.concat([this.carry, buf.subarray(0, bytesRead)]);
    }
    const records: SourceRecord[] = [];
    let start = 0;
    for (let i = 0; i < data.length && records.length < this.batchSize; i++) {
      if (data[i] !== 0x0a) continue;
      let line = data.subarray(start, i);
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      start = i + 1;
      records.push({
        topic: this.topic,
        sourcePartition: { filename: this.file },
        sourceOffset: { position: this.position + start },
        keySchema: null,
        key: null,
        valueSchema: { type: 'string', optional: false },
        value: line.toString('utf8'),
      });
    }
    this.position += start;
    this.carry = Buffer.from(data.subarray(start));
    return records;
  }

  async stop(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = null;
  }
}

class FileSinkTask implements SinkTask {
  private handle: FileHandle | null = null;
  private file = '';
  async start(config: Record<string, string>): Promise<void> {
    this.file = config['file'] ?? '';
    this.handle = await open(this.file, 'a');
  }
  async put(records: SinkRecord[]): Promise<void> {
    const text = records
      .map((r) => (r.value === null || r.value === undefined ? 'null' : typeof r.value === 'object' && !Buffer.isBuffer(r.value) ? JSON.stringify(r.value) : String(r.value)) + '\n')
      .join('');
    await this.handle!.write(text);
  }
  async flush(): Promise<void> {
    await this.handle?.datasync();
  }
  async stop(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = null;
  }
}

export const fileSourcePlugin: ConnectorPlugin = {
  className: 'org.apache.kafka.connect.file.FileStreamSourceConnector',
  aliases: ['FileStreamSource'],
  type: 'source',
  version: CONNECT_VERSION,
  config: {
    file: { type: 'string', importance: 'high', documentation: 'Source filename.' },
    topic: { type: 'list', importance: 'high', documentation: 'The topic to publish data to' },
    'batch.size': { type: 'int', default: 2000, min: 1, importance: 'low', documentation: 'Maximum records per poll' },
  },
  createConnector: () =>
    simpleConnector((config, _maxTasks) => {
      return [{ file: config['file'] ?? '', topic: config['topic'] ?? '', 'batch.size': config['batch.size'] ?? '2000' }];
    },
    (config): Record<string, string[]> => {
      const topics = (config['topic'] ?? '').split(',').filter(Boolean);
      return topics.length > 1 ? { topic: ['\'topic\' in FileStreamSourceConnector configuration requires definition of a single topic'] } : {};
    }),
  createTask: () => new FileSourceTask(),
};

export const fileSinkPlugin: ConnectorPlugin = {
  className: 'org.apache.kafka.connect.file.FileStreamSinkConnector',
  aliases: ['FileStreamSink'],
  type: 'sink',
  version: CONNECT_VERSION,
  config: {
    file: { type: 'string', importance: 'high', documentation: 'Destination filename.' },
  },
  createConnector: () => simpleConnector((config) => [{ file: config['file'] ?? '' }]),
  createTask: () => new FileSinkTask(),
};

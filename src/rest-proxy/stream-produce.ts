// REST v3 streaming produce: records read from one request body are produced in batches — many
// records per Kafka produce request, up to PIPELINE requests in flight — and one result line per
// record is written back strictly in input order.
//
// Batching adapts to the load like a producer's linger: a batch is sent at once when nothing is in
// flight (a lone record is not held back), otherwise it grows until an earlier request completes
// or it reaches BATCH_BYTES. HTTP reading waits when a full batch is waiting for a free slot, and
// when the response socket pushes back, so memory stays bounded by the pipeline.
import type { ServerResponse } from 'node:http';
import type { OutRecord, ProducedRecord } from './proxy.js';
import type { JsonValueSplitter } from './json-stream.js';

/** Record bytes per produce request (one batch per partition must stay under message.max.bytes). */
const BATCH_BYTES = 512 * 1024;
/** Produce requests in flight per streaming request (one producer connection keeps them in order). */
const PIPELINE = 4;

export interface StreamError {
  error_code: number;
  message: string;
}

export interface StreamProduceDeps {
  /** One record's text → the record to produce; throws (an HttpError) for a bad record. */
  parse(text: string): OutRecord;
  /** Produces the records in order (one request), answering each one's partition and offset. */
  produce(records: OutRecord[]): Promise<ProducedRecord[]>;
  /** The result line of a produced record (JSON, no newline). */
  result(record: OutRecord, produced: ProducedRecord): string;
  /** A record's (or the body's) error → its code and message. */
  toError(err: unknown): StreamError;
  /** A failed produce request → the code and message each of its records gets. */
  produceError(err: unknown): StreamError;
}

interface Batch {
  /** Records, or the error a record's text produced (kept in place to keep the order). */
  items: (OutRecord | StreamError)[];
  records: number;
  bytes: number;
  /** The result lines once the produce request is answered. */
  text: string | undefined;
}

const isError = (x: OutRecord | StreamError): x is StreamError => (x as StreamError).error_code !== undefined;

function recordBytes(r: OutRecord): number {
  let n = 64 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  if (r.headers) for (const [k, v] of r.headers) n += k.length + v.length;
  return n;
}

export async function streamProduce(body: AsyncIterable<Buffer>, res: ServerResponse, splitter: JsonValueSplitter, deps: StreamProduceDeps): Promise<void> {
  const newBatch = (): Batch => ({ items: [], records: 0, bytes: 0, text: undefined });
  let open = newBatch();
  /** Full batches waiting for a pipeline slot. */
  const waiting: Batch[] = [];
  /** Sent (or finished) batches, oldest first; their lines are written from the front. */
  const sent: Batch[] = [];
  let inFlight = 0;
  let ended = false;
  let writable = true;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const changed = () => new Promise<void>((resolve) => (wake = resolve));

  const writeFinished = () => {
    let text = '';
    while (sent.length > 0 && sent[0]!.text !== undefined) text += sent.shift()!.text;
    if (text && !res.write(text)) {
      writable = false;
      res.once('drain', () => {
        writable = true;
        notify();
      });
    }
  };

  const run = async (batch: Batch) => {
    const records = batch.records === batch.items.length ? (batch.items as OutRecord[]) : (batch.items.filter((x) => !isError(x)) as OutRecord[]);
    let produced: ProducedRecord[] = [];
    let failure: string | undefined;
    if (records.length > 0) {
      try {
        produced = await deps.produce(records);
      } catch (err) {
        failure = JSON.stringify(deps.produceError(err));
      }
    }
    let text = '';
    let i = 0;
    for (const x of batch.items) {
      if (isError(x)) text += JSON.stringify(x) + '\n';
      else if (failure !== undefined) text += failure + '\n';
      else text += deps.result(x, produced[i++]!) + '\n';
    }
    batch.text = text;
    inFlight--;
    writeFinished();
    start();
    notify();
  };

  const send = (batch: Batch) => {
    inFlight++;
    sent.push(batch);
    void run(batch);
  };

  const start = () => {
    while (inFlight < PIPELINE) {
      if (waiting.length > 0) send(waiting.shift()!);
      else if (open.items.length > 0 && (inFlight === 0 || ended)) {
        send(open);
        open = newBatch();
      } else break;
    }
  };

  const add = (item: OutRecord | StreamError) => {
    const bytes = isError(item) ? 64 : recordBytes(item);
    if (open.items.length > 0 && open.bytes + bytes > BATCH_BYTES) {
      waiting.push(open);
      open = newBatch();
    }
    open.items.push(item);
    open.bytes += bytes;
    if (!isError(item)) open.records++;
  };

  const take = (text: string) => {
    try {
      add(deps.parse(text));
    } catch (err) {
      add(deps.toError(err));
    }
  };

  const finish = async () => {
    ended = true;
    start();
    while (sent.length > 0 || waiting.length > 0 || open.items.length > 0) {
      await changed();
      start();
    }
  };

  try {
    for await (const chunk of body) {
      for (const text of splitter.push(chunk)) take(text);
      start();
      // Back-pressure: a full batch has no slot yet, or the client does not read its results.
      while (waiting.length > 0 || !writable) await changed();
    }
    for (const text of splitter.end()) take(text);
    await finish();
  } catch (err) {
    await finish().catch(() => {});
    res.write(JSON.stringify(deps.toError(err)) + '\n');
  }
}

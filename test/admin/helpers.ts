// Helpers for the admin API tests: one-shot raw requests and raw batch reads.
import { ApiKey } from '../../src/protocol/gen/index.js';
import { RawClient } from '../helpers/raw-client.js';

let nextCorrelation = 1;

/** Sends one request on a fresh connection and returns the decoded response body. */
export async function rawCall(port: number, apiKey: number, version: number, body: unknown): Promise<any> {
  const c = await RawClient.open(port);
  try {
    c.request(apiKey, version, nextCorrelation++, body);
    const res = await c.response(apiKey, version);
    if (!res) throw new Error(`connection closed before the response to api ${apiKey} v${version}`);
    return res.body;
  } finally {
    c.close();
  }
}

/** The raw record batches of a partition from `offset` (one fetch, up to 4 MiB). */
export async function fetchRawBatches(port: number, topic: string, partition: number, offset = 0): Promise<Buffer[]> {
  const body = await rawCall(port, ApiKey.Fetch, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 4 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 4 * 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const p = body.responses[0].partitions[0];
  if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode}`);
  const records: Buffer | null = p.records;
  const out: Buffer[] = [];
  let pos = 0;
  while (records && pos + 12 <= records.length) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    out.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

/** ConfigResource types. */
export const Resource = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export async function describeConfigsRaw(port: number, resourceType: number, resourceName: string, keys: string[] | null = null) {
  const body = await rawCall(port, ApiKey.DescribeConfigs, 4, {
    resources: [{ resourceType, resourceName, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: true,
  });
  return body.results[0];
}

export async function incrementalAlter(
  port: number,
  resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[],
  validateOnly = false,
) {
  const body = await rawCall(port, ApiKey.IncrementalAlterConfigs, 1, { resources, validateOnly });
  return body.responses as { errorCode: number; errorMessage: string | null; resourceName: string }[];
}

// The embedded metadata store: a mutation's check and its write are atomic (two racing creations
// of one topic: exactly one wins), the write is durable before memory changes (a failed write
// leaves nothing behind), and listeners hear of a change only once it is stored.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { EmbeddedMetadataStore } from '../../src/cluster/embedded-store.js';
import type { TopicRecord } from '../../src/cluster/metadata-store.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { tempDir } from '../helpers/broker.js';

const topic = (name: string): TopicRecord => ({ name, topicId: `id-${name}`, partitions: [{ partition: 0, replicas: [0] }], configs: {}, createdAt: 0 });
const state = { leader: 0, leaderEpoch: 0, isr: [0], version: 0 };

describe('embedded metadata store', () => {
  it('lets exactly one of two racing creations of a topic win', async () => {
    const dir = await tempDir();
    try {
      const store = new EmbeddedMetadataStore(dir, 0);
      await store.load();
      const results = await Promise.allSettled([store.createTopic(topic('race'), [state]), store.createTopic(topic('race'), [state])]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal(lost.reason.code, ErrorCode.TOPIC_ALREADY_EXISTS);
      // Reloading from disk shows the one topic.
      const again = new EmbeddedMetadataStore(dir, 0);
      await again.load();
      assert.deepEqual([...again.topics()].map((t) => t.name), ['race']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('changes nothing in memory and tells no listener when the write fails', async () => {
    const dir = await tempDir();
    const store = new EmbeddedMetadataStore(dir, 0);
    await store.load();
    const heard: string[] = [];
    store.onChange((c) => heard.push(c.kind));
    await rm(dir, { recursive: true, force: true }); // the next write cannot create its file
    await assert.rejects(store.createTopic(topic('lost'), [state]));
    assert.equal(store.topic('lost'), undefined);
    assert.deepEqual(heard, []);
  });

  it('compare-and-set on partition state applies only at the expected version', async () => {
    const dir = await tempDir();
    try {
      const store = new EmbeddedMetadataStore(dir, 0);
      await store.load();
      await store.createTopic(topic('cas'), [state]);
      assert.equal(await store.updatePartitionState('cas', 0, { ...state, leaderEpoch: 1 }, 0), true);
      assert.equal(await store.updatePartitionState('cas', 0, { ...state, leaderEpoch: 2 }, 0), false, 'stale version');
      assert.equal(store.partitionState('cas', 0)?.leaderEpoch, 1);
      assert.equal(store.partitionState('cas', 0)?.version, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

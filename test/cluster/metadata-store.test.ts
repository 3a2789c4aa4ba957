// The embedded metadata store: a mutation's check and its write are atomic (two racing creations
// of one topic: exactly one wins), the write is durable before memory changes (a failed write
// leaves nothing behind), and listeners hear of a change only once it is stored; a partition state
// and its topic record change in one mutation (a reassignment's end).
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

  it('writes a partition state and its topic record as one change: CAS on the state version, listeners see both', async () => {
    const dir = await tempDir();
    try {
      const store = new EmbeddedMetadataStore(dir, 0);
      await store.load();
      await store.createTopic({ ...topic('both'), partitions: [{ partition: 0, replicas: [0, 1], addingReplicas: [1], removingReplicas: [0] }] }, [{ ...state, isr: [0, 1] }]);
      const finish = (record: TopicRecord) => {
        record.partitions[0] = { partition: 0, replicas: [1] };
        return record;
      };
      const next = { leader: 1, leaderEpoch: 1, isr: [1], version: 0 };
      assert.equal(await store.updatePartitionStateAndTopic('both', 0, next, 1, finish), false, 'stale version');
      const aborted = (record: TopicRecord) => {
        record.partitions[0]!.replicas = [7]; // edits its copy, then aborts: nothing may stick
        return undefined;
      };
      assert.equal(await store.updatePartitionStateAndTopic('both', 0, next, 0, aborted), false, 'aborted');
      assert.deepEqual(store.topic('both')!.partitions[0]!.replicas, [0, 1]);

      const heard: { kind: string; replicas: number[]; leader: number | undefined }[] = [];
      store.onChange((c) => heard.push({ kind: c.kind, replicas: store.topic('both')!.partitions[0]!.replicas, leader: store.partitionState('both', 0)?.leader }));
      assert.equal(await store.updatePartitionStateAndTopic('both', 0, next, 0, finish), true);
      assert.deepEqual(heard, [
        { kind: 'topic-updated', replicas: [1], leader: 1 },
        { kind: 'partition-state', replicas: [1], leader: 1 },
      ]);
      assert.deepEqual(store.partitionState('both', 0), { ...next, version: 1 });
      // Durable as one: a reload shows both.
      const again = new EmbeddedMetadataStore(dir, 0);
      await again.load();
      assert.deepEqual(again.topic('both')!.partitions[0], { partition: 0, replicas: [1] });
      assert.equal(again.partitionState('both', 0)?.leader, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

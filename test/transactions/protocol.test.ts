// The transaction APIs with hand-made requests: every bad call gets Kafka's error code (stale
// epoch, unknown id, un-added partition or group, concurrent EndTxn, ...), never a half-applied
// transaction; timeouts abort and fence; DescribeTransactions / ListTransactions report it all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiKey } from '../../src/protocol/gen/index.js';
import { buildBatch } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('transaction protocol', () => {
  let broker: TestBroker;
  let client: RawClient;
  let correlationId = 1;
  const call = async (apiKey: number, version: number, body: unknown): Promise<any> => {
    client.request(apiKey, version, correlationId++, body);
    const res = await client.response(apiKey, version);
    assert.ok(res, 'connection closed');
    return res.body;
  };
  const initPid = (transactionalId: string, transactionTimeoutMs = 60_000, producerId = -1, producerEpoch = -1) =>
    call(ApiKey.InitProducerId, 4, { transactionalId, transactionTimeoutMs, producerId, producerEpoch });
  const addPartitions = async (id: string, pid: number, epoch: number, topic: string, partitions: number[]) => {
    const r = await call(ApiKey.AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: id,
      v3AndBelowProducerId: pid,
      v3AndBelowProducerEpoch: epoch,
      v3AndBelowTopics: [{ name: topic, partitions }],
    });
    return r.resultsByTopicV3AndBelow.flatMap((t: any) => t.resultsByPartition.map((p: any) => p.partitionErrorCode));
  };
  const endTxn = async (id: string, pid: number, epoch: number, committed: boolean) =>
    (await call(ApiKey.EndTxn, 3, { transactionalId: id, producerId: pid, producerEpoch: epoch, committed })).errorCode;
  const describeTxn = async (id: string) => (await call(ApiKey.DescribeTransactions, 0, { transactionalIds: [id] })).transactionStates[0];
  const produceTxn = async (id: string, pid: number, epoch: number, topic: string, partition: number, sequence = 0) => {
    const records = await buildBatch({
      records: [{ key: null, value: Buffer.from('txn'), timestamp: Date.now() }],
      producerId: pid,
      producerEpoch: epoch,
      baseSequence: sequence,
      isTransactional: true,
    });
    const r = await call(ApiKey.Produce, 9, {
      transactionalId: id,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    return r.responses[0].partitionResponses[0].errorCode;
  };

  before(async () => {
    broker = await startTestBroker({
      'num.partitions': '2',
      'transaction.max.timeout.ms': '60000',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100',
    });
    client = await RawClient.open(broker.port);
    const created = await call(ApiKey.CreateTopics, 5, {
      topics: [{ name: 'raw-txn', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  });
  after(async () => {
    client?.close();
    await broker?.dispose();
  });

  it('FindCoordinator key type 1 names this broker', async () => {
    const r = await call(ApiKey.FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['raw-a', 'raw-b'] });
    for (const c of r.coordinators) {
      assert.equal(c.errorCode, ErrorCode.NONE);
      assert.equal(c.nodeId, broker.broker.nodeId);
      assert.equal(c.port, broker.port);
    }
  });

  it('InitProducerId validates the timeout and bumps the epoch of a known id', async () => {
    assert.equal((await initPid('raw-a', 60_001)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    assert.equal((await initPid('raw-a', 0)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const first = await initPid('raw-a');
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(first.producerEpoch, 0);
    const second = await initPid('raw-a');
    assert.equal(second.producerId, first.producerId);
    assert.equal(second.producerEpoch, 1);
    // KIP-360: naming the epoch before the last bump is a retry (same answer, no new bump)
    const retried = await initPid('raw-a', 60_000, first.producerId, 0);
    assert.equal(retried.errorCode, ErrorCode.NONE);
    assert.equal(retried.producerEpoch, 1);
    assert.equal((await initPid('raw-a', 60_000, first.producerId + 1000, 1)).errorCode, ErrorCode.PRODUCER_FENCED);
    // naming the current epoch bumps it; an older one is fenced
    const third = await initPid('raw-a', 60_000, first.producerId, 1);
    assert.equal(third.errorCode, ErrorCode.NONE);
    assert.equal(third.producerEpoch, 2);
    assert.equal((await initPid('raw-a', 60_000, first.producerId, 0)).errorCode, ErrorCode.PRODUCER_FENCED);
    // InitProducerId v3 and older know the error as INVALID_PRODUCER_EPOCH
    const old = await call(ApiKey.InitProducerId, 3, { transactionalId: 'raw-a', transactionTimeoutMs: 60_000, producerId: first.producerId, producerEpoch: 0 });
    assert.equal(old.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('rejects unknown ids, stale epochs, unknown partitions and wrong states with Kafka codes', async () => {
    const { producerId: pid, producerEpoch: epoch } = await initPid('raw-b');
    assert.deepEqual(await addPartitions('raw-unknown', pid, epoch, 'raw-txn', [0]), [ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
    assert.deepEqual(await addPartitions('raw-b', pid + 1, epoch, 'raw-txn', [0]), [ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
    assert.deepEqual(await addPartitions('raw-b', pid, epoch - 1, 'raw-txn', [0]), [ErrorCode.PRODUCER_FENCED]);
    assert.deepEqual(await addPartitions('raw-b', pid, epoch, 'no-such-topic', [0]), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const mixed = await call(ApiKey.AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: 'raw-b',
      v3AndBelowProducerId: pid,
      v3AndBelowProducerEpoch: epoch,
      v3AndBelowTopics: [
        { name: 'raw-txn', partitions: [0, 7] },
      ],
    });
    assert.deepEqual(
      mixed.resultsByTopicV3AndBelow[0].resultsByPartition.map((p: any) => p.partitionErrorCode),
      [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    assert.equal((await describeTxn('raw-b')).transactionState, 'Empty', 'nothing was half-applied');
    assert.equal(await endTxn('raw-b', pid, epoch, true), ErrorCode.INVALID_TXN_STATE, 'EndTxn without a transaction');
    // KIP-890: a transactional write to a partition not in the transaction is refused
    assert.equal(await produceTxn('raw-b', pid, epoch, 'raw-txn', 0), ErrorCode.INVALID_TXN_STATE);
    assert.deepEqual(await addPartitions('raw-b', pid, epoch, 'raw-txn', [0]), [ErrorCode.NONE]);
    assert.equal(await produceTxn('raw-b', pid, epoch, 'raw-txn', 0), ErrorCode.NONE);
    assert.equal(await produceTxn('raw-b', pid, epoch, 'raw-txn', 1), ErrorCode.INVALID_TXN_STATE, 'partition 1 was not added');
    // TxnOffsetCommit for a group whose offsets partition was never added
    const tc = await call(ApiKey.TxnOffsetCommit, 3, {
      transactionalId: 'raw-b',
      groupId: 'raw-group',
      producerId: pid,
      producerEpoch: epoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'raw-txn', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    });
    assert.equal(tc.topics[0].partitions[0].errorCode, ErrorCode.INVALID_TXN_STATE);
    const ongoing = await describeTxn('raw-b');
    assert.equal(ongoing.transactionState, 'Ongoing');
    assert.deepEqual(ongoing.topics, [{ topic: 'raw-txn', partitions: [0] }]);
    // the open transaction pins the last stable offset
    const log = broker.broker.replicas.get('raw-txn', 0)!.log;
    assert.equal(log.lastStableOffset, 0);
    assert.equal(log.highWatermark, 1);
    // concurrent EndTxn: one commits, the other is told to retry or sees the retry succeed
    const codes = await Promise.all([endTxn('raw-b', pid, epoch, true), endTxn('raw-b', pid, epoch, true)]);
    assert.ok(codes.includes(ErrorCode.NONE), JSON.stringify(codes));
    for (const c of codes) assert.ok(c === ErrorCode.NONE || c === ErrorCode.CONCURRENT_TRANSACTIONS, JSON.stringify(codes));
    assert.equal(await endTxn('raw-b', pid, epoch, false), ErrorCode.INVALID_TXN_STATE, 'abort after commit');
    assert.equal((await describeTxn('raw-b')).transactionState, 'CompleteCommit');
    assert.equal(log.lastStableOffset, 2, 'record + commit marker');
    assert.equal((await describeTxn('raw-nobody')).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  it('a transaction past its timeout is aborted and its producer fenced', async () => {
    const { producerId: pid, producerEpoch: epoch } = await initPid('raw-timeout', 300);
    assert.deepEqual(await addPartitions('raw-timeout', pid, epoch, 'raw-txn', [1]), [ErrorCode.NONE]);
    assert.equal(await produceTxn('raw-timeout', pid, epoch, 'raw-txn', 1), ErrorCode.NONE);
    const log = broker.broker.replicas.get('raw-txn', 1)!.log;
    const deadline = Date.now() + 10_000;
    while ((await describeTxn('raw-timeout')).transactionState !== 'CompleteAbort') {
      assert.ok(Date.now() < deadline, 'the coordinator did not abort the timed-out transaction');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(log.lastStableOffset, log.highWatermark, 'read_committed moves past the aborted transaction');
    assert.deepEqual(log.abortedTransactions(0, log.highWatermark), [{ producerId: pid, firstOffset: 0 }]);
    assert.equal(await endTxn('raw-timeout', pid, epoch, true), ErrorCode.PRODUCER_FENCED);
    assert.equal(await produceTxn('raw-timeout', pid, epoch, 'raw-txn', 1, 1), ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('ListTransactions filters by state, producer id and duration', async () => {
    const { producerId: pid, producerEpoch: epoch } = await initPid('raw-list');
    assert.deepEqual(await addPartitions('raw-list', pid, epoch, 'raw-txn', [0]), [ErrorCode.NONE]);
    const ongoing = await call(ApiKey.ListTransactions, 1, { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [], durationFilter: -1 });
    assert.deepEqual(ongoing.unknownStateFilters, ['Bogus']);
    assert.deepEqual(
      ongoing.transactionStates.map((t: any) => t.transactionalId),
      ['raw-list'],
    );
    const byPid = await call(ApiKey.ListTransactions, 1, { stateFilters: [], producerIdFilters: [pid], durationFilter: -1 });
    assert.deepEqual(byPid.transactionStates, [{ transactionalId: 'raw-list', producerId: pid, transactionState: 'Ongoing' }]);
    const longRunning = await call(ApiKey.ListTransactions, 1, { stateFilters: [], producerIdFilters: [], durationFilter: 3_600_000 });
    assert.deepEqual(longRunning.transactionStates, []);
    const all = await call(ApiKey.ListTransactions, 0, { stateFilters: [], producerIdFilters: [] });
    assert.ok(all.transactionStates.length >= 4);
    // DescribeProducers shows the open transaction's first offset
    const start = broker.broker.replicas.get('raw-txn', 0)!.log.logEndOffset;
    assert.equal(await produceTxn('raw-list', pid, epoch, 'raw-txn', 0), ErrorCode.NONE);
    const dp = await call(ApiKey.DescribeProducers, 0, { topics: [{ name: 'raw-txn', partitionIndexes: [0] }] });
    const mine = dp.topics[0].partitions[0].activeProducers.find((p: any) => p.producerId === pid);
    assert.equal(mine?.currentTxnStartOffset, start);
    assert.equal(await endTxn('raw-list', pid, epoch, false), ErrorCode.NONE);
  });
});

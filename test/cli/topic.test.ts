// fjord topic / config / cluster commands against a real suite.broker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ok, suiteBroker } from './run.js';

describe('fjord topic, config, cluster', { timeout: 90_000 }, () => {
  const suite = suiteBroker();
  const b = suite.b;

  it('creates, lists, describes and deletes a topic (human and --json)', async () => {
    const created = await ok(['topic', 'create', 'orders', '-p', '3', '-r', '1', '--config', 'retention.ms=3600000', ...b]);
    assert.match(created, /created topic "orders" with 3 partition\(s\), replication factor 1/);
    const createdJson = JSON.parse(await ok(['topic', 'create', 'audit', '--json', ...b]));
    assert.equal(createdJson.name, 'audit');
    assert.equal(typeof createdJson.id, 'string');
    assert.equal(typeof createdJson.partitions, 'number');

    // Global flags before the command name work too.
    const listed = JSON.parse(await ok([...b, '--json', 'topic', 'list']));
    assert.deepEqual(listed, [
      { name: 'audit', partitions: createdJson.partitions, replicationFactor: 1 },
      { name: 'orders', partitions: 3, replicationFactor: 1 },
    ]);
    const table = await ok(['topic', 'list', ...b]);
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /^TOPIC\s+PARTITIONS\s+REPLICAS$/);
    assert.match(lines[2]!, /^orders\s+3\s+1$/);

    await ok(['produce', 'orders', '--partition', '1', ...b], { input: 'a\nb\n' });
    const d = JSON.parse(await ok(['topic', 'describe', 'orders', '--json', ...b]));
    assert.deepEqual(Object.keys(d), ['name', 'id', 'partitionCount', 'replicationFactor', 'configs', 'partitions']);
    assert.equal(d.partitionCount, 3);
    assert.deepEqual(d.configs, { 'retention.ms': '3600000' });
    assert.deepEqual(d.partitions[1], {
      partition: 1,
      leader: 0,
      leaderEpoch: d.partitions[1].leaderEpoch,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
      lowOffset: 0,
      highOffset: 2,
    });
    const human = await ok(['topic', 'describe', 'orders', ...b]);
    assert.match(human, /configs\s+retention\.ms=3600000/);
    // PARTITION LEADER EPOCH REPLICAS ISR OFFLINE(empty) LOW HIGH MESSAGES
    assert.match(human, /^PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+OFFLINE\s+LOW\s+HIGH\s+MESSAGES$/m);
    assert.match(human, /^1\s+0\s+\d+\s+0\s+0\s+0\s+2\s+2$/m);

    assert.match(await ok(['topic', 'delete', 'audit', ...b]), /deleted topic "audit"/);
    const after = JSON.parse(await ok(['topic', 'list', '--json', ...b]));
    assert.deepEqual(after.map((t: { name: string }) => t.name), ['orders']);
  });

  it('adds partitions', async () => {
    await ok(['topic', 'create', 'grow', '-p', '1', ...b]);
    assert.match(await ok(['topic', 'add-partitions', 'grow', '--count', '4', ...b]), /now has 4 partitions/);
    const d = JSON.parse(await ok(['topic', 'describe', 'grow', '--json', ...b]));
    assert.equal(d.partitionCount, 4);
  });

  it('round-trips topic configs with config set/get and topic alter-config', async () => {
    await ok(['topic', 'create', 'cfg', ...b]);
    assert.match(await ok(['config', 'set', '--topic', 'cfg', 'retention.ms=12345', 'cleanup.policy=compact', ...b]), /updated topic "cfg"/);
    assert.equal((await ok(['config', 'get', '--topic', 'cfg', 'retention.ms', ...b])).trim(), '12345');
    const one = JSON.parse(await ok(['config', 'get', '--topic', 'cfg', 'cleanup.policy', '--json', ...b]));
    assert.deepEqual(one, { name: 'cleanup.policy', value: 'compact', source: 'DYNAMIC_TOPIC_CONFIG', readOnly: false, sensitive: false });
    const all = JSON.parse(await ok(['config', 'get', '--topic', 'cfg', '--json', ...b]));
    assert.ok(all.find((c: { name: string; source: string }) => c.name === 'segment.bytes' && c.source === 'DEFAULT_CONFIG'));

    await ok(['topic', 'alter-config', 'cfg', '--set', 'retention.ms=999', '--delete', 'cleanup.policy', ...b]);
    const d = JSON.parse(await ok(['topic', 'describe', 'cfg', '--json', ...b]));
    assert.deepEqual(d.configs, { 'retention.ms': '999' });
    assert.equal((await ok(['config', 'get', '--topic', 'cfg', 'cleanup.policy', ...b])).trim(), 'delete');

    const brokerCfg = await ok(['config', 'get', '--broker', '0', ...b]);
    assert.match(brokerCfg, /^NAME\s+VALUE\s+SOURCE$/m);
    assert.match(brokerCfg, /^num\.partitions\s+\d+/m);
  });

  it('shows cluster info', async () => {
    const info = JSON.parse(await ok(['cluster', 'info', '--json', ...b]));
    assert.deepEqual(Object.keys(info), ['clusterId', 'controllerId', 'brokers', 'topics', 'partitions', 'underReplicated', 'offline']);
    assert.equal(info.controllerId, 0);
    // A single node leads every partition; none can be under-replicated or offline.
    assert.deepEqual(info.brokers, [{ id: 0, host: '127.0.0.1', port: suite.broker.port, rack: null, leaderPartitions: info.partitions }]);
    assert.deepEqual([info.underReplicated, info.offline], [[], []]);
    const human = await ok(['cluster', 'info', ...b]);
    assert.match(human, new RegExp(`cluster id\\s+${info.clusterId}`));
    assert.match(human, new RegExp(`^0\\s+127\\.0\\.0\\.1\\s+${suite.broker.port}\\s+-\\s+${info.partitions}\\s+yes$`, 'm'));
    assert.match(human, /0 under-replicated, 0 offline/);
    // FJORD_BOOTSTRAP stands in for -b.
    const viaEnv = JSON.parse(await ok(['cluster', 'info', '--json'], { env: { FJORD_BOOTSTRAP: suite.broker.bootstrap } }));
    assert.equal(viaEnv.clusterId, info.clusterId);
  });

  it('prints help', async () => {
    const top = await ok(['--help']);
    for (const c of ['topic', 'produce', 'consume', 'group', 'config', 'cluster', 'records', 'dev', 'broker']) assert.match(top, new RegExp(`^  ${c} `, 'm'));
    assert.match(await ok(['consume', '--help']), /--from-beginning/);
    assert.match(await ok(['topic', '--help']), /add-partitions/);
  });
});

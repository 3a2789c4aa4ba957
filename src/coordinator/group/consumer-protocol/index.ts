// Entry point of the consumer-protocol (KIP-848) group support: one ConsumerGroupService per broker.
//
// With the GroupCoordinator (`broker.groups`), consumer groups live in its shared group map, are
// persisted to `__consumer_offsets` (ConsumerGroup* records, key versions 3..8) and replayed at
// startup: importing this module registers an installer that every GroupCoordinator runs.
// Without a coordinator (standalone use) the service keeps its groups in memory.
import type { Broker } from '../../../broker/broker.js';
import type { GroupCoordinator } from '../coordinator.js';
import { groupTypeInstallers } from '../group.js';
import { ConsumerGroup } from './consumer-group.js';
import { CONSUMER_GROUP_KEY_VERSIONS, ConsumerGroupRecordWriter, replayRecord } from './records.js';
import { ConsumerGroupService, settingsFromConfig, topicViewOf } from './service.js';

export { ConsumerGroup, ConsumerGroupError, ConsumerGroupMember } from './consumer-group.js';
export { ConsumerGroupService, LocalGroupRegistry, validateHeartbeat } from './service.js';
export { rangeAssignor, uniformAssignor, resolveAssignors, type ServerAssignor } from './assignors.js';

const services = new WeakMap<Broker, ConsumerGroupService>();

function install(coordinator: GroupCoordinator): void {
  const broker = coordinator.broker;
  const writer = new ConsumerGroupRecordWriter(
    (groupId, records) => coordinator.appendRecords(groupId, records),
    (msg) => broker.log(msg),
  );
  const service = new ConsumerGroupService({
    settings: settingsFromConfig(broker.config),
    topics: topicViewOf(broker.metadata),
    registry: coordinator,
    listener: writer,
    flush: (groupId) => writer.flush(groupId),
  });
  services.set(broker, service);
  coordinator.registerReplayer(CONSUMER_GROUP_KEY_VERSIONS, (keyVersion, key, value) => {
    replayRecord(
      keyVersion,
      key,
      value,
      (groupId) => service.group(groupId) ?? service.newGroup(groupId),
      (groupId) => {
        const g = service.group(groupId);
        if (!g) return;
        g.close();
        coordinator.removeGroup(groupId);
      },
    );
  });
  coordinator.onLoaded(() => {
    for (const g of coordinator.allGroups()) if (g instanceof ConsumerGroup) g.finishRestore();
  });
}

groupTypeInstallers.push(install);

/** The broker's consumer-group service (the coordinator's, else an in-memory one created on first use). */
export function consumerGroupsOf(broker: Broker): ConsumerGroupService {
  let s = services.get(broker);
  if (!s) {
    s = new ConsumerGroupService({ settings: settingsFromConfig(broker.config), topics: topicViewOf(broker.metadata) });
    services.set(broker, s);
  }
  return s;
}

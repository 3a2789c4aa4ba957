// The consumer-protocol (KIP-848) group support. The GroupCoordinator owns one
// ConsumerGroupService (`groups.consumerGroups`): consumer groups live in its shared group map,
// are persisted to `__consumer_offsets` (ConsumerGroup* records, key versions 3..8) and replayed
// when a partition loads. Without a coordinator (standalone use) a service keeps its groups in memory.
export { ConsumerGroup, ConsumerGroupError, ConsumerGroupMember } from './consumer-group.js';
export { ConsumerGroupService, LocalGroupRegistry, validateHeartbeat } from './service.js';
export { rangeAssignor, uniformAssignor, resolveAssignors, type ServerAssignor } from './assignors.js';

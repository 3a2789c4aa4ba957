// Share groups (KIP-932). The GroupCoordinator owns one ShareGroupService
// (`groups.shareGroups`): share groups live in its group map with their epoch in
// __consumer_offsets (ShareGroupMetadata records), while the share-partition state (what is
// acquired, acknowledged, archived) lives in __share_group_state through its own coordinator runtime.
export { ShareGroupService, shareSettingsFromConfig, type ShareGroupDeps, type ShareGroupRegistry } from './service.js';
export { ShareGroup, SHARE_GROUP_METADATA_KEY_TYPE } from './share-group.js';
export { SharePartition } from './share-partition.js';

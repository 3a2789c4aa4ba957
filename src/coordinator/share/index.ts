// Entry point of share groups (KIP-932): one ShareGroupService per broker, installed into every
// GroupCoordinator (share groups share its group map and __consumer_offsets, where their
// ShareGroupMetadata records live); share-partition state lives in __share_group_state.
import type { Broker } from '../../broker/broker.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import { groupTypeInstallers } from '../group/group.js';
import { ShareGroupService, shareSettingsFromConfig } from './service.js';
import { SHARE_GROUP_METADATA_KEY_TYPE } from './share-group.js';

export { ShareGroupService } from './service.js';
export { ShareGroup } from './share-group.js';

const services = new WeakMap<Broker, ShareGroupService>();

function install(coordinator: GroupCoordinator): void {
  const broker = coordinator.broker;
  const service = new ShareGroupService(broker, coordinator, shareSettingsFromConfig(broker.config));
  services.set(broker, service);
  coordinator.registerReplayer([SHARE_GROUP_METADATA_KEY_TYPE], (_v, key, value) => {
    try {
      service.replay(key, value);
    } catch (err) {
      broker.log(`__consumer_offsets: skipping undecodable share group record: ${(err as Error).message}`);
    }
  });
  coordinator.onLoaded(() => service.startLoading());
}

groupTypeInstallers.push(install);

/** The broker's share-group service (created with its GroupCoordinator). */
export function shareGroupsOf(broker: Broker): ShareGroupService {
  const s = services.get(broker);
  if (!s) throw new Error('share groups: the group coordinator of this broker was not created');
  return s;
}

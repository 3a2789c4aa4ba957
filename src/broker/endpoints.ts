// Brokers as a client on one listener must see them: Kafka answers Metadata, DescribeCluster and
// FindCoordinator with the endpoints of the listener the request arrived on.
import { endpointFor, type MetadataStore } from '../cluster/metadata-store.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export function brokerEndpoints(metadata: Pick<MetadataStore, 'brokers'>, listenerName: string): BrokerEndpoint[] {
  const out: BrokerEndpoint[] = [];
  for (const b of metadata.brokers()) {
    const e = endpointFor(b, listenerName);
    if (e) out.push({ nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack });
  }
  return out;
}

/**
 * The controller id Metadata and DescribeCluster report: the elected controller, or while there is
 * none (an election under way) this broker. Every Fjord broker serves admin requests itself through
 * the metadata store, as Kafka 4 brokers forward them, so a client that sends CreateTopics to "the
 * controller" (kafkajs) is always answered; -1 would make it fail with "Broker -1 not found".
 */
export function reportedControllerId(metadata: Pick<MetadataStore, 'controllerId'>, selfNodeId: number): number {
  const elected = metadata.controllerId();
  return elected >= 0 ? elected : selfNodeId;
}

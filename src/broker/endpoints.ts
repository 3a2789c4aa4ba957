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

// The shape of an API handler: decoded request in, response object out. Handlers are thin;
// state lives in the services reached through the context. The context exposes the broker as
// BrokerServices: interfaces of what handlers use, one set per broker (no module-global state),
// never the Broker class itself.
import type { SchemaValidator } from './schema-validation.js';
import type { ClusterController } from '../cluster/controller.js';
import type { MetadataStore } from '../cluster/metadata-store.js';
import type { InterBrokerClients } from '../cluster/broker-client.js';
import type { ReplicaManager } from '../cluster/replica-manager.js';
import type { GroupCoordinator } from '../coordinator/group/coordinator.js';
import type { CoordinatorLocator } from '../coordinator/runtime/runtime.js';
import type { Connection } from '../net/connection.js';
import type { LogManager } from '../storage/index.js';
import type { ConfigAdmin } from '../config/config-admin.js';
import type { BrokerConfig } from '../config/config.js';
import type { ProducerIdManager } from './producer-ids.js';
import type { ClientQuotas } from './quotas.js';
import type { QuotaManager } from '../security/quota-manager.js';
import type { SecurityManager } from '../security/security-manager.js';
import type { TopicAdmin } from './topic-admin.js';
import type { BrokerLoggers } from './logging.js';
import type { TransactionCoordinator } from '../coordinator/transaction/coordinator.js';
import type { TxnOffsetStore } from '../coordinator/transaction/txn-offsets.js';

/** What handlers may use of their broker. */
export interface BrokerServices {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly config: BrokerConfig;
  readonly metadata: Pick<MetadataStore, 'brokers' | 'controllerId' | 'partitionState' | 'topic' | 'topicById' | 'topics'>;
  readonly replicas: Pick<ReplicaManager, 'get' | 'all' | 'waitForAppend' | 'leaderQuota'>;
  readonly logs: Pick<LogManager, 'checkpointRecoveryPoints'>;
  readonly topics: Pick<TopicAdmin, 'create' | 'autoCreate' | 'delete' | 'plan' | 'addPartitions'>;
  readonly groups: GroupCoordinator;
  /** Transaction coordinator (transactional ids, __transaction_state, markers). */
  readonly transactions: TransactionCoordinator;
  /** Offsets committed inside transactions, pending until their marker. */
  readonly txnOffsets: TxnOffsetStore;
  /** FindCoordinator resolvers by key type (0 group, 1 transaction, 2 share); each broker has its own. */
  readonly coordinators: ReadonlyMap<number, CoordinatorLocator>;
  /** Topics only the broker writes (Produce refuses them). */
  readonly internalTopics: { isInternal(topic: string): boolean };
  readonly configAdmin: ConfigAdmin;
  /** Broker-side schema validation of produced records (topics with confluent.*.schema.validation). */
  readonly schemaValidator: SchemaValidator;
  readonly quotas: Pick<ClientQuotas, 'describe' | 'alter'>;
  readonly producerIds: Pick<ProducerIdManager, 'allocate'>;
  readonly handlers: ReadonlyMap<number, Handler>;
  /** Requests to other brokers (a cluster's transaction verification); absent in some tests. */
  readonly interBroker?: Pick<InterBrokerClients, 'request'>;
  /** Authentication state, credentials and the ACL authorizer. */
  readonly security: SecurityManager;
  /** Client byte-rate quotas, enforced. */
  readonly quotaManager: Pick<QuotaManager, 'record' | 'requestQuotasPresent' | 'recordRequestTime'>;
  /** Leveled loggers (handlers warn about deprecated input, e.g. removed topic configs). */
  readonly loggers: Pick<BrokerLoggers, 'warn'>;
  /** The cluster controller logic (etcd clusters only): ElectLeaders, reassignments. */
  readonly controller?: Pick<ClusterController, 'elect' | 'eligibleBrokers' | 'reassign'>;
}

export interface RequestContext {
  readonly broker: BrokerServices;
  readonly apiVersion: number;
  readonly clientId: string | null;
  readonly correlationId: number;
  readonly connection: Connection;
  /** Set by a handler whose response holds pooled buffers: called once the response is written. */
  onResponseWritten?: () => void;
}

export interface Handler<Req = any, Res = any> {
  readonly apiKey: number;
  /** Lowest and highest version Fjord serves (advertised in ApiVersions). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Returns the response, or null for "send nothing" (Produce with acks=0). */
  handle(request: Req, ctx: RequestContext): Promise<Res | null> | Res | null;
}

export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res> {
  return h;
}

// Placeholder replaced below.
import type { FastifyInstance } from 'fastify';
import type { KafkaAccess } from '../http/kafka.js';
export class RestProxy {
  constructor(readonly options: { kafka: KafkaAccess; registryUrl?: string; consumerInstanceTimeoutMs?: number }) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}
export async function restProxyPlugin(_app: FastifyInstance, _opts: { proxy: RestProxy }): Promise<void> {}

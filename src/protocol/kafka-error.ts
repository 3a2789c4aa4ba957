// An error that carries the Kafka error code a client understands, plus a message for humans.
// Lives beside the error table so every layer (storage, cluster, coordinator, broker) can throw it.
export class KafkaError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'KafkaError';
  }
}

/** The Kafka error code of any thrown value (storage, config and admin errors carry one). */
export function errorCodeOf(err: unknown, fallback = -1): number {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'number') {
    return (err as { code: number }).code;
  }
  return fallback;
}

// Producer id allocation for idempotent producers: ids come from blocks reserved in the
// metadata store, so ids are never reused across restarts (or, later, across brokers).
import type { MetadataStore } from '../cluster/metadata-store.js';

const BLOCK_SIZE = 1000;

export class ProducerIdManager {
  private next = 0;
  private end = 0;
  private pending: Promise<void> | null = null;

  constructor(private readonly metadata: MetadataStore) {}

  async allocate(): Promise<number> {
    while (this.next >= this.end) {
      if (!this.pending) {
        this.pending = this.metadata.allocateProducerIdBlock(BLOCK_SIZE).then((first) => {
          this.next = first;
          this.end = first + BLOCK_SIZE;
          this.pending = null;
        });
      }
      await this.pending;
    }
    return this.next++;
  }
}

// `<offset>.snapshot` files of a partition: producer state as of an offset, written at rolls and
// clean shutdown, read at load to skip replaying the whole log.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { offsetFileName, parseOffsetFileName, readFileOrUndefined, writeFileAtomic } from './files.js';

export class ProducerSnapshots {
  constructor(private readonly dir: string) {}

  private file(offset: number): string {
    return path.join(this.dir, offsetFileName(offset, '.snapshot'));
  }

  /** Offsets of the snapshots on disk, oldest first. */
  async list(): Promise<number[]> {
    const out: number[] = [];
    for (const n of await fsp.readdir(this.dir)) {
      const s = parseOffsetFileName(n, '.snapshot');
      if (s !== undefined) out.push(s);
    }
    return out.sort((a, b) => a - b);
  }

  read(offset: number): Promise<Buffer | undefined> {
    return readFileOrUndefined(this.file(offset));
  }

  write(offset: number, state: Buffer): Promise<void> {
    return writeFileAtomic(this.file(offset), state);
  }

  remove(offset: number): Promise<void> {
    return fsp.rm(this.file(offset), { force: true });
  }

  /** Removes snapshots past `offset` (a truncated log must not restore state from beyond its end). */
  async removeAbove(offset: number): Promise<void> {
    for (const s of await this.list()) if (s > offset) await this.remove(s);
  }

  /** Keeps snapshots at or after the first segment's base, and at most the latest 2. */
  async prune(firstSegmentBase: number): Promise<void> {
    const snaps = await this.list();
    for (let i = 0; i < snaps.length; i++) {
      if (i < snaps.length - 2 || snaps[i]! < firstSegmentBase) await this.remove(snaps[i]!);
    }
  }
}

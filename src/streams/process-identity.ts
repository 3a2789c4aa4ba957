// The identity of a Streams instance, persisted in its state directory as Kafka Streams does
// (`kafka-streams-process-metadata`). Exactly-once producers use it in their transactional id, so
// an instance restarted on the same state directory fences its crashed predecessor and aborts
// that one's open transaction at once instead of after the transaction timeout.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessIdentity {
  processId: string;
  /** Gives the state directory up (close, or a simulated crash). */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `appDir` through a lock file holding this process's pid. A directory held by a live
 * process (another one, or another instance in this one) cannot be shared: this instance then
 * runs under a fresh, unpersisted id, as before there was a state directory.
 */
export function acquireProcessIdentity(appDir: string): ProcessIdentity {
  mkdirSync(appDir, { recursive: true });
  const lock = join(appDir, '.lock');
  let holder: number | undefined;
  try {
    holder = Number(readFileSync(lock, 'utf8').trim());
  } catch {
    // no lock: free
  }
  if (holder !== undefined && Number.isInteger(holder) && holder > 0 && alive(holder)) {
    return { processId: randomUUID(), release: () => {} };
  }
  writeFileSync(lock, String(process.pid));
  const metadataFile = join(appDir, 'kafka-streams-process-metadata');
  let processId: string | undefined;
  try {
    processId = (JSON.parse(readFileSync(metadataFile, 'utf8')) as { processId?: string }).processId;
  } catch {
    // first start in this directory, or an unreadable file: a new identity
  }
  if (!processId) {
    processId = randomUUID();
    writeFileSync(metadataFile, JSON.stringify({ processId }));
  }
  let released = false;
  return {
    processId,
    release: () => {
      if (released) return;
      released = true;
      try {
        unlinkSync(lock);
      } catch {
        // already gone (state cleaned up)
      }
    },
  };
}

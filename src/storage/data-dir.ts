// Ownership of a data dir: one process at a time (`.lock`, like Kafka's), and meta.properties
// tying the dir to one cluster id and node id.
//
// Node has no flock(), so the lock is a file created with O_EXCL holding the owner's pid and
// process start time. A lock whose owner is gone (kill -9, power loss) — or whose pid now
// belongs to a different process, told apart by its start time — is stale and taken over.
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

const LOCK_FILE = '.lock';
const META_PROPERTIES = 'meta.properties';

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or null when unknown. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockOwner {
  pid: number;
  startTime: string | null;
  host: string;
  since: string;
}

function parseOwner(text: string): LockOwner | null {
  const m: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m[line.slice(0, i)] = line.slice(i + 1);
  }
  const pid = Number(m.pid);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, startTime: m.start ?? null, host: m.host ?? '', since: m.since ?? '' };
}

export class DataDirLock {
  private released = false;

  private constructor(readonly file: string, private readonly content: string) {}

  /** Takes the lock of `dir` or throws DataDirError naming the process that holds it. */
  static async acquire(dir: string): Promise<DataDirLock> {
    const file = path.join(dir, LOCK_FILE);
    const content = `pid=${process.pid}\nstart=${processStartTime(process.pid) ?? ''}\nhost=${process.env.HOSTNAME ?? ''}\nsince=${new Date().toISOString()}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await fsp.open(file, 'wx');
        try {
          await fh.writeFile(content);
        } finally {
          await fh.close();
        }
        return new DataDirLock(file, content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let text = '';
      try {
        text = await fsp.readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw err;
      }
      const owner = parseOwner(text);
      if (owner && isAlive(owner.pid)) {
        const start = processStartTime(owner.pid);
        const samePid = owner.startTime === null || owner.startTime === '' || start === null || start === owner.startTime;
        if (samePid) {
          const who = owner.pid === process.pid ? 'this process (another broker in it)' : `process ${owner.pid}`;
          throw new DataDirError(
            `Data dir ${dir} is in use by ${who} since ${owner.since || 'an unknown time'} (lock file ${file}). ` +
              'Only one broker may use a data dir; stop the other one or choose another --data-dir.',
          );
        }
      }
      // Stale: the owner is gone (or its pid was reused). Take it over.
      await fsp.rm(file, { force: true });
    }
    throw new DataDirError(`Could not take the lock ${file}: it keeps changing hands.`);
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      if ((await fsp.readFile(this.file, 'utf8')) === this.content) await fsp.rm(this.file, { force: true });
    } catch {
      // gone already
    }
  }
}

/**
 * Checks meta.properties against the broker's cluster id and node id, as Kafka does, and
 * writes it when missing. A data dir from another cluster or node is refused.
 */
export async function ensureMetaProperties(dir: string, clusterId: string, nodeId: number): Promise<void> {
  const file = path.join(dir, META_PROPERTIES);
  let text: string | null = null;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const props: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      const i = t.indexOf('=');
      if (i > 0) props[t.slice(0, i).trim()] = t.slice(i + 1).trim();
    }
    if (props['cluster.id'] !== undefined && props['cluster.id'] !== clusterId) {
      throw new DataDirError(
        `Invalid cluster.id in ${file}: expected ${clusterId}, but read ${props['cluster.id']}. ` +
          'The data dir belongs to another cluster.',
      );
    }
    const stored = props['node.id'] ?? props['broker.id'];
    if (stored !== undefined && Number(stored) !== nodeId) {
      throw new DataDirError(
        `Stored node id ${stored} doesn't match the configured node id ${nodeId} in ${file}. ` +
          'If you moved your data, make sure your configured node id matches. If you intend to create a new node, remove all data in its data dir.',
      );
    }
    if (props['cluster.id'] !== undefined && stored !== undefined) return;
  }
  const content = `#\n#${new Date().toString()}\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`;
  const tmp = `${file}.tmp`;
  await fsp.writeFile(tmp, content);
  await fsp.rename(tmp, file);
}

// Durable security state: ACL bindings and SCRAM credentials. A single broker keeps them in one
// JSON file in the data dir, written atomically (temp file, fsync, rename, fsync dir) before
// memory changes; a cluster keeps them in its metadata store (etcd), shared by every broker, each
// of which refreshes on the store's 'security-updated' change.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AclBinding } from './acl.js';
import type { ScramCredential, ScramMechanism } from './scram.js';

interface StoredCredential {
  mechanism: ScramMechanism;
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export interface StoredSecurityState {
  version: 1;
  acls: AclBinding[];
  scram: Record<string, StoredCredential[]>;
}

const SECURITY_FILE = 'fjord-security.json';

/** Where a cluster keeps the state (the metadata store); `get` is the last applied document. */
export interface SharedSecurityState {
  get(): StoredSecurityState | undefined;
  put(next: StoredSecurityState): Promise<void>;
}

export class SecurityStore {
  private state: StoredSecurityState = { version: 1, acls: [], scram: {} };
  private writeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataDir: string,
    private readonly shared?: SharedSecurityState,
  ) {}

  /** The shared document changed (another broker wrote it): take it. */
  refresh(): void {
    const next = this.shared?.get();
    if (next) this.state = next;
  }

  async load(): Promise<void> {
    if (this.shared) {
      this.refresh();
      return;
    }
    let text: string | undefined;
    try {
      text = await readFile(join(this.dataDir, SECURITY_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as StoredSecurityState;
      if (parsed.version !== 1) throw new Error(`unsupported ${SECURITY_FILE} version ${parsed.version}`);
      this.state = parsed;
    }
  }

  acls(): AclBinding[] {
    return this.state.acls.slice();
  }

  async replaceAcls(acls: AclBinding[]): Promise<void> {
    await this.persist({ ...this.state, acls });
  }

  users(): string[] {
    return Object.keys(this.state.scram).sort();
  }

  credentials(user: string): ScramCredential[] {
    return (this.state.scram[user] ?? []).map((c) => ({
      mechanism: c.mechanism,
      salt: Buffer.from(c.salt, 'base64'),
      iterations: c.iterations,
      storedKey: Buffer.from(c.storedKey, 'base64'),
      serverKey: Buffer.from(c.serverKey, 'base64'),
    }));
  }

  credential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.credentials(user).find((c) => c.mechanism === mechanism);
  }

  /** Applies upserts and deletions in one durable write. */
  async alterCredentials(upserts: { user: string; credential: ScramCredential }[], deletions: { user: string; mechanism: ScramMechanism }[]): Promise<void> {
    const scram: Record<string, StoredCredential[]> = {};
    for (const [u, list] of Object.entries(this.state.scram)) scram[u] = list.slice();
    for (const d of deletions) {
      scram[d.user] = (scram[d.user] ?? []).filter((c) => c.mechanism !== d.mechanism);
      if (scram[d.user]!.length === 0) delete scram[d.user];
    }
    for (const { user, credential: c } of upserts) {
      const list = (scram[user] ?? []).filter((x) => x.mechanism !== c.mechanism);
      list.push({
        mechanism: c.mechanism,
        salt: c.salt.toString('base64'),
        iterations: c.iterations,
        storedKey: c.storedKey.toString('base64'),
        serverKey: c.serverKey.toString('base64'),
      });
      scram[user] = list;
    }
    await this.persist({ ...this.state, scram });
  }

  private persist(next: StoredSecurityState): Promise<void> {
    const run = this.writeChain.then(async () => {
      if (this.shared) {
        await this.shared.put(next);
        this.state = next;
        return;
      }
      await mkdir(this.dataDir, { recursive: true });
      const path = join(this.dataDir, SECURITY_FILE);
      const tmp = `${path}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(next));
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      const dir = await open(this.dataDir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.state = next;
    });
    this.writeChain = run.catch(() => {});
    return run;
  }
}

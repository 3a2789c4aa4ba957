// Broker-wide connection limits with Kafka's names, shared by every listener:
//   max.connections           connections across all listeners; more are closed on accept
//   max.connections.per.ip    connections from one address; more are closed on accept
//   connections.max.idle.ms   connections with no traffic and no request in flight are closed
//   queued.max.request.bytes  bytes of requests read but not yet answered; while above it,
//                             every connection stops reading (TCP back-pressure) until it drains
export interface ConnectionQuotaSettings {
  maxConnections: number;
  maxConnectionsPerIp: number;
  connectionsMaxIdleMs: number;
  /** -1 or 0: no limit. */
  queuedMaxRequestBytes: number;
}

export class ConnectionQuotas {
  /** Per-IP connection creation rate (connection_creation_rate quotas); set by the broker. */
  connectionRate: ((ip: string) => string | null) | undefined;

  private total = 0;
  private readonly perIp = new Map<string, number>();
  /** Bytes of request frames being processed, across all connections. */
  queuedRequestBytes = 0;
  private readonly waiting = new Set<() => void>();

  constructor(public settings: ConnectionQuotaSettings) {}

  get connectionCount(): number {
    return this.total;
  }

  /** Counts a new connection; returns why it must be refused, or null. */
  tryAccept(ip: string): string | null {
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.total >= this.settings.maxConnections) return `max.connections (${this.settings.maxConnections}) reached`;
    if (fromIp >= this.settings.maxConnectionsPerIp) return `max.connections.per.ip (${this.settings.maxConnectionsPerIp}) reached for ${ip}`;
    const overRate = this.connectionRate?.(ip);
    if (overRate) return overRate;
    this.total++;
    this.perIp.set(ip, fromIp + 1);
    return null;
  }

  release(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** True while reading more requests would exceed queued.max.request.bytes. */
  get queueFull(): boolean {
    const max = this.settings.queuedMaxRequestBytes;
    return max > 0 && this.queuedRequestBytes >= max;
  }

  addQueued(bytes: number): void {
    this.queuedRequestBytes += bytes;
  }

  removeQueued(bytes: number): void {
    const wasFull = this.queueFull;
    this.queuedRequestBytes -= bytes;
    if (wasFull && !this.queueFull) {
      const ws = [...this.waiting];
      this.waiting.clear();
      for (const w of ws) w();
    }
  }

  /** Calls `resume` once the queue has room again. */
  whenRoom(resume: () => void): void {
    this.waiting.add(resume);
  }

  forget(resume: () => void): void {
    this.waiting.delete(resume);
  }
}

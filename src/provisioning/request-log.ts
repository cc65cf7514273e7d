// What the provisioning server answered (issue 14 item 2 "request log per
// device"): each device's last request, persisted on the device, and a
// bounded ring of recent requests, unknown devices and failures included.
// Failures are logged once per source per interval, with how many went
// unlogged; the device writes are coalesced and a failed one never fails a
// fetch.
import type { Logger } from '../lib/log.ts';
import type { DeviceFetch, DeviceRepository } from '../store/types.ts';

export interface ProvisioningRequest extends DeviceFetch {
  /** The device it was for when known (authenticated, or the MAC it claimed). */
  mac: string | null;
  method: string;
}

export interface RequestLogOptions {
  devices: Pick<DeviceRepository, 'recordFetches'>;
  log: Logger;
  now: () => number;
  /** Entries kept in memory; default 500. */
  size?: number;
  /** One warning per source this often; default 60 s. */
  logIntervalMs?: number;
  /** How often last fetches are written; default 1 s. */
  flushMs?: number;
}

/** Sources whose failures are being counted at once; a flood of addresses starts the table afresh. */
const MAX_SOURCES = 10_000;

export class RequestLog {
  private readonly ring: (ProvisioningRequest | undefined)[];
  private next = 0;
  private pending = new Map<string, DeviceFetch>();
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly lastWarned = new Map<string, { at: number; unlogged: number }>();
  private storeFailedAt = -Infinity;
  private readonly intervalMs: number;

  constructor(private readonly o: RequestLogOptions) {
    this.ring = new Array<ProvisioningRequest | undefined>(o.size ?? 500);
    this.intervalMs = o.logIntervalMs ?? 60_000;
    this.timer = setInterval(() => void this.flush(), o.flushMs ?? 1000);
    this.timer.unref();
  }

  /** Records one answered request. Never throws, never waits. */
  add(r: ProvisioningRequest): void {
    this.ring[this.next] = r;
    this.next = (this.next + 1) % this.ring.length;
    if (r.mac !== null) this.pending.set(r.mac, { at: r.at, file: r.file, status: r.status, result: r.result, source: r.source });
    if (r.status >= 400) this.warn(r);
  }

  /** Newest first. */
  recent(): ProvisioningRequest[] {
    const out: ProvisioningRequest[] = [];
    for (let i = 1; i <= this.ring.length; i++) {
      const r = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (r) out.push(r);
    }
    return out;
  }

  private warn(r: ProvisioningRequest): void {
    const t = this.o.now();
    const seen = this.lastWarned.get(r.source);
    if (seen && t - seen.at < this.intervalMs) {
      seen.unlogged++;
      return;
    }
    if (!seen && this.lastWarned.size >= MAX_SOURCES) this.lastWarned.clear();
    this.lastWarned.set(r.source, { at: t, unlogged: 0 });
    this.o.log.warn({
      source: r.source, mac: r.mac ?? undefined, file: r.file, status: r.status, unloggedSinceLast: seen?.unlogged,
    }, `provisioning: ${r.method} ${r.file} from ${r.source}: ${r.result}`);
  }

  /** Writes the last fetches gathered so far; one write at a time. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.o.devices.recordFetches(batch).catch((err: unknown) => {
      const t = this.o.now();
      if (t - this.storeFailedAt >= this.intervalMs) {
        this.storeFailedAt = t;
        this.o.log.warn({ err: (err as Error).message, devices: batch.size }, 'provisioning: cannot record the last fetch of devices');
      }
    }).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

// The running server's view of trunks and DIDs: loaded from the store, kept
// current by the store's change feed (the CLI or another node edits the same
// database while the server runs), with each trunk's host resolved once per load so
// that calls neither wait for DNS nor block on it.
import type { Endpoint, TransportName } from '../../sip/message.ts';
import type { Logger } from '../../lib/log.ts';
import { parseHostPort, resolveAddresses } from '../../lib/net.ts';
import type { ChangeWatcher, Did, Trunk, TrunkRepository } from '../../store/types.ts';

export interface TrunkEntry {
  readonly trunk: Trunk;
  /** Addresses of the trunk host: requests from them are this trunk's. */
  readonly addresses: readonly string[];
  /** Where requests to the trunk go (the outbound proxy when there is one). */
  readonly dest: Endpoint | undefined;
}


export class TrunkTable {
  private entries: TrunkEntry[] = [];
  private dids = new Map<string, Did>();
  private watcher: ChangeWatcher | undefined;
  /** Trunks trunk health found down (this process's probes, or the worker that probes): calls are not sent to them. */
  private down: ReadonlySet<string> = new Set();
  /** Called after each reload (trunk registrations follow it). */
  onReload?: (entries: readonly TrunkEntry[]) => void;

  constructor(
    private readonly repo: TrunkRepository,
    private readonly log: Logger,
  ) {}

  /** Loads the table and follows the store's trunk changes (`pollMs`: SQLite's poll period). */
  async start(pollMs = 500): Promise<void> {
    this.watcher = this.repo.watch(() => this.reload(), { intervalMs: pollMs });
    // The first look always loads; a failure is retried on the next tick or notification.
    if (!(await this.watcher.poll())) this.log.warn({}, 'trunk table: cannot read the store yet; retrying');
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  list(): readonly TrunkEntry[] {
    return this.entries;
  }

  /** Re-reads the store now when trunks or DIDs changed, instead of waiting for the feed. */
  async poll(): Promise<void> {
    await this.watcher?.poll();
  }

  private async reload(): Promise<void> {
    const trunks = await this.repo.list();
    const dids = await this.repo.listDids();
    const entries: TrunkEntry[] = [];
    for (const t of trunks) {
      const addresses = await resolveAddresses(t.host);
      let dest: Endpoint | undefined;
      // The store validated the proxy as HOST:PORT; anything else is taken as a host on the default port, as before.
      const defaultPort = t.transport === 'tls' ? 5061 : 5060;
      const hop = t.outboundProxy ? (parseHostPort(t.outboundProxy, defaultPort) ?? { host: t.outboundProxy, port: defaultPort }) : { host: t.host, port: t.port };
      const hopAddress = hop.host === t.host ? addresses[0] : (await resolveAddresses(hop.host))[0];
      if (hopAddress !== undefined) dest = { transport: t.transport as TransportName, address: hopAddress, port: hop.port };
      else this.log.warn({ trunk: t.name, host: hop.host }, 'trunk host does not resolve');
      entries.push({ trunk: t, addresses, dest });
    }
    this.entries = entries;
    this.dids = new Map(dids.map((d) => [d.number, d]));
    this.onReload?.(entries);
  }

  /** The enabled trunk whose prefix is the longest one `number` starts with. */
  forNumber(number: string): TrunkEntry | undefined {
    let best: TrunkEntry | undefined;
    for (const e of this.entries) {
      const t = e.trunk;
      if (!t.enabled || !number.startsWith(t.prefix)) continue;
      if (!best || t.prefix.length > best.trunk.prefix.length) best = e;
    }
    return best;
  }

  /**
   * The trunk a request came from, judged by its source: the trunk host's
   * address, and over UDP also its port (peers send from the port they listen
   * on), so a phone on the same host as a trunk peer is still a phone.
   */
  fromSource(source: Endpoint): TrunkEntry | undefined {
    for (const e of this.entries) {
      const t = e.trunk;
      if (!t.enabled || t.transport !== source.transport || !e.addresses.includes(source.address)) continue;
      if (source.transport === 'udp' && source.port !== t.port) continue;
      return e;
    }
    return undefined;
  }

  /** Replaces the set of trunks known down (src/pbx/trunks/trunk-health.ts). */
  setDown(names: Iterable<string>): void {
    this.down = new Set(names);
  }

  isDown(name: string): boolean {
    return this.down.has(name);
  }

  /**
   * The trunk that takes calls for `entry` now: itself unless it is down,
   * else its fallback (an enabled one), and that one's while it is down too;
   * the last one tried when every one is down. A loop ends where it closes.
   */
  withFallback(entry: TrunkEntry): TrunkEntry {
    // Every call out asks: nothing is allocated unless its trunk is down.
    if (!this.down.has(entry.trunk.name)) return entry;
    let e = entry;
    const seen = new Set<string>([e.trunk.name]);
    while (this.down.has(e.trunk.name) && e.trunk.fallbackTrunk !== null && !seen.has(e.trunk.fallbackTrunk)) {
      const next = this.entries.find((x) => x.trunk.name === e.trunk.fallbackTrunk && x.trunk.enabled);
      if (next === undefined) break;
      seen.add(next.trunk.name);
      e = next;
    }
    return e;
  }

  /** The number as sent to the trunk: prefix digits stripped, then addPrefix put in front. */
  static dialString(trunk: Trunk, number: string): string {
    return trunk.addPrefix + number.slice(Math.min(trunk.strip, number.length));
  }

  /** Extension a DID rings; also tries the number without a leading '+'. */
  didExtension(number: string): string | undefined {
    return (this.dids.get(number) ?? (number.startsWith('+') ? this.dids.get(number.slice(1)) : this.dids.get('+' + number)))?.extension;
  }
}

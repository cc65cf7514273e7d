// The lines' way to the upstream over the proxy chooser (proxies.ts, B-02):
// with proxies configured every line shares one chooser (one blacklist);
// without, each registrar domain has its own, resolved by RFC 3263.
import type { Logger } from '../lib/log.ts';
import type { GatewaySettings, GatewayStatus, ProxyView } from '../model/gateway.ts';
import type { SipResolver, SipTarget } from '../sip/dns.ts';
import { createProxyChooser, type ProxyChooser } from './proxies.ts';

/** Where a line's requests may go (what lines.ts needs of the chooser). */
export interface UpstreamHops {
  /**
   * Targets for a line now, best first, blacklisted ones left out; when every
   * one is blacklisted, all of them, the soonest out of its blacklist first
   * (the outage probe's order, outage-gate.ts).
   * `key` (the extension) keeps a line's weighted share stable.
   * @throws Error with a technician's sentence when nothing resolves
   */
  targets(domain: string, key: string): Promise<SipTarget[]>;
  /** The lines that share a blacklist with `domain`'s: every line when proxies are set, else those of the domain. */
  scopeOf(domain: string): string;
  /** Every target of `domain`'s scope is blacklisted now. */
  allBlacklisted(domain: string): boolean;
  /** No answer from target (B-02): blacklisted for blacklistTimeoutSec. */
  failed(domain: string, target: SipTarget, why: string): void;
  succeeded(domain: string, target: SipTarget): void;
  /** A better target than `current` available now (fail-back), if any. */
  betterThan(domain: string, current: SipTarget, key: string): SipTarget | undefined;
  status(): GatewayStatus['proxies'];
  /** Settings or proxies changed: choosers start afresh (returns true then). */
  reload(settings: GatewaySettings, proxies: readonly ProxyView[]): boolean;
  readonly failovers: number;
}

export class ProxyHops implements UpstreamHops {
  private choosers = new Map<string, ProxyChooser>();
  private proxies: readonly ProxyView[] = [];
  private settings: GatewaySettings | undefined;
  private failoversBefore = 0;

  constructor(private readonly resolver: SipResolver, private readonly now: () => number, private readonly log: Logger) {}

  reload(settings: GatewaySettings, proxies: readonly ProxyView[]): boolean {
    const s = this.settings;
    const same = s !== undefined && s.dnsMethod === settings.dnsMethod && s.transport === settings.transport && s.sips === settings.sips &&
      s.blacklistTimeoutSec === settings.blacklistTimeoutSec && JSON.stringify(this.proxies) === JSON.stringify(proxies);
    this.settings = settings;
    this.proxies = proxies;
    if (same) return false;
    this.failoversBefore = this.failovers;
    this.choosers = new Map();
    this.resolver.flush();
    return true;
  }

  scopeOf(domain: string): string {
    return this.proxies.length > 0 ? '' : domain;
  }

  allBlacklisted(domain: string): boolean {
    return this.chooser(domain).allBlacklisted();
  }

  private chooser(domain: string): ProxyChooser {
    const key = this.scopeOf(domain);
    let c = this.choosers.get(key);
    if (!c) {
      if (!this.settings) throw new Error('gateway hops used before the settings were loaded');
      c = createProxyChooser({ proxies: this.proxies, domain, settings: this.settings, resolver: this.resolver, now: this.now, log: this.log });
      this.choosers.set(key, c);
    }
    return c;
  }

  async targets(domain: string, key: string): Promise<SipTarget[]> {
    const c = this.chooser(domain);
    const available = await c.candidates(key);
    return available.length > 0 ? available : c.soonestFree(key);
  }

  failed(domain: string, target: SipTarget, why: string): void {
    this.chooser(domain).failed(target, why);
  }

  succeeded(domain: string, target: SipTarget): void {
    this.chooser(domain).succeeded(target);
  }

  betterThan(domain: string, current: SipTarget, key: string): SipTarget | undefined {
    return this.chooser(domain).betterThan(current, key);
  }

  status(): GatewayStatus['proxies'] {
    return [...this.choosers.values()].flatMap((c) => c.status());
  }

  get failovers(): number {
    let n = this.failoversBefore;
    for (const c of this.choosers.values()) n += c.counters.failovers;
    return n;
  }
}

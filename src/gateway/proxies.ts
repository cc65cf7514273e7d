// The gateway's proxy chooser (SPEC B-02): requests go to the lowest
// priority that is reachable, shared by weight among equal priorities; a
// target that does not answer is skipped for the blacklist timeout; once a
// better target's blacklist ends, new registrations use it again (fail-back).
// With no proxies the line's domain is resolved (RFC 3263) instead. Every
// move is logged once and counted. In memory, on injected time.
import type { GatewaySettings, GatewayStatus, ProxyView } from '../model/gateway.ts';
import type { TransportName } from '../sip/message.ts';
import type { SipResolver, SipTarget } from '../sip/dns.ts';
import { DnsLookupError, targetText, weightedOrder } from '../sip/dns.ts';
import { parseUri } from '../sip/uri.ts';
import type { Logger } from '../lib/log.ts';
import { OncePerInterval, silentLogger } from '../lib/log.ts';

export type ChooserSettings = Pick<GatewaySettings, 'dnsMethod' | 'transport' | 'sips' | 'blacklistTimeoutSec'>;

export interface ProxyChooserOptions {
  /** The configured proxies; empty = the domain is resolved instead. */
  proxies: readonly Pick<ProxyView, 'uri' | 'priority' | 'weight'>[];
  /** The line's (or the default) domain, used only when there are no proxies. */
  domain: string;
  settings: ChooserSettings;
  resolver: SipResolver;
  /** Milliseconds (the blacklist's clock). */
  now: () => number;
  log?: Logger;
  /** [0, 1): the weighted share among equal priorities when next() is given no key. */
  random?: () => number;
}

export interface ChooserCounters {
  /** Targets put on the blacklist. */
  blacklisted: number;
  /** Blacklistings after which another target took over. */
  failovers: number;
  /** Ends of blacklists that made a better target the first choice again. */
  failbacks: number;
}

export interface ProxyChooser {
  /**
   * The best target now: lowest priority not blacklisted, weight-shared among
   * equal priorities. A `key` (the line's extension) makes the share stable:
   * the same key gets the same proxy while nothing changes. Undefined when
   * every target is blacklisted (see nextExpiryAt).
   * @throws DnsLookupError when no proxy (or the domain) resolves
   */
  next(key?: string): Promise<SipTarget | undefined>;
  /** Every target not blacklisted, best first (for trying the next one in a single attempt). */
  candidates(key?: string): Promise<SipTarget[]>;
  /**
   * Every target of the last resolution, blacklisted ones included (call
   * after candidates()): the soonest out of its blacklist first, equal ends
   * best first, so probes in an outage go round them.
   */
  soonestFree(key?: string): SipTarget[];
  /** Every resolved target is blacklisted now (false before any resolution). */
  allBlacklisted(): boolean;
  /** The target did not answer (time-out, connection refused): blacklist it for blacklistTimeoutSec. */
  failed(target: SipTarget, why: string): void;
  /** The target answered: it is off the blacklist if it was on it. */
  succeeded(target: SipTarget): void;
  /**
   * A target of a better priority than `current` that is available now (from
   * the last resolution), for moving a line back (fail-back); undefined when
   * `current` is still among the best.
   */
  betterThan(current: SipTarget, key?: string): SipTarget | undefined;
  /** Targets whose blacklist ended since the last call (each logged once). */
  sweep(): SipTarget[];
  /** When the earliest blacklist ends (ms), or undefined with none: when to call sweep(). */
  nextExpiryAt(): number | undefined;
  /** GatewayStatus.proxies: each proxy (or the domain) with its targets and their blacklists. */
  status(): GatewayStatus['proxies'];
  readonly counters: Readonly<ChooserCounters>;
}

interface Source {
  uri: string;
  priority: number;
  weight: number;
  host: string;
  port: number | undefined;
  transport: TransportName | undefined;
  secure: boolean;
  /** The last resolution (kept through a DNS server failure: stale beats nothing). */
  targets: SipTarget[];
}

interface Ranked {
  target: SipTarget;
  text: string;
  /** Proxy priority, then SRV priority: lower is better. */
  rank: [number, number];
}

const DNS_LOG_INTERVAL_MS = 60_000;

function sourceOf(uri: string, priority: number, weight: number, sips: boolean): Source {
  const u = parseUri(uri);
  if (u === undefined || (u.scheme !== 'sip' && u.scheme !== 'sips')) throw new Error(`not a SIP URI: ${uri}`);
  const t = u.params.get('transport')?.toLowerCase();
  const transport = t === 'udp' || t === 'tcp' || t === 'tls' ? t : undefined;
  return { uri, priority, weight, host: u.host, port: u.port, transport, secure: sips || u.scheme === 'sips', targets: [] };
}

/** A repeatable [0, 1) sequence from a key (FNV-1a seeded mulberry32), so one line keeps its proxy. */
function keyedRandom(key: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  let s = h >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function better(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

export function createProxyChooser(o: ProxyChooserOptions): ProxyChooser {
  const log = o.log ?? silentLogger;
  const random = o.random ?? Math.random;
  const s = o.settings;
  const sources: Source[] = o.proxies.length > 0
    ? o.proxies.map((p) => sourceOf(p.uri, p.priority, p.weight, s.sips))
    : [{ uri: `${s.sips ? 'sips' : 'sip'}:${o.domain}`, priority: 0, weight: 0, host: o.domain, port: undefined, transport: undefined, secure: s.sips, targets: [] }];
  /** Target text -> end of its blacklist (ms). At most the targets resolved (bounded by the resolver). */
  const blacklist = new Map<string, { target: SipTarget; until: number }>();
  const counters: ChooserCounters = { blacklisted: 0, failovers: 0, failbacks: 0 };
  const dnsLog = new OncePerInterval(DNS_LOG_INTERVAL_MS, o.now);

  async function refresh(): Promise<void> {
    const results = await Promise.allSettled(sources.map((src) =>
      o.resolver.resolve(src.host, src.port, src.transport, { method: s.dnsMethod, defaultTransport: s.transport, secure: src.secure })));
    const errors: string[] = [];
    results.forEach((r, i) => {
      const src = sources[i]!;
      if (r.status === 'fulfilled') {
        src.targets = r.value;
        return;
      }
      const msg = r.reason instanceof Error ? r.reason.message : String(r.reason);
      errors.push(msg);
      if (r.reason instanceof DnsLookupError && r.reason.notFound) src.targets = [];
      if (dnsLog.take(src.uri) >= 0) log.warn({ proxy: src.uri, err: msg, stale: src.targets.length }, `gateway: ${src.uri} does not resolve: ${msg}`);
    });
    if (sources.every((src) => src.targets.length === 0)) {
      throw new DnsLookupError(errors.length > 0 ? errors.join('; ') : `no target for ${sources.map((x) => x.uri).join(', ')}`);
    }
  }

  /** Every resolved target in order for `key` (blacklisted ones included). */
  function order(key: string | undefined): Ranked[] {
    const rnd = key === undefined ? random : keyedRandom(key);
    const byPriority = new Map<number, Source[]>();
    for (const src of sources) {
      if (src.targets.length === 0) continue;
      const l = byPriority.get(src.priority);
      if (l === undefined) byPriority.set(src.priority, [src]);
      else l.push(src);
    }
    const out: Ranked[] = [];
    const seen = new Set<string>();
    for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
      for (const src of weightedOrder(byPriority.get(p)!, (x) => x.weight, rnd)) {
        for (const target of src.targets) {
          const text = targetText(target);
          if (seen.has(text)) continue;
          seen.add(text);
          out.push({ target, text, rank: [src.priority, target.priority] });
        }
      }
    }
    return out;
  }

  function available(r: Ranked): boolean {
    return !blacklist.has(r.text);
  }

  function sweep(): SipTarget[] {
    const t = o.now();
    let any = false;
    for (const e of blacklist.values()) if (e.until <= t) any = true;
    if (!any) return [];
    const all = order(undefined);
    // What new registrations got until now, to tell a fail-back from a target merely back in the pool.
    const inUse = all.find(available);
    const ended: SipTarget[] = [];
    for (const [text, e] of blacklist) {
      if (e.until > t) continue;
      blacklist.delete(text);
      ended.push(e.target);
    }
    const back = all.find((r) => available(r) && ended.some((x) => targetText(x) === r.text));
    if (back !== undefined && (inUse === undefined || better(back.rank, inUse.rank))) {
      counters.failbacks++;
      log.info({ target: back.text }, `gateway: fail-back to ${back.text} (${back.target.host}): its blacklist ended; new registrations use it again`);
    }
    for (const x of ended) {
      const text = targetText(x);
      if (text !== back?.text || (inUse !== undefined && !better(back.rank, inUse.rank))) log.info({ target: text }, `gateway: ${text} (${x.host}) is out of its blacklist`);
    }
    return ended;
  }

  function nextExpiryAt(): number | undefined {
    let min: number | undefined;
    for (const e of blacklist.values()) if (min === undefined || e.until < min) min = e.until;
    return min;
  }

  async function candidates(key?: string): Promise<SipTarget[]> {
    await refresh();
    sweep();
    return order(key).filter(available).map((r) => r.target);
  }

  return {
    counters,
    candidates,
    soonestFree(key) {
      const end = (r: Ranked) => blacklist.get(r.text)?.until ?? 0;
      // sort() is stable: equal ends keep the best-first order.
      return order(key).sort((a, b) => end(a) - end(b)).map((r) => r.target);
    },
    allBlacklisted() {
      sweep();
      const all = order(undefined);
      return all.length > 0 && !all.some(available);
    },
    async next(key) {
      return (await candidates(key))[0];
    },
    failed(target, why) {
      const text = targetText(target);
      if (s.blacklistTimeoutSec === 0) {
        log.warn({ target: text, why }, `gateway: ${text} (${target.host}) did not answer (${why}); the blacklist is off`);
        return;
      }
      const until = o.now() + s.blacklistTimeoutSec * 1000;
      const was = blacklist.get(text);
      if (was !== undefined) {
        was.until = Math.max(was.until, until);
        return;
      }
      blacklist.set(text, { target, until });
      counters.blacklisted++;
      log.warn({ target: text, why, seconds: s.blacklistTimeoutSec }, `gateway: ${text} (${target.host}) did not answer (${why}); skipped for ${s.blacklistTimeoutSec} s`);
      const nextBest = order(undefined).find(available);
      if (nextBest !== undefined) {
        counters.failovers++;
        log.warn({ from: text, to: nextBest.text }, `gateway: failover from ${text} to ${nextBest.text} (${nextBest.target.host})`);
      } else {
        log.error({ target: text }, `gateway: no proxy answers: every target is blacklisted until ${new Date(nextExpiryAt()!).toISOString()}`);
      }
    },
    succeeded(target) {
      const text = targetText(target);
      if (blacklist.delete(text)) log.info({ target: text }, `gateway: ${text} (${target.host}) answers again; off the blacklist`);
    },
    betterThan(current, key) {
      sweep();
      const list = order(key);
      const text = targetText(current);
      const mine = list.find((r) => r.text === text);
      const best = list.find(available);
      if (best === undefined || best.text === text) return undefined;
      return mine === undefined || better(best.rank, mine.rank) ? best.target : undefined;
    },
    sweep,
    nextExpiryAt,
    status() {
      sweep();
      return sources.map((src) => ({
        uri: src.uri,
        priority: src.priority,
        weight: src.weight,
        targets: src.targets.map((t) => {
          const text = targetText(t);
          return { target: text, blacklistedUntil: blacklist.get(text)?.until ?? null };
        }),
      }));
    },
  };
}

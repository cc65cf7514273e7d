// Locating SIP servers (RFC 3263 §4.1 transport, §4.2 port and address):
// NAPTR, then SRV (RFC 2782 ordering), then A/AAAA with the default port;
// literal IPs without DNS (SPEC EC-11). Answers are cached by their TTL
// (bounded in count), "no such record" for a while, and concurrent lookups of
// one name share one query.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { TransportName } from './message.ts';

/** One place a request may go, in the order RFC 3263 and RFC 2782 give. */
export interface SipTarget {
  transport: TransportName;
  address: string;
  port: number;
  /** The name the target was found under: what a TLS certificate must carry (D-07), or the IP itself (EC-11). */
  host: string;
  /** SRV priority/weight (0/0 when no SRV was used). */
  priority: number;
  weight: number;
}

export type DnsMethod = 'a' | 'srv' | 'naptr';

export interface ResolveOptions {
  /** How far down RFC 3263 to go: 'a' = A/AAAA only, 'srv' = SRV then A, 'naptr' = all. */
  method: DnsMethod;
  /** Transport when the URI names none and NAPTR gives nothing (the gateway's setting). */
  defaultTransport: TransportName;
  /** sips: only TLS targets (RFC 3263 §4.1). */
  secure: boolean;
}

/** What the resolver needs of DNS (node:dns/promises Resolver fits; tests inject their own server). */
export interface DnsBackend {
  resolveNaptr(name: string): Promise<{ flags: string; service: string; regexp: string; replacement: string; order: number; preference: number }[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  resolve4(name: string, opts: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  resolve6(name: string, opts: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
}

export interface SipResolver {
  /**
   * Targets for host[:port] (a URI's host part, port and transport param
   * already split out), ordered. A literal IP gives one target without DNS.
   * @throws Error with a message fit for a technician ("no DNS record for example.com") when nothing resolves
   */
  resolve(host: string, port: number | undefined, transport: TransportName | undefined, opts: ResolveOptions): Promise<SipTarget[]>;
  /** Drops cached answers (a failover that wants fresh ones). */
  flush(): void;
}

/** A name that did not resolve to any SIP target; the message is for a technician. */
export class DnsLookupError extends Error {
  override readonly name = 'DnsLookupError';
  /** The DNS said the name or record does not exist (as opposed to a server that failed or did not answer). */
  constructor(message: string, readonly notFound = false) {
    super(message);
  }
}

export interface SipResolverOptions {
  /** Default: node's resolver with the system's DNS servers (or `servers`). */
  backend?: DnsBackend;
  /** DNS servers for the default backend ("127.0.0.1:5353"); ignored with a backend. */
  servers?: string[];
  /** Milliseconds; the cache's clock. */
  now: () => number;
  /** Longest an answer is kept, whatever its TTL (SRV and NAPTR answers carry none through node: kept this long). */
  maxCacheSec: number;
  /** How long "no such name/record" is kept. */
  negativeCacheSec: number;
  /** Cached answers at most (oldest dropped first). Default 1024. */
  maxEntries?: number;
  /** [0, 1) for RFC 2782's weighted choice; tests pass a seeded one. */
  random?: () => number;
}

export const DEFAULT_SIP_PORT = 5060;
export const DEFAULT_SIPS_PORT = 5061;

/** Records taken from one answer at most: a hostile or broken DNS server cannot make us build huge target lists. */
const MAX_RECORDS = 32;
/** NAPTR services followed at most (three transports; more records than that add nothing but queries). */
const MAX_SERVICES = 6;
/** Targets one resolve returns at most. */
const MAX_TARGETS = 64;

/** RFC 3263 §4.1 NAPTR services we speak (SCTP's D2S has no transport here). */
const NAPTR_SERVICES: Readonly<Record<string, TransportName>> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls' };
/** RFC 3263 §4.2 SRV prefixes. */
const SRV_PREFIX: Readonly<Record<TransportName, string>> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

export function defaultPort(transport: TransportName): number {
  return transport === 'tls' ? DEFAULT_SIPS_PORT : DEFAULT_SIP_PORT;
}

/** "tls:10.0.0.1:5061", "udp:[::1]:5060": how a target is named in logs, status and the blacklist. */
export function targetText(t: Pick<SipTarget, 'transport' | 'address' | 'port'>): string {
  return `${t.transport}:${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}`;
}

/**
 * RFC 2782's order among records of one priority: repeatedly pick one with a
 * chance proportional to its weight (zero-weight records first in the running
 * sum, so they are picked rarely but still picked). `random` in [0, 1).
 */
export function weightedOrder<T>(items: readonly T[], weightOf: (item: T) => number, random: () => number): T[] {
  const rest = [...items].sort((a, b) => (weightOf(a) === 0 ? 0 : 1) - (weightOf(b) === 0 ? 0 : 1));
  const out: T[] = [];
  while (rest.length > 0) {
    let total = 0;
    for (const r of rest) total += weightOf(r);
    // RFC 2782: a random number in [0, total]; with all weights 0 the first one.
    const pick = Math.floor(random() * (total + 1));
    let sum = 0;
    let i = 0;
    for (; i < rest.length - 1; i++) {
      sum += weightOf(rest[i]!);
      if (sum >= pick) break;
    }
    out.push(rest.splice(i, 1)[0]!);
  }
  return out;
}

/** Records sorted by priority, each priority's records in weighted random order (RFC 2782). */
export function srvOrder<T extends { priority: number; weight: number }>(records: readonly T[], random: () => number): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) {
    const list = byPriority.get(r.priority);
    if (list === undefined) byPriority.set(r.priority, [r]);
    else list.push(r);
  }
  const out: T[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) out.push(...weightedOrder(byPriority.get(p)!, (r) => r.weight, random));
  return out;
}

interface CacheEntry {
  expiresAt: number;
  value?: unknown;
  error?: DnsLookupError;
}

/** What a failed query means to a technician; "not found" answers are cached (negative cache). */
function describeDnsError(err: unknown, what: string): DnsLookupError {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ENOTFOUND':
      return new DnsLookupError(`${what}: the name does not exist in DNS`, true);
    case 'ENODATA':
      return new DnsLookupError(`${what}: no such record in DNS`, true);
    case 'ETIMEOUT':
      return new DnsLookupError(`${what}: the DNS server did not answer (timeout)`);
    case 'ECONNREFUSED':
      return new DnsLookupError(`${what}: the DNS server refused the connection`);
    case 'EREFUSED':
      return new DnsLookupError(`${what}: the DNS server refused the query`);
    case 'EBADNAME':
      return new DnsLookupError(`${what}: not a valid DNS name`);
    case 'ESERVFAIL':
      return new DnsLookupError(`${what}: the DNS server failed (SERVFAIL)`);
    default:
      return new DnsLookupError(`${what}: DNS lookup failed (${code ?? (err as Error).message ?? 'unknown error'})`);
  }
}

function isNotFound(e: unknown): boolean {
  return e instanceof DnsLookupError && e.notFound;
}

export function createSipResolver(o: SipResolverOptions): SipResolver {
  const backend = o.backend ?? defaultBackend(o.servers);
  const random = o.random ?? Math.random;
  const maxEntries = o.maxEntries ?? 1024;
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<unknown>>();

  function store(key: string, entry: CacheEntry): void {
    if (entry.expiresAt <= o.now()) return;
    cache.delete(key);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  }

  /** One cached, shared query. `ttlOf` gives the answer's TTL in seconds (undefined: the cap). */
  function query<T>(key: string, what: string, run: () => Promise<T>, ttlOf: (v: T) => number | undefined): Promise<T> {
    const hit = cache.get(key);
    if (hit !== undefined) {
      if (hit.expiresAt > o.now()) return hit.error !== undefined ? Promise.reject(hit.error) : Promise.resolve(hit.value as T);
      cache.delete(key);
    }
    const pending = inflight.get(key);
    if (pending !== undefined) return pending as Promise<T>;
    // A backend that throws at once (a malformed name) fails like one that rejects.
    const p = new Promise<T>((res) => res(run())).then(
      (value) => {
        const ttl = Math.min(ttlOf(value) ?? o.maxCacheSec, o.maxCacheSec);
        store(key, { expiresAt: o.now() + ttl * 1000, value });
        return value;
      },
      (err: unknown) => {
        const error = describeDnsError(err, what);
        if (error.notFound) store(key, { expiresAt: o.now() + o.negativeCacheSec * 1000, error });
        throw error;
      },
    ).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  /** A and AAAA of a name (IPv4 first); [] when it has neither, throws on a server failure. */
  async function addresses(name: string): Promise<string[]> {
    if (isIP(name)) return [name];
    const ttlMin = (l: { ttl: number }[]): number | undefined => (l.length === 0 ? undefined : Math.min(...l.map((r) => r.ttl)));
    const results = await Promise.allSettled([
      query(`A ${name}`, `A record of ${name}`, () => backend.resolve4(name, { ttl: true }), ttlMin),
      query(`AAAA ${name}`, `AAAA record of ${name}`, () => backend.resolve6(name, { ttl: true }), ttlMin),
    ]);
    const out: string[] = [];
    for (const r of results) if (r.status === 'fulfilled') for (const a of r.value.slice(0, MAX_RECORDS)) out.push(a.address);
    if (out.length > 0) return out;
    const failure = results.find((r) => r.status === 'rejected' && !isNotFound(r.reason));
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
    return [];
  }

  /** SRV records of a name in RFC 2782 order; [] when there are none. A single "." target means "no service here". */
  async function srv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[] | 'none'> {
    let records;
    try {
      records = await query(`SRV ${name}`, `SRV record ${name}`, () => backend.resolveSrv(name), () => undefined);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
    if (records.length === 1 && (records[0]!.name === '.' || records[0]!.name === '')) return 'none';
    // The best priorities survive the cut.
    return srvOrder([...records].sort((a, b) => a.priority - b.priority).slice(0, MAX_RECORDS), random);
  }

  async function naptr(name: string, secure: boolean): Promise<{ transport: TransportName; srvName: string }[]> {
    let records;
    try {
      records = await query(`NAPTR ${name}`, `NAPTR record of ${name}`, () => backend.resolveNaptr(name), () => undefined);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
    const usable = records.slice(0, MAX_RECORDS).filter((r) => {
      const t = NAPTR_SERVICES[r.service.toUpperCase()];
      // §4.1: only "s" (SRV follows) records are used for SIP; sips takes only TLS.
      return t !== undefined && r.flags.toLowerCase() === 's' && r.replacement !== '' && (!secure || t === 'tls');
    });
    usable.sort((a, b) => a.order - b.order || a.preference - b.preference);
    return usable.slice(0, MAX_SERVICES).map((r) => ({ transport: NAPTR_SERVICES[r.service.toUpperCase()]!, srvName: r.replacement.replace(/\.$/, '') }));
  }

  /** SRV targets of one transport expanded to addresses; undefined when the name has no SRV records. */
  async function srvTargets(srvName: string, transport: TransportName, host: string): Promise<SipTarget[] | undefined> {
    const records = await srv(srvName);
    if (records === 'none') throw new DnsLookupError(`${host} says it offers no SIP service over ${transport} (SRV ${srvName} is ".")`);
    if (records.length === 0) return undefined;
    const out: SipTarget[] = [];
    let firstError: unknown;
    for (const r of records) {
      if (out.length >= MAX_TARGETS) break;
      const target = r.name.replace(/\.$/, '');
      try {
        for (const address of await addresses(target)) out.push({ transport, address, port: r.port, host: target, priority: r.priority, weight: r.weight });
      } catch (e) {
        firstError ??= e;
      }
    }
    if (out.length === 0) {
      if (firstError !== undefined) throw firstError;
      throw new DnsLookupError(`${host}: SRV ${srvName} names ${records.map((r) => r.name).join(', ')}, which have no address (A/AAAA) in DNS`);
    }
    return out;
  }

  async function addressTargets(host: string, port: number | undefined, transport: TransportName): Promise<SipTarget[]> {
    const list = await addresses(host);
    if (list.length === 0) throw new DnsLookupError(`no DNS record for ${host}: it has no address (A/AAAA)`);
    return list.map((address) => ({ transport, address, port: port ?? defaultPort(transport), host, priority: 0, weight: 0 }));
  }

  async function resolveName(host: string, port: number | undefined, transport: TransportName | undefined, opts: ResolveOptions): Promise<SipTarget[]> {
    // §4.2: an explicit port means A/AAAA only; §4.1: the transport from the URI, else ours.
    if (port !== undefined || opts.method === 'a') return addressTargets(host, port, transport ?? opts.defaultTransport);
    if (transport === undefined && opts.method === 'naptr') {
      const services = await naptr(host, opts.secure);
      const out: SipTarget[] = [];
      let firstError: unknown;
      for (const s of services) {
        if (out.length >= MAX_TARGETS) break;
        try {
          out.push(...((await srvTargets(s.srvName, s.transport, host)) ?? []));
        } catch (e) {
          firstError ??= e;
        }
      }
      if (out.length > 0) return out;
      if (firstError !== undefined) throw firstError;
    }
    const t = transport ?? opts.defaultTransport;
    return (await srvTargets(`${SRV_PREFIX[t]}${host}`, t, host)) ?? addressTargets(host, undefined, t);
  }

  return {
    async resolve(rawHost, port, rawTransport, opts) {
      const host = (rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost).replace(/\.$/, '').toLowerCase();
      if (host === '') throw new DnsLookupError('no host to resolve');
      // sips: TLS on every hop; transport=tcp in a sips URI is TLS over TCP (RFC 3261 §19.1.2).
      let transport = rawTransport;
      let defaultTransport = opts.defaultTransport;
      if (opts.secure) {
        if (transport === 'udp') throw new DnsLookupError(`sips:${host} cannot use transport=udp: sips needs TLS`);
        if (transport !== undefined) transport = 'tls';
        defaultTransport = 'tls';
      }
      if (isIP(host)) {
        const t = transport ?? defaultTransport;
        return [{ transport: t, address: host, port: port ?? defaultPort(t), host, priority: 0, weight: 0 }];
      }
      const targets = await resolveName(host, port, transport, { ...opts, defaultTransport });
      const seen = new Set<string>();
      const out: SipTarget[] = [];
      for (const t of targets) {
        const k = targetText(t);
        if (seen.has(k) || (opts.secure && t.transport !== 'tls')) continue;
        seen.add(k);
        out.push(t);
        if (out.length >= MAX_TARGETS) break;
      }
      if (out.length === 0) throw new DnsLookupError(`no TLS target for sips:${host} in DNS`);
      return out;
    },
    flush() {
      cache.clear();
    },
  };
}

function defaultBackend(servers: string[] | undefined): DnsBackend {
  // Short timeouts: a registration waits on this; the lines manager retries.
  const r = new Resolver({ timeout: 2000, tries: 2 });
  if (servers !== undefined && servers.length > 0) r.setServers(servers);
  return r;
}

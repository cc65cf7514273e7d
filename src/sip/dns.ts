// Locating SIP servers (RFC 3263 §4): NAPTR, then SRV, then A/AAAA, with a
// cache bounded by the records' TTLs. CONTRACT (issue 15): the helper that
// owns this file implements it; the signatures below are what the gateway uses.
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

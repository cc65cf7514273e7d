// A DNS zone in a table for the resolver's and the proxy chooser's unit tests:
// a DnsBackend that answers from maps, counts queries per "TYPE name", and
// fails a listed name with a given error code (as node's resolver does).
import type { DnsBackend } from '../../src/sip/dns.ts';

export type Naptr = Awaited<ReturnType<DnsBackend['resolveNaptr']>>[number];
export type Srv = Awaited<ReturnType<DnsBackend['resolveSrv']>>[number];

/** A zone in a table; counts queries per "TYPE name"; a name listed in `fail` answers with that error code. */
export class TableDns implements DnsBackend {
  naptr = new Map<string, Naptr[]>();
  srv = new Map<string, Srv[]>();
  a = new Map<string, { address: string; ttl: number }[]>();
  aaaa = new Map<string, { address: string; ttl: number }[]>();
  fail = new Map<string, string>();
  queries = new Map<string, number>();
  /** Queries wait for this when set (concurrency test). */
  gate: Promise<void> | undefined;

  private async answer<T>(type: string, name: string, table: Map<string, T[]>): Promise<T[]> {
    const key = `${type} ${name}`;
    this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
    if (this.gate !== undefined) await this.gate;
    const code = this.fail.get(name);
    if (code !== undefined) throw Object.assign(new Error(`query ${code}`), { code });
    const rows = table.get(name);
    if (rows === undefined) throw Object.assign(new Error('no data'), { code: 'ENODATA' });
    return rows;
  }
  resolveNaptr(name: string) { return this.answer('NAPTR', name, this.naptr); }
  resolveSrv(name: string) { return this.answer('SRV', name, this.srv); }
  resolve4(name: string) { return this.answer('A', name, this.a); }
  resolve6(name: string) { return this.answer('AAAA', name, this.aaaa); }
  count(key: string): number { return this.queries.get(key) ?? 0; }
}

export const NAPTR = (order: number, preference: number, service: string, replacement: string): Naptr =>
  ({ flags: 's', service, regexp: '', replacement, order, preference });
export const SRV = (priority: number, weight: number, port: number, name: string): Srv => ({ priority, weight, port, name });
export const A = (address: string, ttl = 300) => ({ address, ttl });


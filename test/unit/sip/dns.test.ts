// The RFC 3263 resolver against a DnsBackend fed from a record table in the
// test: NAPTR -> SRV -> A chains, sips, literal IPs (EC-11), the TTL and
// negative caches on a manual clock, shared concurrent queries, and RFC 2782's
// weighted order measured with a seeded random source.
import { describe, expect, it } from 'vitest';
import type { ResolveOptions } from '../../../src/sip/dns.ts';
import { createSipResolver, DnsLookupError, srvOrder, targetText } from '../../../src/sip/dns.ts';
import { ManualClock } from '../../../src/lib/time.ts';
import { makeRng } from '../../lib/prng.ts';
import { A, NAPTR, SRV, TableDns } from '../../lib/table-dns.ts';

const NAPTR_OPTS: ResolveOptions = { method: 'naptr', defaultTransport: 'udp', secure: false };

function setup(): { dns: TableDns; clock: ManualClock; resolver: ReturnType<typeof createSipResolver> } {
  const dns = new TableDns();
  const clock = new ManualClock(1_000_000);
  const resolver = createSipResolver({ backend: dns, now: () => clock.now(), maxCacheSec: 600, negativeCacheSec: 30, random: makeRng(7) });
  return { dns, clock, resolver };
}

/** A zone with NAPTR for TLS then TCP then UDP, each with its SRV and addresses. */
function exampleZone(dns: TableDns): void {
  dns.naptr.set('example.com', [
    NAPTR(20, 10, 'SIP+D2U', '_sip._udp.example.com'),
    NAPTR(10, 20, 'SIP+D2T', '_sip._tcp.example.com'),
    NAPTR(10, 10, 'SIPS+D2T', '_sips._tcp.example.com.'),
    NAPTR(5, 10, 'SIP+D2S', '_sip._sctp.example.com'),
  ]);
  dns.srv.set('_sips._tcp.example.com', [SRV(10, 0, 5061, 'tls1.example.com')]);
  dns.srv.set('_sip._tcp.example.com', [SRV(20, 0, 5070, 'tcp1.example.com'), SRV(10, 0, 5060, 'tcp0.example.com')]);
  dns.srv.set('_sip._udp.example.com', [SRV(10, 0, 5060, 'udp1.example.com')]);
  dns.srv.set('_sip._sctp.example.com', [SRV(1, 0, 5060, 'sctp.example.com')]);
  dns.a.set('tls1.example.com', [A('192.0.2.1')]);
  dns.aaaa.set('tls1.example.com', [A('2001:db8::1')]);
  dns.a.set('tcp0.example.com', [A('192.0.2.2')]);
  dns.a.set('tcp1.example.com', [A('192.0.2.3')]);
  dns.a.set('udp1.example.com', [A('192.0.2.4')]);
  dns.a.set('sctp.example.com', [A('192.0.2.9')]);
  dns.a.set('example.com', [A('192.0.2.100')]);
}

describe('SipResolver: RFC 3263 chains', () => {
  it('follows NAPTR (order, then preference; SCTP ignored) to SRV (priority) to A/AAAA', async () => {
    const { dns, resolver } = setup();
    exampleZone(dns);
    const targets = await resolver.resolve('example.com', undefined, undefined, NAPTR_OPTS);
    expect(targets.map(targetText)).toEqual([
      'tls:192.0.2.1:5061', 'tls:[2001:db8::1]:5061', 'tcp:192.0.2.2:5060', 'tcp:192.0.2.3:5070', 'udp:192.0.2.4:5060',
    ]);
    expect(targets[0]).toEqual({ transport: 'tls', address: '192.0.2.1', port: 5061, host: 'tls1.example.com', priority: 10, weight: 0 });
    expect(dns.count('A sctp.example.com')).toBe(0);
  });

  it('sips takes only the TLS service (RFC 3263 §4.1)', async () => {
    const { dns, resolver } = setup();
    exampleZone(dns);
    const targets = await resolver.resolve('example.com', undefined, undefined, { ...NAPTR_OPTS, secure: true });
    expect(targets.map(targetText)).toEqual(['tls:192.0.2.1:5061', 'tls:[2001:db8::1]:5061']);
    await expect(resolver.resolve('example.com', undefined, 'udp', { ...NAPTR_OPTS, secure: true })).rejects.toThrow(/sips needs TLS/);
  });

  it('without NAPTR records queries the SRV of the default transport, then A with the default port', async () => {
    const { dns, resolver } = setup();
    dns.srv.set('_sips._tcp.srv-only.test', [SRV(1, 0, 15061, 'edge.srv-only.test')]);
    dns.a.set('edge.srv-only.test', [A('198.51.100.7')]);
    dns.a.set('plain.test', [A('198.51.100.8')]);
    expect((await resolver.resolve('srv-only.test', undefined, undefined, { ...NAPTR_OPTS, defaultTransport: 'tls' })).map(targetText))
      .toEqual(['tls:198.51.100.7:15061']);
    expect((await resolver.resolve('plain.test', undefined, undefined, { ...NAPTR_OPTS, defaultTransport: 'tls' })).map(targetText))
      .toEqual(['tls:198.51.100.8:5061']);
    expect((await resolver.resolve('plain.test', undefined, undefined, NAPTR_OPTS)).map(targetText)).toEqual(['udp:198.51.100.8:5060']);
    expect(dns.count('SRV _sip._udp.plain.test')).toBe(1);
  });

  it('a transport in the URI skips NAPTR; a port in the URI skips NAPTR and SRV (§4.2); method a and srv stop early', async () => {
    const { dns, resolver } = setup();
    exampleZone(dns);
    expect((await resolver.resolve('example.com', undefined, 'tcp', NAPTR_OPTS)).map(targetText)).toEqual(['tcp:192.0.2.2:5060', 'tcp:192.0.2.3:5070']);
    expect(dns.count('NAPTR example.com')).toBe(0);
    expect((await resolver.resolve('example.com', 5080, undefined, NAPTR_OPTS)).map(targetText)).toEqual(['udp:192.0.2.100:5080']);
    expect(dns.count('SRV _sip._udp.example.com')).toBe(0);
    expect((await resolver.resolve('example.com', undefined, undefined, { ...NAPTR_OPTS, method: 'a' })).map(targetText)).toEqual(['udp:192.0.2.100:5060']);
    expect((await resolver.resolve('example.com', undefined, undefined, { ...NAPTR_OPTS, method: 'srv' })).map(targetText)).toEqual(['udp:192.0.2.4:5060']);
    expect(dns.count('NAPTR example.com')).toBe(0);
  });

  it('gives literal IPs without any DNS query (EC-11), IPv6 with or without brackets', async () => {
    const { dns, resolver } = setup();
    expect(await resolver.resolve('10.1.2.3', undefined, undefined, { ...NAPTR_OPTS, defaultTransport: 'tls' }))
      .toEqual([{ transport: 'tls', address: '10.1.2.3', port: 5061, host: '10.1.2.3', priority: 0, weight: 0 }]);
    expect((await resolver.resolve('[::1]', 5070, 'tcp', NAPTR_OPTS)).map(targetText)).toEqual(['tcp:[::1]:5070']);
    expect((await resolver.resolve('10.1.2.3', undefined, 'tcp', { ...NAPTR_OPTS, secure: true })).map(targetText)).toEqual(['tls:10.1.2.3:5061']);
    expect(dns.queries.size).toBe(0);
  });

  it('errors in words: a name that does not exist, SRV ".", a DNS server that does not answer', async () => {
    const { dns, resolver } = setup();
    dns.fail.set('nowhere.test', 'ENOTFOUND');
    dns.fail.set('_sip._udp.nowhere.test', 'ENOTFOUND');
    await expect(resolver.resolve('nowhere.test', undefined, undefined, NAPTR_OPTS)).rejects.toThrow('no DNS record for nowhere.test: it has no address (A/AAAA)');
    dns.srv.set('_sip._udp.closed.test', [SRV(0, 0, 0, '.')]);
    await expect(resolver.resolve('closed.test', undefined, undefined, NAPTR_OPTS)).rejects.toThrow('closed.test says it offers no SIP service over udp');
    dns.fail.set('slow.test', 'ETIMEOUT');
    const err = await resolver.resolve('slow.test', 5060, undefined, NAPTR_OPTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsLookupError);
    expect((err as DnsLookupError).message).toMatch(/slow\.test: the DNS server did not answer \(timeout\)/);
    expect((err as DnsLookupError).notFound).toBe(false);
    // A backend that throws at once is a failed lookup too, not a crash.
    dns.resolve4 = () => { throw Object.assign(new Error('bad'), { code: 'EBADNAME' }); };
    await expect(resolver.resolve('bad..name', 5060, undefined, NAPTR_OPTS)).rejects.toThrow('A record of bad..name: not a valid DNS name');
  });
});

describe('SipResolver: cache', () => {
  it('keeps an address for its TTL (capped by maxCacheSec) on the injected clock', async () => {
    const { dns, clock, resolver } = setup();
    dns.a.set('short.test', [A('192.0.2.50', 10)]);
    await resolver.resolve('short.test', 5060, 'udp', NAPTR_OPTS);
    await resolver.resolve('short.test', 5060, 'udp', NAPTR_OPTS);
    expect(dns.count('A short.test')).toBe(1);
    clock.advance(9_999);
    await resolver.resolve('short.test', 5060, 'udp', NAPTR_OPTS);
    expect(dns.count('A short.test')).toBe(1);
    dns.a.set('short.test', [A('192.0.2.51', 10)]);
    clock.advance(2);
    expect((await resolver.resolve('short.test', 5060, 'udp', NAPTR_OPTS))[0]!.address).toBe('192.0.2.51');
    expect(dns.count('A short.test')).toBe(2);
    // A TTL above the cap is cut to maxCacheSec (600 s).
    dns.a.set('long.test', [A('192.0.2.52', 86_400)]);
    await resolver.resolve('long.test', 5060, 'udp', NAPTR_OPTS);
    clock.advance(600_001);
    await resolver.resolve('long.test', 5060, 'udp', NAPTR_OPTS);
    expect(dns.count('A long.test')).toBe(2);
  });

  it('remembers "no such record" for negativeCacheSec, but not a server failure', async () => {
    const { dns, clock, resolver } = setup();
    dns.a.set('late.test', [A('192.0.2.60')]);
    await resolver.resolve('late.test', undefined, undefined, NAPTR_OPTS);
    expect(dns.count('NAPTR late.test')).toBe(1);
    await resolver.resolve('late.test', undefined, undefined, NAPTR_OPTS);
    expect(dns.count('NAPTR late.test')).toBe(1);
    expect(dns.count('SRV _sip._udp.late.test')).toBe(1);
    dns.naptr.set('late.test', [NAPTR(1, 1, 'SIP+D2T', '_sip._tcp.late.test')]);
    dns.srv.set('_sip._tcp.late.test', [SRV(1, 1, 5099, 'late.test')]);
    clock.advance(30_001);
    expect((await resolver.resolve('late.test', undefined, undefined, NAPTR_OPTS)).map(targetText)).toEqual(['tcp:192.0.2.60:5099']);

    dns.fail.set('flaky.test', 'ESERVFAIL');
    await expect(resolver.resolve('flaky.test', 5060, undefined, NAPTR_OPTS)).rejects.toThrow(/SERVFAIL/);
    dns.fail.delete('flaky.test');
    dns.a.set('flaky.test', [A('192.0.2.61')]);
    expect((await resolver.resolve('flaky.test', 5060, undefined, NAPTR_OPTS)).map(targetText)).toEqual(['udp:192.0.2.61:5060']);
  });

  it('shares one query among concurrent lookups of one name, and flush() forgets', async () => {
    const { dns, resolver } = setup();
    exampleZone(dns);
    let open!: () => void;
    dns.gate = new Promise((r) => { open = r; });
    const all = Array.from({ length: 20 }, () => resolver.resolve('example.com', undefined, undefined, NAPTR_OPTS));
    open();
    const results = await Promise.all(all);
    expect(new Set(results.map((r) => r.map(targetText).join()))).toHaveLength(1);
    expect(dns.count('NAPTR example.com')).toBe(1);
    expect(dns.count('A tls1.example.com')).toBe(1);
    dns.gate = undefined;
    resolver.flush();
    await resolver.resolve('example.com', undefined, undefined, NAPTR_OPTS);
    expect(dns.count('NAPTR example.com')).toBe(2);
  });

  it('holds at most maxEntries answers', async () => {
    const dns = new TableDns();
    const clock = new ManualClock(0);
    const resolver = createSipResolver({ backend: dns, now: () => clock.now(), maxCacheSec: 600, negativeCacheSec: 30, maxEntries: 4 });
    for (let i = 0; i < 6; i++) dns.a.set(`h${i}.test`, [A(`192.0.2.${i}`)]);
    // Each lookup caches two answers (A and AAAA): h0's fall out by h2.
    for (let i = 0; i < 3; i++) await resolver.resolve(`h${i}.test`, 5060, 'udp', NAPTR_OPTS);
    await resolver.resolve('h2.test', 5060, 'udp', NAPTR_OPTS);
    expect(dns.count('A h2.test')).toBe(1);
    await resolver.resolve('h0.test', 5060, 'udp', NAPTR_OPTS);
    expect(dns.count('A h0.test')).toBe(2);
  });
});

describe('RFC 2782 order', () => {
  it('sorts by priority and shares the first place by weight (seeded statistics)', () => {
    const rng = makeRng(2026);
    const records = [SRV(20, 100, 1, 'backup'), SRV(10, 60, 1, 'a'), SRV(10, 30, 1, 'b'), SRV(10, 10, 1, 'c'), SRV(10, 0, 1, 'zero')];
    const first = new Map<string, number>();
    const N = 20_000;
    let backupLast = 0;
    for (let i = 0; i < N; i++) {
      const o = srvOrder(records, rng);
      if (o.length === 5 && o[4]!.name === 'backup') backupLast++;
      first.set(o[0]!.name, (first.get(o[0]!.name) ?? 0) + 1);
    }
    expect(backupLast).toBe(N);
    // Shares of the first place: weight / (sum + 1) (RFC 2782 draws 0..sum inclusive).
    const share = (n: string) => (first.get(n) ?? 0) / N;
    expect(share('a')).toBeGreaterThan(0.56);
    expect(share('a')).toBeLessThan(0.63);
    expect(share('b')).toBeGreaterThan(0.27);
    expect(share('b')).toBeLessThan(0.33);
    expect(share('c')).toBeGreaterThan(0.08);
    expect(share('c')).toBeLessThan(0.12);
    // Weight 0 is chosen first rarely (about 1 in 101), never never.
    expect(share('zero')).toBeGreaterThan(0.003);
    expect(share('zero')).toBeLessThan(0.02);
  });

  it('resolve() orders equal-priority SRV targets by weight', async () => {
    const { dns, resolver } = setup();
    dns.srv.set('_sip._udp.w.test', [SRV(1, 90, 5060, 'heavy.w.test'), SRV(1, 10, 5060, 'light.w.test')]);
    dns.a.set('heavy.w.test', [A('192.0.2.90')]);
    dns.a.set('light.w.test', [A('192.0.2.10')]);
    let heavyFirst = 0;
    let both = 0;
    for (let i = 0; i < 2000; i++) {
      const t = await resolver.resolve('w.test', undefined, 'udp', NAPTR_OPTS);
      if (t.length === 2) both++;
      if (t[0]!.host === 'heavy.w.test') heavyFirst++;
    }
    expect(both).toBe(2000);
    expect(heavyFirst / 2000).toBeGreaterThan(0.85);
    expect(heavyFirst / 2000).toBeLessThan(0.94);
  });
});

describe('SipResolver: hostile answers', () => {
  it('bounds the targets and the queries a huge answer can cause, keeping the best priorities', async () => {
    const { dns, resolver } = setup();
    dns.naptr.set('big.test', Array.from({ length: 200 }, (_, i) => NAPTR(i, 0, 'SIP+D2T', `_sip._tcp.s${i}.big.test`)));
    for (let i = 0; i < 200; i++) {
      dns.srv.set(`_sip._tcp.s${i}.big.test`, Array.from({ length: 500 }, (_, j) => SRV(1000 - j, 1, 5060, `h${j}.big.test`)));
    }
    for (let j = 0; j < 500; j++) dns.a.set(`h${j}.big.test`, Array.from({ length: 100 }, (_, k) => A(`10.${j % 250}.${k}.1`)));
    const targets = await resolver.resolve('big.test', undefined, undefined, NAPTR_OPTS);
    expect(targets.length).toBeLessThanOrEqual(64);
    expect(targets[0]!.priority).toBe(501);
    let queries = 0;
    for (const n of dns.queries.values()) queries += n;
    expect(queries).toBeLessThan(20);
  });
});

// The gateway's proxy chooser (B-02) on a manual clock with a table DNS:
// priority, weight share, blacklist and its expiry, failover order,
// fail-back, the domain when there are no proxies, and moves logged once.
import { describe, expect, it } from 'vitest';
import type { ChooserSettings, ProxyChooserOptions } from '../../../src/gateway/proxies.ts';
import { createProxyChooser } from '../../../src/gateway/proxies.ts';
import { createSipResolver, DnsLookupError, targetText } from '../../../src/sip/dns.ts';
import type { SipTarget } from '../../../src/sip/dns.ts';
import { ManualClock } from '../../../src/lib/time.ts';
import type { Logger } from '../../../src/lib/log.ts';
import { makeRng } from '../../lib/prng.ts';
import { A, SRV, TableDns } from '../../lib/table-dns.ts';

const SETTINGS: ChooserSettings = { dnsMethod: 'naptr', transport: 'udp', sips: false, blacklistTimeoutSec: 30 };

class LogCapture implements Logger {
  lines: { level: string; msg: string }[] = [];
  error(_o: object, msg = '') { this.lines.push({ level: 'error', msg }); }
  warn(_o: object, msg = '') { this.lines.push({ level: 'warn', msg }); }
  info(_o: object, msg = '') { this.lines.push({ level: 'info', msg }); }
  debug(_o: object, msg = '') { this.lines.push({ level: 'debug', msg }); }
  matching(re: RegExp): number { return this.lines.filter((l) => re.test(l.msg)).length; }
}

function setup(proxies: ProxyChooserOptions['proxies'], opts: { domain?: string; settings?: Partial<ChooserSettings> } = {}) {
  const dns = new TableDns();
  const clock = new ManualClock(5_000_000);
  const log = new LogCapture();
  const resolver = createSipResolver({ backend: dns, now: () => clock.now(), maxCacheSec: 300, negativeCacheSec: 30, random: makeRng(11) });
  const chooser = createProxyChooser({
    proxies, domain: opts.domain ?? 'example.com', settings: { ...SETTINGS, ...opts.settings }, resolver, now: () => clock.now(), log, random: makeRng(99),
  });
  return { dns, clock, log, chooser };
}

const text = (t: SipTarget | undefined) => (t === undefined ? undefined : targetText(t));

describe('proxy chooser: priority, blacklist, failover, fail-back', () => {
  const three = [
    { uri: 'sip:10.0.0.3:5060', priority: 3, weight: 100 },
    { uri: 'sip:10.0.0.1:5060;transport=tcp', priority: 1, weight: 100 },
    { uri: 'sip:10.0.0.2', priority: 2, weight: 100 },
  ];

  it('takes the lowest priority, fails over in priority order, and says when the blacklist ends', async () => {
    const { chooser, clock, log } = setup(three);
    expect((await chooser.candidates()).map(targetText)).toEqual(['tcp:10.0.0.1:5060', 'udp:10.0.0.2:5060', 'udp:10.0.0.3:5060']);
    const first = (await chooser.next())!;
    expect(text(first)).toBe('tcp:10.0.0.1:5060');

    chooser.failed(first, 'no answer in 16 s');
    expect(text(await chooser.next())).toBe('udp:10.0.0.2:5060');
    clock.advance(10_000);
    chooser.failed((await chooser.next())!, 'connection refused');
    expect(text(await chooser.next())).toBe('udp:10.0.0.3:5060');
    chooser.failed((await chooser.next())!, 'no answer');
    expect(await chooser.next()).toBeUndefined();
    expect(chooser.nextExpiryAt()).toBe(5_000_000 + 30_000);
    expect(chooser.counters).toEqual({ blacklisted: 3, failovers: 2, failbacks: 0 });
    expect(log.matching(/failover from tcp:10\.0\.0\.1:5060 to udp:10\.0\.0\.2:5060/)).toBe(1);
    expect(log.matching(/every target is blacklisted/)).toBe(1);

    const st = chooser.status();
    expect(st.map((p) => [p.uri, p.targets])).toEqual([
      ['sip:10.0.0.3:5060', [{ target: 'udp:10.0.0.3:5060', blacklistedUntil: 5_040_000 }]],
      ['sip:10.0.0.1:5060;transport=tcp', [{ target: 'tcp:10.0.0.1:5060', blacklistedUntil: 5_030_000 }]],
      ['sip:10.0.0.2', [{ target: 'udp:10.0.0.2:5060', blacklistedUntil: 5_040_000 }]],
    ]);

    // The first blacklist ends: the best proxy is chosen again (fail-back), once.
    clock.advance(20_000);
    expect(chooser.sweep().map(targetText)).toEqual(['tcp:10.0.0.1:5060']);
    expect(chooser.sweep()).toEqual([]);
    expect(text(await chooser.next())).toBe('tcp:10.0.0.1:5060');
    expect(chooser.counters.failbacks).toBe(1);
    expect(log.matching(/fail-back to tcp:10\.0\.0\.1:5060/)).toBe(1);
  });

  it('tells a line on a worse proxy that a better one is back, and not before', async () => {
    const { chooser, clock } = setup(three);
    const best = (await chooser.next())!;
    chooser.failed(best, 'timeout');
    const fallback = (await chooser.next())!;
    expect(text(fallback)).toBe('udp:10.0.0.2:5060');
    expect(chooser.betterThan(fallback)).toBeUndefined();
    clock.advance(29_999);
    expect(chooser.betterThan(fallback)).toBeUndefined();
    clock.advance(1);
    expect(text(chooser.betterThan(fallback))).toBe('tcp:10.0.0.1:5060');
    expect(chooser.betterThan(best)).toBeUndefined();
    expect(chooser.counters.failbacks).toBe(1);
  });

  it('logs and counts a target that keeps failing once; an answer takes it off the blacklist', async () => {
    const { chooser, clock, log } = setup(three);
    const best = (await chooser.next())!;
    for (let i = 0; i < 50; i++) chooser.failed(best, 'timeout');
    expect(chooser.counters.blacklisted).toBe(1);
    expect(log.matching(/tcp:10\.0\.0\.1:5060 .*skipped for 30 s/)).toBe(1);
    // Failing again while blacklisted extends it.
    clock.advance(20_000);
    chooser.failed(best, 'timeout');
    expect(chooser.nextExpiryAt()).toBe(5_000_000 + 50_000);
    chooser.succeeded(best);
    expect(chooser.nextExpiryAt()).toBeUndefined();
    expect(text(await chooser.next())).toBe('tcp:10.0.0.1:5060');
  });

  it('with every target blacklisted says so, and orders them by the end of their blacklist (the outage probe goes round them)', async () => {
    const { chooser, clock } = setup(three);
    const all = await chooser.candidates();
    expect(chooser.allBlacklisted()).toBe(false);
    // Blacklisted 2, then 1 and 3 ten seconds later: 2 is free first, then 1 before 3 (best first on equal ends).
    chooser.failed(all[1]!, 'timeout');
    clock.advance(10_000);
    chooser.failed(all[0]!, 'timeout');
    expect(chooser.allBlacklisted()).toBe(false);
    chooser.failed(all[2]!, 'timeout');
    expect(chooser.allBlacklisted()).toBe(true);
    expect(chooser.soonestFree().map(targetText)).toEqual(['udp:10.0.0.2:5060', 'tcp:10.0.0.1:5060', 'udp:10.0.0.3:5060']);
    clock.advance(20_000);
    expect(chooser.allBlacklisted()).toBe(false);
  });

  it('with a blacklist timeout of 0 never skips a target', async () => {
    const { chooser } = setup(three, { settings: { blacklistTimeoutSec: 0 } });
    const best = (await chooser.next())!;
    chooser.failed(best, 'timeout');
    expect(text(await chooser.next())).toBe('tcp:10.0.0.1:5060');
    expect(chooser.counters.blacklisted).toBe(0);
  });
});

describe('proxy chooser: weight among equal priorities', () => {
  const pair = [
    { uri: 'sip:10.0.1.1', priority: 1, weight: 75 },
    { uri: 'sip:10.0.1.2', priority: 1, weight: 25 },
    { uri: 'sip:10.0.1.9', priority: 2, weight: 100 },
  ];

  it('shares picks by weight (seeded random) and never picks the backup while one is reachable', async () => {
    const { chooser } = setup(pair);
    const counts = new Map<string, number>();
    const N = 4000;
    for (let i = 0; i < N; i++) {
      const t = text(await chooser.next())!;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const heavy = (counts.get('udp:10.0.1.1:5060') ?? 0) / N;
    expect(heavy).toBeGreaterThan(0.70);
    expect(heavy).toBeLessThan(0.80);
    expect(counts.get('udp:10.0.1.9:5060')).toBeUndefined();
  });

  it('with a key, shares lines by weight and keeps each line on its proxy', async () => {
    const { chooser } = setup(pair);
    const first = new Map<string, string>();
    let heavy = 0;
    for (let i = 0; i < 2000; i++) {
      const t = text(await chooser.next(`line-${1000 + i}`))!;
      first.set(`line-${1000 + i}`, t);
      if (t === 'udp:10.0.1.1:5060') heavy++;
    }
    expect(heavy / 2000).toBeGreaterThan(0.70);
    expect(heavy / 2000).toBeLessThan(0.80);
    let same = 0;
    for (const [key, t] of first) if (text(await chooser.next(key)) === t) same++;
    expect(same).toBe(2000);
  });

  it('a blacklisted proxy of the pair leaves all picks to the other; the backup only when both are out', async () => {
    const { chooser } = setup(pair);
    chooser.failed({ transport: 'udp', address: '10.0.1.1', port: 5060, host: '10.0.1.1', priority: 0, weight: 0 }, 'timeout');
    for (let i = 0; i < 50; i++) expect(text(await chooser.next(`k${i}`))).toBe('udp:10.0.1.2:5060');
    chooser.failed((await chooser.next())!, 'timeout');
    expect(text(await chooser.next())).toBe('udp:10.0.1.9:5060');
  });
});

describe('proxy chooser: DNS', () => {
  it('expands a proxy name to its SRV targets in resolver order, each one blacklisted on its own', async () => {
    const { chooser, dns } = setup([{ uri: 'sip:pool.example.com', priority: 1, weight: 1 }, { uri: 'sip:10.9.9.9', priority: 2, weight: 1 }]);
    dns.srv.set('_sip._udp.pool.example.com', [SRV(20, 0, 5062, 'b.example.com'), SRV(10, 0, 5060, 'a.example.com')]);
    dns.a.set('a.example.com', [A('192.0.2.1'), A('192.0.2.2')]);
    dns.a.set('b.example.com', [A('192.0.2.3')]);
    expect((await chooser.candidates()).map(targetText)).toEqual(['udp:192.0.2.1:5060', 'udp:192.0.2.2:5060', 'udp:192.0.2.3:5062', 'udp:10.9.9.9:5060']);
    const a1 = (await chooser.next())!;
    expect(a1.host).toBe('a.example.com');
    chooser.failed(a1, 'timeout');
    expect(text(await chooser.next())).toBe('udp:192.0.2.2:5060');
    // A lower SRV priority of the same proxy is "better" for fail-back too.
    expect(chooser.betterThan({ ...a1, address: '192.0.2.3', port: 5062, priority: 20 })).toMatchObject({ address: '192.0.2.2' });
  });

  it('without proxies resolves the domain; with sips only TLS targets', async () => {
    const { chooser, dns } = setup([], { domain: 'corp.test', settings: { sips: true, transport: 'tcp' } });
    dns.naptr.set('corp.test', [
      { flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.corp.test', order: 1, preference: 1 },
      { flags: 's', service: 'SIPS+D2T', regexp: '', replacement: '_sips._tcp.corp.test', order: 2, preference: 1 },
    ]);
    dns.srv.set('_sips._tcp.corp.test', [SRV(1, 1, 5061, 'sbc.corp.test')]);
    dns.srv.set('_sip._udp.corp.test', [SRV(1, 1, 5060, 'sbc.corp.test')]);
    dns.a.set('sbc.corp.test', [A('203.0.113.5')]);
    expect((await chooser.candidates()).map(targetText)).toEqual(['tls:203.0.113.5:5061']);
    expect(chooser.status()).toEqual([{ uri: 'sips:corp.test', priority: 0, weight: 0, targets: [{ target: 'tls:203.0.113.5:5061', blacklistedUntil: null }] }]);
  });

  it('an IP domain with no proxy needs no DNS (EC-11)', async () => {
    const { chooser, dns } = setup([], { domain: '192.0.2.77', settings: { transport: 'tls' } });
    expect(await chooser.next()).toEqual({ transport: 'tls', address: '192.0.2.77', port: 5061, host: '192.0.2.77', priority: 0, weight: 0 });
    expect(dns.queries.size).toBe(0);
  });

  it('skips a proxy that does not resolve (logged once a minute); fails in words when none does', async () => {
    const { chooser, dns, log, clock } = setup([{ uri: 'sip:gone.test', priority: 1, weight: 1 }, { uri: 'sip:10.5.5.5', priority: 2, weight: 1 }]);
    dns.fail.set('gone.test', 'ENOTFOUND');
    dns.fail.set('_sip._udp.gone.test', 'ENOTFOUND');
    for (let i = 0; i < 5; i++) expect(text(await chooser.next())).toBe('udp:10.5.5.5:5060');
    expect(log.matching(/sip:gone\.test does not resolve: no DNS record for gone\.test/)).toBe(1);
    clock.advance(61_000);
    await chooser.next();
    expect(log.matching(/sip:gone\.test does not resolve/)).toBe(2);

    const alone = setup([], { domain: 'gone.test' });
    alone.dns.fail.set('gone.test', 'ENOTFOUND');
    const err = await alone.chooser.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsLookupError);
    expect((err as Error).message).toContain('no DNS record for gone.test');
  });

  it('keeps the last targets through a DNS server failure', async () => {
    const { chooser, dns, clock } = setup([{ uri: 'sip:edge.test:5070', priority: 1, weight: 1 }]);
    dns.a.set('edge.test', [A('192.0.2.44', 5)]);
    expect(text(await chooser.next())).toBe('udp:192.0.2.44:5070');
    clock.advance(6_000);
    dns.fail.set('edge.test', 'ETIMEOUT');
    expect(text(await chooser.next())).toBe('udp:192.0.2.44:5070');
  });
});

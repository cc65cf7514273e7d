// The RFC 3263 resolver and the gateway's proxy chooser against a real DNS
// server: Debian's dnsmasq on a loopback port serving NAPTR, SRV, A and AAAA
// records, queried by node's own resolver (the default backend). Fails (never
// skips) when dnsmasq is missing.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSipResolver, targetText } from '../../src/sip/dns.ts';
import type { ResolveOptions } from '../../src/sip/dns.ts';
import { createProxyChooser } from '../../src/gateway/proxies.ts';
import { appendCapped, fixture, freePort, LOOPBACK, requireTool, stopChild } from './harness.ts';

const ZONE = [
  // sip.test: TLS first by NAPTR order, then UDP; TLS has two SRV priorities.
  '--naptr-record=sip.test,10,10,s,SIPS+D2T,,_sips._tcp.sip.test',
  '--naptr-record=sip.test,20,10,s,SIP+D2U,,_sip._udp.sip.test',
  '--naptr-record=sip.test,5,10,s,SIP+D2S,,_sip._sctp.sip.test',
  '--srv-host=_sips._tcp.sip.test,edge2.sip.test,5062,20,10',
  '--srv-host=_sips._tcp.sip.test,edge1.sip.test,5061,10,10',
  '--srv-host=_sip._udp.sip.test,edge1.sip.test,5060,10,10',
  '--host-record=edge1.sip.test,127.0.0.11,::11',
  '--host-record=edge2.sip.test,127.0.0.12',
  // srv.test: no NAPTR, SRV for TCP only.
  '--srv-host=_sip._tcp.srv.test,pbx.srv.test,5070,1,1',
  '--host-record=pbx.srv.test,127.0.0.21',
  // plain.test: an address only.
  '--host-record=plain.test,127.0.0.31,300',
];

interface Dns { child: ChildProcess; port: number; output: () => string }

const env = fixture<Dns>(
  async () => {
    const bin = requireTool('dnsmasq');
    const port = await freePort();
    const child = spawn(bin, [
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=',
      `--listen-address=${LOOPBACK}`, '--bind-interfaces', `--port=${port}`, '--log-facility=-',
      // Names of the test zones nobody serves are answered "no such name", not refused.
      '--local=/test/', '--local-ttl=60', ...ZONE,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => { out = appendCapped(out, c); });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { out = appendCapped(out, c); });
    const probe = new Resolver({ timeout: 200, tries: 1 });
    probe.setServers([`${LOOPBACK}:${port}`]);
    // Ready when it answers: at most 50 probes of 200 ms.
    for (let i = 0; i < 50; i++) {
      if (child.exitCode !== null) break;
      if ((await probe.resolve4('plain.test').catch(() => [])).length > 0) return { child, port, output: () => out };
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopChild(child, 1000);
    throw new Error(`dnsmasq did not answer on ${LOOPBACK}:${port}\n${out}`);
  },
  async ({ child }) => stopChild(child, 2000),
);

function resolver() {
  return createSipResolver({ servers: [`${LOOPBACK}:${env.get().port}`], now: Date.now, maxCacheSec: 60, negativeCacheSec: 10 });
}

const OPTS: ResolveOptions = { method: 'naptr', defaultTransport: 'udp', secure: false };

describe('RFC 3263 against dnsmasq', () => {
  beforeAll(() => env.setup(), 30_000);
  afterAll(() => env.teardown());

  it('follows NAPTR -> SRV -> A/AAAA in order (SCTP ignored)', async () => {
    const targets = await resolver().resolve('sip.test', undefined, undefined, OPTS);
    expect(targets.map(targetText), env.get().output()).toEqual([
      'tls:127.0.0.11:5061', 'tls:[::11]:5061', 'tls:127.0.0.12:5062', 'udp:127.0.0.11:5060', 'udp:[::11]:5060',
    ]);
    expect(targets[0]).toMatchObject({ host: 'edge1.sip.test', priority: 10, weight: 10 });
  });

  it('sips keeps only the TLS targets; method srv and a stop early', async () => {
    const r = resolver();
    expect((await r.resolve('sip.test', undefined, undefined, { ...OPTS, secure: true })).map(targetText))
      .toEqual(['tls:127.0.0.11:5061', 'tls:[::11]:5061', 'tls:127.0.0.12:5062']);
    expect((await r.resolve('sip.test', undefined, undefined, { ...OPTS, method: 'srv' })).map(targetText))
      .toEqual(['udp:127.0.0.11:5060', 'udp:[::11]:5060']);
    expect((await r.resolve('plain.test', undefined, undefined, { ...OPTS, method: 'a', defaultTransport: 'tls' })).map(targetText))
      .toEqual(['tls:127.0.0.31:5061']);
  });

  it('without NAPTR uses the SRV of the transport, then A with the default port', async () => {
    const r = resolver();
    expect((await r.resolve('srv.test', undefined, undefined, { ...OPTS, defaultTransport: 'tcp' })).map(targetText)).toEqual(['tcp:127.0.0.21:5070']);
    expect((await r.resolve('plain.test', undefined, undefined, OPTS)).map(targetText)).toEqual(['udp:127.0.0.31:5060']);
    expect((await r.resolve('plain.test', 5099, 'tcp', OPTS)).map(targetText)).toEqual(['tcp:127.0.0.31:5099']);
  });

  it('says in words when a name does not exist', async () => {
    await expect(resolver().resolve('missing.test', undefined, undefined, OPTS)).rejects.toThrow('no DNS record for missing.test');
  });

  it('the proxy chooser fails over along the resolved targets and fails back after the blacklist', async () => {
    let now = 1_000_000;
    const chooser = createProxyChooser({
      proxies: [],
      domain: 'sip.test',
      settings: { dnsMethod: 'naptr', transport: 'udp', sips: true, blacklistTimeoutSec: 30 },
      resolver: resolver(),
      now: () => now,
    });
    const first = (await chooser.next())!;
    expect(targetText(first)).toBe('tls:127.0.0.11:5061');
    chooser.failed(first, 'no answer');
    const second = (await chooser.next())!;
    expect(targetText(second)).toBe('tls:[::11]:5061');
    chooser.failed(second, 'no answer');
    expect(targetText((await chooser.next())!)).toBe('tls:127.0.0.12:5062');
    now += 30_000;
    expect(targetText((await chooser.next())!)).toBe('tls:127.0.0.11:5061');
    expect(chooser.counters).toEqual({ blacklisted: 2, failovers: 2, failbacks: 1 });
  });
});

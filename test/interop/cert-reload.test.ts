// Certificates against programs nobody here wrote (issue 14, Done when):
// - baresip registered over TLS and in a call while the identity is replaced
//   (`switchboard cert issue` on the running server): the call goes on with
//   its media, no BYE, the registration refreshes over the same TLS
//   connection, and a new handshake (`openssl s_client`) on SIP TLS and on the
//   HTTPS management listener shows the new certificate;
// - linphonec, which verifies the server's certificate, registers over TLS
//   trusting the CA `switchboard cert export-ca` wrote, and not against a
//   server whose identity comes from another CA;
// - an identity made with Debian's openssl and exported as PKCS#12 is served
//   after `switchboard cert import --p12`.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaresipAccount } from './baresip.ts';
import { describeRun, freePort, makeTempDir, removeDir, requireTool, runTool, startSwitchboard, switchboardCli } from './harness.ts';
import type { SwitchboardHandle } from './harness.ts';
import { BaresipPhone } from './lib/baresip-phone.ts';
import { rtpRanges } from './lib/baresip-calls.ts';
import { LinphonePhone } from './lib/linphone-phone.ts';
import { boundUdpEnds, startCapture } from './lib/rtp-capture.ts';
import { opensslP12, presentedFingerprint } from './lib/openssl-tls.ts';
import type { PortRange } from './lib/baresip-phone.ts';
import { makeUsers } from './users.ts';
import { waitUntil } from '../lib/wait.ts';
import type { StatusSnapshot } from '../../src/pbx/status/status.ts';

const DOMAIN = 'lab.test';
const servers: SwitchboardHandle[] = [];
const phones: { stop(): Promise<void> }[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of phones) await p.stop();
  for (const s of servers) await s.stop();
  for (const d of dirs) removeDir(d);
});

function workDir(name: string): string {
  const d = makeTempDir(name);
  dirs.push(d);
  return d;
}

async function status(sb: SwitchboardHandle): Promise<StatusSnapshot> {
  return JSON.parse((await switchboardCli(['status', '--json', '--data-dir', sb.dataDir])).stdout) as StatusSnapshot;
}

/** When the extension's TLS binding expires (a refresh moves it on). */
async function tlsExpiry(sb: SwitchboardHandle, ext: string): Promise<number> {
  const e = (await status(sb)).extensions.find((x) => x.extension === ext);
  return e?.contacts.find((c) => c.transport === 'tls')?.expiresAt ?? 0;
}

/** The established TCP connections baresip (by pid) holds to the port, as "local->peer". */
async function connectionsOf(pid: number, port: number): Promise<string[]> {
  const r = await runTool(requireTool('ss'), ['-Htnp', 'state', 'established', `( dport = :${port} )`], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(describeRun(r));
  return r.stdout.split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/).slice(2, 4).join('->'));
}

/**
 * RTP packets phone A (its own sockets, not just its port range, which other
 * tests' phones may share) sent and received over `ms` of real time, whoever
 * was on the other end (direct or relayed).
 */
async function mediaOfA(phone: BaresipPhone, a: PortRange, b: PortRange, dir: string, ms: number): Promise<{ sent: number; received: number }> {
  const ends = await boundUdpEnds(phone.pid);
  const capture = await startCapture([a, b], dir);
  await new Promise((r) => setTimeout(r, ms));
  const packets = await capture.stop();
  return { sent: packets.filter((p) => ends.has(`${p.src}:${p.sport}`)).length, received: packets.filter((p) => ends.has(`${p.dst}:${p.dport}`)).length };
}

describe('the identity replaced on a running server', () => {
  it('baresip over TLS keeps its call, its media and its TLS connection, refreshes its registration on it, and new handshakes see the new certificate', async () => {
    requireTool('baresip');
    requireTool('tshark');
    const [ua, ub] = makeUsers(2, 6101);
    const httpPort = await freePort();
    // Registrations as short as 10 s: baresip refreshes within the test.
    const sb = await startSwitchboard({ domain: DOMAIN, users: [ua!, ub!], http: `127.0.0.1:${httpPort}`, config: { registrar: { minExpiresSec: 10 } } });
    servers.push(sb);
    const dir = workDir('cert-reload');
    const caFile = await sb.exportCa();
    const [ra, rb] = rtpRanges();
    const account = (u: typeof ua, transport: 'tls' | 'udp', regint: number): BaresipAccount => ({
      user: u!.ext, password: u!.password, domain: DOMAIN, proxyHost: sb.host, proxyPort: transport === 'tls' ? sb.tlsPort : sb.udpPort, transport, regint,
    });
    const a = await BaresipPhone.start('A', { account: account(ua, 'tls', 10), caFile, rtpPorts: ra });
    phones.push(a);
    const b = await BaresipPhone.start('B', { account: account(ub, 'udp', 600), rtpPorts: rb });
    phones.push(b);
    const why = (): string => `${a.output()}\n${b.output()}\n${sb.output()}`;

    const dial = await a.command('dial', `sip:${ub!.ext}@${DOMAIN}`);
    expect(dial.ok, why()).toBe(true);
    await b.waitEvent('CALL_INCOMING');
    expect((await b.command('accept')).ok, why()).toBe(true);
    await a.waitEvent('CALL_ESTABLISHED');
    await b.waitEvent('CALL_ESTABLISHED');
    const callBefore = (await status(sb)).calls;
    expect(callBefore, why()).toHaveLength(1);
    const tlsBefore = await connectionsOf(a.pid, sb.tlsPort);
    expect(tlsBefore, why()).toHaveLength(1);
    const oldSip = await presentedFingerprint(sb.tlsPort, dir);
    const oldHttps = await presentedFingerprint(httpPort, dir);
    expect(oldHttps).toBe(oldSip);
    const expiresBefore = await tlsExpiry(sb, ua!.ext);

    // The operator issues a new identity with an extra name: it applies at once.
    const issued = await switchboardCli(['cert', 'issue', '--san', 'DNS:pbx.lab.test,DNS:localhost,IP:127.0.0.1,URI:sip:lab.test', '--data-dir', sb.dataDir]);
    const applied = /^applied: SIP TLS and HTTPS management now present (\S+) \(was (\S+)\)$/m.exec(issued.stdout);
    expect(applied, describeRun(issued)).not.toBeNull();
    expect(applied![2]).toBe(oldSip);
    const newPrint = applied![1]!;
    expect(newPrint).not.toBe(oldSip);

    // New handshakes, seen by openssl: the new certificate on SIP TLS and on HTTPS.
    expect(await presentedFingerprint(sb.tlsPort, dir)).toBe(newPrint);
    expect(await presentedFingerprint(httpPort, dir)).toBe(newPrint);
    const served = readFileSync(join(dir, `presented-${sb.tlsPort}.pem`), 'utf8');
    expect(served).toContain('BEGIN CERTIFICATE');

    // The call goes on: media both ways, nobody hung up, the server still holds it.
    const media = await mediaOfA(a, ra, rb, dir, 2000);
    expect(media.sent, why()).toBeGreaterThanOrEqual(50);
    expect(media.received, why()).toBeGreaterThanOrEqual(50);
    expect(a.events.some((e) => e.type === 'CALL_CLOSED'), why()).toBe(false);
    expect(b.events.some((e) => e.type === 'CALL_CLOSED'), why()).toBe(false);
    const callAfter = (await status(sb)).calls;
    expect(callAfter.map((c) => c.ref), why()).toEqual(callBefore.map((c) => c.ref));

    // baresip refreshes its registration (every few seconds here) on the connection it began with.
    expect(await waitUntil(async () => (await tlsExpiry(sb, ua!.ext)) > expiresBefore, 30_000, 500), `no refresh after the swap\n${why()}`).toBe(true);
    expect(await connectionsOf(a.pid, sb.tlsPort), why()).toEqual(tlsBefore);

    expect((await a.command('hangup')).ok, why()).toBe(true);
    await b.waitEvent('CALL_CLOSED');
  }, 120_000);
});

describe('linphonec, which verifies the server certificate', () => {
  it('registers over TLS trusting the CA exported by `switchboard cert export-ca`, and not a server whose identity is from another CA', async () => {
    requireTool('linphonec');
    const [user] = makeUsers(1, 6201);
    const sb = await startSwitchboard({ domain: DOMAIN, users: [user!] });
    servers.push(sb);
    const other = await startSwitchboard({ domain: DOMAIN, users: [user!], udp: false, tcp: false });
    servers.push(other);
    const caFile = await sb.exportCa();
    const [range, range2] = rtpRanges();
    // linphonec's TLS library matches DNS names only: "localhost" is among the identity's names.
    const opts = { user: user!.ext, password: user!.password, domain: DOMAIN, host: 'localhost', transport: 'tls' as const, rootCa: caFile };
    const ok = await LinphonePhone.start('trusting', { ...opts, port: sb.tlsPort, rtpPorts: range });
    phones.push(ok);
    const ext = (await status(sb)).extensions.find((e) => e.extension === user!.ext);
    expect(ext?.registered).toBe(true);
    expect(ext?.contacts.map((c) => c.transport)).toContain('tls');

    // The same CA file against a server with an identity from its own, other CA: no registration.
    const refused = await LinphonePhone.start('other-ca', { ...opts, port: other.tlsPort, rtpPorts: range2, readyTimeoutMs: 8000 }).then(
      async (p) => {
        phones.push(p);
        return null;
      },
      (err: Error) => err.message,
    );
    expect(refused, 'linphonec registered with a server whose CA it does not trust').not.toBeNull();
    expect(refused).toMatch(/Certificate verification failed|SSL handshake failed/);
    expect((await status(other)).extensions.find((e) => e.extension === user!.ext)?.registered ?? false).toBe(false);
  }, 90_000);
});

describe('an identity made with Debian openssl, imported as PKCS#12', () => {
  it('is what SIP TLS and HTTPS present after `switchboard cert import --p12`, and after a restart', async () => {
    const httpPort = await freePort();
    const dataDir = workDir('cert-p12-data');
    const sb = await startSwitchboard({ domain: DOMAIN, http: `127.0.0.1:${httpPort}`, dataDir });
    servers.push(sb);
    const dir = workDir('cert-p12');
    const made = await opensslP12(dir, 'pbx.lab.test', ['DNS:pbx.lab.test', 'DNS:localhost', 'IP:127.0.0.1', 'URI:sip:lab.test'], 'p12-Export-pw');
    const r = await switchboardCli(['cert', 'import', '--p12', made.p12File, '--password', 'p12-Export-pw', '--data-dir', dataDir]);
    expect(r.stdout, describeRun(r)).toContain(`applied: SIP TLS and HTTPS management now present ${made.fingerprint}`);
    expect(await presentedFingerprint(sb.tlsPort, dir)).toBe(made.fingerprint);
    expect(await presentedFingerprint(httpPort, dir)).toBe(made.fingerprint);
    const show = JSON.parse((await switchboardCli(['cert', 'show', '--json', '--data-dir', dataDir])).stdout) as { identities: { source: string; certificate: { fingerprintSha256: string } }[] };
    expect(show.identities.map((i) => [i.source, i.certificate.fingerprintSha256])).toContainEqual(['imported', made.fingerprint]);

    // Kept across a restart: the next start serves it, not an identity of its own CA.
    expect(await sb.stop()).toBe(0);
    const again = await startSwitchboard({ domain: DOMAIN, dataDir });
    servers.push(again);
    expect(await presentedFingerprint(again.tlsPort, dir)).toBe(made.fingerprint);
  }, 90_000);
});

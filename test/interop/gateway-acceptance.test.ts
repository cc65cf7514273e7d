// Handset gateway acceptance (issue 15, SPEC §2.1 AC-01, AC-02, AC-05..AC-11)
// against a second Switchboard as the upstream call server: the upstream
// holds an Enforced (SRTP only) extension for the handset and one for each
// desk phone, reached over TLS only; the gateway holds the handset's line
// (TLS to the upstream) and its local user. The handset and the desk phones
// are baresip (TLS + SDES-SRTP). Both servers run in this process so their
// SIP can be read (sip-tap.ts); media is counted by tshark on loopback,
// only between the addresses and ports this call's SDP named.
// Each AC is its own test; one that fails for a missing part stays failing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { GatewayStatus, GatewaySettingsPatch } from '../../src/model/gateway.ts';
import { startTestServer } from '../integration/lib/server.ts';
import type { TestServer } from '../integration/lib/server.ts';
import { fixture, makeTempDir, removeDir } from './harness.ts';
import { LOOPBACK } from './process.ts';
import { BaresipPhone } from './lib/baresip-phone.ts';
import type { PortRange } from './lib/baresip-phone.ts';
import { rtpRanges } from './lib/baresip-calls.ts';
import { ofCall, startCapture } from './lib/rtp-capture.ts';
import type { Capture, UdpPacket } from './lib/rtp-capture.ts';
import { SipTap, bodyOf, callMediaEnds, headerValues } from './lib/sip-tap.ts';
import type { TappedMessage } from './lib/sip-tap.ts';

const UP_DOMAIN = 'upstream.test';
const GW_DOMAIN = 'gw.test';
const HANDSET = { ext: '1001', password: 'Handset-1001-pw' };
const LINE = { ext: '41510', password: 'Up-41510-secret' };
/** The line's voicemail code at the upstream (AC-09 logs in with it). */
const VM_CODE = '2468';
const DESK = { ext: '42000', password: 'Desk-42000-pw' };
const DESK2 = { ext: '42001', password: 'Desk-42001-pw' };
/** The relays' ports, apart from each other and from the phones' (30000-32599): a packet's port says whose it is. */
const UP_RELAY: PortRange = { min: 32620, max: 32689 };
const GW_RELAY: PortRange = { min: 32690, max: 32767 };
const MIN_PACKETS = 40;

interface Env {
  up: TestServer;
  gw: TestServer;
  upTap: SipTap;
  gwTap: SipTap;
  work: string;
  caFile: string;
  /** The gateway's user's baresip (TLS, SRTP mandatory, MWI on) and the desk phones at the upstream. */
  handset: BaresipPhone;
  desk: BaresipPhone;
  desk2: BaresipPhone;
  ranges: { handset: PortRange; desk: PortRange; desk2: PortRange };
}

async function cli(args: string[]): Promise<void> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = write;
  }
  if (code !== 0) throw new Error(`switchboard ${args.join(' ')}: exit ${code}`);
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000, context?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out (${ms} ms) waiting for ${what}${context ? `\n${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const env = fixture<Env>(async () => {
  const work = makeTempDir('gw-accept');
  const up = await startTestServer({
    config: {
      sip: { domain: UP_DOMAIN },
      voicemail: { enabled: true },
      registrar: { minExpiresSec: 30 },
      media: { relay: { host: LOOPBACK, portMin: UP_RELAY.min, portMax: UP_RELAY.max } },
    },
  });
  const gw = await startTestServer({
    config: { sip: { domain: GW_DOMAIN }, media: { relay: { host: LOOPBACK, portMin: GW_RELAY.min, portMax: GW_RELAY.max } } },
  });
  const upTap = SipTap.attach(up.server);
  const gwTap = SipTap.attach(gw.server);
  // Upstream: Enforced (SRTP only) extensions, the handset's with a short no-answer time (AC-11).
  const enforced = { security: 'enforced' as const };
  await up.server.store.users.add({ extension: LINE.ext, password: LINE.password, name: 'Handset line', media: enforced, noAnswerTimeoutSec: 8 });
  await up.server.store.users.add({ extension: DESK.ext, password: DESK.password, name: 'Desk', media: enforced });
  await up.server.store.users.add({ extension: DESK2.ext, password: DESK2.password, name: 'Desk two', media: enforced });
  await up.server.directory.poll();
  // Gateway: the handset's user and its line, TLS to the upstream, whose CA it trusts.
  // The handset's own leg is SRTP too (TLS + SRTP handsets).
  await gw.server.store.users.add({ extension: HANDSET.ext, password: HANDSET.password, name: 'Handset', media: enforced });
  await gw.server.directory.poll();
  const upCa = join(work, 'upstream-ca.pem');
  writeFileSync(upCa, up.server.certificates.caCertPem);
  await cli(['cert', 'trust', 'add', upCa, '--data-dir', gw.dataDir]);
  await gw.server.store.gateway.addProxy({ uri: `sip:127.0.0.1:${up.tlsPort};transport=tls`, priority: 1 });
  await gw.server.store.gateway.setLine({ extension: HANDSET.ext, upstreamUser: LINE.ext, password: LINE.password, ipei: '05003 0733588' });
  await gw.server.store.gateway.updateSettings({ mode: 'gateway', transport: 'tls', defaultDomain: UP_DOMAIN, registerExpiresSec: 300 });
  const caFile = join(work, 'gw-ca.pem');
  writeFileSync(caFile, gw.server.certificates.caCertPem);
  const upCaFile = upCa;
  const [rh, rd] = rtpRanges();
  const rd2: PortRange = { min: rd.max + 1, max: rd.max + 10 };
  const srtp = { mediaenc: 'srtp-mand' };
  const handset = await BaresipPhone.start('handset', {
    account: { user: HANDSET.ext, password: HANDSET.password, domain: GW_DOMAIN, proxyHost: LOOPBACK, proxyPort: gw.tlsPort, transport: 'tls', mwi: true, ...srtp },
    caFile, rtpPorts: rh,
  });
  const desk = await BaresipPhone.start('desk', {
    account: { user: DESK.ext, password: DESK.password, domain: UP_DOMAIN, proxyHost: LOOPBACK, proxyPort: up.tlsPort, transport: 'tls', ...srtp },
    caFile: upCaFile, rtpPorts: rd,
  });
  const desk2 = await BaresipPhone.start('desk2', {
    account: { user: DESK2.ext, password: DESK2.password, domain: UP_DOMAIN, proxyHost: LOOPBACK, proxyPort: up.tlsPort, transport: 'tls', answermode: 'auto', ...srtp },
    caFile: upCaFile, rtpPorts: rd2,
  });
  return { up, gw, upTap, gwTap, work, caFile, handset, desk, desk2, ranges: { handset: rh, desk: rd, desk2: rd2 } };
}, async (e) => {
  for (const p of [e.handset, e.desk, e.desk2]) await p.stop();
  await e.gw.stop();
  await e.up.stop();
  removeDir(e.work);
});

beforeAll(() => env.setup(), 120_000);
afterAll(() => env.teardown(), 60_000);

/** The last SIP of a server without the overload probe's OPTIONS, whole messages (SDP included). */
function trace(tap: SipTap): string {
  return tap.find((m) => m.method !== 'OPTIONS').slice(-16).map((m) => `${m.dir} ${m.transport} ${m.peer.address}:${m.peer.port}\n${m.text}`).join('\n');
}

function logTail(ts: TestServer): string {
  return ts.log.entries.slice(-25).map((x) => `${x.level} ${x.msg ?? ''} ${JSON.stringify(x.obj)}`).join('\n');
}

/** Marks every event the phones sent so far as seen: each test waits only for its own. */
function freshEvents(e: Env): void {
  for (const p of [e.handset, e.desk, e.desk2]) for (const ev of p.events) ev.consumed = true;
}

function why(e: Env): string {
  return `${e.handset.output()}\n${e.desk.output()}\n--- upstream SIP ---\n${trace(e.upTap)}\n--- gateway SIP ---\n${trace(e.gwTap)}\n` +
    `--- upstream log ---\n${logTail(e.up)}\n--- gateway log ---\n${logTail(e.gw)}`;
}

const lineStatus = (e: Env) => e.gw.server.gateway.lines?.lineStatus(HANDSET.ext);
const gatewayStatus = (e: Env): GatewayStatus => e.gw.server.gateway.lines!.status();

async function gatewaySet(e: Env, patch: GatewaySettingsPatch): Promise<void> {
  await e.gw.server.store.gateway.updateSettings(patch);
}

const peerKey = (m: TappedMessage): string => `${m.transport.toLowerCase()}:${m.peer.address}:${m.peer.port}`;

/** Where the gateway's line reached the upstream from: the sources of its REGISTERs (its flows). */
function gatewayPeers(e: Env): Set<string> {
  return new Set(e.upTap.requests('in', 'REGISTER').filter((m) => (headerValues(m.text, 'from', 'f')[0] ?? '').includes(`${LINE.ext}@`)).map(peerKey));
}

/** Everything the upstream exchanged with the gateway (not with its phones or its own media server). */
function lineMessages(e: Env, since = 0): TappedMessage[] {
  const peers = gatewayPeers(e);
  return e.upTap.find((m) => peers.has(peerKey(m)), since);
}

function inRange(port: number, r: PortRange): boolean {
  return port >= r.min && port <= r.max;
}

/** Packets a phone sent and received, and whom it exchanged media with. */
function phoneMedia(packets: readonly UdpPacket[], r: PortRange): { sent: number; received: number; peers: Set<number> } {
  const res = { sent: 0, received: 0, peers: new Set<number>() };
  for (const p of packets) {
    if (inRange(p.sport, r)) {
      res.sent++;
      res.peers.add(p.dport);
    }
    if (inRange(p.dport, r)) res.received++;
  }
  return res;
}

/** Where the taps are now: what both servers' SDPs name from here on is one call's media. */
function marks(e: Env): Array<{ tap: SipTap; since: number }> {
  return [{ tap: e.gwTap, since: e.gwTap.mark() }, { tap: e.upTap, since: e.upTap.mark() }];
}

/** The captured packets of the call whose SDPs the taps hold since `from` (other tests use the same port ranges). */
async function callPackets(capture: Capture, from: Array<{ tap: SipTap; since: number }>): Promise<UdpPacket[]> {
  return ofCall(await capture.stop(), callMediaEnds(from));
}

/** caller dials `target`, callee answers, holdMs of media, caller hangs up; returns the call's packets captured. */
async function call(e: Env, caller: BaresipPhone, callee: BaresipPhone, target: string, holdMs = 3000, during?: () => Promise<void>): Promise<UdpPacket[]> {
  const capture = await startCapture([e.ranges.handset, e.ranges.desk, e.ranges.desk2, UP_RELAY, GW_RELAY], e.work);
  const from = marks(e);
  let packets: UdpPacket[] = [];
  try {
    const dial = await caller.command('dial', target);
    expect(dial.ok, `dial refused: ${dial.data}\n${why(e)}`).toBe(true);
    await callee.waitEvent('CALL_INCOMING', 20_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${why(e)}`);
    });
    expect((await callee.command('accept')).ok, why(e)).toBe(true);
    for (const p of [caller, callee]) {
      await p.waitEvent('CALL_ESTABLISHED', 20_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${why(e)}`);
      });
    }
    await new Promise((r) => setTimeout(r, holdMs));
    if (during) await during();
    expect((await caller.command('hangup')).ok, why(e)).toBe(true);
    await caller.waitEvent('CALL_CLOSED');
    await callee.waitEvent('CALL_CLOSED');
  } finally {
    packets = await callPackets(capture, from);
  }
  return packets;
}

function expectTwoWay(e: Env, packets: readonly UdpPacket[]): void {
  const h = phoneMedia(packets, e.ranges.handset);
  const d = phoneMedia(packets, e.ranges.desk);
  const detail = `handset ${JSON.stringify({ ...h, peers: [...h.peers] })}, desk ${JSON.stringify({ ...d, peers: [...d.peers] })}\n${why(e)}`;
  expect(h.sent, detail).toBeGreaterThanOrEqual(MIN_PACKETS);
  expect(h.received, detail).toBeGreaterThanOrEqual(MIN_PACKETS);
  expect(d.sent, detail).toBeGreaterThanOrEqual(MIN_PACKETS);
  expect(d.received, detail).toBeGreaterThanOrEqual(MIN_PACKETS);
}

/** The SDP bodies of the INVITEs and 200s between the gateway and the upstream since `since`. */
function upstreamLegSdps(e: Env, since: number): string[] {
  return lineMessages(e, since).filter((m) => m.method === 'INVITE' && (m.status === 0 || m.status === 200)).map((m) => bodyOf(m.text)).filter((b) => b.includes('m=audio'));
}

describe('handset gateway acceptance against a Switchboard upstream', () => {
  it('AC-01 registration: upstream shows the extension registered over TLS with SRTP; gateway Subscribed = Registered = SIP users', async () => {
    const e = env.get();
    await until(() => lineStatus(e)?.registration === 'registered', 'the line registered upstream');
    const st = await e.up.server.status.snapshot();
    const ext = st.extensions.find((x) => x.extension === LINE.ext);
    expect(ext?.registered, why(e)).toBe(true);
    expect(ext!.contacts.map((c) => c.transport.toLowerCase()), why(e)).toEqual(['tls']);
    expect(ext!.mediaStream).toBe('SRTP');
    expect(ext!.state).toBe('idle');
    await until(() => gatewayStatus(e).counters.subscribed === 1, 'the handset subscribed (IPEI + registered here)');
    const gs = gatewayStatus(e);
    expect(gs.counters).toEqual({ sipUsers: 1, subscribed: 1, registered: 1, total: 1 });
    const line = gs.lines.find((l) => l.extension === HANDSET.ext)!;
    expect(line.subscribed && line.registration === 'registered' && line.latestActivity !== null).toBe(true);
    expect(line.registeredVia).toBe(`tls:127.0.0.1:${e.up.tlsPort}`);
  });

  it('AC-02 calls both ways with direct media on and off at the upstream, two-way audio', async () => {
    const e = env.get();
    freshEvents(e);
    for (const directMedia of [true, false]) {
      for (const ext of [LINE.ext, DESK.ext]) await e.up.server.store.users.update(ext, { media: { directMedia } });
      await e.up.server.directory.poll();
      // Handset → desk phone (through the gateway's line), then desk phone → handset.
      const out = await call(e, e.handset, e.desk, `sip:${DESK.ext}@${GW_DOMAIN}`);
      expectTwoWay(e, out);
      const inbound = await call(e, e.desk, e.handset, `sip:${LINE.ext}@${UP_DOMAIN}`);
      expectTwoWay(e, inbound);
      // Direct media on: the desk phone's media goes to the gateway's relay (the peer endpoint), not through the upstream's.
      const peers = [...phoneMedia(inbound, e.ranges.desk).peers];
      if (directMedia) expect(peers.every((p) => inRange(p, GW_RELAY)), `direct media on: desk sent to ${peers}\n${why(e)}`).toBe(true);
      else expect(peers.every((p) => inRange(p, UP_RELAY)), `direct media off: desk sent to ${peers}\n${why(e)}`).toBe(true);
    }
  }, 180_000);

  it('AC-05 TLS only between the gateway and the upstream (no cleartext SIP)', async () => {
    const e = env.get();
    // The gateway's flows into the upstream are TLS, and nothing reached the upstream's UDP/TCP listener from the gateway's addresses but TLS.
    const peers = [...gatewayPeers(e)];
    expect(peers.length, why(e)).toBeGreaterThan(0);
    expect(peers.filter((p) => !p.startsWith('tls:'))).toEqual([]);
    expect(lineMessages(e).length).toBeGreaterThan(0);
    // The gateway's own trace: nothing it sent toward the upstream's ports went over UDP or TCP.
    const toUpstream = e.gwTap.find((m) => m.dir === 'out' && (m.peer.port === e.up.sipPort || m.peer.port === e.up.tlsPort));
    expect(toUpstream.length).toBeGreaterThan(0);
    expect(toUpstream.filter((m) => m.transport.toLowerCase() !== 'tls').map((m) => m.startLine)).toEqual([]);
  });

  it('AC-06 SRTP only with encrypted SRTCP on the gateway↔upstream leg', async () => {
    const e = env.get();
    freshEvents(e);
    const since = e.upTap.mark();
    const packets = await call(e, e.handset, e.desk, `sip:${DESK.ext}@${GW_DOMAIN}`);
    expectTwoWay(e, packets);
    const sdps = upstreamLegSdps(e, since);
    expect(sdps.length, why(e)).toBeGreaterThanOrEqual(2);
    for (const sdp of sdps) {
      const m = /^m=audio \d+ (\S+) /m.exec(sdp);
      expect(m?.[1], sdp).toBe('RTP/SAVP');
      expect(sdp, sdp).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);
      expect(sdp).not.toContain('UNENCRYPTED_SRTCP');
      expect(sdp).not.toMatch(/^m=audio \d+ RTP\/AVP /m);
    }
    // Media crossed the leg between the two relays.
    const legs = packets.filter((p) => (inRange(p.sport, GW_RELAY) && inRange(p.dport, UP_RELAY)) || (inRange(p.sport, UP_RELAY) && inRange(p.dport, GW_RELAY)));
    expect(legs.length, why(e)).toBeGreaterThanOrEqual(MIN_PACKETS);
  }, 90_000);

  it('AC-07 SIPS: Request-URI, To and Contact use sips: toward the upstream', async () => {
    const e = env.get();
    freshEvents(e);
    const since = e.upTap.mark();
    await gatewaySet(e, { sips: true });
    try {
      // The setting reaches the running lines through the store's change feed; they register again with sips:.
      const reg = await e.upTap.waitFor((m) => m.dir === 'in' && m.method === 'REGISTER' && m.startLine.startsWith('REGISTER sips:'), 30_000, since);
      const last = e.upTap.requests('in', 'REGISTER', since).at(-1);
      expect(reg, `no REGISTER with a sips: Request-URI within 30 s (last: ${last?.startLine ?? 'none'})\n${why(e)}`).not.toBeNull();
      expect(headerValues(reg!.text, 'to', 't')[0]).toContain('sips:');
      expect(headerValues(reg!.text, 'contact', 'm')[0]).toContain('sips:');
      await until(() => lineStatus(e)?.registration === 'registered', 'registered with sips');
      const callSince = e.upTap.mark();
      await call(e, e.handset, e.desk, `sip:${DESK.ext}@${GW_DOMAIN}`, 1500);
      const invite = e.upTap.requests('in', 'INVITE', callSince).find((m) => m.text.includes(`${LINE.ext}@`));
      expect(invite, why(e)).toBeDefined();
      expect(invite!.startLine).toMatch(/^INVITE sips:/);
      expect(headerValues(invite!.text, 'to', 't')[0]).toContain('sips:');
      expect(headerValues(invite!.text, 'contact', 'm')[0]).toContain('sips:');
    } finally {
      await gatewaySet(e, { sips: false });
      await until(() => lineStatus(e)?.registration === 'registered', 'registered again without sips', 30_000);
    }
  }, 120_000);

  it('AC-08 G.711 forced (PCMA only)', async () => {
    const e = env.get();
    freshEvents(e);
    try {
      await gatewaySet(e, { codecs: ['PCMA'] });
      const since = e.upTap.mark();
      const packets = await call(e, e.handset, e.desk, `sip:${DESK.ext}@${GW_DOMAIN}`);
      expectTwoWay(e, packets);
      const [offer, answer] = upstreamLegSdps(e, since);
      expect(/^m=audio \d+ \S+ ([\d ]+)/m.exec(offer ?? '')?.[1]?.split(' ')[0], offer).toBe('8');
      expect(/^m=audio \d+ \S+ (\d+)/m.exec(answer ?? '')?.[1], answer).toBe('8');
    } finally {
      await gatewaySet(e, { codecs: ['PCMU', 'PCMA', 'G729'] });
    }
  }, 120_000);

  // AC-08 G.729: the gateway does not transcode, so G.729 reaches the upstream only when the handset offers it;
  // Debian's baresip has no G.729 module. test/interop/gateway-g729.test.ts makes the G.729 calls both ways
  // with SIPp phones (payload type 18 passed through, status Codec G729).

  it('AC-09 DTMF (RFC 4733 on PT 96) from the handset drives the upstream voicemail menu', async () => {
    const e = env.get();
    freshEvents(e);
    const since = e.upTap.mark();
    const logFrom = e.up.log.entries.length;
    // From the voicemail number the mailbox asks for the mailbox and its code (a code is needed: no one logs in to a mailbox without one).
    await e.up.server.store.users.update(LINE.ext, { voicemailCode: VM_CODE });
    await e.up.server.directory.poll();
    const dial = await e.handset.command('dial', `sip:8000@${GW_DOMAIN}`);
    expect(dial.ok, why(e)).toBe(true);
    await e.handset.waitEvent('CALL_ESTABLISHED', 20_000);
    const loggedIn = () => e.up.log.entries.slice(logFrom).some((x) => x.msg === 'voicemail: mailbox login');
    for (const key of [...LINE.ext, '#', ...VM_CODE, '#']) {
      expect((await e.handset.command('sndcode', key)).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 400));
    }
    await until(loggedIn, 'upstream mailbox login after the DTMF digits', 20_000, () => why(e));
    const offer = upstreamLegSdps(e, since)[0] ?? '';
    expect(offer, why(e)).toMatch(/^a=rtpmap:96 telephone-event\/8000/m);
    await new Promise((r) => setTimeout(r, 1500));
    // '*' leaves the menu: the upstream says goodbye and ends the call (without the key it repeats the menu three times).
    const pressedAt = Date.now();
    expect((await e.handset.command('sndcode', '*')).ok).toBe(true);
    await e.handset.waitEvent('CALL_CLOSED', 15_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${why(e)}`);
    });
    expect(Date.now() - pressedAt).toBeLessThan(15_000);
  }, 90_000);

  it('AC-10 hold/resume and blind transfer from the handset', async () => {
    const e = env.get();
    freshEvents(e);
    const callFrom = marks(e);
    const since = e.upTap.mark();
    const dial = await e.handset.command('dial', `sip:${DESK.ext}@${GW_DOMAIN}`);
    expect(dial.ok).toBe(true);
    await e.desk.waitEvent('CALL_INCOMING', 20_000);
    expect((await e.desk.command('accept')).ok).toBe(true);
    await e.handset.waitEvent('CALL_ESTABLISHED', 20_000);
    await e.desk.waitEvent('CALL_ESTABLISHED', 20_000);
    expect((await e.handset.command('hold')).ok, why(e)).toBe(true);
    const hold = await e.upTap.waitFor((m) => m.dir === 'in' && m.method === 'INVITE' && m.status === 0 && m.text.includes(`${LINE.ext}@`) && /^a=(sendonly|inactive)/m.test(bodyOf(m.text)), 15_000, since);
    expect(hold, `no hold re-INVITE reached the upstream\n${why(e)}`).not.toBeNull();
    const resumeSince = e.upTap.mark();
    expect((await e.handset.command('resume')).ok, why(e)).toBe(true);
    const resume = await e.upTap.waitFor((m) => m.dir === 'in' && m.method === 'INVITE' && m.status === 0 && m.text.includes(`${LINE.ext}@`) && !/^a=(sendonly|inactive)/m.test(bodyOf(m.text)), 15_000, resumeSince);
    expect(resume, `no resume re-INVITE reached the upstream\n${why(e)}`).not.toBeNull();
    // The resume is complete on both legs (its 200s) before the transfer starts its own hold re-INVITE.
    expect(await e.upTap.waitFor((m) => m.dir === 'out' && m.method === 'INVITE' && m.status === 200 && m.callId === resume!.callId, 15_000, resumeSince)).not.toBeNull();
    expect(await e.gwTap.waitFor((m) => m.dir === 'out' && m.method === 'INVITE' && m.status === 200 && m.callId !== resume!.callId, 15_000, resumeSince)).not.toBeNull();
    // Blind transfer of the desk phone to desk2 (auto-answer): a REFER goes upstream, the desk phone ends up with desk2.
    const referSince = e.upTap.mark();
    expect((await e.handset.command('transfer', `sip:${DESK2.ext}@${GW_DOMAIN}`)).ok, why(e)).toBe(true);
    const refer = await e.upTap.waitFor((m) => m.dir === 'in' && m.method === 'REFER' && m.status === 0, 15_000, referSince);
    expect(refer, `no REFER reached the upstream\n${why(e)}`).not.toBeNull();
    expect(headerValues(refer!.text, 'refer-to', 'r')[0]).toContain(`${DESK2.ext}@`);
    await e.handset.waitEvent('CALL_CLOSED', 20_000);
    await e.desk2.waitEvent('CALL_ESTABLISHED', 20_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${why(e)}`);
    });
    // The transfer's outcome: the desk phone (still in its call) talks with desk2, both ways; the handset and its line are out of it.
    const capture = await startCapture([e.ranges.handset, e.ranges.desk, e.ranges.desk2, UP_RELAY, GW_RELAY], e.work);
    await new Promise((r) => setTimeout(r, 2000));
    // Everything this test's calls named: the handset's ends too, so that its silence is measured.
    const packets = await callPackets(capture, callFrom);
    expect(e.desk.events.some((ev) => ev.type === 'CALL_CLOSED' && ev.consumed !== true), `the desk phone lost its call in the transfer\n${why(e)}`).toBe(false);
    const [d, d2, h] = [phoneMedia(packets, e.ranges.desk), phoneMedia(packets, e.ranges.desk2), phoneMedia(packets, e.ranges.handset)];
    const detail = `desk ${JSON.stringify({ ...d, peers: [...d.peers] })}, desk2 ${JSON.stringify({ ...d2, peers: [...d2.peers] })}\n${why(e)}`;
    for (const x of [d, d2]) {
      expect(x.sent, detail).toBeGreaterThanOrEqual(MIN_PACKETS);
      expect(x.received, detail).toBeGreaterThanOrEqual(MIN_PACKETS);
    }
    // desk2 sends only to the desk phone or the upstream's relay, never toward the gateway; the handset is silent.
    for (const port of d2.peers) expect(inRange(port, e.ranges.desk) || inRange(port, UP_RELAY), detail).toBe(true);
    expect(h.sent + h.received, detail).toBe(0);
    const upCalls = [...e.up.server.calls.calls()].filter((c) => c.state === 'connected');
    expect(upCalls.map((c) => [c.caller.number, c.callee.number].sort()), why(e)).toEqual([[DESK.ext, DESK2.ext].sort()]);
    expect([...e.gw.server.calls.calls()].length, why(e)).toBe(0);
    expect((await e.desk.command('hangup')).ok).toBe(true);
    await e.desk.waitEvent('CALL_CLOSED');
    await e.desk2.waitEvent('CALL_CLOSED');
  }, 120_000);

  it('AC-11 voicemail: an unanswered call reaches the upstream mailbox; MWI on and off at the handset', async () => {
    const e = env.get();
    freshEvents(e);
    const mwiToHandset = (waiting: 'yes' | 'no', since: number) => e.gwTap.waitFor(
      (m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0 && /message-summary/i.test(headerValues(m.text, 'event', 'o')[0] ?? '') &&
        new RegExp(`^Messages-Waiting: *${waiting}`, 'mi').test(bodyOf(m.text)), 30_000, since);
    await until(() => lineStatus(e)?.mwi === 'active', 'the line subscribed to its upstream MWI');
    const since = e.gwTap.mark();
    // The desk phone calls the handset, nobody answers: the upstream's coverage takes a message.
    expect((await e.desk.command('dial', `sip:${LINE.ext}@${UP_DOMAIN}`)).ok).toBe(true);
    await e.handset.waitEvent('CALL_INCOMING', 20_000);
    await e.desk.waitEvent('CALL_ESTABLISHED', 30_000).catch((err: unknown) => {
      throw new Error(`the upstream's voicemail did not answer: ${(err as Error).message}\n${why(e)}`);
    });
    // The greeting plays first; then the desk phone's tone is recorded (well over the minimum message length).
    await new Promise((r) => setTimeout(r, 12_000));
    expect((await e.desk.command('hangup')).ok).toBe(true);
    await e.desk.waitEvent('CALL_CLOSED');
    await e.handset.waitEvent('CALL_CLOSED', 10_000).catch(() => undefined);
    await until(async () => (await e.up.server.store.voicemail.counts(LINE.ext)).new === 1, 'a message in the upstream mailbox', 20_000, () => why(e));
    expect(await mwiToHandset('yes', since), `the handset was not told a message waits\n${why(e)}`).not.toBeNull();
    expect(lineStatus(e)?.messagesWaiting).toBe(true);
    // MWI off at the gateway: the handset is told nothing waits; on again: it is told again.
    const offSince = e.gwTap.mark();
    await gatewaySet(e, { mwi: false });
    expect(await mwiToHandset('no', offSince), why(e)).not.toBeNull();
    const onSince = e.gwTap.mark();
    await gatewaySet(e, { mwi: true });
    expect(await mwiToHandset('yes', onSince), why(e)).not.toBeNull();
    // The message deleted upstream (as after listening): the lamp goes off.
    const delSince = e.gwTap.mark();
    const [msg] = await e.up.server.store.voicemail.list(LINE.ext, 'new');
    await e.up.server.store.voicemail.remove(LINE.ext, msg!.id);
    expect(await mwiToHandset('no', delSince), why(e)).not.toBeNull();
  }, 120_000);
});

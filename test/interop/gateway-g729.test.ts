// Handset gateway AC-08, the G.729 half (SPEC B-11): the gateway does not
// transcode, so G.729 passes through it. A SIPp handset registered to the
// gateway and a SIPp desk phone registered to an upstream Switchboard offer
// and answer payload type 18 alone (G729/8000, annexb=no; the scenarios
// check the SDP they get) with the gateway's codec list forced to G.729.
// Each plays its own RTP of 20-byte frames; tshark on loopback shows what
// each relay sent to the far phone (told apart from other tests' media by
// the addresses the SDP of this call named) (payload type 18, the very bytes the
// other phone sent, through the gateway's relay: it anchors the upstream
// leg, which runs SRTP and still carries payload type 18), and both servers'
// call status shows the codec as G729 while the call is up.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio } from '../../bench/kamailio/server.ts';
import type { KamailioHandle } from '../../bench/kamailio/server.ts';
import { startTestServer } from '../integration/lib/server.ts';
import type { TestServer } from '../integration/lib/server.ts';
import { parseRtpHeader } from '../../src/media/rtp.ts';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import { LOOPBACK } from './process.ts';
import type { TestUser } from './users.ts';
import type { PortRange } from './lib/baresip-phone.ts';
import { expectScenarioOk } from './lib/media-sipp.ts';
import { isRtcp, readUdp, startPcap } from './lib/media-capture.ts';
import type { UdpDatagram } from './lib/media-capture.ts';
import { pcapFile, rtpStream } from './lib/rtp-pcap.ts';
import { describeCall, registerPhone, runUac, startUas } from './lib/sipp-calls.ts';
import type { SipServer } from './lib/sipp-calls.ts';
import { SipTap, mediaEndOf } from './lib/sip-tap.ts';
import type { TappedMessage } from './lib/sip-tap.ts';
import { between } from './lib/rtp-capture.ts';
import type { MediaEnd } from './lib/rtp-capture.ts';

const UP_DOMAIN = 'upstream.test';
const GW_DOMAIN = 'gw.test';
const HANDSET: TestUser = { ext: '1001', password: 'Handset-1001-pw' };
const LINE: TestUser = { ext: '41510', password: 'Up-41510-secret' };
const DESK: TestUser = { ext: '41520', password: 'Desk-41520-pw' };
/** The relays' ports, apart from each other and from SIPp's media ports (10000-19999): a port says whose a packet is. */
const UP_RELAY: PortRange = { min: 32620, max: 32689 };
const GW_RELAY: PortRange = { min: 32690, max: 32767 };
const G729 = 18;
/** G.729: 10 bytes per 10 ms, so 20 bytes in each 20 ms packet; one second of them. */
const FRAME_BYTES = 20;
const FRAMES = 50;
/** What the scenarios play (media_uac_g729.xml, media_uas_g729.xml), from each phone's own working directory. */
const PCAP_NAME = 'g729.pcap';

interface Env {
  up: TestServer;
  gw: TestServer;
  upTap: SipTap;
  gwTap: SipTap;
  work: string;
  /** Each SIPp phone's working directory, with the frames it plays. */
  dirs: { handset: string; desk: string };
  frames: { handset: Buffer[]; desk: Buffer[] };
}

/** FRAMES payloads that tell the phones and the packets apart (first byte: the phone; second: the index). */
function frames(phone: number): Buffer[] {
  return Array.from({ length: FRAMES }, (_, i) => {
    const b = Buffer.alloc(FRAME_BYTES);
    for (let k = 0; k < FRAME_BYTES; k++) b[k] = (phone * 97 + i * 31 + k * 7) & 0xff;
    b[0] = phone;
    b[1] = i;
    return b;
  });
}

function sipp(ts: TestServer, domain: string, tap: SipTap): SipServer {
  return { name: `switchboard ${domain}`, host: ts.host, udpPort: ts.sipPort, domain, output: () => tap.dump({ last: 60 }) };
}

const env = fixture<Env>(async () => {
  for (const t of ['sipp', 'tshark']) requireTool(t);
  const work = makeTempDir('gw-g729');
  const up = await startTestServer({
    config: { sip: { domain: UP_DOMAIN }, registrar: { minExpiresSec: 30 }, media: { relay: { host: LOOPBACK, portMin: UP_RELAY.min, portMax: UP_RELAY.max } } },
  });
  const gw = await startTestServer({
    config: { sip: { domain: GW_DOMAIN }, media: { relay: { host: LOOPBACK, portMin: GW_RELAY.min, portMax: GW_RELAY.max } } },
  });
  // The line's account is Enforced (SRTP only, as the gateway requires); the desk phone and the handset are plain RTP.
  await up.server.store.users.add({ extension: LINE.ext, password: LINE.password, name: 'Handset line', media: { security: 'enforced' } });
  await up.server.store.users.add({ extension: DESK.ext, password: DESK.password, name: 'Desk', media: { security: 'disabled' } });
  await up.server.directory.poll();
  await gw.server.store.users.add({ extension: HANDSET.ext, password: HANDSET.password, name: 'Handset', media: { security: 'disabled' } });
  await gw.server.directory.poll();
  await gw.server.store.gateway.addProxy({ uri: `sip:127.0.0.1:${up.sipPort};transport=udp`, priority: 1 });
  await gw.server.store.gateway.setLine({ extension: HANDSET.ext, upstreamUser: LINE.ext, password: LINE.password });
  // AC-08: G.729 forced on the gateway.
  await gw.server.store.gateway.updateSettings({ mode: 'gateway', transport: 'udp', defaultDomain: UP_DOMAIN, codecs: ['G729'] });
  const dirs = { handset: join(work, 'handset'), desk: join(work, 'desk') };
  const f = { handset: frames(0xa1), desk: frames(0xd2) };
  for (const who of ['handset', 'desk'] as const) {
    mkdirSync(dirs[who]);
    writeFileSync(join(dirs[who], PCAP_NAME), pcapFile(rtpStream([{ frames: f[who], payloadType: G729 }], 96)));
  }
  const deadline = Date.now() + 20_000;
  while (gw.server.gateway.lines?.lineStatus(HANDSET.ext)?.registration !== 'registered') {
    if (Date.now() > deadline) throw new Error('the line did not register upstream within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { up, gw, upTap: SipTap.attach(up.server), gwTap: SipTap.attach(gw.server), work, dirs, frames: f };
}, async (e) => {
  await e.gw.stop();
  await e.up.stop();
  removeDir(e.work);
});

const rtp = (d: UdpDatagram): boolean => d.payload.length >= 12 && !isRtcp(d.payload);

/** Payload type and payload of each RTP packet (the payload as sent: no padding in these). */
function packets(list: readonly UdpDatagram[]): { pt: number; payload: string }[] {
  return list.map((d) => {
    const h = parseRtpHeader(d.payload);
    if (!h) throw new Error(`not RTP: ${d.payload.toString('hex')}`);
    return { pt: h.payloadType, payload: d.payload.subarray(h.headerLength).toString('hex') };
  });
}

interface Media {
  /** What the gateway's relay sent to the handset and the upstream's relay to the desk phone. */
  toHandset: { pt: number; payload: string }[];
  toDesk: { pt: number; payload: string }[];
  /** Payload types on the SRTP leg between the two relays, each way. */
  gwToUp: number[];
  upToGw: number[];
}

/** The two ends of each media path of one call: phone ↔ its server's relay, and the relays' upstream leg. */
interface CallMedia {
  handset: MediaEnd;
  gwToHandset: MediaEnd;
  desk: MediaEnd;
  upToDesk: MediaEnd;
  gwLeg: MediaEnd;
  upLeg: MediaEnd;
}

/** The SDP each server received and sent in this call (since the marks), read from its SIP trace. */
function callMedia(e: Env, since: { gw: number; up: number }): CallMedia {
  const sdps = (tap: SipTap, from: number) => tap.find((m) => m.text.includes('\r\nm=audio '), from);
  const gw = sdps(e.gwTap, since.gw);
  const up = sdps(e.upTap, since.up);
  const fromUp = (m: TappedMessage): boolean => m.peer.port === e.up.sipPort;
  const fromGw = (m: TappedMessage): boolean => m.peer.port === e.gw.sipPort;
  return {
    handset: mediaEndOf(gw.find((m) => m.dir === 'in' && !fromUp(m)), "the handset's SDP"),
    gwToHandset: mediaEndOf(gw.find((m) => m.dir === 'out' && !fromUp(m)), "the gateway's SDP to the handset"),
    desk: mediaEndOf(up.find((m) => m.dir === 'in' && !fromGw(m)), "the desk phone's SDP"),
    upToDesk: mediaEndOf(up.find((m) => m.dir === 'out' && !fromGw(m)), "the upstream's SDP to the desk phone"),
    gwLeg: mediaEndOf(gw.find((m) => m.dir === 'out' && fromUp(m)), "the gateway's SDP to the upstream"),
    upLeg: mediaEndOf(gw.find((m) => m.dir === 'in' && fromUp(m)), "the upstream's SDP to the gateway"),
  };
}

/**
 * What went along each path of this call, matched on both ends' addresses
 * and ports: other tests on this machine may run relays in the same ranges
 * on loopback at the same time.
 */
function split(all: readonly UdpDatagram[], c: CallMedia): Media {
  const r = all.filter(rtp);
  const on = (src: MediaEnd, dst: MediaEnd) => between(r, src, dst);
  const pts = (l: UdpDatagram[]): number[] => l.map((d) => (d.payload[1] as number) & 0x7f);
  return {
    toHandset: packets(on(c.gwToHandset, c.handset)),
    toDesk: packets(on(c.upToDesk, c.desk)),
    gwToUp: pts(on(c.gwLeg, c.upLeg)),
    upToGw: pts(on(c.upLeg, c.gwLeg)),
  };
}

/** The codec each server's call status shows for its connected calls, polled until `done` settles. */
async function codecsWhile<K extends string>(servers: Record<K, TestServer>, done: Promise<unknown>): Promise<Record<K, Set<string | null>>> {
  const seen = Object.fromEntries(Object.keys(servers).map((k) => [k, new Set<string | null>()])) as Record<K, Set<string | null>>;
  let settled = false;
  void done.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    for (const k of Object.keys(servers) as K[]) {
      for (const c of servers[k].server.status.snapshot().calls) if (c.state === 'connected') seen[k].add(c.codec);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

/**
 * One call: `callee` (a SIPp phone registered at calleeServer) answers with
 * media_uas_g729.xml; `caller` calls it through callerServer with
 * media_uac_g729.xml. Returns what the relays sent and what status showed.
 */
async function g729Call(e: Env, o: {
  callerServer: SipServer; caller: TestUser; callerDir: string; dialled: string;
  calleeServer: SipServer; callee: TestUser; calleeDir: string;
}): Promise<{ media: Media; codecs: { gw: Set<string | null>; up: Set<string | null> }; why: string }> {
  const port = await registerPhone({ server: o.calleeServer, users: [o.callee], workDir: o.calleeDir, expires: 120 });
  const uas = await startUas({ scenario: 'media_uas_g729.xml', port, calls: 1, timeoutSec: 40, workDir: o.calleeDir, traceMessages: true });
  const pcap = await startPcap(`udp and portrange ${UP_RELAY.min}-${GW_RELAY.max}`, e.work, 'g729');
  const since = { gw: e.gwTap.mark(), up: e.upTap.mark() };
  let why = '';
  let codecs;
  try {
    const uacRun = runUac({
      server: o.callerServer, scenario: 'media_uac_g729.xml', callee: o.dialled, callers: [o.caller], calls: 1, rate: 1,
      holdMs: 2500, workDir: o.callerDir, timeoutMs: 60_000, traceMessages: true, extraArgs: ['-timeout', '40s'],
    });
    codecs = await codecsWhile({ gw: e.gw, up: e.up }, uacRun);
    const uac = await uacRun;
    const uasRun = await uas.done;
    why = `${describeCall(o.callerServer, uac, uasRun)}\n--- ${o.calleeServer.name} ---\n${o.calleeServer.output()}`;
    expectScenarioOk(uasRun, 'SIPp G.729 phone answering (media_uas_g729.xml)', why);
    expectScenarioOk(uac, 'SIPp G.729 phone calling (media_uac_g729.xml)', why);
  } finally {
    await pcap.stop();
  }
  return { media: split(await readUdp(pcap), callMedia(e, since)), codecs, why };
}

function expectPassedThrough(got: { pt: number; payload: string }[], sent: Buffer[], what: string, why: string, pt = G729): void {
  expect(got.length, `${what}: no RTP\n${why}`).toBeGreaterThan(0);
  expect(new Set(got.map((p) => p.pt)), what).toEqual(new Set([pt]));
  // Byte for byte what the other phone sent, in its order: passed through, not transcoded.
  expect(got.map((p) => p.payload), what).toEqual(sent.map((b) => b.toString('hex')));
}

function expectG729(r: Awaited<ReturnType<typeof g729Call>>, e: Env): void {
  expectPassedThrough(r.media.toDesk, e.frames.handset, 'handset → desk (from the upstream relay)', r.why);
  expectPassedThrough(r.media.toHandset, e.frames.desk, 'desk → handset (from the gateway relay)', r.why);
  // The upstream leg (SRTP: its header is in the clear) carried payload type 18 both ways.
  for (const [what, pts] of [['gateway → upstream', r.media.gwToUp], ['upstream → gateway', r.media.upToGw]] as const) {
    expect(pts.length, `${what}: no media between the relays\n${r.why}`).toBeGreaterThanOrEqual(FRAMES);
    expect(new Set(pts), what).toEqual(new Set([G729]));
  }
  expect(r.codecs, r.why).toEqual({ gw: new Set(['G729']), up: new Set(['G729']) });
}

describe('AC-08 G.729 through the handset gateway (SIPp, pass-through)', () => {
  beforeAll(() => env.setup(), 60_000);
  afterAll(() => env.teardown(), 60_000);

  it.each(['handset → upstream desk phone', 'upstream desk phone → handset'] as const)('%s: PT 18 end to end through the anchored relays, status Codec G729', async (direction) => {
    const e = env.get();
    const handset = { server: sipp(e.gw, GW_DOMAIN, e.gwTap), user: HANDSET, dir: e.dirs.handset, number: LINE.ext };
    const desk = { server: sipp(e.up, UP_DOMAIN, e.upTap), user: DESK, dir: e.dirs.desk, number: DESK.ext };
    const [from, to] = direction.startsWith('handset') ? [handset, desk] : [desk, handset];
    const r = await g729Call(e, {
      callerServer: from.server, caller: from.user, callerDir: from.dir, dialled: to.number,
      calleeServer: to.server, callee: to.user, calleeDir: to.dir,
    });
    expectG729(r, e);
  }, 120_000);
});

// B-11 "Add G729A media type", setting g729a on: the upstream is Kamailio (a
// registrar and stateful proxy that leaves SDP alone) and its desk phone, a
// SIPp phone that knows G.729 only as G729A/8000 on payload type 97 and
// checks that it is offered (or answered) exactly that. The gateway offers
// G.729 under both names (18 G729 and 97 G729A: the desk phone answers 97),
// reads the desk phone's G729A offer as G.729 for the handset (PT 18, which
// the handset's scenario checks), and its relay renumbers: the handset gets
// PT 18 and the desk phone PT 97, each with the other's very frames. Plain
// RTP upstream (SIPp has no SRTP; the SRTP leg is covered above).
const DESK_G729A = 97;

/** The first set-up with Kamailio in place of the upstream Switchboard. */
interface EnvA extends Omit<Env, 'up' | 'upTap'> {
  k: KamailioHandle;
}

const envA = fixture<EnvA>(async () => {
  for (const t of ['sipp', 'tshark', 'kamailio']) requireTool(t);
  const work = makeTempDir('gw-g729a');
  const k = await startKamailio({ users: [LINE, DESK], domain: UP_DOMAIN, tcp: false, proxy: {} });
  let gw: TestServer | undefined;
  try {
    gw = await startTestServer({ config: { sip: { domain: GW_DOMAIN }, media: { relay: { host: LOOPBACK, portMin: GW_RELAY.min, portMax: GW_RELAY.max } } } });
    await gw.server.store.users.add({ extension: HANDSET.ext, password: HANDSET.password, name: 'Handset', media: { security: 'disabled' } });
    await gw.server.directory.poll();
    await gw.server.store.gateway.addProxy({ uri: `sip:${k.host}:${k.port};transport=udp`, priority: 1 });
    await gw.server.store.gateway.setLine({ extension: HANDSET.ext, upstreamUser: LINE.ext, password: LINE.password });
    await gw.server.store.gateway.updateSettings({
      mode: 'gateway', transport: 'udp', defaultDomain: UP_DOMAIN, codecs: ['G729'], g729a: true, srtp: false, mwi: false,
    });
    const dirs = { handset: join(work, 'handset'), desk: join(work, 'desk') };
    const f = { handset: frames(0xa1), desk: frames(0xd2) };
    mkdirSync(dirs.handset);
    mkdirSync(dirs.desk);
    writeFileSync(join(dirs.handset, PCAP_NAME), pcapFile(rtpStream([{ frames: f.handset, payloadType: G729 }], 96)));
    writeFileSync(join(dirs.desk, 'g729a.pcap'), pcapFile(rtpStream([{ frames: f.desk, payloadType: DESK_G729A }], 96)));
    const deadline = Date.now() + 20_000;
    while (gw.server.gateway.lines?.lineStatus(HANDSET.ext)?.registration !== 'registered') {
      if (Date.now() > deadline) throw new Error(`the line did not register at Kamailio within 20 s\n${k.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { k, gw, gwTap: SipTap.attach(gw.server), work, dirs, frames: f };
  } catch (err) {
    await gw?.stop();
    await k.stop();
    removeDir(work);
    throw err;
  }
}, async (e) => {
  await e.gw.stop();
  await e.k.stop();
  removeDir(e.work);
});

/** One call between the handset and the G729A desk phone; what the gateway's relay sent each phone, and the SDP it sent upstream. */
async function g729aCall(e: EnvA, handsetCalls: boolean) {
  const kamailio: SipServer = { name: 'kamailio', host: e.k.host, udpPort: e.k.port, domain: UP_DOMAIN, output: e.k.output };
  const handset = { server: sipp(e.gw, GW_DOMAIN, e.gwTap), user: HANDSET, dir: e.dirs.handset, number: LINE.ext, name: 'g729' };
  const desk = { server: kamailio, user: DESK, dir: e.dirs.desk, number: DESK.ext, name: 'g729a' };
  const [from, to] = handsetCalls ? [handset, desk] : [desk, handset];
  const port = await registerPhone({ server: to.server, users: [to.user], workDir: to.dir, expires: 120 });
  const uas = await startUas({ scenario: `media_uas_${to.name}.xml`, port, calls: 1, timeoutSec: 40, workDir: to.dir, traceMessages: true });
  const pcap = await startPcap(`udp and portrange ${GW_RELAY.min}-${GW_RELAY.max}`, e.work, 'g729a');
  const since = e.gwTap.mark();
  let why = '';
  let codecs;
  try {
    const uacRun = runUac({
      server: from.server, scenario: `media_uac_${from.name}.xml`, callee: to.number, callers: [from.user], calls: 1, rate: 1,
      holdMs: 2500, workDir: from.dir, timeoutMs: 60_000, traceMessages: true, extraArgs: ['-timeout', '40s'],
    });
    codecs = await codecsWhile({ gw: e.gw }, uacRun);
    const uac = await uacRun;
    const uasRun = await uas.done;
    why = `${describeCall(from.server, uac, uasRun)}\n--- ${to.server.name} ---\n${to.server.output()}\n--- gateway ---\n${e.gwTap.dump({ last: 60 })}`;
    expectScenarioOk(uasRun, `SIPp ${to.name} phone answering`, why);
    expectScenarioOk(uac, `SIPp ${from.name} phone calling`, why);
  } finally {
    await pcap.stop();
  }
  const sdps = e.gwTap.find((m) => m.text.includes('\r\nm=audio '), since);
  const upstream = (m: TappedMessage): boolean => m.peer.port === e.k.port;
  const toUpstream = sdps.find((m) => m.dir === 'out' && upstream(m));
  const ends = {
    handset: mediaEndOf(sdps.find((m) => m.dir === 'in' && !upstream(m)), "the handset's SDP"),
    gwToHandset: mediaEndOf(sdps.find((m) => m.dir === 'out' && !upstream(m)), "the gateway's SDP to the handset"),
    // Kamailio passes the desk phone's SDP on untouched: the media goes between it and the gateway's relay.
    desk: mediaEndOf(sdps.find((m) => m.dir === 'in' && upstream(m)), "the desk phone's SDP"),
    gwToDesk: mediaEndOf(toUpstream, "the gateway's SDP to the upstream"),
  };
  const r = (await readUdp(pcap)).filter(rtp);
  return {
    toHandset: packets(between(r, ends.gwToHandset, ends.handset)),
    toDesk: packets(between(r, ends.gwToDesk, ends.desk)),
    sentUpstream: toUpstream?.text ?? '',
    codecs,
    why,
  };
}

describe('B-11 g729a on: G.729 named G729A by the upstream (Kamailio, SIPp desk phone)', () => {
  beforeAll(() => envA.setup(), 60_000);
  afterAll(() => envA.teardown(), 60_000);

  it.each(['handset → G729A desk phone', 'G729A desk phone → handset'] as const)('%s: the handset gets PT 18, the desk phone PT 97 G729A, frames byte for byte', async (direction) => {
    const e = envA.get();
    const handsetCalls = direction.startsWith('handset');
    const r = await g729aCall(e, handsetCalls);
    expectPassedThrough(r.toDesk, e.frames.handset, 'handset → desk (PT 97 from the gateway relay)', r.why, DESK_G729A);
    expectPassedThrough(r.toHandset, e.frames.desk, 'desk → handset (PT 18 from the gateway relay)', r.why);
    expect(r.codecs, r.why).toEqual({ gw: new Set(['G729']) });
    if (handsetCalls) {
      // Our offer: G.729 under both names, G729A on its own payload type right after 18.
      expect(r.sentUpstream, r.why).toMatch(/\r\nm=audio \d+ RTP\/AVP 18 97[ \r]/);
      expect(r.sentUpstream, r.why).toContain('a=rtpmap:18 G729/8000\r\n');
      expect(r.sentUpstream, r.why).toContain('a=rtpmap:97 G729A/8000\r\n');
    } else {
      // Our answer in the desk phone's terms (its scenario checks this too).
      expect(r.sentUpstream, r.why).toMatch(/\r\nm=audio \d+ RTP\/AVP 97\r\n/);
    }
  }, 120_000);
});

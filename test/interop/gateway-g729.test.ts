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
import { SipTap, bodyOf } from './lib/sip-tap.ts';
import type { TappedMessage } from './lib/sip-tap.ts';

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

beforeAll(() => env.setup(), 60_000);
afterAll(() => env.teardown(), 60_000);

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

/** Where one side of a call's media is, as its SDP says (c= and the first m=audio). */
type MediaEnd = string;

function mediaEnd(m: TappedMessage | undefined, what: string): MediaEnd {
  const sdp = m === undefined ? '' : bodyOf(m.text);
  const address = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  if (address === undefined || port === undefined || port === '0') throw new Error(`no media address in ${what}:\n${sdp || '(no SDP)'}`);
  return `${address}:${port}`;
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
    handset: mediaEnd(gw.find((m) => m.dir === 'in' && !fromUp(m)), "the handset's SDP"),
    gwToHandset: mediaEnd(gw.find((m) => m.dir === 'out' && !fromUp(m)), "the gateway's SDP to the handset"),
    desk: mediaEnd(up.find((m) => m.dir === 'in' && !fromGw(m)), "the desk phone's SDP"),
    upToDesk: mediaEnd(up.find((m) => m.dir === 'out' && !fromGw(m)), "the upstream's SDP to the desk phone"),
    gwLeg: mediaEnd(gw.find((m) => m.dir === 'out' && fromUp(m)), "the gateway's SDP to the upstream"),
    upLeg: mediaEnd(gw.find((m) => m.dir === 'in' && fromUp(m)), "the upstream's SDP to the gateway"),
  };
}

/**
 * What went along each path of this call, matched on both ends' addresses
 * and ports: other tests on this machine may run relays in the same ranges
 * on loopback at the same time.
 */
function split(all: readonly UdpDatagram[], c: CallMedia): Media {
  const r = all.filter(rtp);
  const on = (src: MediaEnd, dst: MediaEnd) => r.filter((d) => `${d.src}:${d.sport}` === src && `${d.dst}:${d.dport}` === dst);
  const pts = (l: UdpDatagram[]): number[] => l.map((d) => (d.payload[1] as number) & 0x7f);
  return {
    toHandset: packets(on(c.gwToHandset, c.handset)),
    toDesk: packets(on(c.upToDesk, c.desk)),
    gwToUp: pts(on(c.gwLeg, c.upLeg)),
    upToGw: pts(on(c.upLeg, c.gwLeg)),
  };
}

/** The codec each server's call status shows for its connected calls, polled until `done` settles. */
async function codecsWhile(e: Env, done: Promise<unknown>): Promise<{ gw: Set<string | null>; up: Set<string | null> }> {
  const seen = { gw: new Set<string | null>(), up: new Set<string | null>() };
  let settled = false;
  void done.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    for (const [k, ts] of [['gw', e.gw], ['up', e.up]] as const) {
      for (const c of ts.server.status.snapshot().calls) if (c.state === 'connected') seen[k].add(c.codec);
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
    codecs = await codecsWhile(e, uacRun);
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

function expectPassedThrough(got: { pt: number; payload: string }[], sent: Buffer[], what: string, why: string): void {
  expect(got.length, `${what}: no RTP\n${why}`).toBeGreaterThan(0);
  expect(new Set(got.map((p) => p.pt)), what).toEqual(new Set([G729]));
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

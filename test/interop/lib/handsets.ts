// baresip handsets against the in-process Switchboard of feature-server.ts:
// started over TLS with mandatory SDES-SRTP (or as asked), each with its own
// RTP port range; and what the media did afterwards, from a tshark capture
// of those ranges and the relay's, decrypted with the SDES keys the server's
// own SIP trace carries (in-process, so SIP over TLS is readable there).
import { expect } from 'vitest';
import type { SipTransport } from '../baresip.ts';
import type { TestUser } from '../users.ts';
import type { PortRange } from './baresip-phone.ts';
import { BaresipPhone } from './baresip-phone.ts';
import type { FeatureServer } from './feature-server.ts';
import { FEATURE_RELAY_PORTS } from './feature-server.ts';
import type { Pcap, UdpDatagram } from './media-capture.ts';
import { inRange, readUdp, rtpBetween, startPcap } from './media-capture.ts';
import { cryptoKeys, decryptWithBest } from './media-flows.ts';
import { captureFilter } from './rtp-capture.ts';
import { bodyOf } from './sip-tap.ts';

/** n disjoint 10-port ranges in 30000-32599 (below the relay's and the ephemeral ports), at random. */
export function rtpRangesN(n: number): PortRange[] {
  const slots = Math.floor(2600 / (10 * n));
  const base = 30000 + 10 * n * Math.floor(Math.random() * slots);
  return Array.from({ length: n }, (_, i) => ({ min: base + 10 * i, max: base + 10 * i + 9 }));
}

export interface HandsetSpec {
  name: string;
  user: TestUser;
  rtp: PortRange;
  transport?: SipTransport;
  /** mediaenc=srtp-mand (default true). */
  srtp?: boolean;
  autoAnswer?: boolean;
  /** Registration interval asked for, seconds (default 600). */
  regint?: number;
}

export class Handsets {
  private readonly list: BaresipPhone[] = [];
  constructor(private readonly fs: FeatureServer) {}

  async start(s: HandsetSpec): Promise<BaresipPhone> {
    const transport = s.transport ?? 'tls';
    const p = await BaresipPhone.start(s.name, {
      account: {
        user: s.user.ext,
        password: s.user.password,
        domain: this.fs.domain,
        proxyHost: this.fs.host,
        proxyPort: this.fs.port(transport),
        transport,
        ...(s.srtp !== false ? { mediaenc: 'srtp-mand' } : {}),
        ...(s.autoAnswer === true ? { answermode: 'auto' as const } : {}),
        ...(s.regint !== undefined ? { regint: s.regint } : {}),
      },
      rtpPorts: s.rtp,
    });
    this.list.push(p);
    return p;
  }

  why(): string {
    return `${this.list.map((p) => p.output()).join('\n')}\n${this.fs.output()}`;
  }

  async stopAll(): Promise<void> {
    for (const p of this.list.splice(0)) await p.stop();
  }
}

/** Waits for a ctrl_tcp event, failing with every phone's output and the server's trace. */
export async function event(p: BaresipPhone, type: string, why: () => string, timeoutMs = 15_000): Promise<void> {
  await p.waitEvent(type, timeoutMs).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n${why()}`);
  });
}

/** Events that say a call reached the phone (an auto-answering baresip reports no CALL_INCOMING). */
export function callsReached(p: BaresipPhone, fromIndex: number): string[] {
  return p.events.slice(fromIndex).filter((e) => e.type === 'CALL_INCOMING' || (e.type === 'CALL_ESTABLISHED' && e.direction === 'incoming')).map((e) => `${e.type} ${e.peeruri ?? ''}`);
}

/** True if an event of this type is there and not consumed yet (does not consume it). */
export function hasEvent(p: BaresipPhone, type: string): boolean {
  return p.events.some((e) => e.type === type && e.consumed !== true);
}

/** a dials b's extension, b accepts (unless it answers by itself): both established. */
export async function connect(a: BaresipPhone, b: BaresipPhone, ext: string, domain: string, why: () => string, bAnswersItself = false): Promise<void> {
  const dial = await a.command('dial', `sip:${ext}@${domain}`);
  expect(dial.ok, `dial refused: ${dial.data}\n${why()}`).toBe(true);
  // baresip answering by itself (answermode=auto) reports no CALL_INCOMING, only the established call.
  if (!bAnswersItself) {
    await event(b, 'CALL_INCOMING', why);
    const r = await b.command('accept');
    expect(r.ok, `accept refused: ${r.data}\n${why()}`).toBe(true);
  }
  await event(a, 'CALL_ESTABLISHED', why);
  await event(b, 'CALL_ESTABLISHED', why);
}

/** SDES keys in every SDP the server sent or received (since a trace mark). */
export function tappedKeys(fs: FeatureServer, since = 0) {
  const attrs: string[] = [];
  for (const m of fs.tap.messages.slice(since)) {
    for (const line of bodyOf(m.text).split(/\r?\n/)) if (line.startsWith('a=crypto:')) attrs.push(line.slice(2));
  }
  return cryptoKeys(attrs);
}

export interface Talk {
  /** RTP packets that reached x from y's range directly, or from the relay. */
  toA: UdpDatagram[];
  toC: UdpDatagram[];
  /** Any packet to or from the third phone's range. */
  third: UdpDatagram[];
  /** Authenticated under an SDP key / total, each way. */
  decryptedToA: number;
  decryptedToC: number;
  detail: string;
}

/** Starts capturing the ranges and the relay's; stop() and count with talkBetween. */
export function captureMedia(ranges: readonly PortRange[], workDir: string, name: string): Promise<Pcap> {
  return startPcap(captureFilter([...ranges, FEATURE_RELAY_PORTS]), workDir, name);
}

/**
 * Who talked to whom in a capture: a and c must be in a call (directly or
 * through the relay); `third` (the transferor) must be out of it.
 */
export async function talkBetween(pcap: Pcap, fs: FeatureServer, a: PortRange, c: PortRange, third: PortRange | undefined, srtp: boolean): Promise<Talk> {
  const udp = await readUdp(pcap);
  const fromPeerOrRelay = (to: PortRange, peer: PortRange) => [...rtpBetween(udp, peer, to), ...rtpBetween(udp, FEATURE_RELAY_PORTS, to)];
  const toA = fromPeerOrRelay(a, c);
  const toC = fromPeerOrRelay(c, a);
  const thirdPackets = third === undefined ? [] : udp.filter((d) => inRange(d.sport, third) || inRange(d.dport, third));
  let decryptedToA = 0;
  let decryptedToC = 0;
  if (srtp) {
    const keys = tappedKeys(fs);
    decryptedToA = decryptWithBest(keys, toA.map((d) => d.payload)).ok;
    decryptedToC = decryptWithBest(keys, toC.map((d) => d.payload)).ok;
  }
  const direct = rtpBetween(udp, c, a).length + rtpBetween(udp, a, c).length;
  const detail =
    `A rtp ${a.min}-${a.max}, C rtp ${c.min}-${c.max}${third ? `, third ${third.min}-${third.max}` : ''}, relay ${FEATURE_RELAY_PORTS.min}-${FEATURE_RELAY_PORTS.max}: ` +
    `to A ${toA.length} (decrypted ${decryptedToA}), to C ${toC.length} (decrypted ${decryptedToC}), A<->C direct ${direct}, ` +
    `third party ${thirdPackets.length} ${JSON.stringify(thirdPackets.slice(0, 3).map((d) => `${d.sport}->${d.dport}`))}, all captured ${udp.length}`;
  return { toA, toC, third: thirdPackets, decryptedToA, decryptedToC, detail };
}

/**
 * A handset dials a code as a user types it (baresip completes it to
 * sip:<code>@<domain>, leaving '#' unescaped): the server answers 200 and
 * ends the call with its own BYE within maxByeMs. Returns the INVITE the server got.
 */
export async function handsetDialsSetting(fs: FeatureServer, p: BaresipPhone, code: string, why: () => string, maxByeMs = 2000): Promise<string> {
  const since = fs.tap.mark();
  const r = await p.command('dial', code);
  expect(r.ok, `dial ${code} refused by baresip: ${r.data}\n${why()}`).toBe(true);
  // The code call's own dialog (the phone may have other calls whose events interleave).
  const user = code.replace(/#/g, '(#|%23)').replace(/\*/g, '\\*');
  const toCode = new RegExp(`^INVITE sips?:${user}@`);
  const invite = await fs.tap.waitFor((m) => m.dir === 'in' && m.status === 0 && m.method === 'INVITE' && toCode.test(m.startLine), 10_000, since);
  expect(invite, `the server got no INVITE for ${code}\n${why()}`).not.toBeNull();
  const ok = await fs.tap.waitFor((m) => m.dir === 'out' && m.callId === invite!.callId && m.method === 'INVITE' && m.status === 200, 10_000, since);
  const w = `${p.name} dialled ${code}: ${invite!.startLine}\n${why()}`;
  expect(ok, `no 200 from the server\n${w}`).not.toBeNull();
  const bye = await fs.tap.waitFor((m) => m.dir === 'out' && m.callId === invite!.callId && m.method === 'BYE' && m.status === 0, maxByeMs + 3000, since);
  expect(bye, `the server sent no BYE (the phone hung up itself?)\n${w}`).not.toBeNull();
  expect(bye!.at - ok!.at, w).toBeLessThanOrEqual(maxByeMs);
  await event(p, 'CALL_CLOSED', why);
  return invite!.startLine;
}

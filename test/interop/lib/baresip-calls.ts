// baresip A calls baresip B through a server, over one transport, with both
// phones driven through ctrl_tcp; tshark counts the RTP on loopback and
// tells whether it went phone to phone (direct media) or through anyone else.
import { expect } from 'vitest';
import type { SipTransport } from '../baresip.ts';
import type { TestUser } from '../users.ts';
import type { PortRange } from './baresip-phone.ts';
import { BaresipPhone } from './baresip-phone.ts';
import type { MediaCount } from './rtp-capture.ts';
import { boundUdpEnds, countMedia, involving, startCapture } from './rtp-capture.ts';

export interface PhoneServer {
  name: string;
  host: string;
  domain: string;
  port(transport: SipTransport): number;
  /** CA (PEM) the phones are given for TLS. */
  caFile?: string;
  output(): string;
}

export interface DirectCallResult {
  media: MediaCount;
  a: PortRange;
  b: PortRange;
}

/** Two disjoint 10-port ranges under the ephemeral range (32768+), chosen at random. */
export function rtpRanges(): [PortRange, PortRange] {
  const base = 30000 + 20 * Math.floor(Math.random() * 130);
  return [
    { min: base, max: base + 9 },
    { min: base + 10, max: base + 19 },
  ];
}

/** Packets each way that make "RTP flowed" unambiguous: ~1 s at 20 ms ptime. */
export const MIN_PACKETS_EACH_WAY = 50;

/** How long a test call stays up: well over MIN_PACKETS_EACH_WAY packets at 20 ms. */
export const CALL_HOLD_MS = 3000;

/**
 * A dials B, B answers, the call stays up for holdMs, A hangs up. Asserts the
 * signalling at both phones and that the media went A<->B directly, and
 * returns the counts.
 */
export async function baresipDirectCall(
  server: PhoneServer,
  users: { a: TestUser; b: TestUser },
  transport: SipTransport,
  workDir: string,
  holdMs = CALL_HOLD_MS,
): Promise<DirectCallResult> {
  const [ra, rb] = rtpRanges();
  const account = (u: TestUser) => ({
    user: u.ext,
    password: u.password,
    domain: server.domain,
    proxyHost: server.host,
    proxyPort: server.port(transport),
    transport,
  });
  const caFile = transport === 'tls' ? server.caFile : undefined;
  const phones: BaresipPhone[] = [];
  try {
    const a = await BaresipPhone.start('A', { account: account(users.a), caFile, rtpPorts: ra });
    phones.push(a);
    const b = await BaresipPhone.start('B', { account: account(users.b), caFile, rtpPorts: rb });
    phones.push(b);
    const why = (): string => `${a.output()}\n${b.output()}\n--- ${server.name} ---\n${server.output()}`;
    const capture = await startCapture([ra, rb], workDir);
    let media: MediaCount;
    // The phones' own sockets during the call: other tests' phones may use these port ranges at the same time.
    let ends = new Set<string>();
    try {
      const dial = await a.command('dial', `sip:${users.b.ext}@${server.domain}`);
      expect(dial.ok, `dial refused: ${dial.data}\n${why()}`).toBe(true);
      const incoming = await b.waitEvent('CALL_INCOMING').catch((e: unknown) => {
        throw new Error(`${(e as Error).message}\n${why()}`);
      });
      expect(incoming.peeruri ?? '', why()).toContain(users.a.ext);
      const accept = await b.command('accept');
      expect(accept.ok, `accept refused: ${accept.data}\n${why()}`).toBe(true);
      await a.waitEvent('CALL_ESTABLISHED');
      await b.waitEvent('CALL_ESTABLISHED');
      ends = await boundUdpEnds(a.pid, b.pid);
      await new Promise((r) => setTimeout(r, holdMs));
      const hangup = await a.command('hangup');
      expect(hangup.ok, why()).toBe(true);
      await a.waitEvent('CALL_CLOSED');
      // B learns of the end from the BYE the server passed on.
      await b.waitEvent('CALL_CLOSED');
    } finally {
      media = countMedia(involving(await capture.stop(), ends), ra, rb);
    }
    const detail = `A rtp ${ra.min}-${ra.max}, B rtp ${rb.min}-${rb.max}: A->B ${media.aToB}, B->A ${media.bToA}, ` +
      `other ${media.stray.length} ${JSON.stringify(media.stray.slice(0, 5))}\n${why()}`;
    expect(media.stray, detail).toEqual([]);
    expect(media.aToB, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(media.bToA, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    return { media, a: ra, b: rb };
  } finally {
    for (const p of phones) await p.stop();
  }
}

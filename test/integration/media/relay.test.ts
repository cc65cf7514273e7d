// The anchored relay on loopback, with real UDP sockets standing for phones.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaError, MediaRelay, type PacketTransform, type RelaySession } from '../../../src/media/relay.ts';
import { buildRtpPacket } from '../../../src/media/rtp.ts';
import { SrtpSession, generateKeySalt } from '../../../src/media/srtp.ts';
import { sleep, waitUntil } from '../../lib/wait.ts';

// Below the ephemeral range, apart from the unit tests' ports.
const PORT_MIN = 31500;
const PORT_MAX = 31999;

interface Got {
  data: Buffer;
  from: RemoteInfo;
}

class Phone {
  readonly got: Got[] = [];
  private constructor(readonly sock: Socket) {
    sock.on('message', (data, from) => this.got.push({ data, from }));
  }

  static async open(host = '127.0.0.1'): Promise<Phone> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, host, () => resolve());
    });
    const p = new Phone(sock);
    phones.push(p);
    return p;
  }

  get port(): number {
    return this.sock.address().port;
  }

  send(data: Buffer, port: number): void {
    this.sock.send(data, port, '127.0.0.1');
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // closed already
    }
  }
}

const phones: Phone[] = [];
const relays: MediaRelay[] = [];
const sockets6: Socket[] = [];

afterEach(async () => {
  for (const p of phones.splice(0)) p.close();
  for (const s of sockets6.splice(0)) s.close();
  for (const r of relays.splice(0)) await r.close();
});

function relay(opts: ConstructorParameters<typeof MediaRelay>[1] = {}): MediaRelay {
  const r = new MediaRelay({ host: '127.0.0.1', portMin: PORT_MIN, portMax: PORT_MAX }, opts);
  relays.push(r);
  return r;
}

function rtp(seq: number, ssrc = 0xa1a1a1a1, fill = seq & 0xff): Buffer {
  const payload = Buffer.alloc(160, fill);
  payload.writeUInt16BE(seq, 0);
  return buildRtpPacket({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, payload });
}

function rr(ssrc: number, fractionLost: number, jitter: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(0xa1a1a1a1, 8);
  b[12] = fractionLost;
  b.writeUInt32BE(jitter, 20);
  return b;
}

/** Two phones wired to a fresh session by their real ports. */
async function call(r: MediaRelay): Promise<{ s: RelaySession; a: Phone; b: Phone; la: number; lb: number; lac: number; lbc: number }> {
  const s = r.createSession({ label: 'test' });
  const ends = await s.allocate();
  const a = await Phone.open();
  const b = await Phone.open();
  s.setRemote('a', { address: '127.0.0.1', rtpPort: a.port });
  s.setRemote('b', { address: '127.0.0.1', rtpPort: b.port });
  return { s, a, b, la: ends.a.rtpPort, lb: ends.b.rtpPort, lac: ends.a.rtcpPort, lbc: ends.b.rtcpPort };
}

/** Sends n packets at a gentle pace so loopback buffers never overflow. */
async function stream(from: Phone, port: number, first: number, n: number, ssrc?: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    from.send(rtp(first + i, ssrc), port);
    if (i % 10 === 9) await sleep(2);
  }
}

const xor = (key: number, refuse?: (p: Buffer) => boolean): PacketTransform & { lastDrop: string | null } => {
  const t = {
    lastDrop: null as string | null,
    rtp(p: Buffer): Buffer | null {
      if (refuse?.(p)) {
        t.lastDrop = 'auth';
        return null;
      }
      for (let i = 12; i < p.length; i++) p[i] = p[i]! ^ key;
      return p;
    },
    rtcp(p: Buffer): Buffer | null {
      for (let i = 8; i < p.length; i++) p[i] = p[i]! ^ key;
      return p;
    },
  };
  return t;
};

describe('MediaRelay on loopback', () => {
  it('relays audio both ways with exact counts, from the side’s own local port', async () => {
    const r = relay();
    const { s, a, b, la, lb } = await call(r);
    expect(la).toBeGreaterThanOrEqual(PORT_MIN);
    expect(la % 2).toBe(0);
    expect(s.local('a')).toEqual({ address: '127.0.0.1', rtpPort: la, rtcpPort: la + 1 });
    await stream(a, la, 1000, 100);
    await stream(b, lb, 5000, 100, 0xb2b2b2b2);
    expect(await waitUntil(() => b.got.length === 100 && a.got.length === 100)).toBe(true);
    await sleep(50);
    expect(b.got.length).toBe(100);
    expect(a.got.length).toBe(100);
    expect(b.got.every((g) => g.from.port === lb)).toBe(true);
    expect(a.got.every((g) => g.from.port === la)).toBe(true);
    expect(b.got[7]!.data.equals(rtp(1007))).toBe(true);
    const st = s.stats();
    expect(st.a.rtp).toEqual({ packetsIn: 100, bytesIn: 17200, packetsOut: 100, bytesOut: 17200 });
    expect(st.b.rtp.packetsIn).toBe(100);
    expect(st.a.receive).toMatchObject({ ssrc: 0xa1a1a1a1, expected: 100, received: 100, lost: 0 });
    expect(st.b.receive.ssrc).toBe(0xb2b2b2b2);
    expect(st.a.latched.rtp).toEqual({ address: '127.0.0.1', port: a.port });
    expect(s.lastPacketAt('a')).toBeTypeOf('number');
    expect(r.sessions).toBe(1);
  });

  it('latches to where packets really come from and sends back there', async () => {
    const r = relay();
    const s = r.createSession();
    const { a: ea, b: eb } = await s.allocate();
    const sdpPort = await Phone.open(); // the port A wrote in its SDP
    const a = await Phone.open(); // where A's packets really come from (a NAT)
    const b = await Phone.open();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: sdpPort.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: b.port });
    b.send(rtp(1), eb.rtpPort); // before A has sent: to the signalled port
    expect(await waitUntil(() => sdpPort.got.length === 1)).toBe(true);
    a.send(rtp(1), ea.rtpPort);
    expect(await waitUntil(() => b.got.length === 1)).toBe(true);
    await stream(b, eb.rtpPort, 2, 20);
    expect(await waitUntil(() => a.got.length === 20)).toBe(true);
    await sleep(30);
    expect(sdpPort.got.length).toBe(1);
    expect(a.got.length).toBe(20);
    expect(s.stats().a.latched.rtp).toEqual({ address: '127.0.0.1', port: a.port });
  });

  it('drops packets from a foreign source once latched, and re-latches only after silence', async () => {
    let now = 1_000;
    const r = relay({ clock: { now: () => now }, relatchAfterMs: 2000 });
    const { s, a, b, la, lb } = await call(r);
    const intruder = await Phone.open();
    a.send(rtp(1), la);
    expect(await waitUntil(() => b.got.length === 1)).toBe(true);
    for (let i = 0; i < 5; i++) intruder.send(rtp(100 + i, 0xeeeeeeee), la);
    expect(await waitUntil(() => s.stats().a.drops.foreignSource === 5)).toBe(true);
    b.send(rtp(1), lb);
    expect(await waitUntil(() => a.got.length === 1)).toBe(true);
    expect(intruder.got.length).toBe(0);
    expect(b.got.length).toBe(1);

    now += 2500; // A silent for longer than relatchAfterMs: the other source may take over
    intruder.send(rtp(200, 0xeeeeeeee), la);
    expect(await waitUntil(() => b.got.length === 2)).toBe(true);
    b.send(rtp(2), lb);
    expect(await waitUntil(() => intruder.got.length === 1)).toBe(true);
    expect(s.stats().a.latched.rtp?.port).toBe(intruder.port);
    a.send(rtp(2), la); // the old source is foreign now
    expect(await waitUntil(() => s.stats().a.drops.foreignSource === 6)).toBe(true);
  });

  it('only latches to the signalled IP unless latchAny is set', async () => {
    const r = relay();
    const { s, a, b, la } = await call(r);
    s.setRemote('a', { address: '127.0.0.2', rtpPort: a.port });
    a.send(rtp(1), la);
    expect(await waitUntil(() => s.stats().a.drops.foreignSource === 1)).toBe(true);
    s.setRemote('a', { address: '127.0.0.2', rtpPort: a.port, latchAny: true });
    a.send(rtp(2), la);
    expect(await waitUntil(() => b.got.length === 1)).toBe(true);
    expect(s.stats().a.latched.rtp).toEqual({ address: '127.0.0.1', port: a.port });
  });

  it('forwards RTCP between RTCP ports and keeps what the reports said', async () => {
    const r = relay();
    const s = r.createSession();
    const e = await s.allocate();
    const a = await Phone.open();
    const aRtcp = await Phone.open();
    const b = await Phone.open();
    const bRtcp = await Phone.open();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: a.port, rtcpPort: aRtcp.port });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: b.port, rtcpPort: bRtcp.port });
    aRtcp.send(rr(0xa1a1a1a1, 128, 160), e.a.rtcpPort);
    expect(await waitUntil(() => bRtcp.got.length === 1)).toBe(true);
    expect(bRtcp.got[0]!.data.equals(rr(0xa1a1a1a1, 128, 160))).toBe(true);
    expect(bRtcp.got[0]!.from.port).toBe(e.b.rtcpPort);
    bRtcp.send(rr(0xb2b2b2b2, 0, 8), e.b.rtcpPort);
    expect(await waitUntil(() => aRtcp.got.length === 1)).toBe(true);
    expect(b.got.length + a.got.length).toBe(0);
    const st = s.stats();
    expect(st.a.rtcp.packetsIn).toBe(1);
    expect(st.b.rtcp.packetsOut).toBe(1);
    expect(st.a.reported).toMatchObject({ fractionLostPercent: 50, jitterMs: 20 });
    expect(st.b.reported).toMatchObject({ fractionLostPercent: 0, jitterMs: 1 });
    expect(st.a.latched.rtcp).toEqual({ address: '127.0.0.1', port: aRtcp.port });
  });

  it('supports rtcp-mux on one side and not the other', async () => {
    const r = relay();
    const s = r.createSession();
    const e = await s.allocate();
    const a = await Phone.open(); // muxed: RTP and RTCP on one port
    const b = await Phone.open();
    const bRtcp = await Phone.open();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: a.port, rtcpMux: true });
    s.setRemote('b', { address: '127.0.0.1', rtpPort: b.port, rtcpPort: bRtcp.port });
    a.send(rtp(1), e.a.rtpPort);
    a.send(rr(0xa1a1a1a1, 0, 0), e.a.rtpPort);
    expect(await waitUntil(() => b.got.length === 1 && bRtcp.got.length === 1)).toBe(true);
    expect(bRtcp.got[0]!.data[1]).toBe(201);
    bRtcp.send(rr(0xb2b2b2b2, 0, 0), e.b.rtcpPort);
    b.send(rtp(9), e.b.rtpPort);
    expect(await waitUntil(() => a.got.length === 2)).toBe(true);
    expect(a.got.every((g) => g.from.port === e.a.rtpPort)).toBe(true);
    expect(a.got.map((g) => g.data[1]).sort()).toEqual([0, 201]);
    const st = s.stats();
    expect(st.a.rtcp.packetsIn).toBe(1);
    expect(st.a.rtp.packetsIn).toBe(1);
  });

  it('applies inbound and outbound transforms, swaps them mid-call and counts refusals', async () => {
    const r = relay();
    const { s, a, b, la, lb } = await call(r);
    const aIn = xor(0x55, (p) => (p[1]! & 0x80) !== 0); // "auth failure" for marked packets
    s.setTransforms('a', { inbound: aIn });
    s.setTransforms('b', { outbound: xor(0x0f) });
    const sealed = (seq: number, key: number): Buffer => {
      const p = rtp(seq);
      for (let i = 12; i < p.length; i++) p[i] = p[i]! ^ key;
      return p;
    };
    a.send(sealed(1, 0x55), la);
    expect(await waitUntil(() => b.got.length === 1)).toBe(true);
    expect(b.got[0]!.data.equals(sealed(1, 0x0f))).toBe(true);
    const forged = sealed(2, 0x55);
    forged[1] = forged[1]! | 0x80;
    a.send(forged, la);
    expect(await waitUntil(() => s.stats().a.drops.inbound === 1)).toBe(true);
    expect(s.stats().a.drops.reasons).toEqual({ auth: 1 });
    s.setTransforms('a', { inbound: xor(0x33) }); // re-key
    s.setTransforms('b', { outbound: null });
    a.send(sealed(3, 0x33), la);
    expect(await waitUntil(() => b.got.length === 2)).toBe(true);
    expect(b.got[1]!.data.equals(rtp(3))).toBe(true);
    b.send(rtp(1), lb); // B→A untouched: no transforms on that path
    expect(await waitUntil(() => a.got.length === 1)).toBe(true);
    expect(a.got[0]!.data.equals(rtp(1))).toBe(true);
  });

  it('bridges SRTP on one side to RTP on the other with real SrtpSessions', async () => {
    const r = relay();
    const { s, a, b, la, lb } = await call(r);
    const { masterKey, masterSalt } = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const opts = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey, masterSalt };
    const phoneA = { tx: new SrtpSession(opts), rx: new SrtpSession(opts) };
    const relayA = new SrtpSession(opts);
    s.setTransforms('a', {
      inbound: { rtp: (p) => relayA.unprotectRtp(p, p), rtcp: (p) => relayA.unprotectRtcp(p, p), get lastDrop() { return relayA.lastDrop; } },
      outbound: { rtp: (p) => relayA.protectRtp(p), rtcp: (p) => relayA.protectRtcp(p) },
    });
    const forger = await Phone.open(); // same IP as A, first to send, but without the key
    forger.send(rtp(500), la);
    expect(await waitUntil(() => s.stats().a.drops.inbound === 1)).toBe(true);
    expect(s.stats().a.latched.rtp).toBeNull();
    expect(s.stats().a.drops.reasons).toEqual({ auth: 1 });
    s.setTransforms('a', {}); // no change
    for (let i = 0; i < 20; i++) a.send(phoneA.tx.protectRtp(rtp(i))!, la);
    a.send(phoneA.tx.protectRtp(rtp(0))!, la); // a replay
    expect(await waitUntil(() => b.got.length === 20 && s.stats().a.drops.inbound === 2)).toBe(true);
    expect(b.got[5]!.data.equals(rtp(5))).toBe(true);
    expect(s.stats().a.drops.reasons).toEqual({ auth: 1, replay: 1 });
    expect(s.stats().a.latched.rtp?.port).toBe(a.port);
    b.send(rtp(77), lb);
    expect(await waitUntil(() => a.got.length === 1)).toBe(true);
    expect(a.got[0]!.data.length).toBe(172 + 10);
    expect(phoneA.rx.unprotectRtp(a.got[0]!.data)?.equals(rtp(77))).toBe(true);
  });

  it('moves media to a new remote mid-call without losing a packet', async () => {
    const r = relay();
    const { s, a, b, la } = await call(r);
    const b2 = await Phone.open();
    const sent = 60;
    for (let i = 0; i < sent; i++) {
      if (i === 30) s.setRemote('b', { address: '127.0.0.1', rtpPort: b2.port }); // packets in flight go to B2
      a.send(rtp(i), la);
      if (i % 10 === 9) await sleep(2);
    }
    expect(await waitUntil(() => b.got.length + b2.got.length === sent)).toBe(true);
    await sleep(50);
    expect(b.got.length + b2.got.length).toBe(sent);
    expect(b2.got.length).toBeGreaterThanOrEqual(30);
    expect(s.stats().a.receive.lost).toBe(0);
    b2.send(rtp(1, 0xb2), s.local('b')!.rtpPort); // the new phone latches
    expect(await waitUntil(() => a.got.length === 1)).toBe(true);
    expect(s.stats().b.latched.rtp?.port).toBe(b2.port);
  });

  it('survives a transform that throws, counting the packet', async () => {
    const r = relay();
    const { s, a, b, la } = await call(r);
    let calls = 0;
    s.setTransforms('a', {
      inbound: {
        rtp(p: Buffer): Buffer | null {
          if (++calls === 1) throw new Error('transform bug');
          return p;
        },
        rtcp: (p: Buffer) => p,
      },
    });
    a.send(rtp(1), la);
    expect(await waitUntil(() => s.stats().a.drops.errors === 1)).toBe(true);
    a.send(rtp(2), la);
    expect(await waitUntil(() => b.got.length === 1)).toBe(true);
    expect(b.got[0]!.data.equals(rtp(2))).toBe(true);
  });

  it('counts packets with no destination and malformed ones without crashing', async () => {
    const r = relay();
    const s = r.createSession();
    const e = await s.allocate();
    const a = await Phone.open();
    s.setRemote('a', { address: '127.0.0.1', rtpPort: a.port });
    a.send(rtp(1), e.a.rtpPort); // B has no remote yet
    a.send(Buffer.from('hello, not RTP'), e.a.rtpPort);
    a.send(Buffer.alloc(0), e.a.rtpPort);
    expect(await waitUntil(() => s.stats().a.drops.noDestination === 1 && s.stats().a.drops.malformed === 2)).toBe(true);
    expect(() => s.setRemote('b', { address: 'phone.example', rtpPort: 4000 })).toThrow(/remote.address/);
    expect(() => s.setRemote('b', { address: '127.0.0.1', rtpPort: 70000 })).toThrow(/remote.rtpPort/);
    expect(() => s.setRemote('b', { address: '::1', rtpPort: 4000 })).toThrow(/IPv6/);
    expect(() => s.setRemote('c' as 'a', { address: '127.0.0.1', rtpPort: 4000 })).toThrow(/side/);
    expect(() => s.setTransforms('a', { inbound: {} as PacketTransform })).toThrow(/inbound/);
    s.setRemote('b', { address: '0.0.0.0', rtpPort: 4000 }); // hold: nowhere to send
    a.send(rtp(2), e.a.rtpPort);
    expect(await waitUntil(() => s.stats().a.drops.noDestination === 2)).toBe(true);
  });

  it('close releases the ports and the session count', async () => {
    const r = relay();
    const s1 = r.createSession();
    const e = await s1.allocate();
    const s2 = r.createSession();
    await s2.allocate();
    expect(r.sessions).toBe(2);
    expect(r.pool.inUse).toBe(4);
    await s1.close();
    await s1.close();
    expect(r.sessions).toBe(1);
    expect(r.pool.inUse).toBe(2);
    for (const port of [e.a.rtpPort, e.a.rtcpPort, e.b.rtpPort, e.b.rtcpPort]) {
      const sock = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, '127.0.0.1', () => resolve());
      });
      sock.close();
    }
    await expect(s1.allocate()).rejects.toBeInstanceOf(MediaError);
    await r.close();
    expect(r.sessions).toBe(0);
    expect(r.pool.inUse).toBe(0);
    expect(() => r.createSession()).toThrow(/closed/);
  });

  it('relays over IPv6 loopback', async () => {
    const r = new MediaRelay({ host: '::1', portMin: PORT_MIN, portMax: PORT_MAX });
    relays.push(r);
    const s = r.createSession();
    const e = await s.allocate();
    expect(e.a.address).toBe('::1');
    const open6 = async (): Promise<{ sock: Socket; got: Buffer[] }> => {
      const sock = createSocket('udp6');
      const got: Buffer[] = [];
      sock.on('message', (m) => got.push(m));
      await new Promise<void>((resolve) => sock.bind(0, '::1', () => resolve()));
      sockets6.push(sock);
      return { sock, got };
    };
    const a = await open6();
    const b = await open6();
    s.setRemote('a', { address: '::1', rtpPort: a.sock.address().port });
    s.setRemote('b', { address: '::1', rtpPort: b.sock.address().port });
    a.sock.send(rtp(1), e.a.rtpPort, '::1');
    b.sock.send(rtp(2), e.b.rtpPort, '::1');
    expect(await waitUntil(() => a.got.length === 1 && b.got.length === 1)).toBe(true);
    expect(b.got[0]!.equals(rtp(1))).toBe(true);
    expect(() => s.setRemote('a', { address: '127.0.0.1', rtpPort: 4000 })).toThrow(/IPv4/);
  });

  it('refuses a wildcard bind without an advertised address', () => {
    expect(() => new MediaRelay({ host: '0.0.0.0', portMin: PORT_MIN, portMax: PORT_MAX })).toThrow(/advertiseAddress/);
    const r = new MediaRelay({ host: '0.0.0.0', advertiseAddress: '192.0.2.7', portMin: PORT_MIN, portMax: PORT_MAX });
    expect(r.advertiseAddress).toBe('192.0.2.7');
  });
});

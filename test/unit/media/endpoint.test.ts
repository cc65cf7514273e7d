import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRtpPacket } from '../../../src/media/rtp.ts';
import { ALAW_DECODE, ULAW_DECODE, encodeG711 } from '../../../src/media/g711.ts';
import { goertzelPower } from '../../../src/media/goertzel.ts';
import { MediaEndpoint, type DigitVia } from '../../../src/media/endpoint.ts';
import { ManualMediaClock } from '../../../src/media/media-clock.ts';
import { ConferenceMixer } from '../../../src/media/mixer.ts';
import { PortPool } from '../../../src/media/port-pool.ts';
import { concatPcm, dtmfTone, silence, tone } from '../../../src/media/tones.ts';

/** A phone's RTP socket on loopback: keeps what it receives, sends G.711 frames or raw packets. */
class Peer {
  readonly packets: Buffer[] = [];
  seq = 1000;
  ts = 5000;
  constructor(
    readonly sock: Socket,
    readonly ssrc = 0x1234,
  ) {
    sock.on('message', (m) => this.packets.push(Buffer.from(m)));
  }
  static async open(): Promise<Peer> {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    return new Peer(sock);
  }
  get port(): number {
    return this.sock.address().port;
  }
  send(to: number, packet: Buffer): Promise<void> {
    return new Promise((r) => this.sock.send(packet, to, '127.0.0.1', () => r()));
  }
  /** One 20 ms frame of PCM as PT `pt` (0 µ-law, 8 A-law). */
  frame(pcm: Int16Array, pt = 0): Buffer {
    const payload = Buffer.alloc(160);
    encodeG711(pt === 0 ? 'ulaw' : 'alaw', pcm, payload);
    const p = buildRtpPacket({ payloadType: pt, sequenceNumber: this.seq++, timestamp: this.ts, ssrc: this.ssrc, payload });
    this.ts += 160;
    return p;
  }
  /** Decoded audio of everything received so far (PT 0 or 8). */
  audio(): Int16Array {
    const out: number[] = [];
    for (const p of this.packets) {
      const table = (p[1]! & 0x7f) === 8 ? ALAW_DECODE : ULAW_DECODE;
      for (let i = 12; i < p.length; i++) out.push(table[p[i]!]!);
    }
    return Int16Array.from(out);
  }
  close(): void {
    this.sock.close();
  }
}

function offer(port: number, opts: { formats?: string; extra?: string; proto?: string; addr?: string; dir?: string } = {}): Buffer {
  const formats = opts.formats ?? '0 8 96';
  return Buffer.from(
    `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 ${opts.addr ?? '127.0.0.1'}\r\nt=0 0\r\n` +
      `m=audio ${port} ${opts.proto ?? 'RTP/AVP'} ${formats}\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n` +
      `a=${opts.dir ?? 'sendrecv'}\r\n${opts.extra ?? ''}`,
  );
}

/** Waits (bounded) for UDP delivery on loopback: a condition, not a fixed sleep. */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const level = (pcm: Int16Array, f: number): number => Math.sqrt(goertzelPower(pcm, f)) / (pcm.length / 2);

let pool: PortPool;
let clock: ManualMediaClock;
const cleanup: Array<() => unknown> = [];

beforeEach(() => {
  pool = new PortPool({ host: '127.0.0.1', portMin: 42000, portMax: 42999 });
  clock = new ManualMediaClock();
  clock.onError = (e) => {
    throw e;
  };
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  expect(pool.inUse).toBe(0);
});

async function setup(offerOpts: Parameters<typeof offer>[1] = {}): Promise<{ ep: MediaEndpoint; peer: Peer; answer: string }> {
  const ep = await MediaEndpoint.create({ pool, clock });
  const peer = await Peer.open();
  cleanup.push(() => ep.close(), () => peer.close());
  const r = ep.answer(offer(peer.port, offerOpts));
  if (!r.ok) throw new Error(r.reason);
  return { ep, peer, answer: r.body.toString() };
}

/** Sends each 20 ms frame of `pcm`, waits for it to arrive, then ticks once. */
async function feed(ep: MediaEndpoint, peer: Peer, pcm: Int16Array, pt = 0): Promise<void> {
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    const before = ep.stats.packetsIn + ep.stats.dropped;
    await peer.send(ep.rtpPort, peer.frame(pcm.subarray(i, i + 160), pt));
    await until(() => ep.stats.packetsIn + ep.stats.dropped > before, 'packet');
    clock.tick();
  }
}

describe('MediaEndpoint SDP', () => {
  it('answers with the offerer\'s first G.711 codec and its telephone-event type', async () => {
    const { ep, answer } = await setup({ formats: '18 8 0 96' });
    expect(answer).toContain(`m=audio ${ep.rtpPort} RTP/AVP 8 96\r\n`);
    expect(answer).toContain('a=rtpmap:8 PCMA/8000');
    expect(answer).toContain('a=rtpmap:96 telephone-event/8000');
    expect(answer).toContain('c=IN IP4 127.0.0.1');
    expect(answer).toContain('a=sendrecv');
    expect(ep.codec).toBe('PCMA');
  });

  it('refuses SRTP, codecs it does not speak and garbage with 488; declines extra streams', async () => {
    const ep = await MediaEndpoint.create({ pool, clock });
    cleanup.push(() => ep.close());
    expect(ep.answer(offer(4000, { proto: 'RTP/SAVP' }))).toMatchObject({ ok: false, status: 488, reason: expect.stringMatching(/SRTP/) });
    expect(ep.answer(offer(4000, { formats: '18 96' }))).toMatchObject({ ok: false, status: 488 });
    expect(ep.answer(Buffer.from('hello'))).toMatchObject({ ok: false, status: 488 });
    const r = ep.answer(offer(4000, { extra: 'm=video 5000 RTP/AVP 31\r\n' }));
    expect(r.ok && r.body.toString()).toContain('m=video 0 RTP/AVP 31\r\n');
  });

  it('offer() then accept(): codecs, telephone-event and a rising o= version', async () => {
    const ep = await MediaEndpoint.create({ pool, clock });
    cleanup.push(() => ep.close());
    const o1 = ep.offer().toString();
    expect(o1).toContain(`m=audio ${ep.rtpPort} RTP/AVP 0 8 101`);
    expect(/o=switchboard \d+ (\d+)/.exec(ep.offer().toString())![1]).toBe(String(Number(/o=switchboard \d+ (\d+)/.exec(o1)![1]) + 1));
    expect(ep.accept(offer(4000, { formats: '8 96' }))).toBe(true);
    expect(ep.codec).toBe('PCMA');
    expect(ep.accept(offer(0))).toBe(false);
    expect(ep.accept(Buffer.from('x'))).toBe(false);
  });
});

describe('MediaEndpoint playback', () => {
  it('plays a tone as 20 ms RTP packets with proper headers, and resolves done', async () => {
    const { ep, peer } = await setup({ formats: '8 96' });
    const done = ep.play(tone({ freqs: [1000], levelDb: -10 }, 500));
    clock.tick(30);
    await until(() => peer.packets.length >= 30, '30 packets');
    expect(await done).toBe('done');
    const p = peer.packets;
    expect(p[0]![1]).toBe(0x80 | 8); // marker, PCMA
    for (let i = 1; i < p.length; i++) {
      expect(p[i]![1]).toBe(8);
      expect(p[i]!.readUInt16BE(2)).toBe((p[i - 1]!.readUInt16BE(2) + 1) & 0xffff);
      expect(p[i]!.readUInt32BE(4)).toBe((p[i - 1]!.readUInt32BE(4) + 160) >>> 0);
      expect(p[i]!.readUInt32BE(8)).toBe(p[0]!.readUInt32BE(8));
      expect(p[i]!.length).toBe(172);
    }
    const audio = peer.audio();
    const played = audio.subarray(800, 3200);
    expect(level(played, 1000)).toBeGreaterThan(0.25 * 32767 * 0.9);
    expect(level(played, 1000)).toBeGreaterThan(100 * level(played, 1500));
    expect(level(audio.subarray(4000, 4800), 1000)).toBeLessThan(10); // silence after the end
    expect(ep.stats.packetsOut).toBe(30);
  });

  it('loops, stops, is interrupted by a digit, and a new play stops the old one', async () => {
    const { ep } = await setup();
    const looping = ep.play(tone({ freqs: [500] }, 30), { loop: true });
    clock.tick(10);
    const next = ep.play(silence(1000), { interruptOnDigit: true });
    expect(await looping).toBe('stopped');
    clock.tick(2);
    ep.pushDigit('3');
    expect(await next).toBe('interrupted');
    const third = ep.play(silence(1000));
    ep.stop();
    expect(await third).toBe('stopped');
  });

  it('sends nothing while the peer holds (sendonly, or c=0.0.0.0) and resumes after a re-INVITE', async () => {
    const { ep, peer } = await setup({ dir: 'sendonly' });
    clock.tick(5);
    expect(ep.answer(offer(peer.port, { addr: '0.0.0.0' })).ok).toBe(true); // RFC 2543 hold
    clock.tick(5);
    const h = ep.answer(offer(peer.port, { dir: 'sendonly' }));
    expect(h.ok && h.body.toString()).toContain('a=recvonly');
    clock.tick(5);
    ep.answer(offer(peer.port));
    clock.tick(5);
    await until(() => peer.packets.length >= 5);
    expect(ep.stats.packetsOut).toBe(5);
    expect(peer.packets[0]![1]! & 0x80).toBe(0x80);
  });

  it('sends an RTCP sender report with CNAME every 5 s to the a=rtcp port, and ignores RTCP it receives', async () => {
    const rtcp = await Peer.open();
    const { ep, peer } = await setup();
    cleanup.push(() => rtcp.close());
    ep.answer(offer(peer.port, { extra: `a=rtcp:${rtcp.port}\r\n` }));
    await peer.send(ep.rtpPort + 1, Buffer.from([0x81, 201, 0, 7, ...Buffer.alloc(28)]));
    await until(() => ep.stats.rtcpIn === 1, 'RTCP in');
    clock.tick(250);
    await until(() => rtcp.packets.length === 1 && peer.packets.length >= 250, 'sender report');
    const sr = rtcp.packets[0]!;
    expect(sr[1]).toBe(200);
    expect(sr.readUInt32BE(4)).toBe(peer.packets[0]!.readUInt32BE(8)); // our RTP SSRC
    expect(sr.readUInt32BE(20)).toBe(250); // sender's packet count
    expect(sr[29]).toBe(202); // SDES follows
    expect(sr.subarray(38, 38 + sr[37]!).toString()).toMatch(/^switchboard-/);
  });

  it('re-latches to where RTP comes from (symmetric RTP for phones behind NAT)', async () => {
    const ep = await MediaEndpoint.create({ pool, clock });
    const nat = await Peer.open();
    cleanup.push(() => ep.close(), () => nat.close());
    ep.answer(offer(9, {})); // the SDP names a port nobody listens on
    await feed(ep, nat, silence(60));
    clock.tick(3);
    await until(() => nat.packets.length >= 3, 'latched packets');
  });
});

describe('MediaEndpoint recording', () => {
  it('records what the peer sends; silence ends it and is trimmed', async () => {
    const { ep, peer } = await setup();
    const rec = ep.record({ maxMs: 5000, silenceMs: 400 });
    await feed(ep, peer, concatPcm([tone({ freqs: [440], levelDb: -10 }, 600), silence(600)]));
    clock.tick(5);
    const r = await rec;
    expect(r.endedBy).toBe('silence');
    // 40 ms of playout delay, then 600 ms of tone; the trailing silence is gone.
    expect(r.pcm.length).toBeGreaterThanOrEqual(4800);
    expect(r.pcm.length).toBeLessThanOrEqual(4800 + 2 * 160 + 160);
    expect(level(r.pcm.subarray(800, 4000), 440)).toBeGreaterThan(0.3 * 32767 * 0.8);
  });

  it('ends at maxMs, and on an end digit with the digit\'s tone trimmed (in-band)', async () => {
    const { ep, peer } = await setup();
    const rec = ep.record({ maxMs: 200 });
    await feed(ep, peer, tone({ freqs: [300] }, 400));
    const r = await rec;
    expect(r).toMatchObject({ endedBy: 'max' });
    expect(r.pcm.length).toBe(1600);

    const ep2 = await setup({ formats: '0' });
    const rec2 = ep2.ep.record({ maxMs: 10_000, endDigits: '#' });
    await feed(ep2.ep, ep2.peer, concatPcm([tone({ freqs: [300], levelDb: -20 }, 400), dtmfTone('#', 120), silence(100)]));
    const r2 = await rec2;
    expect(r2).toMatchObject({ endedBy: 'digit', digit: '#' });
    expect(r2.pcm.length).toBeGreaterThan(3200 - 160);
    expect(r2.pcm.length).toBeLessThan(3200 + 2 * 160 + 80);
    expect(level(r2.pcm, 941)).toBeLessThan(level(r2.pcm, 300) / 10);
  });

  it('close() ends a recording with closed and frees the ports', async () => {
    const { ep } = await setup();
    const rec = ep.record({ maxMs: 5000 });
    clock.tick(3);
    await ep.close();
    expect((await rec).endedBy).toBe('closed');
    expect(await ep.play(silence(20))).toBe('closed');
  });
});

describe('MediaEndpoint digits', () => {
  /** RFC 4733 packets of one key press: 3 updates, 3 end packets, one timestamp. */
  async function press(ep: MediaEndpoint, peer: Peer, event: number, pt = 96): Promise<void> {
    const ts = peer.ts;
    for (let i = 0; i < 6; i++) {
      const payload = Buffer.from([event, i >= 3 ? 0x8a : 0x0a, 0, 0]);
      payload.writeUInt16BE(i >= 3 ? 800 : 160 * (i + 1), 2);
      const before = ep.stats.packetsIn;
      await peer.send(ep.rtpPort, buildRtpPacket({ payloadType: pt, marker: i === 0, sequenceNumber: peer.seq++, timestamp: ts, ssrc: peer.ssrc, payload }));
      await until(() => ep.stats.packetsIn > before);
    }
    peer.ts += 800;
    clock.tick();
  }

  it('reports RFC 4733 events once per press, SIP INFO digits, and in-band tones when no telephone-event', async () => {
    const { ep, peer } = await setup();
    const got: Array<[string, DigitVia]> = [];
    ep.onDigit((d, via) => got.push([d, via]));
    await press(ep, peer, 5);
    await press(ep, peer, 11);
    ep.pushDigit('9');
    ep.pushDigit('x');
    expect(got).toEqual([['5', 'rfc4733'], ['#', 'rfc4733'], ['9', 'info']]);

    const plain = await setup({ formats: '0' });
    const heard: string[] = [];
    plain.ep.onDigit((d, via) => heard.push(`${d}/${via}`));
    await feed(plain.ep, plain.peer, concatPcm([dtmfTone('1', 80, 80), dtmfTone('0', 80, 80), silence(60)]));
    expect(heard).toEqual(['1/inband', '0/inband']);
  });

  it('an RFC 4733 # ends a recording', async () => {
    const { ep, peer } = await setup();
    const rec = ep.record({ maxMs: 10_000, endDigits: '#*' });
    await feed(ep, peer, tone({ freqs: [400] }, 200));
    await press(ep, peer, 10); // '*'
    expect(await rec).toMatchObject({ endedBy: 'digit', digit: '*' });
  });
});

describe('MediaEndpoint against hostile input', () => {
  it('drops garbage, other versions, unknown payload types and a foreign SSRC, and keeps working', async () => {
    const { ep, peer } = await setup();
    await feed(ep, peer, silence(40));
    const bad = [
      Buffer.alloc(0),
      Buffer.from([0x80]),
      Buffer.from('not rtp at all, just text'),
      buildRtpPacket({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: Buffer.alloc(160) }).fill(0x40, 0, 1), // version 1
      buildRtpPacket({ payloadType: 34, sequenceNumber: 1, timestamp: 1, ssrc: peer.ssrc, payload: Buffer.alloc(160) }),
      buildRtpPacket({ payloadType: 0, sequenceNumber: 1, timestamp: 1, ssrc: 0xbad, payload: Buffer.alloc(160) }),
      Buffer.from([0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0x12, 0x34, 0xff]), // padding longer than the packet
    ];
    for (let round = 0; round < 50; round++) {
      for (const b of bad) await peer.send(ep.rtpPort, b);
      // Let the endpoint read them (the socket's receive buffer is finite); zero-length datagrams may not arrive at all.
      await until(() => ep.stats.dropped >= (round + 1) * (bad.length - 1), 'drops');
    }
    const rec = ep.record({ maxMs: 400 });
    await feed(ep, peer, tone({ freqs: [800] }, 400));
    const r = await rec;
    expect(level(r.pcm.subarray(800), 800)).toBeGreaterThan(1000);
  });
});

describe('MediaEndpoint stream changes', () => {
  it('takes a new SSRC only after the old one has been quiet for half a second', async () => {
    const { ep, peer } = await setup();
    await feed(ep, peer, silence(100));
    const other = new Peer(peer.sock, 0x9999);
    const drops = ep.stats.dropped;
    await feed(ep, other, tone({ freqs: [700] }, 100));
    expect(ep.stats.dropped - drops).toBe(5); // the old stream is live
    clock.tick(30);
    const rec = ep.record({ maxMs: 300 });
    await feed(ep, other, tone({ freqs: [700] }, 400));
    expect(level((await rec).pcm.subarray(800), 700)).toBeGreaterThan(1000); // now it is ours
  });
});

describe('MediaEndpoint conference', () => {
  it('three endpoints in a mixer: each peer hears the other two tones, not its own', async () => {
    const freqs = [450, 950, 1650];
    const parts = await Promise.all(freqs.map(() => setup()));
    const mixer = new ConferenceMixer(clock);
    cleanup.push(() => mixer.close());
    for (const p of parts) mixer.add(p.ep);
    const tones = freqs.map((f) => tone({ freqs: [f], levelDb: -12 }, 600));
    for (let i = 0; i < 30; i++) {
      const before = parts.map((p) => p.ep.stats.packetsIn);
      await Promise.all(parts.map((p, k) => p.peer.send(p.ep.rtpPort, p.peer.frame(tones[k]!.subarray(i * 160, i * 160 + 160)))));
      await until(() => parts.every((p, k) => p.ep.stats.packetsIn > before[k]!));
      clock.tick();
    }
    await until(() => parts.every((p) => p.peer.packets.length >= 30));
    const amp = 32767 * 10 ** (-12 / 20);
    parts.forEach((p, k) => {
      const heard = p.peer.audio().subarray(1600, 4000);
      freqs.forEach((f, j) => {
        if (j === k) expect(level(heard, f), `${k} hears itself`).toBeLessThan(amp * 0.02);
        else expect(level(heard, f) / amp, `${k} hears ${j}`).toBeGreaterThan(0.8);
      });
    });
  });
});

// The optional media backend against a real rtpengine (Debian package) in
// userspace mode on loopback: the ng client, the B2BUA adapter, RTP through
// it both ways, RTP <-> SRTP bridging checked with our own SRTP stack, call
// statistics, delete, and time-outs once rtpengine is gone. Runs in a few
// seconds, but lives in the interop ring because it needs a third-party
// program; without rtpengine every test FAILS with the reason.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NgClient, NgError } from '../../src/media/rtpengine.ts';
import { RtpengineSession } from '../../src/media/rtpengine-session.ts';
import { buildRtpPacket, rtpSeq } from '../../src/media/rtp.ts';
import { SrtpSession } from '../../src/media/srtp.ts';
import { connectionOf, findAttributes, generateKeySalt, makeCryptoAttribute, masterKeys, parseCrypto, parseSdp, serializeSdp } from '../../src/sdp/index.ts';
import type { Sdp } from '../../src/sdp/index.ts';
import type { RtpengineProcess } from '../lib/rtpengine-process.ts';
import { startRtpengine } from '../lib/rtpengine-process.ts';
import { waitUntil } from '../lib/wait.ts';
import { fixture } from './harness.ts';

const env = fixture(
  async () => {
    const engine = await startRtpengine();
    try {
      const client = await NgClient.open({ host: engine.host, port: engine.ngPort });
      return { engine, client };
    } catch (err) {
      await engine.stop();
      throw err;
    }
  },
  async ({ engine, client }) => {
    client.close();
    await engine.stop();
  },
);
beforeAll(() => env.setup());
afterAll(() => env.teardown());

/** A UDP socket standing for a phone's RTP port, counting what arrives. */
interface Phone {
  sock: Socket;
  port: number;
  received: Buffer[];
}

const phones: Phone[] = [];
afterAll(() => {
  for (const p of phones) p.sock.close();
});

async function phone(): Promise<Phone> {
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind({ address: '127.0.0.1', port: 0 }, res));
  const p: Phone = { sock, port: sock.address().port, received: [] };
  sock.on('message', (m) => p.received.push(m));
  phones.push(p);
  return p;
}

function sdpFor(name: string, port: number, proto = 'RTP/AVP', extra: string[] = []): Buffer {
  const lines = ['v=0', `o=${name} 100 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} ${proto} 0 101`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ...extra];
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

function parsed(body: Buffer): Sdp {
  const r = parseSdp(body);
  if (!r.ok) throw new Error(`rtpengine returned bad SDP (${r.reason}):\n${body.toString()}`);
  return r.sdp;
}

function okBody(v: { ok: true; body: Buffer } | { ok: false; status: number; reason: string }): Buffer {
  if (!v.ok) throw new Error(`expected an SDP, got ${v.status} ${v.reason}\n${env.get().engine.output().slice(-3000)}`);
  return v.body;
}

/** Where rtpengine wants this side's media sent, checked to be rtpengine's own port block. */
function enginePort(body: Buffer, engine: RtpengineProcess): number {
  const ep = connectionOf(parsed(body), 0);
  expect(ep?.address).toBe('127.0.0.1');
  expect(ep!.port).toBeGreaterThanOrEqual(engine.portMin);
  expect(ep!.port).toBeLessThanOrEqual(engine.portMax);
  return ep!.port;
}

const seqs = (packets: Buffer[]): number[] => packets.map(rtpSeq).sort((x, y) => x - y);

const PAYLOAD = Buffer.alloc(160, 0xd5);

function rtp(seq: number, ssrc: number): Buffer {
  return buildRtpPacket({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, payload: PAYLOAD });
}

/** Sends n packets (made by make) from one phone to a port, spaced so nothing is dropped for pacing. */
async function send(from: Phone, port: number, n: number, make: (i: number) => Buffer): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((res, rej) => from.sock.send(make(i), port, '127.0.0.1', (err) => (err ? rej(err) : res())));
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
  }
}

describe('rtpengine ng client and session adapter', () => {
  it('answers ping', async () => {
    await expect(env.get().client.ping()).resolves.toBeUndefined();
  });

  it('rewrites offer and answer to its own ports, relays RTP both ways, counts it, and deletes the call', async () => {
    const { engine, client } = env.get();
    const a = await phone();
    const b = await phone();
    const session = new RtpengineSession({ client });
    const toB = okBody(await session.offer('a', sdpFor('alice', a.port)));
    const portForB = enginePort(toB, engine);
    expect(portForB).not.toBe(a.port);
    expect(parsed(toB).media[0]!.proto).toBe('RTP/AVP');
    const toA = okBody(await session.answer('b', sdpFor('bob', b.port)));
    const portForA = enginePort(toA, engine);
    expect(portForA).not.toBe(portForB);

    const N = 40;
    await send(a, portForA, N, (i) => rtp(1000 + i, 0x1111));
    await send(b, portForB, N, (i) => rtp(5000 + i, 0x2222));
    const arrived = await waitUntil(() => a.received.length >= N && b.received.length >= N, 5000);
    expect(arrived, `A got ${a.received.length}, B got ${b.received.length}\n${engine.output().slice(-3000)}`).toBe(true);
    // rtpengine's worker threads may reorder packets; every one must arrive.
    expect(seqs(b.received)).toEqual(Array.from({ length: N }, (_, i) => 1000 + i));
    expect(seqs(a.received)).toEqual(Array.from({ length: N }, (_, i) => 5000 + i));
    expect(b.received[0]!.subarray(12)).toEqual(PAYLOAD);

    const stats = await session.stats();
    const party = (tag: string) => stats.parties.find((p) => p.tag === tag);
    expect(party('a')?.rtp.packets).toBe(N);
    expect(party('b')?.rtp.packets).toBe(N);
    expect(party('a')?.rtp.bytes).toBe(N * (12 + PAYLOAD.length));
    expect(stats.totals.rtp.packets).toBeGreaterThanOrEqual(2 * N);
    expect(party('a')?.medias[0]?.streams.some((s) => s.localPort === portForA && !s.rtcp)).toBe(true);

    const final = await session.close();
    expect(final?.parties.find((p) => p.tag === 'b')?.rtp.packets).toBe(N);
    const gone = await client.query({ callId: session.callId }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(gone).toBeInstanceOf(NgError);
    expect((gone as NgError).kind).toBe('rejected');
    expect((gone as NgError).message).toMatch(/unknown call/i);
    // A second close is a no-op, not a second delete.
    await expect(session.close()).resolves.toBeUndefined();
  });

  it('bridges RTP/AVP to RTP/SAVP: the SRTP side gets a=crypto, and media decrypts both ways', async () => {
    const { engine, client } = env.get();
    const a = await phone();
    const b = await phone();
    const session = new RtpengineSession({ client, b: { transportProtocol: 'RTP/SAVP' } });
    const toB = parsed(okBody(await session.offer('a', sdpFor('alice', a.port))));
    expect(toB.media[0]!.proto).toBe('RTP/SAVP');
    const cryptos = findAttributes(toB.media[0]!.attributes, 'crypto').map((x) => parseCrypto(x.value ?? ''));
    expect(cryptos.length).toBeGreaterThan(0);
    expect(cryptos.map((c) => (c.ok ? c.crypto.suite : c.reason))).toEqual(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
    expect(findAttributes(toB.media[0]!.attributes, 'fingerprint')).toEqual([]);
    const first = cryptos[0]!;
    const engineCrypto = first.ok ? first.crypto : undefined;
    const portForB = connectionOf(toB, 0)!.port;

    // B answers with its own key, as an SRTP phone would.
    const suite = 'AES_CM_128_HMAC_SHA1_80';
    const bKey = generateKeySalt(suite);
    const bCrypto = makeCryptoAttribute({ tag: 1, suite, key: bKey.key, salt: bKey.salt });
    const answerB = sdpFor('bob', b.port, 'RTP/SAVP', [`a=crypto:${bCrypto.value}`]);
    const toA = parsed(okBody(await session.answer('b', answerB)));
    expect(toA.media[0]!.proto).toBe('RTP/AVP');
    expect(findAttributes(toA.media[0]!.attributes, 'crypto')).toEqual([]);
    const portForA = enginePort(Buffer.from(serializeSdp(toA)), engine);

    const engineKey = masterKeys(engineCrypto!)[0]!;
    const fromEngine = new SrtpSession({ suite, masterKey: engineKey.masterKey, masterSalt: engineKey.masterSalt });
    const fromB = new SrtpSession({ suite, masterKey: bKey.key, masterSalt: bKey.salt });
    const N = 30;
    await send(a, portForA, N, (i) => rtp(200 + i, 0xa1a1));
    await send(b, portForB, N, (i) => fromB.protectRtp(rtp(700 + i, 0xb2b2))!);
    const arrived = await waitUntil(() => a.received.length >= N && b.received.length >= N, 5000);
    expect(arrived, `A got ${a.received.length}, B got ${b.received.length}\n${engine.output().slice(-3000)}`).toBe(true);
    // A (plain RTP) gets B's audio decrypted by rtpengine.
    expect(seqs(a.received)).toEqual(Array.from({ length: N }, (_, i) => 700 + i));
    expect(a.received[0]!.length).toBe(12 + PAYLOAD.length);
    expect(a.received[0]!.subarray(12)).toEqual(PAYLOAD);
    // B gets A's audio encrypted with the key rtpengine offered it: authenticated and decrypted by our SRTP.
    expect(b.received[0]!.length).toBe(12 + PAYLOAD.length + 10);
    expect(b.received[0]!.subarray(12, 12 + PAYLOAD.length)).not.toEqual(PAYLOAD);
    const plain = b.received.map((p) => fromEngine.unprotectRtp(p));
    expect(plain.every((p) => p !== null), `SRTP drops: ${fromEngine.lastDrop}`).toBe(true);
    expect(seqs(plain as Buffer[])).toEqual(Array.from({ length: N }, (_, i) => 200 + i));
    expect(plain[0]!.subarray(12)).toEqual(PAYLOAD);
    await session.close();
  });

  it('honours unencrypted SRTCP and a suite list toward an SRTP side', async () => {
    const { client } = env.get();
    const a = await phone();
    const session = new RtpengineSession({
      client,
      b: { transportProtocol: 'RTP/SAVP', sdes: { only: ['AES_CM_128_HMAC_SHA1_32'], unencryptedSrtcp: true } },
    });
    const toB = parsed(okBody(await session.offer('a', sdpFor('alice', a.port))));
    const lines = findAttributes(toB.media[0]!.attributes, 'crypto').map((x) => x.value ?? '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^1 AES_CM_128_HMAC_SHA1_32 inline:\S+ UNENCRYPTED_SRTCP$/);
    await session.close();
  });

  it('maps an SDP rtpengine refuses to 488', async () => {
    const session = new RtpengineSession({ client: env.get().client });
    const v = await session.offer('a', Buffer.from('this is not SDP\r\n'));
    expect(v).toEqual({ ok: false, status: 488, reason: 'Not Acceptable Here' });
    await session.close();
  });
});

describe('rtpengine gone', () => {
  it('times out after the retransmissions, and the adapter answers 503', async () => {
    // Its own rtpengine, so stopping it does not disturb the tests above.
    const engine = await startRtpengine();
    const client = await NgClient.open({ host: engine.host, port: engine.ngPort, retransmitMs: 100, attempts: 3 });
    try {
      await client.ping();
      await engine.stop();
      const err = await client.ping().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NgError);
      expect((err as NgError).kind).toBe('timeout');
      expect((err as NgError).message).toMatch(/after 3 tries \(300 ms\)/);
      const a = await phone();
      const v = await new RtpengineSession({ client }).offer('a', sdpFor('alice', a.port));
      expect(v).toEqual({ ok: false, status: 503, reason: 'Service Unavailable' });
      expect(client.inFlight).toBe(0);
    } finally {
      client.close();
      await engine.stop();
    }
  });
});

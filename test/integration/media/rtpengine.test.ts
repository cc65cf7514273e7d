// The ng client and the session adapter against a scripted fake rtpengine on
// loopback (real UDP, Node only): retransmission, cookie matching, spoofed
// and malformed replies, error mapping, request encoding. The same code
// against the real rtpengine is test/interop/rtpengine.test.ts.
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BencodeDict, BencodeInput } from '../../../src/media/bencode.ts';
import { bencodeDict, bencodeList, bencodeText, decodeBencode, encodeBencode } from '../../../src/media/bencode.ts';
import { NgClient, NgError, callStats } from '../../../src/media/rtpengine.ts';
import { RtpengineSession } from '../../../src/media/rtpengine-session.ts';
import { waitUntil } from '../../lib/wait.ts';

interface Received {
  cookie: string;
  raw: Buffer;
  dict: BencodeDict;
  from: RemoteInfo;
}

/** A scripted ng server: records every request; `reply` decides what (if anything) goes back. */
class FakeEngine {
  readonly got: Received[] = [];
  reply: (r: Received) => BencodeInput | Buffer | null = () => ({ result: 'ok' });
  private constructor(
    readonly sock: Socket,
    readonly port: number,
  ) {
    sock.on('message', (raw, from) => {
      const sp = raw.indexOf(0x20);
      const d = decodeBencode(raw.subarray(sp + 1));
      const dict = d.ok ? bencodeDict(d.value) : undefined;
      if (!dict) throw new Error(`fake engine got a bad request: ${raw.toString('latin1')}`);
      const r = { cookie: raw.toString('latin1', 0, sp), raw, dict, from };
      this.got.push(r);
      const out = this.reply(r);
      if (out !== null) this.send(r, out);
    });
  }

  static async start(): Promise<FakeEngine> {
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind({ address: '127.0.0.1', port: 0 }, res));
    return new FakeEngine(sock, sock.address().port);
  }

  send(to: Received, body: BencodeInput | Buffer, via: Socket = this.sock, cookie = to.cookie): void {
    const payload = Buffer.isBuffer(body) ? body : encodeBencode(body);
    via.send(Buffer.concat([Buffer.from(`${cookie} `), payload]), to.from.port, to.from.address);
  }

  command(i: number): string | undefined {
    return bencodeText(this.got[i]?.dict['command']);
  }
}

let engine: FakeEngine;
let client: NgClient;
const extra: Array<{ close(): void }> = [];

beforeEach(async () => {
  engine = await FakeEngine.start();
  // Generous timers: only the tests about retransmission use short ones.
  client = await NgClient.open({ host: '127.0.0.1', port: engine.port, retransmitMs: 2000, attempts: 3 });
});
afterEach(() => {
  client.close();
  engine.sock.close();
  for (const x of extra.splice(0)) x.close();
});

/** A client with short timers, for the tests that wait for time-outs. */
async function fastClient(): Promise<NgClient> {
  const c = await NgClient.open({ host: '127.0.0.1', port: engine.port, retransmitMs: 200, attempts: 3 });
  extra.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<NgError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(NgError);
  return e as NgError;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

describe('NgClient', () => {
  it('rejects a host that is not an IP literal and a bad port', async () => {
    await expect(NgClient.open({ host: 'localhost', port: 1 })).rejects.toThrow(/IP address/);
    await expect(NgClient.open({ host: '127.0.0.1', port: 70000 })).rejects.toThrow(/port/);
    await expect(NgClient.open({ host: '127.0.0.1', port: 1, attempts: 0 })).rejects.toThrow(/attempts/);
  });

  it('pings with "COOKIE d7:command4:pinge"', async () => {
    engine.reply = () => ({ result: 'pong' });
    await client.ping();
    expect(engine.got).toHaveLength(1);
    expect(engine.got[0]!.raw.toString('latin1')).toBe(`${engine.got[0]!.cookie} d7:command4:pinge`);
  });

  it('retransmits the identical datagram until a reply comes', async () => {
    const fast = await fastClient();
    engine.reply = () => (engine.got.length < 3 ? null : { result: 'pong' });
    await fast.ping();
    expect(engine.got).toHaveLength(3);
    expect(engine.got[1]!.raw).toEqual(engine.got[0]!.raw);
    expect(engine.got[2]!.raw).toEqual(engine.got[0]!.raw);
  });

  it('times out after the configured attempts, then ignores the late reply', async () => {
    const fast = await fastClient();
    engine.reply = () => null;
    const e = await failure(fast.ping());
    expect(e.kind).toBe('timeout');
    expect(e.command).toBe('ping');
    expect(e.message).toMatch(/after 3 tries \(600 ms\)/);
    expect(engine.got).toHaveLength(3);
    expect(fast.inFlight).toBe(0);
    engine.send(engine.got[0]!, { result: 'pong' });
    engine.reply = () => ({ result: 'pong' });
    await fast.ping();
  });

  it('gives every request its own cookie and matches replies by cookie, in any order', async () => {
    engine.reply = () => null;
    const all = Promise.all([0, 1, 2].map(() => client.query({ callId: 'c' })));
    expect(await waitUntil(() => engine.got.length >= 3)).toBe(true);
    const first3 = engine.got.slice(0, 3);
    expect(new Set(first3.map((r) => r.cookie)).size).toBe(3);
    for (const [i, r] of [...first3.entries()].reverse()) engine.send(r, { result: 'ok', created: 100 + i });
    const results = await all;
    expect(results.map((s) => s.created)).toEqual([100, 101, 102]);
  });

  it('uses a different cookie prefix per client (a restarted server must not hit rtpengine\'s reply cache)', async () => {
    const other = await NgClient.open({ host: '127.0.0.1', port: engine.port });
    extra.push(other);
    await client.request('ping');
    await other.request('ping');
    const [c1, c2] = engine.got.map((r) => r.cookie);
    expect(c1!.split('_')[0]).not.toBe(c2!.split('_')[0]);
  });

  it('ignores replies from any other address or port', async () => {
    const spoofer = createSocket('udp4');
    extra.push(spoofer);
    await new Promise<void>((res) => spoofer.bind({ address: '127.0.0.1', port: 0 }, res));
    engine.reply = (r) => {
      engine.send(r, { result: 'error', 'error-reason': 'spoofed' }, spoofer);
      setTimeout(() => engine.send(r, { result: 'pong' }), 10);
      return null;
    };
    await client.ping();
  });

  it('maps result=error, load limit and undecodable replies to error kinds', async () => {
    engine.reply = () => ({ result: 'error', 'error-reason': 'Unknown call-id' });
    const rejected = await failure(client.query({ callId: 'x' }));
    expect(rejected.kind).toBe('rejected');
    expect(rejected.message).toMatch(/Unknown call-id/);
    engine.reply = () => ({ result: 'load limit' });
    expect((await failure(client.ping())).kind).toBe('busy');
    engine.reply = () => Buffer.from('d6:result');
    const bad = await failure(client.ping());
    expect(bad.kind).toBe('bad-reply');
    expect(bad.message).toMatch(/truncated/);
    engine.reply = () => ['not', 'a', 'dict'];
    expect((await failure(client.ping())).message).toMatch(/not a dictionary/);
    engine.reply = () => ({ result: 'ok' });
    expect((await failure(client.offer({ callId: 'c', fromTag: 'f', sdp: SDP }))).message).toMatch(/has no sdp/);
  });

  it('encodes offer options as rtpengine expects', async () => {
    engine.reply = () => ({ result: 'ok', sdp: 'v=0\r\n', warning: 'something odd' });
    const r = await client.offer({
      callId: 'call-1',
      fromTag: 'ft',
      sdp: Buffer.from(SDP),
      ice: 'remove',
      transportProtocol: 'RTP/SAVP',
      replace: ['origin', 'session-connection'],
      direction: ['priv', 'pub'],
      sdes: { only: ['AES_CM_128_HMAC_SHA1_80'], exclude: ['NULL_HMAC_SHA1_32'], unencryptedSrtcp: true },
      dtls: 'off',
      flags: ['strict-source'],
    });
    expect(r).toEqual({ sdp: Buffer.from('v=0\r\n'), warning: 'something odd' });
    const d = engine.got[0]!.dict;
    const text = (k: string) => bencodeText(d[k]);
    const list = (k: string) => (bencodeList(d[k]) ?? []).map(bencodeText);
    expect(text('command')).toBe('offer');
    expect(text('call-id')).toBe('call-1');
    expect(text('from-tag')).toBe('ft');
    expect(d['to-tag']).toBeUndefined();
    expect(text('sdp')).toBe(SDP);
    expect(text('ICE')).toBe('remove');
    expect(text('transport-protocol')).toBe('RTP/SAVP');
    expect(list('replace')).toEqual(['origin', 'session-connection']);
    expect(list('direction')).toEqual(['priv', 'pub']);
    expect(text('DTLS')).toBe('off');
    expect(text('record call')).toBe('no');
    expect(list('flags')).toEqual(['strict-source']);
    const sdes = list('SDES');
    expect(sdes).toContain('unencrypted_srtcp');
    expect(sdes).toContain('only-AES_CM_128_HMAC_SHA1_80');
    expect(sdes).toContain('no-NULL_HMAC_SHA1_32');
    expect(sdes).toContain('no-AES_CM_128_HMAC_SHA1_32');
    expect(sdes).not.toContain('no-AES_CM_128_HMAC_SHA1_80');
  });

  it('refuses bad fields by name without sending anything', async () => {
    expect((await failure(client.offer({ callId: '', fromTag: 'f', sdp: SDP }))).message).toMatch(/call-id must be a non-empty string/);
    expect((await failure(client.answer({ callId: 'c', fromTag: 'f', toTag: '', sdp: SDP }))).message).toMatch(/to-tag/);
    expect((await failure(client.offer({ callId: 'c', fromTag: 'f', sdp: '' }))).message).toMatch(/sdp is empty/);
    const suite = await failure(client.offer({ callId: 'c', fromTag: 'f', sdp: SDP, sdes: { only: ['bad suite'] } }));
    expect(suite.kind).toBe('invalid');
    expect(suite.message).toMatch(/sdes suite "bad suite"/);
    expect((await failure(client.delete({ callId: 'x'.repeat(2000) }))).message).toMatch(/call-id/);
    expect(engine.got).toHaveLength(0);
  });

  it('refuses more than maxInFlight requests, and close() rejects what is in flight', async () => {
    const small = await NgClient.open({ host: '127.0.0.1', port: engine.port, maxInFlight: 2, retransmitMs: 5000 });
    engine.reply = () => null;
    const p1 = small.ping();
    const p2 = small.ping();
    expect((await failure(small.ping())).kind).toBe('busy');
    small.close();
    expect((await failure(p1)).kind).toBe('closed');
    expect((await failure(p2)).kind).toBe('closed');
    expect((await failure(small.ping())).kind).toBe('closed');
    small.close();
  });
});

describe('callStats', () => {
  it('sums what each party sent and tolerates missing fields', () => {
    const reply = decodeBencode(
      encodeBencode({
        result: 'ok',
        created: 1700000000,
        totals: { RTP: { packets: 7, bytes: 700, errors: 1 } },
        tags: {
          a: { tag: 'a', medias: [{ index: 1, type: 'audio', protocol: 'RTP/AVP', streams: [
            { 'local port': 40000, 'local address': '127.0.0.1', flags: ['RTP'], stats: { packets: 5, bytes: 500, errors: 0 }, endpoint: { address: '127.0.0.1', port: 4000 } },
            { 'local port': 40001, flags: ['RTCP'], stats: { packets: 2, bytes: 100 } },
          ] }] },
          b: { medias: ['junk', { streams: [7] }] },
        },
      }),
    );
    const s = callStats(bencodeDict(reply.ok ? reply.value : undefined)!);
    expect(s.created).toBe(1700000000);
    expect(s.totals.rtp).toEqual({ packets: 7, bytes: 700, errors: 1 });
    expect(s.totals.rtcp).toEqual({ packets: 0, bytes: 0, errors: 0 });
    const a = s.parties.find((p) => p.tag === 'a')!;
    expect(a.rtp).toEqual({ packets: 5, bytes: 500, errors: 0 });
    expect(a.rtcp).toEqual({ packets: 2, bytes: 100, errors: 0 });
    expect(a.medias[0]!.streams[0]!.endpoint).toEqual({ address: '127.0.0.1', port: 4000 });
    const b = s.parties.find((p) => p.tag === 'b')!;
    expect(b.rtp.packets).toBe(0);
    expect(b.medias).toHaveLength(2);
  });
});

describe('RtpengineSession', () => {
  const body = Buffer.from(SDP);

  it('names the parties a and b with the offerer in from-tag, and re-offers with both tags', async () => {
    engine.reply = () => ({ result: 'ok', sdp: 'v=0\r\nrewritten\r\n' });
    const s = new RtpengineSession({ client, callId: 'sb-1', a: { interface: 'priv' }, b: { transportProtocol: 'RTP/SAVP', interface: 'pub' } });
    expect(await s.offer('a', body)).toEqual({ ok: true, body: Buffer.from('v=0\r\nrewritten\r\n') });
    expect((await s.answer('b', body)).ok).toBe(true);
    expect((await s.offer('b', body)).ok).toBe(true);
    const [offer, answer, reoffer] = engine.got.map((r) => r.dict);
    const t = (d: BencodeDict | undefined, k: string) => bencodeText(d?.[k]);
    expect([t(offer, 'call-id'), t(offer, 'from-tag'), t(offer, 'to-tag')]).toEqual(['sb-1', 'a', undefined]);
    expect(t(offer, 'transport-protocol')).toBe('RTP/SAVP');
    expect((bencodeList(offer?.['direction']) ?? []).map(bencodeText)).toEqual(['priv', 'pub']);
    expect((bencodeList(offer?.['SDES']) ?? []).map(bencodeText)).toContain('only-AES_CM_128_HMAC_SHA1_80');
    expect([t(answer, 'command'), t(answer, 'from-tag'), t(answer, 'to-tag')]).toEqual(['answer', 'a', 'b']);
    expect(answer?.['transport-protocol']).toBeUndefined();
    expect([t(reoffer, 'from-tag'), t(reoffer, 'to-tag')]).toEqual(['b', 'a']);
    expect((bencodeList(reoffer?.['direction']) ?? []).map(bencodeText)).toEqual(['pub', 'priv']);
    expect(reoffer?.['SDES']).toBeUndefined();
  });

  it('maps failures to SIP statuses and never rejects', async () => {
    const s = new RtpengineSession({ client });
    engine.reply = () => ({ result: 'error', 'error-reason': 'Failed to parse SDP' });
    expect(await s.offer('a', body)).toEqual({ ok: false, status: 488, reason: 'Not Acceptable Here' });
    expect(await s.answer('b', body)).toEqual({ ok: false, status: 502, reason: 'Bad Gateway' });
    engine.reply = () => null;
    const slow = new RtpengineSession({ client: await fastClient() });
    expect(await slow.offer('a', body)).toEqual({ ok: false, status: 503, reason: 'Service Unavailable' });
    const bad = new RtpengineSession({ client, b: { sdes: { exclude: ['no good'] } } });
    expect(await bad.offer('a', body)).toEqual({ ok: false, status: 500, reason: 'Server Internal Error' });
  });

  it('closes with query then delete, once, and refuses SDP afterwards', async () => {
    const s = new RtpengineSession({ client, callId: 'sb-2' });
    engine.reply = (r) =>
      bencodeText(r.dict['command']) === 'query'
        ? { result: 'ok', totals: { RTP: { packets: 9, bytes: 9, errors: 0 } }, tags: {} }
        : { result: 'ok' };
    const final = await s.close();
    expect(final?.totals.rtp.packets).toBe(9);
    expect([engine.command(0), engine.command(1)]).toEqual(['query', 'delete']);
    expect(bencodeText(engine.got[1]!.dict['call-id'])).toBe('sb-2');
    expect(await s.close()).toBeUndefined();
    expect(await s.offer('a', body)).toEqual({ ok: false, status: 500, reason: 'Server Internal Error' });
    expect(engine.got).toHaveLength(2);
  });

  it('close() resolves even when rtpengine does not answer', async () => {
    engine.reply = () => null;
    await expect(new RtpengineSession({ client: await fastClient() }).close()).resolves.toBeUndefined();
    expect(engine.got.map((r) => bencodeText(r.dict['command']))).toEqual(['query', 'query', 'query', 'delete', 'delete', 'delete']);
  });
});

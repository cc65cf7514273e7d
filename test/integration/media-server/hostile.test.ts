// Hostile input on the media server (issue 13): the app host's UDP port takes
// requests only from the server's own SIP listener (an INVITE, an OPTIONS or
// garbage from any other socket: no answer, one log line, the next real call
// is served); a media port flooded with garbage and a foreign RTP stream
// during a deposit still records the real caller; greeting and audio uploads
// of random bytes, or of a WAV whose header declares gigabytes, are refused
// with 400 and the server goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { startWithApi, type ApiTestServer } from '../api/client.ts';
import { TestPhone } from '../lib/phone.ts';
import { RtpPeer, sine, toneShare } from '../lib/rtp-peer.ts';
import { buildRtpPacket } from '../../../src/media/rtp.ts';
import { encodeG711 } from '../../../src/media/g711.ts';
import { readWavAt } from '../../../src/media/wav.ts';
import { waitUntil } from '../../lib/wait.ts';

let s: ApiTestServer;
const phones: TestPhone[] = [];
const sockets: (RtpPeer | dgram.Socket)[] = [];

beforeAll(async () => {
  s = await startWithApi({ voicemail: { enabled: true, minMessageMs: 500 } });
  for (const ext of ['4101', '4102', '4103']) await s.ts.server.store.users.add({ extension: ext, password: `pw-${ext}` });
  await s.ts.server.directory.poll();
}, 90_000);
afterAll(async () => {
  for (const x of sockets) x.close();
  for (const p of phones) await p.stop();
  await s.ts.stop();
});

async function phone(ext: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: s.ts.host, port: s.ts.sipPort, domain: 'test.local' } });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

async function udpSocket(): Promise<dgram.Socket> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sockets.push(sock);
  return sock;
}

function logged(msg: string): number {
  return s.ts.log.entries.filter((e) => e.msg === msg).length;
}

function loudMs(pcm: Int16Array): number {
  let frames = 0;
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    let e = 0;
    for (let i = at; i < at + 160; i++) e += Math.abs(pcm[i]!);
    if (e / 160 > 300) frames++;
  }
  return frames * 20;
}

/** Calls 4101's mailbox (4101 has no phone: it answers at once). */
async function callMailbox(from: TestPhone): Promise<{ media: RtpPeer; call: ReturnType<TestPhone['call']> }> {
  const media = await RtpPeer.open();
  sockets.push(media);
  const call = from.call('4101', { body: media.sdp() });
  const answered = await call.final;
  expect(answered.status).toBe(200);
  media.connect(answered.body, false);
  return { media, call };
}

describe('the app host port', () => {
  it('answers nothing from a socket other than the server listener (not even a malformed request), logs it once, and serves the next call', async () => {
    const entry = s.ts.log.entries.find((e) => e.msg === 'media server listening');
    expect(entry, 'the media server log line').toBeDefined();
    const port = (entry!.obj as { port: number }).port;
    expect(port).toBeGreaterThan(0);
    const outsider = await udpSocket();
    const answers: Buffer[] = [];
    outsider.on('message', (m) => answers.push(m));
    const here = outsider.address().port;
    const request = (method: string, n: number): Buffer => Buffer.from([
      `${method} sip:vm-deposit-4101@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${here};branch=z9hG4bK-outsider-${n}`,
      'Max-Forwards: 70',
      `From: <sip:intruder@127.0.0.1>;tag=o${n}`,
      'To: <sip:vm-deposit-4101@127.0.0.1>',
      `Call-ID: outsider-${n}@127.0.0.1`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:intruder@127.0.0.1:${here}>`,
      'Content-Length: 0',
      '', '',
    ].join('\r\n'));
    const before = logged('media server: request from outside the server dropped');
    for (let i = 0; i < 20; i++) {
      outsider.send(request('INVITE', i), port, '127.0.0.1');
      outsider.send(request('OPTIONS', i), port, '127.0.0.1');
      // Requests the parser rejects but could answer (400, 505): not even those get an answer.
      outsider.send(Buffer.from(request('INVITE', 100 + i).toString('latin1').replace('Max-Forwards: 70', 'Max-Forwards: many')), port, '127.0.0.1');
      outsider.send(Buffer.from(request('OPTIONS', 200 + i).toString('latin1').replace(' SIP/2.0\r\n', ' SIP/3.0\r\n')), port, '127.0.0.1');
      outsider.send(randomBytes(64 + i * 50), port, '127.0.0.1');
      outsider.send(Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${here};branch=z9hG4bK-x${i}\r\n\r\n`), port, '127.0.0.1');
    }
    // A real call through the server reaches the same port after all of that (UDP on loopback keeps order):
    // once it is answered, anything the host was going to say to the outsider would have come.
    const caller = await phone('4102');
    const { call } = await callMailbox(caller);
    expect((await caller.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect(answers.map((a) => a.toString('latin1').split('\r\n')[0])).toEqual([]);
    expect(logged('media server: request from outside the server dropped') - before).toBe(1);
  }, 30_000);
});

describe('a media port under a flood', () => {
  it('records the real caller during a deposit while garbage and a foreign SSRC hit its ports (the relay and the endpoint)', async () => {
    const caller = await phone('4103');
    const mark = s.ts.log.entries.length;
    const { media, call } = await callMailbox(caller);
    expect(await waitUntil(() => loudMs(media.audio()) >= 3000, 20_000), 'the greeting').toBe(true);
    expect(await waitUntil(() => { const a = media.audio(); return toneShare(a.subarray(Math.max(0, a.length - 1600)), 1000) > 0.8; }, 20_000), 'the beep').toBe(true);

    // The caller's media may be anchored in the relay (it is while the app profile's SRTCP setting differs
    // from the caller's); then the endpoint's own RTP port is where the relay's side toward it latched (the
    // endpoint sends from it). Without the relay the caller's target is the endpoint.
    const toEndpoint = s.ts.log.entries.slice(mark).find((e) => e.msg === 'media source latched' && (e.obj as { side: string; socket: string }).side === 'b'
      && (e.obj as { socket: string }).socket === 'rtp');
    const targets = [media.target!];
    if (toEndpoint !== undefined) {
      const [address, port] = (toEndpoint.obj as { source: string }).source.split(':') as [string, string];
      targets.push({ address, port: Number(port) });
    }
    // The caller talks (440 Hz); 100 ms in, an outsider sends to the port the caller sends to and to the
    // endpoint's own port: random bytes, RTP with a bad version, and a well-formed stream of its own
    // (another SSRC, 1000 Hz), 5 packets per 20 ms to each.
    const outsider = await udpSocket();
    const foreignPayload = Buffer.alloc(160);
    encodeG711('ulaw', sine(1000, 20), foreignPayload);
    let flooding = true;
    let sent = 0;
    const flood = (async () => {
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; flooding && i < 150; i++) {
        for (const target of targets) {
          outsider.send(randomBytes(20 + (i % 200)), target.port, target.address);
          const bad = buildRtpPacket({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0x0bad0bad, payload: foreignPayload });
          bad[0] = 0x40; // version 1
          outsider.send(bad, target.port, target.address);
          for (let k = 0; k < 3; k++) {
            outsider.send(buildRtpPacket({ payloadType: 0, sequenceNumber: i * 3 + k, timestamp: (i * 3 + k) * 160, ssrc: 0x5eed5eed, payload: foreignPayload }), target.port, target.address);
          }
          sent += 5;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await media.tone(440, 2000);
    flooding = false;
    await flood;
    expect(sent).toBeGreaterThan(200 * targets.length);
    media.sendDtmf(11);
    expect(await waitUntil(async () => (await s.ts.server.store.voicemail.list('4101')).some((m) => m.caller === '4103'), 10_000)).toBe(true);
    const msg = (await s.ts.server.store.voicemail.list('4101')).find((m) => m.caller === '4103')!;
    const stored = readWavAt((await s.ts.server.store.voicemail.audio('4101', msg.id))!);
    expect(msg.durationMs).toBeGreaterThan(1500);
    expect(toneShare(stored, 440), 'the caller is what was recorded').toBeGreaterThan(0.8);
    expect(toneShare(stored, 1000), 'the outsider is not').toBeLessThan(0.05);
    // Dropped packets are logged, but a few times, not once each.
    const drops = logged('media endpoint dropped a packet');
    expect(drops).toBeGreaterThan(0);
    expect(drops).toBeLessThan(10);
    expect(logged('media from an unexpected source dropped')).toBeLessThan(10);
    await caller.inDialog(call.dialog!, 'BYE').catch(() => undefined);
  }, 60_000);
});

describe('audio uploads', () => {
  /** A µ-law WAV header whose RIFF and data sizes claim far more than the file holds, and `n` bytes of sound. */
  function hugeDeclared(n: number, dataSize = 0xfffffff0): Buffer {
    const b = Buffer.alloc(44 + n, 0xff);
    b.write('RIFF', 0, 'latin1');
    b.writeUInt32LE(0xfffffff8, 4);
    b.write('WAVE', 8, 'latin1');
    b.write('fmt ', 12, 'latin1');
    b.writeUInt32LE(16, 16);
    b.writeUInt16LE(7, 20);
    b.writeUInt16LE(1, 22);
    b.writeUInt32LE(8000, 24);
    b.writeUInt32LE(8000, 28);
    b.writeUInt16LE(1, 32);
    b.writeUInt16LE(8, 34);
    b.write('data', 36, 'latin1');
    b.writeUInt32LE(dataSize, 40);
    return b;
  }

  /** A header chunk before "fmt " whose size points gigabytes past the end. */
  function hugeChunk(): Buffer {
    const b = hugeDeclared(100, 100);
    const junk = Buffer.alloc(8);
    junk.write('LIST', 0, 'latin1');
    junk.writeUInt32LE(0xfffffff0, 4);
    return Buffer.concat([b.subarray(0, 12), junk, b.subarray(12)]);
  }

  it('refuses random bytes and WAVs that declare gigabytes with 400, for greetings and audio files, and keeps serving', async () => {
    const greeting = '/api/users/4101/voicemail/greeting.wav';
    const put = async (url: string, raw: Buffer) => s.admin.request('PUT', url, { raw, contentType: 'audio/wav' });
    const bad = [randomBytes(4000), Buffer.concat([Buffer.from('RIFF\xff\xff\xff\xffWAVE', 'latin1'), randomBytes(3000)]), hugeDeclared(800), hugeChunk()];
    for (const [i, raw] of bad.entries()) {
      const g = await put(greeting, raw);
      expect([i, g.status], g.text).toEqual([i, 400]);
      const a = await put('/api/audio/hostile', raw);
      expect([i, a.status], a.text).toEqual([i, 400]);
    }
    expect((await s.ts.server.store.voicemail.greeting('4101'))).toBeUndefined();
    expect((await s.admin.get('/api/audio/hostile.wav')).status).toBe(404);
    // Still serving: a good file is taken.
    const good = hugeDeclared(800, 800);
    good.writeUInt32LE(36 + 800, 4);
    expect((await put(greeting, good)).status).toBe(204);
  }, 30_000);
});

// The gateway's media policy toward the upstream (B-05..B-09, B-11, D-09,
// EC-01, EC-02) as the relay applies it: a real CallMedia over a real relay on
// loopback, the upstream leg with the gateway's profile, the handset with a
// plain RTP profile.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lib/wait.ts';
import { MediaRelay } from '../../../src/media/relay.ts';
import { CallMedia } from '../../../src/pbx/media/call-media.ts';
import type { MediaSide } from '../../../src/pbx/call/media.ts';
import { resolveProfile } from '../../../src/pbx/media/profile.ts';
import type { MediaProfile } from '../../../src/pbx/media/profile.ts';
import { gatewayMediaProfile } from '../../../src/gateway/media-policy.ts';
import { GATEWAY_DEFAULTS, gatewaySettingsSchema } from '../../../src/model/gateway.ts';
import type { GatewaySettings } from '../../../src/model/gateway.ts';
import { DEFAULT_SRTP_SUITES, makeCryptoAttribute, parseSdp } from '../../../src/sdp/index.ts';
import { silentLogger } from '../../../src/lib/log.ts';

const relays: MediaRelay[] = [];
const medias: CallMedia[] = [];
afterEach(async () => {
  for (const m of medias.splice(0)) m.close();
  for (const r of relays.splice(0)) await r.close();
});

function settings(patch: Partial<GatewaySettings> = {}): GatewaySettings {
  return gatewaySettingsSchema.parse({ ...patch });
}

const HANDSET: MediaProfile = resolveProfile(
  { security: 'disabled', srtcp: 'encrypted', directMedia: false, dtmf: 'rfc4733', capneg: false, transport: 'any', suites: DEFAULT_SRTP_SUITES } as never,
  ['PCMU', 'PCMA', 'G729'],
);

function session(): CallMedia {
  const relay = new MediaRelay({ host: '127.0.0.1', portMin: 47000, portMax: 47999 });
  relays.push(relay);
  const m = new CallMedia({ relay, replayWindow: 128, log: silentLogger, label: 'gw-test' });
  medias.push(m);
  return m;
}

const side = (role: 'a' | 'b', profile: MediaProfile): MediaSide => ({ role, profile, natted: false });

const KEY = { key: Buffer.alloc(16, 7), salt: Buffer.alloc(14, 9) };
function crypto(extra: { unencryptedSrtcp?: boolean } = {}): string {
  const a = makeCryptoAttribute({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', ...KEY, ...extra });
  return `a=${a.name}:${a.value}`;
}

function offer(proto: string, lines: string[] = [], formats = '0 8 18 101'): Buffer {
  return Buffer.from([
    'v=0', 'o=up 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio 40000 ${proto} ${formats}`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
    ...lines, 'a=sendrecv', '',
  ].join('\r\n'));
}

function media0(body: Buffer) {
  const p = parseSdp(body);
  if (!p.ok) throw new Error('bad sdp');
  return p.sdp.media[0]!;
}
const attrs = (body: Buffer, name: string) => media0(body).attributes.filter((a) => a.name === name).map((a) => a.value ?? '');

describe('gateway media profile from the settings', () => {
  it('Require SRTP: enforced, encrypted SRTCP, no RFC 5939, codecs in the settings order (B-05, B-06, B-11)', () => {
    const p = gatewayMediaProfile(settings({ codecs: ['PCMA', 'G729', 'PCMU'] }), { suites: DEFAULT_SRTP_SUITES });
    expect(p).toMatchObject({ security: 'enforced', encryptedSrtcp: true, capneg: false, directMedia: false, codecs: ['PCMA', 'G729', 'PCMU'], dtmf: 'rfc4733', dtmfPayloadType: 96, dtmfDurationMs: 270 });
    expect(gatewayMediaProfile(settings({ requireSrtp: false }), { suites: [] }).security).toBe('best-effort');
    expect(gatewayMediaProfile(settings({ srtp: false }), { suites: [] }).security).toBe('disabled');
    expect(gatewayMediaProfile(settings({ dtmfInfo: true }), { suites: [] }).dtmf).toBe('info');
    expect(gatewayMediaProfile(settings({ g729a: true }), { suites: [] })).toMatchObject({ codecs: ['PCMU', 'PCMA', 'G729'], g729a: true });
    expect(gatewayMediaProfile(settings({ sdesLifetime: true, sdesMki: true }), { suites: [] }).sdes).toEqual({ lifetime: '2^31', mkiLength: 1 });
    expect(gatewayMediaProfile(GATEWAY_DEFAULTS, { suites: [] }).sdes).toEqual({});
  });
});

describe('offers from the handset to the upstream', () => {
  it('Require SRTP: RTP/SAVP only, no capability negotiation, no UNENCRYPTED_SRTCP, telephone-event on 96 (B-05, B-09, EC-02)', async () => {
    const m = session();
    const up = gatewayMediaProfile(settings(), { suites: DEFAULT_SRTP_SUITES });
    const v = await m.offer(side('a', HANDSET), side('b', up), offer('RTP/AVP'));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const sent = media0(v.body);
    expect(sent.proto).toBe('RTP/SAVP');
    expect(sent.attributes.some((a) => ['acap', 'pcfg', 'tcap'].includes(a.name))).toBe(false);
    const cryptos = attrs(v.body, 'crypto');
    expect(cryptos.length).toBeGreaterThan(0);
    for (const c of cryptos) expect(c).not.toContain('UNENCRYPTED_SRTCP');
    expect(attrs(v.body, 'rtpmap')).toContain('96 telephone-event/8000');
    expect(sent.formats).not.toContain('101');
    // Settings order: PCMU, PCMA, G729.
    expect(sent.formats.slice(0, 3)).toEqual(['0', '8', '18']);
  });

  it('lifetime and MKI on: our crypto lines end in |2^31|1:1 (B-07, D-09)', async () => {
    const m = session();
    const up = gatewayMediaProfile(settings({ sdesLifetime: true, sdesMki: true }), { suites: DEFAULT_SRTP_SUITES });
    const v = await m.offer(side('a', HANDSET), side('b', up), offer('RTP/AVP'));
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    for (const c of attrs(v.body, 'crypto')) expect(c).toMatch(/inline:[A-Za-z0-9+/=]+\|2\^31\|1:1(\s|$)/);
  });

  it('without lifetime and MKI: plain inline keys', async () => {
    const m = session();
    const v = await m.offer(side('a', HANDSET), side('b', gatewayMediaProfile(settings(), { suites: DEFAULT_SRTP_SUITES })), offer('RTP/AVP'));
    if (!v.ok) throw new Error('refused');
    for (const c of attrs(v.body, 'crypto')) expect(c).not.toContain('|');
  });

  it('SRTP off: plain RTP/AVP without crypto', async () => {
    const m = session();
    const v = await m.offer(side('a', HANDSET), side('b', gatewayMediaProfile(settings({ srtp: false }), { suites: DEFAULT_SRTP_SUITES })), offer('RTP/AVP'));
    if (!v.ok) throw new Error('refused');
    expect(media0(v.body).proto).toBe('RTP/AVP');
    expect(attrs(v.body, 'crypto')).toEqual([]);
  });
});

describe('offers from the upstream to the handset', () => {
  const up = () => gatewayMediaProfile(settings(), { suites: DEFAULT_SRTP_SUITES });

  it('Require SRTP: an RTP/SAVP offer with a usable key is taken (EC-01 second half)', async () => {
    const v = await session().offer(side('a', up()), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    expect(v.ok).toBe(true);
  });

  it('Require SRTP: a plain RTP offer is refused with 488 (B-05)', async () => {
    const v = await session().offer(side('a', up()), side('b', HANDSET), offer('RTP/AVP'));
    expect(v).toMatchObject({ ok: false, status: 488 });
  });

  it('RTP/AVP with acap/pcfg (RFC 5939) is refused, never hangs (B-06, EC-01)', async () => {
    const capneg = offer('RTP/AVP', ['a=tcap:1 RTP/SAVP', `a=acap:1 ${crypto().slice(2)}`, 'a=pcfg:1 t=1 a=1']);
    const v = await session().offer(side('a', up()), side('b', HANDSET), capneg);
    expect(v).toMatchObject({ ok: false, status: 488 });
  });

  it('UNENCRYPTED_SRTCP is refused; the same offer without it is accepted (EC-02)', async () => {
    const bad = await session().offer(side('a', up()), side('b', HANDSET), offer('RTP/SAVP', [crypto({ unencryptedSrtcp: true })]));
    expect(bad).toMatchObject({ ok: false, status: 488 });
    const good = await session().offer(side('a', up()), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    expect(good.ok).toBe(true);
  });

  it('SRTP on without Require: a plain RTP offer is taken, an SRTP one too (B-05)', async () => {
    const best = gatewayMediaProfile(settings({ requireSrtp: false }), { suites: DEFAULT_SRTP_SUITES });
    expect((await session().offer(side('a', best), side('b', HANDSET), offer('RTP/AVP'))).ok).toBe(true);
    expect((await session().offer(side('a', best), side('b', HANDSET), offer('RTP/SAVP', [crypto()]))).ok).toBe(true);
  });

  it('preferred codec: the handset is offered the codecs in the gateway order, not its own (B-11)', async () => {
    const pref = gatewayMediaProfile(settings({ answerPreferredCodec: true, codecs: ['PCMA', 'PCMU'] }), { suites: DEFAULT_SRTP_SUITES });
    const v = await session().offer(side('a', pref), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    if (!v.ok) throw new Error('refused');
    expect(media0(v.body).formats).toEqual(['8', '0', '101']);
    const plain = gatewayMediaProfile(settings({ codecs: ['PCMA', 'PCMU'] }), { suites: DEFAULT_SRTP_SUITES });
    const w = await session().offer(side('a', plain), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    if (!w.ok) throw new Error('refused');
    expect(media0(w.body).formats).toEqual(['0', '8', '101']);
  });

  it('single codec: the handset is offered one voice codec (plus telephone-event), in the gateway order (B-11)', async () => {
    const single = gatewayMediaProfile(settings({ answerSingleCodec: true, answerPreferredCodec: true, codecs: ['PCMA', 'PCMU'] }), { suites: DEFAULT_SRTP_SUITES });
    const v = await session().offer(side('a', single), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    if (!v.ok) throw new Error('refused');
    expect(media0(v.body).formats).toEqual(['8', '101']);
    const multi = await session().offer(side('a', up()), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    if (!multi.ok) throw new Error('refused');
    expect(media0(multi.body).formats.length).toBeGreaterThan(2);
  });

  it('a re-offer with an unchanged o= version is processed as a change (B-08: the relay never skips by version)', async () => {
    const m = session();
    const first = await m.offer(side('a', up()), side('b', HANDSET), offer('RTP/SAVP', [crypto()]));
    expect(first.ok).toBe(true);
    const held = Buffer.from(offer('RTP/SAVP', [crypto()]).toString().replace('a=sendrecv', 'a=sendonly'));
    const again = await m.offer(side('a', up()), side('b', HANDSET), held);
    expect(again.ok).toBe(true);
    expect(m.held).toBe(true);
    if (again.ok) expect(again.body.toString()).toContain('a=sendonly');
  });
});

describe('digits we generate toward the upstream (B-09)', () => {
  it('a SIP INFO digit from the handset becomes telephone-event on 96 lasting dtmfDurationMs', async () => {
    const sockets = await Promise.all([0, 1].map(() => new Promise<dgram.Socket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(s));
    })));
    const [ha, up] = sockets as [dgram.Socket, dgram.Socket];
    const got: Buffer[] = [];
    up.on('message', (m) => got.push(m));
    try {
      const m = session();
      const infoHandset: MediaProfile = { ...HANDSET, dtmf: 'info' };
      const gwProfile = gatewayMediaProfile(settings({ srtp: false, dtmfDurationMs: 270 }), { suites: DEFAULT_SRTP_SUITES });
      const handsetOffer = Buffer.from(offer('RTP/AVP', [], '0').toString().replace('m=audio 40000', `m=audio ${ha.address().port}`));
      const o = await m.offer(side('a', infoHandset), side('b', gwProfile), handsetOffer);
      if (!o.ok) throw new Error('offer refused');
      expect(attrs(o.body, 'rtpmap')).toContain('96 telephone-event/8000');
      const answer = Buffer.from(offer('RTP/AVP', [], '0 96').toString()
        .replace('m=audio 40000', `m=audio ${up.address().port}`).replace('a=rtpmap:101 telephone-event/8000', 'a=rtpmap:96 telephone-event/8000').replace('a=fmtp:101', 'a=fmtp:96'));
      const a = await m.answer(side('b', gwProfile), side('a', infoHandset), answer);
      if (!a.ok) throw new Error('answer refused');
      // One voice packet from the handset: the stream toward the upstream now has its SSRC and sequence.
      const relayPort = media0(a.body).port;
      const rtp = Buffer.alloc(172);
      rtp[0] = 0x80;
      rtp.writeUInt16BE(1, 2);
      rtp.writeUInt32BE(0x1234, 8);
      ha.send(rtp, relayPort, '127.0.0.1');
      expect(await waitUntil(() => got.length >= 1)).toBe(true);
      expect(m.injectDtmf('b', '5', 100)).toBe(true);
      expect(await waitUntil(() => got.length >= 7)).toBe(true);
      const events = got.slice(1);
      expect(events.every((p) => (p[1]! & 0x7f) === 96)).toBe(true);
      // The end packet's duration: 270 ms at 8 kHz, not the 100 ms the INFO said.
      expect(events.at(-1)!.readUInt16BE(14)).toBe(270 * 8);
    } finally {
      for (const s of sockets) s.close();
    }
  });
});

describe('G.729 named G729A by the upstream (B-11 "Add G729A media type")', () => {
  const bind = () => new Promise<dgram.Socket>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
  const sdpAt = (port: number, formats: string, maps: string[]) => Buffer.from([
    'v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${formats}`, ...maps, 'a=sendrecv', '',
  ].join('\r\n'));
  const handsetG729 = (port: number) => sdpAt(port, '18', ['a=rtpmap:18 G729/8000', 'a=fmtp:18 annexb=no']);
  const upG729A = (port: number) => sdpAt(port, '97', ['a=rtpmap:97 G729A/8000', 'a=fmtp:97 annexb=no']);
  const gw = (g729a: boolean) => gatewayMediaProfile(settings({ srtp: false, codecs: ['G729'], g729a }), { suites: DEFAULT_SRTP_SUITES });
  const g729Handset: MediaProfile = { ...HANDSET, codecs: ['G729'] };
  /** One RTP packet of payload type `pt` from `from` to the relay port `to` (named in the SDP `from` got); what `at` receives. */
  async function through(from: dgram.Socket, to: number, at: dgram.Socket, pt: number): Promise<Buffer> {
    const got = new Promise<Buffer>((resolve) => at.once('message', resolve));
    const rtp = Buffer.concat([Buffer.from([0x80, pt, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34]), Buffer.alloc(20, 0x5a)]);
    from.send(rtp, to, '127.0.0.1');
    return got;
  }

  it('on: an upstream offer of G729A alone on 97 reaches the handset as G729 on 18, is answered G729A on 97, and packets are renumbered each way', async () => {
    const [ha, up] = await Promise.all([bind(), bind()]);
    try {
      const m = session();
      const o = await m.offer(side('a', gw(true)), side('b', g729Handset), upG729A(up.address().port));
      if (!o.ok) throw new Error(`offer refused: ${o.status}`);
      expect(media0(o.body).formats).toEqual(['18']);
      expect(attrs(o.body, 'rtpmap')).toEqual(['18 G729/8000']);
      expect(attrs(o.body, 'fmtp')).toEqual(['18 annexb=no']);
      const a = await m.answer(side('b', g729Handset), side('a', gw(true)), handsetG729(ha.address().port));
      if (!a.ok) throw new Error(`answer refused: ${a.status}`);
      expect(media0(a.body).formats).toEqual(['97']);
      expect(attrs(a.body, 'rtpmap')).toEqual(['97 G729A/8000']);
      expect(m.codec).toBe('G729');
      const toHandset = await through(up, media0(a.body).port, ha, 97);
      expect(toHandset[1]! & 0x7f).toBe(18);
      expect(toHandset.subarray(12)).toEqual(Buffer.alloc(20, 0x5a));
      const toUp = await through(ha, media0(o.body).port, up, 18);
      expect(toUp[1]! & 0x7f).toBe(97);
    } finally {
      ha.close();
      up.close();
    }
  });

  it('on: our offer lists G729A on 97 beside 18; an answer of G729A alone reaches the handset as G729 on 18', async () => {
    const [ha, up] = await Promise.all([bind(), bind()]);
    try {
      const m = session();
      const o = await m.offer(side('a', g729Handset), side('b', gw(true)), handsetG729(ha.address().port));
      if (!o.ok) throw new Error(`offer refused: ${o.status}`);
      expect(media0(o.body).formats.slice(0, 2)).toEqual(['18', '97']);
      expect(attrs(o.body, 'rtpmap')).toContain('97 G729A/8000');
      expect(attrs(o.body, 'fmtp')).toContain('97 annexb=no');
      const a = await m.answer(side('b', gw(true)), side('a', g729Handset), upG729A(up.address().port));
      if (!a.ok) throw new Error(`answer refused: ${a.status}`);
      expect(media0(a.body).formats).toEqual(['18']);
      expect(attrs(a.body, 'rtpmap')).toEqual(['18 G729/8000']);
      expect(m.codec).toBe('G729');
      expect((await through(ha, media0(a.body).port, up, 18))[1]! & 0x7f).toBe(97);
      expect((await through(up, media0(o.body).port, ha, 97))[1]! & 0x7f).toBe(18);
    } finally {
      ha.close();
      up.close();
    }
  });

  it('off: nothing changes (no G729A in our offers; a G729A-only upstream offer gets 488)', async () => {
    const o = await session().offer(side('a', g729Handset), side('b', gw(false)), handsetG729(40000));
    if (!o.ok) throw new Error('offer refused');
    expect(o.body.toString()).not.toMatch(/G729A/i);
    expect(await session().offer(side('a', gw(false)), side('b', g729Handset), upG729A(40002))).toMatchObject({ ok: false, status: 488 });
  });
});

// Media security policy on SDP: classification of offers, the offers each
// policy builds (SPEC ), and the policy matrix for judging offers
// (EC-01) and answers (EC-02).
import { describe, expect, it } from 'vitest';
import {
  classifyOffer,
  formatCrypto,
  hasCapNeg,
  judgeAnswer,
  judgeOffer,
  masterKeys,
  parseCrypto,
  parseSdp,
  secureOffer,
  selectCrypto,
  serializeSdp,
} from '../../../src/sdp/index.ts';
import type { MediaSecurity, Sdp, SdesCrypto } from '../../../src/sdp/index.ts';
import { BARESIP, CAPNEG, SAVP, SIPP } from './fixtures.ts';

const KA = '7JuoAKz9TPn5920hiYOVQQbpGhhb1AnHy2oTUoHm';
const KB = '2rHL1N9wBuBYxPsXuekCo31TsmNou0sECQlxPMDb';
const KC = 'uXmXsGL6A/ZhpU/CyC1B4sXDoY445H6O51EAJuDF';

function parse(text: string): Sdp {
  const r = parseSdp(text);
  if (!r.ok) throw new Error(r.reason);
  return r.sdp;
}

function sdp(...lines: string[]): Sdp {
  return parse(`${['v=0', 'o=- 7 7 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...lines].join('\r\n')}\r\n`);
}

function crypto(value: string): SdesCrypto {
  const r = parseCrypto(value);
  if (!r.ok) throw new Error(r.reason);
  return r.crypto;
}

/** A counter-based byte source, so generated keys are known in advance. */
function counter(start = 0): (n: number) => Buffer {
  let next = start;
  return (n) => Buffer.from(Array.from({ length: n }, () => next++ & 0xff));
}

// One offer of each kind an endpoint sends.
const OFFERS: Record<string, Sdp> = {
  rtp: parse(SIPP),
  'rtp+sdes': sdp('m=audio 4000 RTP/AVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`),
  'rtp+capneg-srtp': parse(CAPNEG),
  srtp: parse(SAVP),
  'srtp+rtp-alt': sdp('m=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`, 'a=tcap:1 RTP/AVP', 'a=pcfg:1 t=1'),
  'srtp-no-sdes': sdp('m=audio 4000 RTP/SAVP 0'),
  'dtls-srtp': sdp('m=audio 4000 UDP/TLS/RTP/SAVPF 0', 'a=fingerprint:sha-256 AB:CD'),
};

describe('classifyOffer', () => {
  for (const [kind, offer] of Object.entries(OFFERS)) {
    it(`recognises ${kind}`, () => {
      expect(classifyOffer(offer).map((s) => s.kind)).toEqual([kind]);
    });
  }

  it('reports audio streams only, with their crypto lines and invalid ones', () => {
    const offer = sdp(
      'm=audio 4000 RTP/SAVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}|2^31|1:1`,
      'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:short',
      'm=video 4002 RTP/AVP 96',
      'm=audio 0 RTP/AVP 0',
    );
    const s = classifyOffer(offer);
    expect(s.map((x) => [x.mediaIndex, x.kind])).toEqual([
      [0, 'srtp'],
      [2, 'disabled'],
    ]);
    expect(s[0]?.cryptos.map((c) => c.tag)).toEqual([1]);
    expect(s[0]?.invalidCryptos).toHaveLength(1);
    expect(s[0]?.invalidCryptos[0]).toMatch(/base64|bytes/);
  });
});

describe('secureOffer', () => {
  const keys = [[{ key: Buffer.alloc(16, 1), salt: Buffer.alloc(14, 2) }, { key: Buffer.alloc(16, 3), salt: Buffer.alloc(14, 4) }]];
  const k80 = Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(14, 2)]).toString('base64');
  const k32 = Buffer.concat([Buffer.alloc(16, 3), Buffer.alloc(14, 4)]).toString('base64');

  it('Enforced: RTP/SAVP with crypto only, no RTP/AVP alternative, no capability negotiation (A-03)', () => {
    for (const input of [OFFERS.rtp, OFFERS['rtp+capneg-srtp'], OFFERS['srtp+rtp-alt'], parse(BARESIP)] as Sdp[]) {
      const { sdp: out, streams } = secureOffer(input, { policy: 'enforced', keys, capneg: true });
      const text = serializeSdp(out);
      expect(text).toMatch(/^m=audio \d+ RTP\/SAVP /m);
      expect(text).not.toMatch(/RTP\/AVP/);
      expect(hasCapNeg(out)).toBe(false);
      expect(text).not.toContain('UNENCRYPTED_SRTCP');
      expect(classifyOffer(out).map((s) => s.kind)).toEqual(['srtp']);
      expect(streams).toHaveLength(1);
    }
    const { sdp: out } = secureOffer(OFFERS.rtp as Sdp, { policy: 'enforced', keys });
    expect(out.media[0]?.attributes.filter((a) => a.name === 'crypto').map((a) => a.value)).toEqual([
      `1 AES_CM_128_HMAC_SHA1_80 inline:${k80}`,
      `2 AES_CM_128_HMAC_SHA1_32 inline:${k32}`,
    ]);
  });

  it('writes the Lync/D-09 extras and UNENCRYPTED_SRTCP when asked', () => {
    const { sdp: out } = secureOffer(OFFERS.rtp as Sdp, {
      policy: 'enforced',
      keys,
      suites: ['AES_CM_128_HMAC_SHA1_80'],
      lifetime: '2^31',
      mkiLength: 1,
      unencryptedSrtcp: true,
    });
    expect(serializeSdp(out)).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${k80}|2^31|1:1 UNENCRYPTED_SRTCP\r\n`);
  });

  it('Best Effort without capneg: RTP/AVP carrying a=crypto', () => {
    const { sdp: out } = secureOffer(OFFERS.srtp as Sdp, { policy: 'best-effort', keys });
    expect(out.media[0]?.proto).toBe('RTP/AVP');
    expect(classifyOffer(out)[0]?.kind).toBe('rtp+sdes');
    // The offerer's own crypto lines never survive into what we send.
    expect(serializeSdp(out)).not.toContain('Zm9vYmFy');
  });

  it('Best Effort with capneg: RFC 5939 potential configuration, numbered across streams', () => {
    const input = sdp('m=audio 4000 RTP/AVP 0', 'm=video 4002 RTP/AVPF 96', 'm=image 4004 udptl t38', 'a=acap:9 x');
    const { sdp: out, streams } = secureOffer(input, { policy: 'best-effort', capneg: true, random: counter() });
    expect(classifyOffer(out)[0]?.kind).toBe('rtp+capneg-srtp');
    const attrs = out.media.map((m) => m.attributes.map((a) => `${a.name}:${a.value === null ? '' : a.value.replace(/inline:\S+/, 'inline:K')}`));
    expect(attrs[0]).toEqual([
      'tcap:1 RTP/SAVP',
      'acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:K',
      'acap:2 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:K',
      'pcfg:1 t=1 a=1|2',
    ]);
    expect(attrs[1]).toEqual([
      'tcap:2 RTP/SAVPF',
      'acap:3 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:K',
      'acap:4 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:K',
      'pcfg:1 t=2 a=3|4',
    ]);
    // Non-RTP streams keep their media but lose stray capability attributes.
    expect(out.media[2]).toMatchObject({ proto: 'udptl', attributes: [] });
    // Every stream got its own keys, and the returned lines are the ones in the SDP.
    const k = streams.map((s) => s.cryptos.map((c) => masterKeys(c)[0]?.masterKey.toString('hex')));
    expect(new Set(k.flat()).size).toBe(4);
    expect(streams.map((s) => s.mediaIndex)).toEqual([0, 1]);
    expect(out.media[0]?.attributes[1]?.value).toBe(`1 crypto:${formatCrypto(streams[0]?.cryptos[0] as SdesCrypto)}`);
  });

  it('Disabled: RTP/AVP with crypto and capability attributes removed', () => {
    for (const input of [OFFERS.srtp, OFFERS['rtp+capneg-srtp'], OFFERS['rtp+sdes']] as Sdp[]) {
      const { sdp: out, streams } = secureOffer(input, { policy: 'disabled' });
      expect(classifyOffer(out)[0]?.kind).toBe('rtp');
      expect(out.media[0]?.attributes.some((a) => a.name === 'crypto')).toBe(false);
      expect(hasCapNeg(out)).toBe(false);
      expect(streams).toEqual([]);
    }
  });

  it('leaves its input alone and refuses bad options', () => {
    const input = OFFERS.rtp as Sdp;
    const before = serializeSdp(input);
    secureOffer(input, { policy: 'enforced' });
    expect(serializeSdp(input)).toBe(before);
    expect(() => secureOffer(input, { policy: 'enforced', suites: [] })).toThrow(/no crypto suite/);
    expect(() => secureOffer(input, { policy: 'enforced', suites: ['F8_128_HMAC_SHA1_80'] })).toThrow(/not supported/);
    expect(() => secureOffer(input, { policy: 'best-effort', mkiLength: 9 })).toThrow(/MKI length/);
  });
});

describe('selectCrypto', () => {
  const lines = [
    `1 F8_128_HMAC_SHA1_80 inline:${KA}`,
    `2 AES_CM_128_HMAC_SHA1_80 inline:${KA} UNENCRYPTED_SRTP`,
    `3 AES_CM_128_HMAC_SHA1_80 inline:${KA} KDR=2`,
    `4 AES_CM_128_HMAC_SHA1_80 inline:${KA}|1:1;inline:${KB}|2:1`,
    `5 AES_CM_128_HMAC_SHA1_80 inline:${KA} NEW_THING`,
    `6 AES_CM_128_HMAC_SHA1_80 inline:${KA} UNENCRYPTED_SRTCP`,
    `7 AES_256_CM_HMAC_SHA1_80 inline:${'A'.repeat(62)}`,
    'not a crypto line',
    `8 AES_CM_128_HMAC_SHA1_32 inline:${KB}|2^31|1:1 -OPTIONAL`,
    `9 AES_CM_128_HMAC_SHA1_80 inline:${KC}`,
  ];

  it('takes the first usable line in offer order and answers with the same tag and a fresh key', () => {
    const r = selectCrypto(lines, undefined, { random: counter(0x40) });
    expect(r?.offered.tag).toBe(8);
    expect(r?.answer.tag).toBe(8);
    expect(r?.answer.suite).toBe('AES_CM_128_HMAC_SHA1_32');
    const fresh = Buffer.from(Array.from({ length: 30 }, (_, i) => 0x40 + i)).toString('base64');
    expect(formatCrypto(r?.answer as SdesCrypto)).toBe(`8 AES_CM_128_HMAC_SHA1_32 inline:${fresh}`);
    expect(r?.answer.keys[0]?.key.reveal()).not.toBe(r?.offered.keys[0]?.key.reveal());
  });

  it('honours the suite list and the SRTCP requirement', () => {
    expect(selectCrypto(lines, ['AES_CM_128_HMAC_SHA1_80'])?.offered.tag).toBe(9);
    expect(selectCrypto(lines, ['AES_256_CM_HMAC_SHA1_80'])?.offered.tag).toBe(7);
    const r = selectCrypto(lines, ['AES_CM_128_HMAC_SHA1_80'], { encryptedSrtcp: false, lifetime: '2^31', mkiLength: 1 });
    expect(r?.offered.tag).toBe(6);
    // UNENCRYPTED_SRTCP is declarative: the answer repeats it.
    expect(formatCrypto(r?.answer as SdesCrypto)).toMatch(/^6 AES_CM_128_HMAC_SHA1_80 inline:\S+\|2\^31\|1:1 UNENCRYPTED_SRTCP$/);
    expect(selectCrypto(lines.slice(0, 6), ['AES_CM_128_HMAC_SHA1_80'])).toBeNull();
    expect(selectCrypto([], ['AES_CM_128_HMAC_SHA1_80'])).toBeNull();
  });

  it('accepts parsed lines and uses given key material', () => {
    const r = selectCrypto([crypto(`1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`)], undefined, { key: Buffer.alloc(16, 9), salt: Buffer.alloc(14, 8) });
    expect(r?.answer.keys[0]?.key.bytes().equals(Buffer.concat([Buffer.alloc(16, 9), Buffer.alloc(14, 8)]))).toBe(true);
  });
});

type Expect = 'rtp' | 'srtp' | 'none' | RegExp;

function expectOffer(offer: Sdp, policy: MediaSecurity, capneg: boolean, want: Expect, encryptedSrtcp = true): void {
  const v = judgeOffer(offer, policy, { capneg, encryptedSrtcp });
  if (want instanceof RegExp) {
    expect(v.ok, `${policy} expected a rejection`).toBe(false);
    if (!v.ok) {
      expect(v.status).toBe(488);
      expect(v.reason).toMatch(want);
    }
    return;
  }
  expect(v.ok ? v.streams.map((s) => s.mode) : v.reason, `${policy} capneg=${capneg}`).toEqual([want]);
}

describe('judgeOffer: policy x offer', () => {
  // [offer kind, disabled, best-effort, enforced, enforced without RFC 5939]
  const matrix: Array<[string, Expect, Expect, Expect, Expect]> = [
    ['rtp', 'rtp', 'rtp', /Enforced media security needs RTP\/SAVP; the offer is plain RTP\/AVP/, /plain RTP\/AVP/],
    ['rtp+sdes', 'rtp', 'srtp', /a=crypto on an RTP\/AVP line is not accepted/, /a=crypto on an RTP\/AVP line/],
    ['rtp+capneg-srtp', 'rtp', 'srtp', 'srtp', /RTP\/AVP with RFC 5939 capability negotiation, which this party does not support/],
    ['srtp', /Disabled and the offer is RTP\/SAVP only/, 'srtp', 'srtp', 'srtp'],
    ['srtp+rtp-alt', 'rtp', 'srtp', 'srtp', 'srtp'],
    ['srtp-no-sdes', /Disabled/, /no a=crypto/, /no a=crypto/, /no a=crypto/],
    ['dtls-srtp', /DTLS-SRTP\) is not supported/, /DTLS/, /DTLS/, /DTLS/],
  ];
  for (const [kind, dis, be, enf, enfNoCap] of matrix) {
    it(`${kind}`, () => {
      const offer = OFFERS[kind] as Sdp;
      expectOffer(offer, 'disabled', true, dis);
      expectOffer(offer, 'best-effort', true, be);
      expectOffer(offer, 'enforced', true, enf);
      expectOffer(offer, 'enforced', false, enfNoCap);
    });
  }

  it('takes the configuration the capneg offer prefers and says what the answer must carry', () => {
    const v = judgeOffer(OFFERS['rtp+capneg-srtp'] as Sdp, 'enforced');
    expect(v.ok).toBe(true);
    const s = v.ok ? v.streams[0] : undefined;
    expect(s?.proto).toBe('RTP/SAVP');
    expect(s?.crypto?.tag).toBe(1);
    expect(s?.configuration?.acfg).toBe('1 t=1 a=1');
    // A Best Effort party without RFC 5939 sees the actual configuration only.
    const plain = judgeOffer(OFFERS['rtp+capneg-srtp'] as Sdp, 'best-effort', { capneg: false });
    expect(plain.ok && plain.streams[0]).toMatchObject({ mode: 'rtp', proto: 'RTP/AVP', configuration: null });
  });

  it('falls back to the RTP/AVP alternative of an SRTP offer under Disabled', () => {
    const v = judgeOffer(OFFERS['srtp+rtp-alt'] as Sdp, 'disabled');
    expect(v.ok && v.streams[0]).toMatchObject({ mode: 'rtp', proto: 'RTP/AVP', configuration: { acfg: '1 t=1' } });
    expectOffer(OFFERS['srtp+rtp-alt'] as Sdp, 'disabled', false, /Disabled/);
  });

  it('EC-02: UNENCRYPTED_SRTCP refused where encrypted SRTCP is required, accepted without it', () => {
    const withFlag = sdp('m=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA} UNENCRYPTED_SRTCP`);
    const without = sdp('m=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`);
    expectOffer(withFlag, 'enforced', false, /UNENCRYPTED_SRTCP but encrypted SRTCP is required/);
    expectOffer(without, 'enforced', false, 'srtp');
    expectOffer(withFlag, 'enforced', false, 'srtp', false);
    // The SAVP fixture's second line carries the flag: the first one is taken.
    const v = judgeOffer(OFFERS.srtp as Sdp, 'enforced');
    expect(v.ok && v.streams[0]?.crypto?.tag).toBe(1);
  });

  it('EC-01: a party without RFC 5939 takes the RTP/SAVP stream when the offer also has one', () => {
    const both = sdp(
      'm=audio 4000 RTP/AVP 0',
      'a=tcap:1 RTP/SAVP',
      `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`,
      'a=pcfg:1 t=1 a=1',
      'm=audio 4002 RTP/SAVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KB}`,
    );
    const v = judgeOffer(both, 'enforced', { capneg: false });
    expect(v.ok).toBe(true);
    expect(v.ok && v.streams.map((s) => s.mode)).toEqual(['reject', 'srtp']);
    expect(v.ok && v.streams[0]?.reason).toMatch(/capability negotiation/);
  });

  it('leaves non-RTP and disabled streams alone, and declines a failing video stream when audio is fine', () => {
    const offer = sdp('m=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`, 'm=video 4002 RTP/AVP 96', 'm=image 4004 udptl t38', 'm=audio 0 RTP/AVP 0');
    const v = judgeOffer(offer, 'enforced');
    expect(v.ok && v.streams.map((s) => s.mode)).toEqual(['srtp', 'reject', 'none', 'none']);
  });
});

describe('judgeAnswer: policy x answer', () => {
  const enforcedOffer = secureOffer(parse(SIPP), { policy: 'enforced', random: counter() }).sdp;
  const beOffer = secureOffer(parse(SIPP), { policy: 'best-effort', random: counter() }).sdp;
  const capOffer = secureOffer(parse(SIPP), { policy: 'best-effort', capneg: true, random: counter() }).sdp;
  const disabledOffer = secureOffer(parse(SIPP), { policy: 'disabled' }).sdp;
  const line = `1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`;
  const ANSWERS: Record<string, Sdp> = {
    plain: sdp('m=audio 5000 RTP/AVP 0'),
    'avp+crypto': sdp('m=audio 5000 RTP/AVP 0', `a=crypto:${line}`),
    savp: sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:${line}`),
    'savp+acfg': sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:${line}`, 'a=acfg:1 t=1 a=1'),
    'savp unencrypted srtcp': sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:${line} UNENCRYPTED_SRTCP`),
    'savp without crypto': sdp('m=audio 5000 RTP/SAVP 0'),
    'two cryptos': sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:${line}`, `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KB}`),
    'tag not offered': sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${KA}`),
    'suite changed': sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KA}`),
    'bad crypto': sdp('m=audio 5000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc'),
    dtls: sdp('m=audio 5000 UDP/TLS/RTP/SAVP 0'),
    declined: sdp('m=audio 0 RTP/AVP 0'),
  };
  // [answer, to Enforced, to Best Effort (a=crypto), to Best Effort (capneg), to Disabled]
  const matrix: Array<[string, Expect, Expect, Expect, Expect]> = [
    ['plain', /plain RTP answer to an Enforced offer/, 'rtp', 'rtp', 'rtp'],
    ['avp+crypto', /RTP\/AVP answer to an Enforced RTP\/SAVP offer/, 'srtp', /tag 1 was not offered/, /SRTP answer to an offer without SRTP/],
    ['savp', 'srtp', 'srtp', 'srtp', /SRTP answer to an offer without SRTP/],
    ['savp+acfg', 'srtp', 'srtp', 'srtp', /SRTP answer/],
    ['savp unencrypted srtcp', /UNENCRYPTED_SRTCP but encrypted SRTCP is required/, /UNENCRYPTED_SRTCP/, /UNENCRYPTED_SRTCP/, /SRTP answer/],
    ['savp without crypto', /RTP\/SAVP answer without a=crypto/, /without a=crypto/, /without a=crypto/, /without a=crypto/],
    ['two cryptos', /one a=crypto per stream/, /one a=crypto/, /one a=crypto/, /one a=crypto/],
    ['tag not offered', /crypto tag 7 was not offered/, /tag 7 was not offered/, /tag 7 was not offered/, /SRTP answer/],
    ['suite changed', /suite AES_CM_128_HMAC_SHA1_32 differs from the offered AES_CM_128_HMAC_SHA1_80/, /differs/, /differs/, /SRTP answer/],
    ['bad crypto', /not valid base64|bytes/, /base64|bytes/, /base64|bytes/, /base64|bytes/],
    ['dtls', /UDP\/TLS\/RTP\/SAVP answer is not supported/, /not supported/, /not supported/, /not supported/],
    ['declined', 'none', 'none', 'none', 'none'],
  ];
  const offers: Array<[MediaSecurity, Sdp]> = [
    ['enforced', enforcedOffer],
    ['best-effort', beOffer],
    ['best-effort', capOffer],
    ['disabled', disabledOffer],
  ];
  for (const [name, ...wants] of matrix) {
    it(name, () => {
      wants.forEach((want, k) => {
        const [policy, offer] = offers[k] as [MediaSecurity, Sdp];
        const v = judgeAnswer(ANSWERS[name] as Sdp, policy, { offer });
        if (want instanceof RegExp) {
          expect(v.ok, `${name} to ${policy} #${k}`).toBe(false);
          if (!v.ok) expect(v.reason).toMatch(want);
        } else {
          expect(v.ok ? v.streams.map((s) => s.mode) : v.reason, `${name} to ${policy} #${k}`).toEqual([want]);
        }
      });
    });
  }

  it('without the offer, checks what it can: suites and EC-02', () => {
    expect(judgeAnswer(ANSWERS['tag not offered'] as Sdp, 'enforced').ok).toBe(true);
    expect(judgeAnswer(ANSWERS['savp unencrypted srtcp'] as Sdp, 'enforced', { encryptedSrtcp: false }).ok).toBe(true);
    const f8 = sdp('m=audio 5000 RTP/SAVP 0', `a=crypto:1 F8_128_HMAC_SHA1_80 inline:${KA}`);
    const v = judgeAnswer(f8, 'enforced');
    expect(!v.ok && v.reason).toMatch(/suite F8_128_HMAC_SHA1_80 is not supported/);
  });

  it('reports the offered line and the configuration the capneg answer took', () => {
    const v = judgeAnswer(ANSWERS['savp+acfg'] as Sdp, 'best-effort', { offer: capOffer });
    expect(v.ok).toBe(true);
    const s = v.ok ? v.streams[0] : undefined;
    expect(s?.configuration?.offered?.proto).toBe('RTP/SAVP');
    expect(s?.offered?.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(s?.crypto?.keys[0]?.key.reveal()).toBe(KA);
  });

  it('an answer that must repeat UNENCRYPTED_SRTCP but drops it is refused', () => {
    const offer = secureOffer(parse(SIPP), { policy: 'enforced', unencryptedSrtcp: true, random: counter() }).sdp;
    const v = judgeAnswer(ANSWERS.savp as Sdp, 'enforced', { offer, encryptedSrtcp: false });
    expect(!v.ok && v.reason).toMatch(/differ from the offer/);
    expect(judgeAnswer(ANSWERS['savp unencrypted srtcp'] as Sdp, 'enforced', { offer, encryptedSrtcp: false }).ok).toBe(true);
  });
});

describe('end to end: offers built by one policy, judged by the other side', () => {
  it('an Enforced offer connects to a party without RFC 5939 (the gateway case)', () => {
    const offer = parse(serializeSdp(secureOffer(parse(BARESIP), { policy: 'enforced' }).sdp));
    const v = judgeOffer(offer, 'enforced', { capneg: false });
    expect(v.ok && v.streams[0]?.mode).toBe('srtp');
  });

  it('a Best Effort capneg offer is accepted by a plain-RTP party and by an SRTP one', () => {
    const offer = parse(serializeSdp(secureOffer(parse(BARESIP), { policy: 'best-effort', capneg: true }).sdp));
    const plain = judgeOffer(offer, 'disabled');
    expect(plain.ok && plain.streams[0]?.mode).toBe('rtp');
    const secure = judgeOffer(offer, 'best-effort');
    expect(secure.ok && secure.streams[0]).toMatchObject({ mode: 'srtp', proto: 'RTP/SAVP' });
  });
});

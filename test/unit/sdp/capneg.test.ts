// RFC 5939 capability negotiation: attribute syntax, potential
// configurations (the RFC's scenarios told again with our own numbers and
// keys), the best-effort SRTP offer we build, and reading a=acfg answers.
import { describe, expect, it } from 'vitest';
import {
  applyAcfg,
  capNegSrtpMedia,
  formatAcap,
  formatConfig,
  formatTcap,
  hasCapNeg,
  parseAcap,
  parseAcfg,
  parseOptionTags,
  parsePcfg,
  parseSdp,
  parseTcap,
  potentialConfigurations,
  serializeSdp,
  stripCapNeg,
  withoutCapNeg,
} from '../../../src/sdp/index.ts';
import type { Sdp } from '../../../src/sdp/index.ts';
import { CAPNEG, SIPP } from './fixtures.ts';

const KA = 'HvjOBgeXCnKvJFSZlHoYhXaQ3ewflJ8OzKj7JsH7';
const KB = 'OhjbFDoisstfjqL21I7aDcS1jhFSKhTYptk0dg6F';

function sdp(...lines: string[]): Sdp {
  const r = parseSdp(`${['v=0', 'o=- 7 7 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', ...lines].join('\r\n')}\r\n`);
  if (!r.ok) throw new Error(r.reason);
  return r.sdp;
}

describe('attribute syntax', () => {
  it('round-trips tcap, acap, pcfg and acfg values', () => {
    for (const v of ['1 RTP/SAVPF RTP/SAVP RTP/AVPF', '7 UDP/TLS/RTP/SAVP']) {
      const t = parseTcap(v);
      expect(t.ok && formatTcap(t.value)).toBe(v);
    }
    for (const v of [`1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}|2^20|1:4`, '2 rtcp-fb:* nack', '3 rtcp-mux']) {
      const a = parseAcap(v);
      expect(a.ok && formatAcap(a.value)).toBe(v);
    }
    for (const v of ['1 t=1 a=1', '2 t=1|2 a=1|2', '3 a=1,[2,3]|[4]', '4 a=-m:1,2', '5 a=-ms', '6 t=2 +foo=1,2 bar=x', '7', '8 a=-s:[5]']) {
      const p = parsePcfg(v);
      expect(p.ok && formatConfig(p.value)).toBe(v);
    }
    const a = parseAcfg('1 t=2 a=1,[3]');
    expect(a.ok && formatConfig(a.value)).toBe('1 t=2 a=1,[3]');
  });

  it('numbers the protocols of one a=tcap consecutively', () => {
    const t = parseTcap('4 RTP/SAVPF RTP/SAVP');
    expect(t).toEqual({ ok: true, value: { number: 4, protos: ['RTP/SAVPF', 'RTP/SAVP'] } });
  });

  it('splits an a=acap into the attribute it carries', () => {
    expect(parseAcap('2 ptime:30')).toEqual({ ok: true, value: { number: 2, attribute: { name: 'ptime', value: '30' } } });
    expect(parseAcap('3 rtcp-mux')).toEqual({ ok: true, value: { number: 3, attribute: { name: 'rtcp-mux', value: null } } });
  });

  it('names what is wrong', () => {
    const bad: Array<[() => { ok: boolean }, RegExp]> = [
      [() => parseTcap('0 RTP/SAVP'), /a=tcap number "0"/],
      [() => parseTcap('1'), /lists no transport protocol/],
      [() => parseTcap('2147483647 RTP/SAVP RTP/SAVPF'), /run past the limit/],
      [() => parseAcap('x crypto:1'), /is not "<number> <attribute>"/],
      [() => parseAcap('1'), /is not "<number> <attribute>"/],
      [() => parsePcfg('abc t=1'), /a=pcfg number "abc"/],
      [() => parsePcfg('1 t=x'), /transport list "t=x" is not numbers/],
      [() => parsePcfg('1 a=1,,2'), /attribute list "a=1,,2" is malformed/],
      [() => parsePcfg('1 a=[1'), /malformed/],
      [() => parsePcfg('1 a='), /malformed/],
      [() => parsePcfg('1 a=-m:'), /empty after ":"/],
      [() => parsePcfg('1 q'), /unknown configuration part "q"/],
      [() => parseAcfg('1 t=1|2'), /a=acfg part has alternatives/],
    ];
    for (const [f, want] of bad) {
      const r = f() as { ok: false; reason: string };
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(want);
    }
  });

  it('reads option tags of a=csup / a=creq', () => {
    expect(parseOptionTags('cap-v0, med-v0,')).toEqual(['cap-v0', 'med-v0']);
  });
});

describe('potentialConfigurations', () => {
  it('best-effort SRTP with feedback preferred: two configurations sharing one crypto capability', () => {
    const offer = sdp(
      'm=audio 50000 RTP/AVP 0 8',
      'a=tcap:1 RTP/SAVPF RTP/SAVP',
      `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}|2^20|1:4`,
      'a=pcfg:2 t=2 a=1',
      'a=pcfg:1 t=1 a=1',
      'a=rtpmap:0 PCMU/8000',
    );
    const m = offer.media[0]!;
    const cfgs = potentialConfigurations(m, offer.attributes);
    // Lower configuration numbers are preferred, whatever the line order.
    expect(cfgs.map((c) => [c.config, c.proto, c.transport])).toEqual([
      [1, 'RTP/SAVPF', 1],
      [2, 'RTP/SAVP', 2],
    ]);
    expect(cfgs[0]?.attributes).toEqual([
      { name: 'rtpmap', value: '0 PCMU/8000' },
      { name: 'crypto', value: `1 AES_CM_128_HMAC_SHA1_80 inline:${KA}|2^20|1:4` },
    ]);
    expect(cfgs[1]?.acfg).toBe('2 t=2 a=1');
  });

  it('expands alternatives, the part written first varying slowest', () => {
    const offer = sdp(
      'm=audio 50000 RTP/AVP 0',
      'a=tcap:1 RTP/SAVP RTP/SAVPF',
      `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`,
      `a=acap:2 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KB}`,
      'a=pcfg:1 t=1|2 a=1|2',
    );
    const cfgs = potentialConfigurations(offer.media[0]!, offer.attributes);
    expect(cfgs.map((c) => `${c.proto}+${c.attributeCaps.join(',')}`)).toEqual(['RTP/SAVP+1', 'RTP/SAVP+2', 'RTP/SAVPF+1', 'RTP/SAVPF+2']);
    expect(cfgs.map((c) => c.acfg)).toEqual(['1 t=1 a=1', '1 t=1 a=2', '1 t=2 a=1', '1 t=2 a=2']);
  });

  it('takes capabilities from session level, honours optional ones and delete-attributes', () => {
    const offer = sdp(
      'a=tcap:1 RTP/SAVP',
      `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`,
      'm=audio 50000 RTP/AVP 0',
      'a=acap:2 rtcp-mux',
      'a=ptime:20',
      'a=pcfg:1 t=1 a=-m:1,[2]',
      'a=pcfg:2 a=-s',
    );
    const cfgs = potentialConfigurations(offer.media[0]!, offer.attributes);
    expect(cfgs[0]).toMatchObject({ config: 1, proto: 'RTP/SAVP', attributeCaps: [1, 2], optionalCaps: [2], deleteSession: false });
    // -m: the media attributes (a=ptime) are gone, only the capabilities remain.
    expect(cfgs[0]?.attributes.map((a) => a.name)).toEqual(['crypto', 'rtcp-mux']);
    expect(cfgs[1]).toMatchObject({ config: 2, proto: 'RTP/AVP', transport: null, deleteSession: true });
    expect(cfgs[1]?.attributes).toEqual([{ name: 'ptime', value: '20' }]);
  });

  it('skips configurations naming unknown capabilities or mandatory extensions, ignores optional ones', () => {
    const offer = sdp(
      'm=audio 50000 RTP/AVP 0',
      'a=tcap:1 RTP/SAVP',
      `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`,
      'a=pcfg:1 t=9 a=1',
      'a=pcfg:2 t=1 a=5',
      'a=pcfg:3 t=1 a=1 +med=1',
      'a=pcfg:4 t=1 a=1 hint=1',
      'a=pcfg:x junk',
    );
    expect(potentialConfigurations(offer.media[0]!, offer.attributes).map((c) => c.config)).toEqual([4]);
  });

  it('offers nothing when a=creq asks for an option we lack, and works when it asks for cap-v0', () => {
    const lines = ['m=audio 50000 RTP/AVP 0', 'a=tcap:1 RTP/SAVP', `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`, 'a=pcfg:1 t=1 a=1'];
    const med = sdp('a=creq:med-v0', ...lines);
    expect(potentialConfigurations(med.media[0]!, med.attributes)).toEqual([]);
    const base = sdp('a=csup:cap-v0', 'a=creq:cap-v0', ...lines);
    expect(potentialConfigurations(base.media[0]!, base.attributes)).toHaveLength(1);
  });

  it('bounds the cross product of alternatives', () => {
    const alts = Array.from({ length: 40 }, (_, i) => i + 1).join('|');
    const offer = sdp('m=audio 50000 RTP/AVP 0', `a=tcap:1 ${Array(40).fill('RTP/SAVP').join(' ')}`, 'a=acap:1 rtcp-mux', `a=pcfg:1 t=${alts} a=${Array(40).fill('1').join('|')}`);
    expect(potentialConfigurations(offer.media[0]!, offer.attributes)).toHaveLength(64);
  });

  it('reads the 96x1-style fixture: one configuration per crypto suite', () => {
    const r = parseSdp(CAPNEG);
    if (!r.ok) throw new Error(r.reason);
    const cfgs = potentialConfigurations(r.sdp.media[0]!, r.sdp.attributes);
    expect(cfgs.map((c) => [c.proto, c.attributes.find((a) => a.name === 'crypto')?.value?.split(' ')[1]])).toEqual([
      ['RTP/SAVP', 'AES_CM_128_HMAC_SHA1_80'],
      ['RTP/SAVP', 'AES_CM_128_HMAC_SHA1_32'],
    ]);
  });
});

describe('building a best-effort offer', () => {
  it('moves crypto into acap under tcap:1 RTP/SAVP and pcfg:1 t=1 a=1', () => {
    const offer = sdp('m=audio 50000 RTP/SAVP 0', `a=crypto:9 AES_CM_128_HMAC_SHA1_32 inline:${KB}`, 'a=pcfg:3 t=4', 'a=rtpmap:0 PCMU/8000');
    const m = capNegSrtpMedia(offer.media[0]!, [`1 AES_CM_128_HMAC_SHA1_80 inline:${KA}|2^31|1:1`]);
    const text = serializeSdp({ ...offer, media: [m] });
    expect(text).toContain(
      [
        'm=audio 50000 RTP/AVP 0',
        'a=rtpmap:0 PCMU/8000',
        'a=tcap:1 RTP/SAVP',
        `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}|2^31|1:1`,
        'a=pcfg:1 t=1 a=1',
      ].join('\r\n'),
    );
    expect(text).not.toContain('a=crypto:');
    // The input is left alone.
    expect(offer.media[0]?.proto).toBe('RTP/SAVP');
    // And what we build reads back as one SRTP configuration.
    const cfgs = potentialConfigurations(m);
    expect(cfgs).toHaveLength(1);
    expect(cfgs[0]?.proto).toBe('RTP/SAVP');
  });

  it('offers several suites as alternatives, keeps feedback profiles, and starts at given numbers', () => {
    const offer = sdp('m=video 50002 RTP/AVPF 96');
    const m = capNegSrtpMedia(offer.media[0]!, ['1 AES_CM_128_HMAC_SHA1_80 inline:x', '2 AES_CM_128_HMAC_SHA1_32 inline:y'], { firstTcap: 2, firstAcap: 3 });
    expect(m.proto).toBe('RTP/AVPF');
    expect(m.attributes).toEqual([
      { name: 'tcap', value: '2 RTP/SAVPF' },
      { name: 'acap', value: '3 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x' },
      { name: 'acap', value: '4 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:y' },
      { name: 'pcfg', value: '1 t=2 a=3|4' },
    ]);
    expect(() => capNegSrtpMedia(offer.media[0]!, [])).toThrow(RangeError);
    expect(() => capNegSrtpMedia(offer.media[0]!, ['x'], { firstTcap: 0 })).toThrow(RangeError);
  });
});

describe('detecting and removing capability negotiation', () => {
  it('hasCapNeg looks at session and media level', () => {
    const plain = parseSdp(SIPP);
    const cap = parseSdp(CAPNEG);
    if (!plain.ok || !cap.ok) throw new Error('fixtures');
    expect(hasCapNeg(plain.sdp)).toBe(false);
    expect(hasCapNeg(cap.sdp)).toBe(true);
    expect(hasCapNeg(cap.sdp.media[0]!)).toBe(true);
    expect(hasCapNeg(sdp('a=csup:cap-v0', 'm=audio 1 RTP/AVP 0'))).toBe(true);
    const stripped = withoutCapNeg(cap.sdp);
    expect(hasCapNeg(stripped)).toBe(false);
    expect(hasCapNeg(cap.sdp)).toBe(true);
    expect(stripCapNeg([{ name: 'ACAP', value: '1 x' }, { name: 'ptime', value: '20' }])).toEqual([{ name: 'ptime', value: '20' }]);
  });
});

describe('applyAcfg', () => {
  const offer = sdp(
    'm=audio 50000 RTP/AVP 0',
    'a=tcap:1 RTP/SAVP',
    `a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KA}`,
    `a=acap:2 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KB}`,
    'a=acap:3 rtcp-mux',
    'a=pcfg:1 t=1 a=1,[3]|2,[3]',
    'm=video 0 RTP/AVP 96',
  );

  it('tells which configuration the answerer took, resolved against our offer', () => {
    const answer = sdp('m=audio 40000 RTP/SAVP 0', `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KA}`, 'a=acfg:1 t=1 a=2', 'm=video 0 RTP/AVP 96');
    const [audio, video] = applyAcfg(answer, offer);
    expect(audio?.acfg).toEqual({ number: 1, parts: [{ kind: 'transport', alternatives: [1] }, { kind: 'attributes', deleteMedia: false, deleteSession: false, alternatives: [{ mandatory: [2], optional: [] }] }] });
    expect(audio?.offered?.proto).toBe('RTP/SAVP');
    expect(audio?.offered?.attributeCaps).toEqual([2, 3]);
    expect(video).toBeNull();
  });

  it('matches an answer that took the optional capability, with or without brackets', () => {
    for (const acfg of ['1 t=1 a=1,3', '1 t=1 a=1,[3]']) {
      const answer = sdp('m=audio 40000 RTP/SAVP 0', `a=acfg:${acfg}`, 'm=video 0 RTP/AVP 96');
      expect(applyAcfg(answer, offer)[0]?.offered?.attributeCaps).toEqual([1, 3]);
    }
  });

  it('returns the bare choice without an offer, and no match for a configuration we never offered', () => {
    const answer = sdp('m=audio 40000 RTP/SAVP 0', 'a=acfg:5 t=1 a=1', 'm=video 0 RTP/AVP 96');
    expect(applyAcfg(answer)[0]?.offered).toBeNull();
    expect(applyAcfg(answer)[0]?.acfg.number).toBe(5);
    expect(applyAcfg(answer, offer)[0]?.offered).toBeNull();
    expect(applyAcfg(sdp('m=audio 4 RTP/AVP 0', 'a=acfg:junk'))[0]).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { findAttributes, parseSdp, serializeSdp } from '../../../src/sdp/index.ts';
import type { Sdp } from '../../../src/sdp/index.ts';
import { ALL_FIXTURES, ASTERISK, CAPNEG, IPV6, LINPHONE, SAVP } from './fixtures.ts';

function parsed(text: string | Buffer): Sdp {
  const r = parseSdp(text);
  if (!r.ok) throw new Error(`expected to parse: ${r.reason}`);
  return r.sdp;
}

function rejects(text: string | Buffer): string {
  const r = parseSdp(text);
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
}

describe('round trip', () => {
  for (const [name, text] of Object.entries(ALL_FIXTURES)) {
    it(`${name} comes back byte for byte`, () => {
      expect(serializeSdp(parsed(text))).toBe(text);
      expect(serializeSdp(parsed(Buffer.from(text, 'utf8')))).toBe(text);
    });
  }

  it('accepts bare LF and writes CRLF', () => {
    expect(serializeSdp(parsed(SAVP.replace(/\r\n/g, '\n')))).toBe(SAVP);
  });

  it('adds the missing final line end and skips blank lines', () => {
    const noFinal = ASTERISK.slice(0, -2);
    expect(serializeSdp(parsed(noFinal))).toBe(ASTERISK);
    expect(serializeSdp(parsed(`${ASTERISK}\r\n\r\n`))).toBe(ASTERISK);
  });

  it('keeps UTF-8 in s= and i=', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=Café ☎\r\ni=Grüße\r\nt=0 0\r\n';
    expect(serializeSdp(parsed(Buffer.from(text, 'utf8')))).toBe(text);
  });

  it('normalises runs of blanks inside o=, c= and m=', () => {
    const text = 'v=0\r\no=-  1 1 IN\tIP4 192.0.2.1\r\ns=-\r\nc=IN  IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000  RTP/AVP 0 8 \r\n';
    expect(serializeSdp(parsed(text))).toBe(
      'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n',
    );
  });

  it('writes out-of-order session lines in RFC order, attributes in their own order', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\na=z\r\nc=IN IP4 192.0.2.1\r\na=y\r\n';
    expect(serializeSdp(parsed(text))).toBe('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=z\r\na=y\r\n');
  });
});

describe('model', () => {
  it('types the session and media lines', () => {
    const s = parsed(ASTERISK);
    expect(s.origin).toEqual({
      username: '-',
      sessionId: '1402683720',
      sessionVersion: '1402683721',
      netType: 'IN',
      addrType: 'IP4',
      address: '203.0.113.5',
    });
    expect(s.sessionName).toBe('Asterisk');
    expect(s.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '203.0.113.5' });
    expect(s.bandwidths).toEqual([{ type: 'CT', value: 384 }]);
    expect(s.other.map((l) => l.type).join('')).toBe('iueptr');
    expect(s.media).toHaveLength(1);
    const m = s.media[0]!;
    expect(m).toMatchObject({ media: 'audio', port: 17342, portCount: null, proto: 'RTP/AVP', formats: ['18', '0', '8', '13', '101'] });
    expect(m.bandwidths).toEqual([{ type: 'AS', value: 80 }]);
    expect(m.other).toEqual([{ type: 'i', value: 'voice' }]);
    expect(m.attributes[0]).toEqual({ name: 'rtpmap', value: '18 G729/8000' });
    expect(m.attributes.at(-1)).toEqual({ name: 'sendrecv', value: null });
  });

  it('keeps SDES crypto lines verbatim and in order', () => {
    const crypto = findAttributes(parsed(SAVP).media[0]!.attributes, 'crypto').map((a) => a.value);
    expect(crypto).toEqual([
      '1 AES_CM_128_HMAC_SHA1_80 inline:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo|2^31|1:1',
      '2 AES_CM_128_HMAC_SHA1_32 inline:cXV1eHF1dXhxdXV4cXV1eHF1dXhxdXV4cXV1eA== UNENCRYPTED_SRTCP',
    ]);
  });

  it('keeps RFC 5939 capability attributes verbatim', () => {
    const attrs = parsed(CAPNEG).media[0]!.attributes;
    expect(attrs.slice(0, 4).map((a) => `${a.name}:${a.value}`)).toEqual([
      'tcap:1 RTP/SAVP',
      'acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0|2^31',
      'acap:2 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0|2^31',
      'pcfg:1 t=1 a=1|2',
    ]);
  });

  it('reads IPv6 media-level c= and several media sections', () => {
    expect(parsed(IPV6).media[0]!.connections).toEqual([{ netType: 'IN', addrType: 'IP6', address: '2001:db8::20' }]);
    expect(parsed(IPV6).connection).toBeNull();
    expect(parsed(LINPHONE).media.map((m) => m.media)).toEqual(['audio', 'video']);
  });

  it('tells a= with an empty value from a= without one', () => {
    const s = parsed('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\na=x:\r\na=y\r\n');
    expect(s.attributes).toEqual([{ name: 'x', value: '' }, { name: 'y', value: null }]);
  });

  it('reads a port count and non-RTP formats', () => {
    const s = parsed('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nm=audio 49170/2 RTP/AVP 0\r\nm=application 9 UDP/BFCP *\r\n');
    expect(s.media[0]).toMatchObject({ port: 49170, portCount: 2 });
    expect(s.media[1]!.formats).toEqual(['*']);
  });

  it('keeps an unparseable b= line verbatim instead of failing', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nb=AS:lots\r\n';
    const s = parsed(text);
    expect(s.bandwidths).toEqual([]);
    expect(s.other).toContainEqual({ type: 'b', value: 'AS:lots' });
  });
});

describe('hostile input', () => {
  const head = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['empty', '', /empty/],
    ['only blank lines', '\r\n\r\n\n', /empty/],
    ['garbage', 'hello world', /line 1/],
    ['no v= first', 'o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n', /v=0/],
    ['v=1', 'v=1\r\no=- 1 1 IN IP4 a\r\ns=-\r\n', /v=0/],
    ['truncated after v=', 'v=0\r\n', /o= must follow/],
    ['truncated o=', 'v=0\r\no=- 1 1 IN\r\ns=-\r\n', /line 2: o= needs 6 fields/],
    ['missing s=', 'v=0\r\no=- 1 1 IN IP4 a\r\nt=0 0\r\n', /s= must follow/],
    ['non-numeric version', 'v=0\r\no=- 1 x IN IP4 a\r\ns=-\r\n', /sess-version/],
    ['21-digit version', 'v=0\r\no=- 1 123456789012345678901 IN IP4 a\r\ns=-\r\n', /sess-version/],
    ['duplicate o=', `${head}o=- 1 1 IN IP4 a\r\n`, /line 4: o= may appear only once/],
    ['two session c=', `${head}c=IN IP4 a\r\nc=IN IP4 b\r\n`, /more than one session-level c=/],
    ['short c=', `${head}c=IN IP4\r\n`, /c= needs 3 fields/],
    ['upper-case type', `${head}A=foo\r\n`, /line 4/],
    ['no equals sign', `${head}a\r\n`, /line 4/],
    ['CR inside a line', `${head}a=fo\ro\r\n`, /CR or NUL/],
    ['NUL inside a line', `${head}a=fo\0o\r\n`, /CR or NUL/],
    ['m= without proto', `${head}m=audio 4000\r\n`, /m= needs/],
    ['port too big', `${head}m=audio 65536 RTP/AVP 0\r\n`, /port/],
    ['huge port', `${head}m=audio ${'9'.repeat(400)} RTP/AVP 0\r\n`, /port/],
    ['huge port count', `${head}m=audio 4000/99999999999 RTP/AVP 0\r\n`, /port count/],
    ['zero port count', `${head}m=audio 4000/0 RTP/AVP 0\r\n`, /port count/],
    ['payload type 128', `${head}m=audio 4000 RTP/AVP 0 128\r\n`, /payload type/],
    ['payload type word', `${head}m=audio 4000 RTP/AVP PCMU\r\n`, /payload type/],
    ['too many formats', `${head}m=audio 4000 RTP/AVP ${Array(300).fill('0').join(' ')}\r\n`, /formats/],
    ['too many media', head + 'm=audio 4000 RTP/AVP 0\r\n'.repeat(65), /media sections/],
    ['too many lines', head + 'a=x\r\n'.repeat(1100), /lines/],
    ['oversized string', head + `a=${'x'.repeat(70_000)}\r\n`, /larger than/],
    ['oversized buffer', Buffer.alloc(70_000, 0x61), /larger than/],
    ['invalid UTF-8', Buffer.concat([Buffer.from(head), Buffer.from([0x61, 0x3d, 0xff, 0xfe, 0x0d, 0x0a])]), /UTF-8/],
  ];
  for (const [name, input, reason] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => parseSdp(input)).not.toThrow();
      expect(rejects(input)).toMatch(reason);
    });
  }

  it('counts multi-byte characters against the size limit', () => {
    const big = head + `s=${'☎'.repeat(22_000)}\r\n`;
    expect(big.length).toBeLessThan(65_536);
    expect(rejects(big)).toMatch(/larger than/);
  });
});

describe('serializer guards', () => {
  it('refuses values that would add lines', () => {
    const s = parsed(ASTERISK);
    s.media[0]!.attributes.push({ name: 'x', value: 'a\r\nm=video 1 RTP/AVP 0' });
    expect(() => serializeSdp(s)).toThrow(/CR, LF or NUL/);
    const t = parsed(ASTERISK);
    t.connection = { netType: 'IN', addrType: 'IP4', address: '1.2.3.4 extra' };
    expect(() => serializeSdp(t)).toThrow(/c= address/);
    const u = parsed(ASTERISK);
    u.media[0]!.port = 70000;
    expect(() => serializeSdp(u)).toThrow(/m= port/);
  });
});

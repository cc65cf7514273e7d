import { describe, expect, it } from 'vitest';
import { codecOf, codecsOf, filterCodecs, negotiatedCodec, parseSdp, serializeSdp } from '../../../src/sdp/index.ts';
import type { Sdp } from '../../../src/sdp/index.ts';
import { ASTERISK, BARESIP, CAPNEG, LINPHONE, SAVP, SIPP } from './fixtures.ts';

function parsed(text: string): Sdp {
  const r = parseSdp(text);
  if (!r.ok) throw new Error(r.reason);
  return r.sdp;
}

function ptLines(sdp: Sdp, index = 0): string[] {
  return sdp.media[index]!.attributes.filter((a) => /^(rtpmap|fmtp|rtcp-fb)$/.test(a.name)).map((a) => `${a.name}:${a.value}`);
}

describe('codecOf', () => {
  const m = parsed(LINPHONE).media[0]!;

  it('names static payload types without rtpmap from the RFC 3551 table', () => {
    expect(codecOf(m, 18)).toEqual({ pt: 18, name: 'G729', clockRate: 8000, channels: null });
    expect(codecOf(m, '0')).toEqual({ pt: 0, name: 'PCMU', clockRate: 8000, channels: null });
    expect(codecOf(parsed(SIPP).media[0]!, 9)).toMatchObject({ name: 'G722', clockRate: 8000 });
  });

  it('names dynamic payload types from a=rtpmap, with channels', () => {
    expect(codecOf(m, 96)).toEqual({ pt: 96, name: 'opus', clockRate: 48000, channels: 2 });
    expect(codecOf(m, 100)).toMatchObject({ name: 'telephone-event', clockRate: 8000 });
  });

  it('spells known encodings canonically whatever case the phone uses', () => {
    const s = parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 1 RTP/AVP 0 97 98\r\na=rtpmap:0 pcmu/8000\r\n' +
      'a=rtpmap:97 TELEPHONE-EVENT/8000\r\na=rtpmap:98 X-Vendor/8000\r\n');
    expect(codecsOf(s.media[0]!).map((c) => c.codec?.name)).toEqual(['PCMU', 'telephone-event', 'X-Vendor']);
  });

  it('returns null for unknown dynamic types, bad input and non-RTP media', () => {
    expect(codecOf(m, 120)).toBeNull();
    expect(codecOf(m, 'abc')).toBeNull();
    expect(codecOf(m, 300)).toBeNull();
    expect(codecOf(m, 1.5)).toBeNull();
    const app = parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=application 9 UDP/BFCP 0\r\n').media[0]!;
    expect(codecOf(app, 0)).toBeNull();
  });

  it('ignores a malformed rtpmap and falls back to the static table', () => {
    const s = parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 1 RTP/AVP 8 96\r\na=rtpmap:8 PCMA\r\na=rtpmap:96 opus/fast\r\n');
    expect(codecOf(s.media[0]!, 8)?.name).toBe('PCMA');
    expect(codecOf(s.media[0]!, 96)).toBeNull();
  });
});

describe('filterCodecs', () => {
  it('keeps allowed codecs in the allowed order, telephone-event last, and drops their attribute lines', () => {
    const r = filterCodecs(parsed(BARESIP), ['PCMA', 'pcmu']);
    const m = r.sdp.media[0]!;
    expect(m.formats).toEqual(['8', '0', '101']);
    expect(r.left).toBe(2);
    expect(r.removed).toEqual(['G722', 'opus']);
    expect(ptLines(r.sdp)).toEqual(['rtpmap:0 PCMU/8000', 'rtpmap:8 PCMA/8000', 'rtpmap:101 telephone-event/8000', 'fmtp:101 0-15']);
    // Everything else on the stream and the session stays as it was.
    expect(m.attributes.filter((a) => !/^(rtpmap|fmtp)$/.test(a.name))).toEqual(parsed(BARESIP).media[0]!.attributes.filter((a) => !/^(rtpmap|fmtp)$/.test(a.name)));
    expect(m.port).toBe(10730);
  });

  it('does not change its input', () => {
    const s = parsed(BARESIP);
    filterCodecs(s, ['PCMU']);
    expect(serializeSdp(s)).toBe(BARESIP);
  });

  it('handles G.729, CN and telephone-event the Asterisk way', () => {
    const noCn = filterCodecs(parsed(ASTERISK), ['G729', 'PCMU']);
    expect(noCn.sdp.media[0]!.formats).toEqual(['18', '0', '101']);
    expect(noCn.removed).toEqual(['PCMA', 'CN']);
    expect(ptLines(noCn.sdp)).toEqual(['rtpmap:18 G729/8000', 'fmtp:18 annexb=no', 'rtpmap:0 PCMU/8000', 'rtpmap:101 telephone-event/8000', 'fmtp:101 0-16']);
    const withCn = filterCodecs(parsed(ASTERISK), ['PCMU', 'CN', 'G729']);
    expect(withCn.sdp.media[0]!.formats).toEqual(['0', '13', '18', '101']);
    expect(withCn.left).toBe(2);
  });

  it('keeps every telephone-event, drops rtcp-fb of removed types but not rtcp-fb:*, leaves video alone', () => {
    const r = filterCodecs(parsed(LINPHONE), ['G729', 'opus']);
    expect(r.sdp.media[0]!.formats).toEqual(['18', '96', '101', '99', '100']);
    expect(r.removed).toEqual(['speex', 'PCMU', 'PCMA']);
    const attrs = r.sdp.media[0]!.attributes.map((a) => `${a.name}:${a.value}`);
    expect(attrs).toContain('rtcp-fb:* trr-int 1000');
    expect(attrs).toContain('fmtp:18 annexb=yes');
    expect(attrs.some((a) => a.startsWith('fmtp:97') || a.startsWith('rtpmap:98'))).toBe(false);
    expect(r.sdp.media[1]).toEqual(parsed(LINPHONE).media[1]);
  });

  it('matches an allowed entry with a clock rate only at that rate', () => {
    const r = filterCodecs(parsed(LINPHONE), ['speex/16000']);
    expect(r.sdp.media[0]!.formats).toEqual(['97', '101', '99', '100']);
    expect(r.left).toBe(1);
  });

  it('reports left === 0 and disables the stream when no voice codec survives', () => {
    const r = filterCodecs(parsed(SAVP), ['G729']);
    expect(r.left).toBe(0);
    const m = r.sdp.media[0]!;
    expect(m.port).toBe(0);
    expect(m.formats).toEqual(['101']);
    expect(findCrypto(r.sdp)).toHaveLength(2);
    // Still a valid description.
    expect(parseSdp(serializeSdp(r.sdp)).ok).toBe(true);
  });

  it('keeps one format on a stream that had nothing allowed at all', () => {
    const r = filterCodecs(parsed(SIPP), ['PCMA']);
    expect(r).toMatchObject({ left: 0, removed: ['PCMU'] });
    expect(r.sdp.media[0]).toMatchObject({ port: 0, formats: ['0'] });
    expect(parseSdp(serializeSdp(r.sdp)).ok).toBe(true);
  });

  it('keeps RFC 5939 attributes untouched while filtering', () => {
    const r = filterCodecs(parsed(CAPNEG), ['PCMU']);
    expect(r.sdp.media[0]!.formats).toEqual(['0', '127']);
    const names = r.sdp.media[0]!.attributes.map((a) => a.name);
    expect(names.slice(0, 4)).toEqual(['tcap', 'acap', 'acap', 'pcfg']);
  });

  it('skips disabled and non-audio streams and reports unknown dynamic types by number', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 18\r\n' +
      'm=audio 4000 RTP/AVP 0 120\r\nm=video 4002 RTP/AVP 31\r\n';
    const r = filterCodecs(parsed(text), ['PCMU']);
    expect(r.sdp.media.map((m) => m.formats)).toEqual([['18'], ['0'], ['31']]);
    expect(r.removed).toEqual(['120']);
    expect(r.left).toBe(1);
  });

  it('keeps a payload type listed twice once', () => {
    const r = filterCodecs(parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 0 8 0\r\n'), ['PCMU', 'PCMA']);
    expect(r.sdp.media[0]!.formats).toEqual(['0', '8']);
    expect(r.left).toBe(2);
  });
});

function findCrypto(sdp: Sdp): string[] {
  return sdp.media[0]!.attributes.filter((a) => a.name === 'crypto').map((a) => a.value ?? '');
}

describe('negotiatedCodec', () => {
  it('is the first voice codec of the first active audio stream', () => {
    expect(negotiatedCodec(parsed(SIPP))).toBe('PCMU');
    expect(negotiatedCodec(parsed(ASTERISK))).toBe('G729');
    expect(negotiatedCodec(parsed(LINPHONE))).toBe('opus');
  });

  it('skips telephone-event, CN and disabled streams', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\n' +
      'm=audio 4000 RTP/AVP 101 13 8\r\na=rtpmap:101 telephone-event/8000\r\n';
    expect(negotiatedCodec(parsed(text))).toBe('PCMA');
  });

  it('is null when there is no voice codec or no audio', () => {
    expect(negotiatedCodec(parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n'))).toBeNull();
    expect(negotiatedCodec(parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nm=video 4000 RTP/AVP 31\r\n'))).toBeNull();
    expect(negotiatedCodec(parsed('v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\n'))).toBeNull();
  });
});

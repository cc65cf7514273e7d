import { describe, expect, it } from 'vitest';
import { parseSdp, serializeSdp } from '../../../../src/sdp/index.ts';
import type { Sdp } from '../../../../src/sdp/index.ts';
import { g729aAsG729, ptList, withG729A, withOfferedG729A, withPayloadTypes } from '../../../../src/pbx/media/sdp-edits.ts';

function sdp(formats: string, maps: string[]): Sdp {
  const p = parseSdp(Buffer.from(['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio 4000 RTP/AVP ${formats}`, ...maps, 'a=sendrecv', ''].join('\r\n')));
  if (!p.ok) throw new Error(p.reason);
  return p.sdp;
}

describe('withPayloadTypes (answering the offerer in its own numbers)', () => {
  it('renumbers the format list, rtpmap and fmtp of the stream', () => {
    const out = withPayloadTypes(sdp('0 96', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-16']), 0, new Map([[96, 101]]));
    expect(out.media[0]!.formats).toEqual(['0', '101']);
    expect(ptList(out, 0)).toEqual([[0, 'pcmu/8000'], [101, 'telephone-event/8000']]);
    expect(serializeSdp(out)).toContain('a=fmtp:101 0-16');
    expect(serializeSdp(out)).not.toContain(':96 ');
  });

  it('swaps two numbers in one pass', () => {
    const out = withPayloadTypes(sdp('96 97', ['a=rtpmap:96 telephone-event/8000', 'a=rtpmap:97 opus/48000/2']), 0, new Map([[96, 97], [97, 96]]));
    expect(ptList(out, 0)).toEqual([[97, 'telephone-event/8000'], [96, 'opus/48000']]);
  });

  it('leaves a number alone when its new value is kept by another format', () => {
    const before = sdp('0 96 101', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:96 telephone-event/8000', 'a=rtpmap:101 G7221/16000']);
    const out = withPayloadTypes(before, 0, new Map([[96, 101]]));
    expect(ptList(out, 0)).toEqual(ptList(before, 0));
  });
});

describe('G.729 under the name G729A (B-11 "Add G729A media type")', () => {
  const g729 = () => sdp('18 96', ['a=rtpmap:18 G729/8000', 'a=fmtp:18 annexb=no', 'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-16']);

  it('withG729A lists G.729 again as G729A/8000 on a dynamic payload type right after 18, with its fmtp', () => {
    const out = serializeSdp(withG729A(g729(), 0, 97));
    expect(out).toContain('m=audio 4000 RTP/AVP 18 97 96\r\n');
    expect(out).toContain('a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\na=rtpmap:97 G729A/8000\r\na=fmtp:97 annexb=no\r\na=rtpmap:96 telephone-event/8000');
  });

  it('withG729A leaves a stream without G.729, or with G729A already, alone', () => {
    const pcmu = sdp('0', ['a=rtpmap:0 PCMU/8000']);
    expect(withG729A(pcmu, 0, 97)).toBe(pcmu);
    const both = sdp('18 98', ['a=rtpmap:18 G729/8000', 'a=rtpmap:98 g729a/8000']);
    expect(withG729A(both, 0, 97)).toBe(both);
  });

  it('g729aAsG729: G729A alone on a dynamic payload type (any case) becomes G729 on 18, fmtp with it', () => {
    const out = serializeSdp(g729aAsG729(sdp('97 96', ['a=rtpmap:97 g729a/8000', 'a=fmtp:97 annexb=no', 'a=rtpmap:96 telephone-event/8000'])));
    expect(out).toContain('m=audio 4000 RTP/AVP 18 96\r\n');
    expect(out).toContain('a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n');
    expect(out).not.toMatch(/G729A|:97 /i);
  });

  it('g729aAsG729: 18 named G729a is renamed; a G729A beside G.729 is dropped; no G729A, the same SDP back', () => {
    expect(serializeSdp(g729aAsG729(sdp('18', ['a=rtpmap:18 G729a/8000'])))).toContain('m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n');
    const both = serializeSdp(g729aAsG729(sdp('0 18 97', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000', 'a=rtpmap:97 G729A/8000', 'a=fmtp:97 annexb=no'])));
    expect(both).toContain('m=audio 4000 RTP/AVP 0 18\r\n');
    expect(both).not.toMatch(/G729A|:97 /);
    const plain = g729();
    expect(g729aAsG729(plain)).toBe(plain);
  });

  it('ptList counts G729A as G.729 for a side that uses the name, so the relay maps 97 to 18', () => {
    const up = sdp('97', ['a=rtpmap:97 G729A/8000']);
    expect(ptList(up, 0)).toEqual([[97, 'g729a/8000']]);
    expect(ptList(up, 0, true)).toEqual([[97, 'g729/8000']]);
  });

  it('withOfferedG729A answers an offerer in the name it offered, adding the rtpmap a static 18 went without', () => {
    const offer = sdp('97 96', ['a=rtpmap:97 g729a/8000', 'a=rtpmap:96 telephone-event/8000']);
    const renamed = serializeSdp(withOfferedG729A(sdp('97', ['a=rtpmap:97 G729/8000', 'a=fmtp:97 annexb=no']), offer, 0));
    expect(renamed).toContain('a=rtpmap:97 g729a/8000\r\na=fmtp:97 annexb=no\r\n');
    expect(serializeSdp(withOfferedG729A(sdp('97', []), offer, 0))).toContain('a=rtpmap:97 g729a/8000\r\n');
    const pcmu = sdp('0', ['a=rtpmap:0 PCMU/8000']);
    expect(withOfferedG729A(pcmu, offer, 0)).toBe(pcmu);
  });
});

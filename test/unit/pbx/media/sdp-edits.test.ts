import { describe, expect, it } from 'vitest';
import { parseSdp, serializeSdp } from '../../../../src/sdp/index.ts';
import type { Sdp } from '../../../../src/sdp/index.ts';
import { ptList, withPayloadTypes } from '../../../../src/pbx/media/sdp-edits.ts';

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

import { describe, expect, it } from 'vitest';
import type { BencodeValue } from '../../../src/media/bencode.ts';
import { BencodeError, bencodeDict, bencodeInt, bencodeList, bencodeText, decodeBencode, encodeBencode } from '../../../src/media/bencode.ts';

const enc = (v: Parameters<typeof encodeBencode>[0]): string => encodeBencode(v).toString('latin1');
const dec = (s: string | Buffer) => decodeBencode(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
function value(s: string | Buffer): BencodeValue {
  const r = dec(s);
  if (!r.ok) throw new Error(`expected success, got: ${r.reason}`);
  return r.value;
}
function reason(s: string | Buffer, limits?: Parameters<typeof decodeBencode>[1]): string {
  const r = decodeBencode(typeof s === 'string' ? Buffer.from(s, 'latin1') : s, limits);
  if (r.ok) throw new Error(`expected a failure for ${JSON.stringify(s.toString())}`);
  return r.reason;
}

describe('encodeBencode', () => {
  it('writes the four types as the ng protocol expects', () => {
    expect(enc({ command: 'ping' })).toBe('d7:command4:pinge');
    expect(enc(42)).toBe('i42e');
    expect(enc(-7)).toBe('i-7e');
    expect(enc(0)).toBe('i0e');
    expect(enc(-0)).toBe('i0e');
    expect(enc('')).toBe('0:');
    expect(enc(['a', 1, ['b']])).toBe('l1:ai1el1:bee');
  });

  it('sorts dictionary keys by bytes and leaves out undefined values', () => {
    expect(enc({ 'to-tag': 'x', 'call-id': 'c', sdp: undefined, ICE: 'remove' })).toBe('d3:ICE6:remove7:call-id1:c6:to-tag1:xe');
  });

  it('counts string lengths in UTF-8 bytes and passes Buffers through as bytes', () => {
    expect(enc('é')).toBe('2:\u00c3\u00a9');
    expect(encodeBencode(Buffer.from([0, 255, 32]))).toEqual(Buffer.concat([Buffer.from('3:'), Buffer.from([0, 255, 32])]));
    expect(encodeBencode(new Uint8Array([1, 2]))).toEqual(Buffer.from([0x32, 0x3a, 1, 2]));
  });

  it('throws BencodeError for what bencode cannot carry', () => {
    expect(() => encodeBencode(1.5)).toThrow(BencodeError);
    expect(() => encodeBencode(Number.MAX_SAFE_INTEGER + 1)).toThrow(/safe integers/);
    expect(() => encodeBencode(null as never)).toThrow(/null/);
    expect(() => encodeBencode(true as never)).toThrow(/boolean/);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => encodeBencode(cyclic as never)).toThrow(/nesting/);
  });
});

describe('decodeBencode', () => {
  it('round-trips nested values, strings as Buffers', () => {
    const input = { command: 'offer', sdp: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n', flags: ['trust-address', 'x'], n: -12, deep: { a: [[], {}], b: 0 } };
    const v = value(encodeBencode(input));
    const d = bencodeDict(v)!;
    expect(bencodeText(d['command'])).toBe('offer');
    expect(bencodeText(d['sdp'])).toBe(input.sdp);
    expect(bencodeList(d['flags'])!.map(bencodeText)).toEqual(['trust-address', 'x']);
    expect(bencodeInt(d['n'])).toBe(-12);
    const deep = bencodeDict(d['deep'])!;
    expect(bencodeInt(deep['b'])).toBe(0);
    expect(bencodeList(deep['a'])).toHaveLength(2);
    // Encoding what was decoded gives the same bytes back.
    expect(encodeBencode(v as never)).toEqual(encodeBencode(input));
  });

  it('keeps binary strings byte for byte', () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0x80, 0x3a, 0x65]);
    const v = value(encodeBencode([bytes]));
    expect(bencodeList(v)![0]).toEqual(bytes);
  });

  it('accepts unsorted keys (rtpengine does not sort) and a "__proto__" key as a plain key', () => {
    const d = bencodeDict(value('d6:result4:pong9:__proto__i1e1:ai2ee'))!;
    expect(bencodeText(d['result'])).toBe('pong');
    expect(bencodeInt(d['__proto__'])).toBe(1);
    expect(Object.getPrototypeOf(d)).toBeNull();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('decodes the largest safe integers and rejects bigger ones', () => {
    expect(value(`i${Number.MAX_SAFE_INTEGER}e`)).toBe(Number.MAX_SAFE_INTEGER);
    expect(value(`i-${Number.MAX_SAFE_INTEGER}e`)).toBe(-Number.MAX_SAFE_INTEGER);
    expect(reason('i9007199254740993e')).toMatch(/out of range/);
    expect(reason('i123456789012345678901234567890e')).toMatch(/too long/);
  });

  it('rejects truncated input with the offset', () => {
    expect(reason('')).toMatch(/empty/);
    expect(reason('i12')).toMatch(/truncated integer/);
    expect(reason('5:abc')).toMatch(/claims 5 bytes, only 3 left/);
    expect(reason('l1:a')).toMatch(/truncated list/);
    expect(reason('d1:a')).toMatch(/no value for key "a"/);
    expect(reason('d1:ai1e')).toMatch(/truncated dictionary/);
    expect(reason('12')).toMatch(/truncated string length/);
  });

  it('rejects bad lengths and integers', () => {
    expect(reason('03:abc')).toMatch(/leading zero/);
    expect(reason('-1:a')).toMatch(/unexpected byte 0x2d/);
    expect(reason('1x:a')).toMatch(/not a digit/);
    expect(reason('ie')).toMatch(/empty integer/);
    expect(reason('i-e')).toMatch(/empty integer/);
    expect(reason('i-0e')).toMatch(/negative zero/);
    expect(reason('i007e')).toMatch(/leading zero/);
    expect(reason('i1.5e')).toMatch(/not a digit/);
    expect(reason('i--1e')).toMatch(/not a digit/);
  });

  it('rejects huge claimed lengths without allocating them', () => {
    expect(reason('9999999999:abc')).toMatch(/claims 9999999999 bytes/);
    expect(reason('99999999999999999999:x')).toMatch(/too long/);
    expect(reason('9007199254740993:x')).toMatch(/out of range/);
  });

  it('rejects structural errors', () => {
    expect(reason('di1ei2ee')).toMatch(/key at offset 1 is not a string/);
    expect(reason('d1:ai1e1:ai2ee')).toMatch(/duplicate dictionary key "a"/);
    expect(reason('i1ei2e')).toMatch(/1 trailing bytes|3 trailing bytes/);
    expect(reason('e')).toMatch(/unexpected byte 0x65/);
    expect(reason('x')).toMatch(/unexpected byte 0x78/);
  });

  it('bounds nesting depth (deep input fails cleanly, no stack overflow)', () => {
    expect(value('l'.repeat(32) + 'e'.repeat(32))).toBeDefined();
    expect(reason('l'.repeat(33) + 'e'.repeat(33))).toMatch(/nesting deeper than 32/);
    expect(reason('l'.repeat(200_000))).toMatch(/nesting deeper than 32/);
    expect(reason('d1:a'.repeat(1000) + 'i1e' + 'e'.repeat(1000))).toMatch(/nesting/);
  });

  it('bounds input size and item count', () => {
    const limits = { maxBytes: 64, maxDepth: 8, maxItems: 5 };
    expect(reason(Buffer.alloc(65, 0x30), limits)).toMatch(/65 bytes exceeds 64/);
    expect(reason('li1ei2ei3ei4ei5ee', limits)).toMatch(/more than 5 items/);
    const ok = decodeBencode(Buffer.from('li1ei2ei3ei4ee'), limits);
    expect(ok.ok).toBe(true);
  });

  it('never throws on mutated ng messages (every outcome is a result)', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n);
    };
    const base = encodeBencode({ result: 'ok', sdp: 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n', totals: { RTP: { packets: 12, bytes: 2064 } }, l: [1, -2, 'x'] });
    const alphabet = Buffer.from('ilde0123456789:-x');
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      let buf = Buffer.from(base);
      for (let k = 1 + rnd(3); k > 0; k--) {
        const at = rnd(buf.length);
        const op = rnd(3);
        if (op === 0) buf = buf.subarray(0, at);
        else if (op === 1) buf[at] = alphabet[rnd(alphabet.length)]!;
        else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + rnd(8)), buf.subarray(at)]);
        if (buf.length === 0) break;
      }
      const r = decodeBencode(buf);
      if (r.ok) {
        accepted++;
        const again = decodeBencode(encodeBencode(r.value as never));
        expect(again.ok).toBe(true);
      } else {
        rejected++;
        expect(r.reason.length).toBeGreaterThan(0);
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });
});

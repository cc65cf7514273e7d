import { describe, expect, it } from 'vitest';
import {
  answerDirection,
  bumpVersion,
  connectionOf,
  isHold,
  mediaDirection,
  parseSdp,
  serializeSdp,
  setConnection,
  setDirection,
  withVersion,
} from '../../../src/sdp/index.ts';
import type { Sdp } from '../../../src/sdp/index.ts';
import { ASTERISK, CAPNEG, IPV6, LINPHONE, SIPP } from './fixtures.ts';

function parsed(text: string): Sdp {
  const r = parseSdp(text);
  if (!r.ok) throw new Error(r.reason);
  return r.sdp;
}

const HEAD = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';

describe('mediaDirection / isHold', () => {
  it('defaults to sendrecv', () => {
    expect(mediaDirection(parsed(SIPP))).toBe('sendrecv');
    expect(isHold(parsed(SIPP))).toBe(false);
  });

  it('reads the stream attribute, then the session one', () => {
    expect(mediaDirection(parsed(IPV6))).toBe('inactive');
    const s = parsed(`${HEAD}c=IN IP4 192.0.2.1\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 31\r\na=recvonly\r\n`);
    expect(mediaDirection(s, 0)).toBe('sendonly');
    expect(mediaDirection(s, 1)).toBe('recvonly');
    expect(mediaDirection(s.media[0]!)).toBe('sendrecv');
    expect(isHold(s)).toBe(false);
  });

  it('counts sendonly and inactive as hold, recvonly not', () => {
    expect(isHold(setDirection(parsed(ASTERISK), 'sendonly'))).toBe(true);
    expect(isHold(setDirection(parsed(ASTERISK), 'inactive'))).toBe(true);
    expect(isHold(setDirection(parsed(ASTERISK), 'recvonly'))).toBe(false);
  });

  it('treats c=0.0.0.0 (RFC 2543) as hold, at session or media level', () => {
    const session = parsed(`${HEAD}c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`);
    expect(mediaDirection(session)).toBe('sendonly');
    expect(isHold(session)).toBe(true);
    const media = parsed(`${HEAD}c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n`);
    expect(mediaDirection(media)).toBe('inactive');
    expect(mediaDirection(media.media[0]!)).toBe('inactive');
    expect(isHold(media)).toBe(true);
  });

  it('needs every active stream on hold, and ignores disabled ones', () => {
    const mixed = parsed(`${HEAD}c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\nm=video 4002 RTP/AVP 31\r\n`);
    expect(isHold(mixed)).toBe(false);
    const disabled = parsed(`${HEAD}c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\nm=video 0 RTP/AVP 31\r\n`);
    expect(isHold(disabled)).toBe(true);
    expect(isHold(parsed(`${HEAD}m=audio 0 RTP/AVP 0\r\na=inactive\r\n`))).toBe(false);
    expect(isHold(parsed(HEAD))).toBe(false);
  });

  it('mirrors directions for an answer', () => {
    expect(answerDirection('sendonly')).toBe('recvonly');
    expect(answerDirection('recvonly')).toBe('sendonly');
    expect(answerDirection('inactive')).toBe('inactive');
    expect(answerDirection('sendrecv')).toBe('sendrecv');
  });
});

describe('setDirection', () => {
  it('replaces the attribute where it stood and leaves the input alone', () => {
    const s = parsed(ASTERISK);
    const held = setDirection(s, 'sendonly', 0);
    expect(serializeSdp(held)).toBe(ASTERISK.replace('a=sendrecv', 'a=sendonly'));
    expect(serializeSdp(s)).toBe(ASTERISK);
  });

  it('appends when absent, drops duplicates, and covers every stream without an index', () => {
    const s = parsed(`${HEAD}m=audio 4000 RTP/AVP 0\r\na=inactive\r\na=ptime:20\r\na=sendrecv\r\nm=video 4002 RTP/AVP 31\r\n`);
    const out = setDirection(s, 'recvonly');
    expect(out.media[0]!.attributes).toEqual([{ name: 'recvonly', value: null }, { name: 'ptime', value: '20' }]);
    expect(out.media[1]!.attributes).toEqual([{ name: 'recvonly', value: null }]);
  });

  it('sets the session attribute when there is no media, and rejects bad arguments', () => {
    expect(setDirection(parsed(HEAD), 'inactive').attributes).toEqual([{ name: 'inactive', value: null }]);
    expect(() => setDirection(parsed(SIPP), 'sendonly', 3)).toThrow(RangeError);
    expect(() => setDirection(parsed(SIPP), 'hold' as never)).toThrow(RangeError);
  });
});

describe('connectionOf', () => {
  it('uses the session c= and port + 1 for RTCP', () => {
    expect(connectionOf(parsed(SIPP), 0)).toEqual({ address: '127.0.0.1', addrType: 'IP4', port: 6000, rtcpPort: 6001, rtcpAddress: '127.0.0.1' });
  });

  it('reads a=rtcp with and without an address, and a=rtcp-mux', () => {
    expect(connectionOf(parsed(LINPHONE), 0)).toMatchObject({ port: 7078, rtcpPort: 7079, rtcpAddress: '198.51.100.23' });
    expect(connectionOf(parsed(CAPNEG), 0)).toMatchObject({ port: 2048, rtcpPort: 2049, rtcpAddress: '198.51.100.7' });
    expect(connectionOf(parsed(IPV6), 0)).toEqual({ address: '2001:db8::20', addrType: 'IP6', port: 40000, rtcpPort: 40000, rtcpAddress: '2001:db8::20' });
    const other = parsed(`${HEAD}c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:5000 IN IP4 192.0.2.9\r\n`);
    expect(connectionOf(other, 0)).toMatchObject({ address: '192.0.2.1', rtcpPort: 5000, rtcpAddress: '192.0.2.9' });
  });

  it('is null without c= or for a disabled stream; cuts a multicast suffix', () => {
    expect(connectionOf(parsed(`${HEAD}m=audio 4000 RTP/AVP 0\r\n`), 0)).toBeNull();
    expect(connectionOf(parsed(`${HEAD}c=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\n`), 0)).toBeNull();
    expect(connectionOf(parsed(`${HEAD}c=IN IP4 233.252.0.1/127\r\nm=audio 4000 RTP/AVP 0\r\n`), 0)?.address).toBe('233.252.0.1');
    expect(() => connectionOf(parsed(SIPP), 1)).toThrow(RangeError);
  });
});

describe('setConnection', () => {
  it('rewrites the session c= when only this stream uses it, and the port', () => {
    const out = setConnection(parsed(SIPP), 0, '192.0.2.99', 30000);
    expect(serializeSdp(out)).toBe(SIPP.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 192.0.2.99').replace('m=audio 6000', 'm=audio 30000'));
    expect(connectionOf(out, 0)).toMatchObject({ address: '192.0.2.99', port: 30000, rtcpPort: 30001 });
  });

  it('adds a stream c= when another stream still relies on the session one', () => {
    const s = parsed(LINPHONE);
    const out = setConnection(s, 0, '2001:db8::5', 30000);
    expect(out.connection).toEqual(s.connection);
    expect(out.media[0]!.connections).toEqual([{ netType: 'IN', addrType: 'IP6', address: '2001:db8::5' }]);
    expect(connectionOf(out, 1)).toMatchObject({ address: '198.51.100.23', port: 9078 });
    // The old a=rtcp named the old endpoint.
    expect(connectionOf(out, 0)).toMatchObject({ rtcpPort: 30001, rtcpAddress: '2001:db8::5' });
    expect(out.media[0]!.attributes.some((a) => a.name === 'rtcp')).toBe(false);
  });

  it('rewrites a stream c= in place and writes a=rtcp when asked for a non-adjacent port', () => {
    const out = setConnection(parsed(CAPNEG), 0, '192.0.2.7', 40000, { rtcpPort: 40100 });
    expect(out.media[0]!.attributes.at(-1)).toEqual({ name: 'rtcp', value: '40100' });
    expect(connectionOf(out, 0)).toMatchObject({ address: '192.0.2.7', port: 40000, rtcpPort: 40100 });
    const v6 = setConnection(parsed(IPV6), 0, '192.0.2.8', 41000);
    expect(v6.media[0]!.connections).toEqual([{ netType: 'IN', addrType: 'IP4', address: '192.0.2.8' }]);
    expect(v6.media[0]!.attributes.map((a) => a.name)).toContain('rtcp-mux');
  });

  it('refuses what is not an IP address or a port', () => {
    const s = parsed(SIPP);
    expect(() => setConnection(s, 0, 'pbx.example.com', 4000)).toThrow(/not an IP address/);
    expect(() => setConnection(s, 0, '192.0.2.1\r\na=x', 4000)).toThrow(RangeError);
    expect(() => setConnection(s, 0, '192.0.2.1', 0)).toThrow(/port/);
    expect(() => setConnection(s, 0, '192.0.2.1', 4000, { rtcpPort: 70000 })).toThrow(/rtcpPort/);
    expect(() => setConnection(s, 2, '192.0.2.1', 4000)).toThrow(RangeError);
  });
});

describe('o= version', () => {
  it('bumps by one without losing precision and leaves the input alone', () => {
    const s = parsed(SIPP);
    const next = bumpVersion(s);
    expect(next.origin.sessionVersion).toBe('2353687638');
    expect(s.origin.sessionVersion).toBe('2353687637');
    const big = parsed('v=0\r\no=- 1 18446744073709551615 IN IP4 a\r\ns=-\r\n');
    expect(bumpVersion(big).origin.sessionVersion).toBe('18446744073709551616');
    const max = parsed('v=0\r\no=- 1 99999999999999999999 IN IP4 a\r\ns=-\r\n');
    expect(serializeSdp(bumpVersion(max))).toContain('o=- 1 100000000000000000000 IN IP4 a');
  });

  it('sets an explicit version', () => {
    expect(withVersion(parsed(SIPP), 7n).origin.sessionVersion).toBe('7');
    expect(withVersion(parsed(SIPP), '42').origin.sessionVersion).toBe('42');
    expect(() => withVersion(parsed(SIPP), '-1')).toThrow(RangeError);
  });
});

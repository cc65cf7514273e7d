// The pure parts of the calls interop and bench plumbing: what they read back
// from baresip, tshark and SIPp, and the Kamailio proxy config they generate.
import { describe, expect, it } from 'vitest';
import { kamailioConfig } from '../../../bench/kamailio/config.ts';
import { failureCauses } from '../../../bench/lib/call-load.ts';
import type { SippRun } from '../../interop/sipp.ts';
import { takeNetstrings } from '../../interop/lib/baresip-phone.ts';
import { receivedResponses } from '../../interop/lib/call-flows.ts';
import { between, captureFilter, countMedia, involving, ofCall, parseFields, sdpMediaEnd } from '../../interop/lib/rtp-capture.ts';
import { receivedRequestLines } from '../../interop/lib/sipp-calls.ts';
import { makeUsers } from '../../interop/users.ts';

describe('takeNetstrings (baresip ctrl_tcp framing)', () => {
  it('splits whole frames and keeps a partial one for later', () => {
    const out: string[] = [];
    const rest = takeNetstrings('5:hello,2:{},7:{"a"', out);
    expect(out).toEqual(['hello', '{}']);
    expect(rest).toBe('7:{"a"');
    expect(takeNetstrings(`${rest}:1},`, out)).toBe('');
    expect(out).toEqual(['hello', '{}', '{"a":1}']);
  });

  it('refuses a header that is not a length', () => {
    expect(() => takeNetstrings('x5:hello,', [])).toThrow(/bad netstring/);
  });
});

describe('RTP capture rows', () => {
  const a = { min: 30000, max: 30009 };
  const b = { min: 30010, max: 30019 };

  it('builds one capture filter for every range', () => {
    expect(captureFilter([a, b])).toBe('udp and (portrange 30000-30009 or portrange 30010-30019)');
  });

  it('parses tshark field rows and skips blank or broken ones', () => {
    const rows = parseFields('127.0.0.1\t30002\t127.0.0.1\t30014\n\nnot\ta row\n127.0.0.1\t30014\t127.0.0.1\t30002\n');
    expect(rows).toEqual([
      { src: '127.0.0.1', sport: 30002, dst: '127.0.0.1', dport: 30014 },
      { src: '127.0.0.1', sport: 30014, dst: '127.0.0.1', dport: 30002 },
    ]);
  });

  it('counts each direction and sets apart packets to or from anyone else', () => {
    const p = (sport: number, dport: number) => ({ src: '127.0.0.1', sport, dst: '127.0.0.1', dport });
    const c = countMedia([p(30002, 30014), p(30002, 30014), p(30014, 30002), p(30002, 40000), p(45000, 30014)], a, b);
    expect(c.aToB).toBe(2);
    expect(c.bToA).toBe(1);
    expect(c.stray).toEqual([p(30002, 40000), p(45000, 30014)]);
  });

  it("keeps only a call's own packets: between its SDP's exact ends, not whatever else used the ranges", () => {
    const sdp = (addr: string, port: number) => `v=0\r\no=- 1 1 IN IP4 ${addr}\r\ns=-\r\nc=IN IP4 ${addr}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;
    expect(sdpMediaEnd(sdp('127.0.0.1', 30002))).toBe('127.0.0.1:30002');
    expect(sdpMediaEnd(sdp('127.0.0.1', 0))).toBeNull();
    expect(sdpMediaEnd('v=0\r\nm=audio 30002 RTP/AVP 0\r\n')).toBeNull();
    const p = (src: string, sport: number, dport: number) => ({ src, sport, dst: '127.0.0.1', dport });
    // Another test's phone on the same port, another address; another test's port in the same range.
    const all = [p('127.0.0.1', 30002, 30014), p('127.0.0.2', 30002, 30014), p('127.0.0.1', 30003, 30014), p('127.0.0.1', 30014, 30002)];
    expect(between(all, '127.0.0.1:30002', '127.0.0.1:30014')).toEqual([all[0]]);
    expect(ofCall(all, new Set(['127.0.0.1:30002', '127.0.0.1:30014']))).toEqual([all[0], all[3]]);
    expect(involving(all, new Set(['127.0.0.1:30003']))).toEqual([all[2]]);
  });
});

describe('SIPp message traces', () => {
  const trace = [
    '----------------------------------------------- 2026-01-01 00:00:00.000\nUDP message received [300] bytes :\n\nINVITE sip:5551234@127.0.0.1:5080 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1\nCSeq: 1 INVITE\n\n',
    '----------------------------------------------- 2026-01-01 00:00:00.100\nUDP message sent (200 bytes):\n\nSIP/2.0 180 Ringing\nCSeq: 1 INVITE\n\n',
    '----------------------------------------------- 2026-01-01 00:00:01.000\nUDP message received [200] bytes :\n\nSIP/2.0 200 OK\nCSeq: 2 CANCEL\n\n',
    '----------------------------------------------- 2026-01-01 00:00:01.100\nUDP message received [200] bytes :\n\nSIP/2.0 487 Request Terminated\ncseq: 2 invite\n\n',
  ].join('');

  it('lists the request lines received, not the responses or what was sent', () => {
    expect(receivedRequestLines(trace)).toEqual(['INVITE sip:5551234@127.0.0.1:5080 SIP/2.0']);
  });

  it('lists the responses received with the method they answer', () => {
    expect(receivedResponses(trace)).toEqual([
      { status: 200, method: 'CANCEL' },
      { status: 487, method: 'INVITE' },
    ]);
  });
});

describe('failureCauses (SIPp statistics)', () => {
  it('sums the non-zero Failed* cumulative counters over processes', () => {
    const run = (raw: Record<string, string>) => ({ stats: { raw } }) as unknown as SippRun;
    const text = failureCauses([
      run({ 'FailedCall(C)': '3', 'FailedCall(P)': '9', 'FailedUnexpectedMessage(C)': '3', 'FailedMaxUDPRetrans(C)': '0' }),
      run({ 'FailedCall(C)': '2', 'FailedTimeoutOnRecv(C)': '2' }),
    ]);
    expect(text).toBe('FailedCall 5, FailedUnexpectedMessage 3, FailedTimeoutOnRecv 2');
  });
});

describe('Kamailio proxy config', () => {
  const base = { dir: '/tmp/k', host: '127.0.0.1', port: 5070, domain: 'lab.test', users: makeUsers(2, 1000) };

  it('stays a registrar answering 405 to calls without the proxy option', () => {
    const cfg = kamailioConfig(base, '/tmp/k/db');
    expect(cfg).toContain('sl_send_reply("405", "Method Not Allowed")');
    expect(cfg).not.toContain('t_relay');
  });

  it('challenges callers, strips the trunk prefix and maps DIDs', () => {
    const cfg = kamailioConfig(
      { ...base, proxy: { noAnswerSec: 5, trunk: { host: '127.0.0.1', port: 5999, prefix: '9', strip: 1 }, dids: { '5551000': '1000' } } },
      '/tmp/k/db',
    );
    expect(cfg).toContain('proxy_challenge("$fd", "1")');
    expect(cfg).toContain('modparam("tm", "fr_inv_timer", 5000)');
    expect(cfg).toContain('if ($si == "127.0.0.1" && $sp == 5999)');
    expect(cfg).toContain('$rU =~ "^9[0-9]+$"');
    expect(cfg).toContain('strip(1);');
    expect(cfg).toContain('$du = "sip:127.0.0.1:5999;transport=udp";');
    expect(cfg).toMatch(/if \(\$rU == "5551000"\) \{\s*\$rU = "1000";/);
  });

  it('refuses values that would change the script', () => {
    expect(() => kamailioConfig({ ...base, proxy: { trunk: { host: '127.0.0.1', port: 5999, prefix: '9"; exit; "', strip: 1 } } }, '/tmp/k/db')).toThrow(
      /trunk prefix/,
    );
    expect(() => kamailioConfig({ ...base, proxy: { trunk: { host: '127.0.0.1', port: 5999, prefix: '9', strip: 1 }, dids: { x: '1000' } } }, '/tmp/k/db')).toThrow(/DID/);
  });
});

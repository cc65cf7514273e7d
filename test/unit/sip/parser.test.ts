import { describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../../../src/sip/message.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import { bad, INVITE_LINES, ok, req, SDP, variant, wire } from './parser-fixture.ts';

describe('parseMessage: a typical request', () => {
  const m = req(wire(INVITE_LINES, SDP));

  it('decodes the start line', () => {
    expect(m.method).toBe('INVITE');
    expect(m.uriRaw).toBe('sip:bob@biloxi.example.com');
    expect(m.uri.user).toBe('bob');
    expect(m.uri.host).toBe('biloxi.example.com');
  });

  it('decodes Via, From, To, Call-ID, CSeq, Max-Forwards', () => {
    expect(m.via).toHaveLength(1);
    const v = m.via[0]!;
    expect(v.protocol).toBe('SIP/2.0');
    expect(v.transport).toBe('UDP');
    expect(v.host).toBe('pc33.atlanta.example.com');
    expect(v.port).toBe(5060);
    expect(v.params.get('branch')).toBe('z9hG4bK776asdhds');
    expect(v.params.has('rport')).toBe(true);
    expect(v.params.get('rport')).toBeNull();
    expect(m.from.displayName).toBe('Alice "A" Liddell');
    expect(m.from.uri.user).toBe('alice');
    expect(m.from.params.get('tag')).toBe('1928301774');
    expect(m.to.displayName).toBe('Bob');
    expect(m.to.params.has('tag')).toBe(false);
    expect(m.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(m.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.maxForwards).toBe(70);
  });

  it('keeps every header raw, in order, with canonical names', () => {
    expect(m.headers.map((h) => h.name)).toEqual([
      'via', 'max-forwards', 'to', 'from', 'call-id', 'cseq', 'contact', 'content-type', 'content-length',
    ]);
    expect(m.headers[6]).toEqual({ name: 'contact', value: '<sip:alice@pc33.atlanta.example.com>' });
  });

  it('takes the body from Content-Length', () => {
    expect(m.body.toString()).toBe(SDP);
  });
});

describe('parseMessage: responses', () => {
  const lines = (start: string) => [
    start,
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
    'From: <sip:a@example.com>;tag=1',
    'To: <sip:b@example.com>;tag=2',
    'Call-ID: x@y',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ];

  it('decodes status and reason phrase (with spaces and UTF-8)', () => {
    const m = ok(wire(lines('SIP/2.0 180 Ringing here'))) as SipResponse;
    expect(m.kind).toBe('response');
    expect(m.status).toBe(180);
    expect(m.reason).toBe('Ringing here');
    expect((ok(wire(lines('SIP/2.0 200 Très bien'))) as SipResponse).reason).toBe('Très bien');
  });

  it('accepts an empty reason phrase with or without the SP', () => {
    expect((ok(wire(lines('SIP/2.0 100 '))) as SipResponse).reason).toBe('');
    expect((ok(wire(lines('SIP/2.0 100'))) as SipResponse).status).toBe(100);
  });

  it('rejects status codes outside 100..699 and not three digits', () => {
    for (const s of ['SIP/2.0 099 x', 'SIP/2.0 700 x', 'SIP/2.0 4294967301 x', 'SIP/2.0 20 x', 'SIP/2.0 2000 x', 'SIP/2.0 abc x']) {
      const f = bad(wire(lines(s)));
      expect(f.respondTo, s).toBeUndefined();
    }
  });

  it('never offers respondTo for a response', () => {
    const f = bad(wire(lines('SIP/2.0 200 OK').map((l) => (l.startsWith('CSeq') ? 'CSeq: x INVITE' : l))));
    expect(f.respondTo).toBeUndefined();
  });

  it('does not decode Max-Forwards in responses', () => {
    expect(ok(wire([...lines('SIP/2.0 200 OK'), 'Max-Forwards: junk'])).kind).toBe('response');
  });
});

describe('parseMessage: header syntax', () => {
  it('maps every compact form to its long name', () => {
    const compact: Record<string, string> = {
      a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition', e: 'content-encoding',
      j: 'reject-contact', k: 'supported', m: 'contact', n: 'identity-info', o: 'event', r: 'refer-to',
      s: 'subject', u: 'allow-events', x: 'session-expires', y: 'identity',
    };
    const lines = [
      'OPTIONS sip:a@example.com SIP/2.0',
      'v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
      'f: <sip:a@example.com>;tag=1',
      't: <sip:b@example.com>',
      'i: cid@host',
      'CSeq: 1 OPTIONS',
      ...Object.keys(compact).map((k) => `${k.toUpperCase()}: value-${k}`),
      'l: 0',
    ];
    const m = ok(wire(lines));
    expect(m.via[0]?.host).toBe('192.0.2.1');
    expect(m.from.params.get('tag')).toBe('1');
    expect(m.callId).toBe('cid@host');
    for (const [k, long] of Object.entries(compact)) {
      expect(m.headers.find((h) => h.value === `value-${k}`)?.name, k).toBe(long);
    }
    expect(m.headers.map((h) => h.name).slice(0, 4)).toEqual(['via', 'from', 'to', 'call-id']);
    expect(m.headers.at(-1)?.name).toBe('content-length');
  });

  it('folds case in names, trims values, unfolds continuation lines (RFC 4475 wsinv style)', () => {
    const m = ok(wire([
      'INVITE sip:a@example.com SIP/2.0',
      'TO :',
      ' sip:a@example.com ;   tag    = 1918181833n',
      'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
      '  ;',
      '  tag = 98asjd8',
      'MaX-fOrWaRdS: 0068',
      'Call-ID: wsinv@192.0.2.1',
      'cseq: 0009',
      '  INVITE',
      'Via  : SIP  /   2.0',
      ' /UDP',
      '    192.0.2.2;branch=390skdjuw',
      'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
      '  branch  =   z9hG4bK9ikj8  ,',
      ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
      ' z9hG4bK30239',
      'NewFangledHeader:   newfangled value',
      ' continued newfangled value',
      'UnknownHeaderWithUnusualValue: ;;,,;;,;',
      'Content-Length: 0',
    ]));
    expect(m.to.uri.user).toBe('a');
    expect(m.to.params.get('tag')).toBe('1918181833n');
    expect(m.from.displayName).toBe('J Rosenberg \\"');
    expect(m.from.params.get('tag')).toBe('98asjd8');
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect((m as SipRequest).maxForwards).toBe(68);
    expect(m.via.map((v) => [v.transport, v.host, v.params.get('branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.via.every((v) => v.protocol === 'SIP/2.0')).toBe(true);
    expect(m.headers.find((h) => h.name === 'newfangledheader')?.value).toBe('newfangled value continued newfangled value');
    expect(m.headers.find((h) => h.name === 'unknownheaderwithunusualvalue')?.value).toBe(';;,,;;,;');
  });

  it('splits comma-separated Via values and keeps IPv6 and received values intact', () => {
    const m = ok(variant((l) => [
      l[0]!,
      'Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKa;received=2001:db8::9:255, SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKb',
      'Via: SIP/2.0/TLS [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKc',
      ...l.slice(2),
    ]));
    expect(m.via.map((v) => v.host)).toEqual(['[2001:db8::9:1]', '192.0.2.1', '[2001:db8::9:1]']);
    expect(m.via[0]?.port).toBe(6050);
    expect(m.via[0]?.params.get('received')).toBe('2001:db8::9:255');
    expect(m.via[2]?.params.get('received')).toBe('[2001:db8::9:255]');
    expect(m.headers.filter((h) => h.name === 'via')).toHaveLength(2);
  });

  it('keeps addr-spec parameters on the header, name-addr parameters inside <> on the URI', () => {
    const m = ok(variant((l) => l.map((x) =>
      x.startsWith('To:') ? 'To: sip:+16505552222@ss1.example.net;user=phone;tag=abc' :
      x.startsWith('From:') ? 'From: <sip:+13035551111@ift.example.net;user=phone>;tag=xyz' : x)));
    expect(m.to.uri.params.size).toBe(0);
    expect(m.to.params.get('user')).toBe('phone');
    expect(m.to.params.get('tag')).toBe('abc');
    expect(m.from.uri.params.get('user')).toBe('phone');
    expect(m.from.params.get('tag')).toBe('xyz');
  });

  it('accepts token display names without LWS before < and unknown URI schemes in From/To', () => {
    const m = ok(variant((l) => l.map((x) =>
      x.startsWith('From:') ? "From: token1~` token2'+_ caller<sip:c@example.com>;tag=1" :
      x.startsWith('To:') ? 'To: isbn:2983792873' : x)));
    expect(m.from.displayName).toBe("token1~` token2'+_ caller");
    expect(m.to.uri.scheme).toBe('isbn');
    expect(m.to.uri.host).toBe('2983792873');
  });

  it('keeps a NUL written as a quoted-pair and multi-byte text in values', () => {
    const m = ok(variant((l) => l.map((x) => (x.startsWith('To:') ? 'To: "BEL:\\\u0007 NUL:\\\u0000" <sip:b@example.com>' : x)).concat('X-Name: Grüße')));
    expect(m.to.displayName).toBe('BEL:\u0007 NUL:\u0000');
    expect(m.headers.find((h) => h.name === 'x-name')?.value).toBe('Grüße');
  });

  it('accepts a tel: or unknown Request-URI opaquely', () => {
    const m = req(variant((l) => ['INVITE tel:+15551234;phone-context=example.com SIP/2.0', ...l.slice(1)]));
    expect(m.uri.scheme).toBe('tel');
    expect(m.uriRaw).toBe('tel:+15551234;phone-context=example.com');
  });

  it('does not decode %-escapes in the method (RFC 4475 esc02)', () => {
    const m = req(variant((l) => ['RE%47IST%45R sip:registrar.example.com SIP/2.0', ...l.slice(1).map((x) => (x.startsWith('CSeq') ? 'CSeq: 1 RE%47IST%45R' : x))]));
    expect(m.method).toBe('RE%47IST%45R');
  });

  it('tolerates several SP between Request-Line elements (lwsstart) but not trailing SP (trws)', () => {
    expect(req(variant((l) => ['INVITE  sip:bob@biloxi.example.com   SIP/2.0', ...l.slice(1)])).uriRaw).toBe('sip:bob@biloxi.example.com');
    const r = parseMessage(variant((l) => ['INVITE sip:bob@biloxi.example.com SIP/2.0 ', ...l.slice(1)]));
    expect(r.ok).toBe(false);
  });

  it('accepts the version token in any case', () => {
    expect(req(variant((l) => ['INVITE sip:bob@biloxi.example.com sip/2.0', ...l.slice(1)])).method).toBe('INVITE');
  });

  it('accepts messages without Max-Forwards (RFC 2543 peers)', () => {
    const m = req(variant((l) => l.filter((x) => !x.startsWith('Max-Forwards'))));
    expect(m.maxForwards).toBeUndefined();
  });

  it('accepts Max-Forwards 0 and 255, CSeq 0 and 2^31-1', () => {
    expect(req(variant((l) => l.map((x) => (x.startsWith('Max-Forwards') ? 'Max-Forwards: 0' : x)))).maxForwards).toBe(0);
    expect(req(variant((l) => l.map((x) => (x.startsWith('Max-Forwards') ? 'Max-Forwards: 255' : x)))).maxForwards).toBe(255);
    expect(req(variant((l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 0 INVITE' : x)))).cseq.seq).toBe(0);
    expect(req(variant((l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 2147483647 INVITE' : x)))).cseq.seq).toBe(2147483647);
  });

  it('ignores CRLFs before the start line', () => {
    const m = ok(Buffer.concat([Buffer.from('\r\n\r\n'), wire(INVITE_LINES, SDP)]));
    expect(m.kind).toBe('request');
  });

  it('parses bare-LF messages', () => {
    const text = INVITE_LINES.join('\n') + '\n\n' + SDP;
    const m = ok(Buffer.from(text));
    expect(m.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(m.body.toString()).toBe(SDP);
  });

  it('parses a bare-LF message whose body contains CRLFCRLF', () => {
    const body = 'a\r\n\r\nb';
    const text = INVITE_LINES.slice(0, -1).join('\n') + `\nContent-Length: ${body.length}\n\n` + body;
    expect(ok(Buffer.from(text)).body.toString()).toBe(body);
  });

  it('takes a datagram without the empty line as all headers', () => {
    const text = INVITE_LINES.slice(0, -2).join('\r\n') + '\r\nContent-Length: 0\r\n';
    const m = ok(Buffer.from(text));
    expect(m.body.length).toBe(0);
  });
});

describe('parseMessage: datagram body rules (RFC 3261 §18.3)', () => {
  it('discards octets beyond Content-Length', () => {
    const m = ok(wire(INVITE_LINES, SDP + 'INVITE sip:trailing SIP/2.0\r\n'));
    expect(m.body.toString()).toBe(SDP);
  });

  it('takes the rest of the datagram when Content-Length is absent', () => {
    const m = ok(variant((l) => l.filter((x) => !x.startsWith('Content-Length'))));
    expect(m.body.toString()).toBe(SDP);
  });

  it('fails with 400 when Content-Length exceeds the datagram', () => {
    const f = bad(variant((l) => l.map((x) => (x.startsWith('Content-Length') ? 'Content-Length: 9999' : x))));
    expect(f.status).toBe(400);
    expect(f.respondTo?.method).toBe('INVITE');
  });

  it('accepts a repeated identical Content-Length but not conflicting ones', () => {
    expect(ok(variant((l) => [...l, `l: ${SDP.length}`])).body.length).toBe(SDP.length);
    expect(bad(variant((l) => [...l, 'Content-Length: 5'])).reason).toMatch(/Content-Length/);
  });

  it('rejects negative, non-numeric and huge Content-Length', () => {
    for (const v of ['-999', 'abc', '1e3', '99999999999999999999', '']) {
      const f = bad(variant((l) => l.map((x) => (x.startsWith('Content-Length') ? `Content-Length: ${v}` : x))));
      expect(f.status, v).toBe(400);
    }
  });
});

describe('parseMessage: stream mode', () => {
  it('requires Content-Length', () => {
    const f = bad(variant((l) => l.filter((x) => !x.startsWith('Content-Length'))), { stream: true });
    expect(f.reason).toMatch(/Content-Length/);
  });

  it('reports consumed octets, leaves the next message alone, copies the body', () => {
    const one = wire(INVITE_LINES, SDP);
    const buf = Buffer.concat([Buffer.from('\r\n'), one, one]);
    const r = parseMessage(buf, { stream: true });
    if (!r.ok) throw new Error(r.reason);
    expect(r.consumed).toBe(2 + one.length);
    buf.fill(0);
    expect(r.message.body.toString()).toBe(SDP);
  });

  it('fails on an incomplete body', () => {
    const one = wire(INVITE_LINES, SDP);
    expect(bad(one.subarray(0, one.length - 5), { stream: true }).reason).toMatch(/Incomplete/);
  });

  it('fails on a missing end of headers', () => {
    expect(bad(Buffer.from(INVITE_LINES.join('\r\n')), { stream: true }).reason).toMatch(/Incomplete/);
  });
});

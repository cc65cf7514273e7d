// Rejections, limits and hostile input for parseMessage.
import { describe, expect, it } from 'vitest';
import type { ParseLimits } from '../../../src/sip/message.ts';
import { DEFAULT_PARSE_LIMITS } from '../../../src/sip/message.ts';
import { frameStream, parseMessage } from '../../../src/sip/parser.ts';
import { bad, INVITE_LINES, ok, SDP, variant, wire } from './parser-fixture.ts';

describe('parseMessage: rejections', () => {
  const cases: Array<[string, (l: string[]) => string[], RegExp, number?]> = [
    ['unknown SIP version', (l) => ['INVITE sip:bob@biloxi.example.com SIP/7.0', ...l.slice(1)], /version/, 505],
    ['garbage version', (l) => ['INVITE sip:bob@biloxi.example.com HTTP/1.1', ...l.slice(1)], /version/, 400],
    ['CSeq method mismatch', (l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 1 OPTIONS' : x)), /CSeq/],
    ['CSeq 2^31', (l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 2147483648 INVITE' : x)), /CSeq/],
    ['CSeq overlarge', (l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 36893488147419103232 INVITE' : x)), /CSeq/],
    ['CSeq without method', (l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 1' : x)), /CSeq/],
    ['CSeq negative', (l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: -1 INVITE' : x)), /CSeq/],
    ['Max-Forwards 256', (l) => l.map((x) => (x.startsWith('Max-Forwards') ? 'Max-Forwards: 256' : x)), /Max-Forwards/],
    ['Max-Forwards 300', (l) => l.map((x) => (x.startsWith('Max-Forwards') ? 'Max-Forwards: 300' : x)), /Max-Forwards/],
    ['Max-Forwards text', (l) => l.map((x) => (x.startsWith('Max-Forwards') ? 'Max-Forwards: ten' : x)), /Max-Forwards/],
    ['two Max-Forwards', (l) => [...l, 'Max-Forwards: 70'], /Max-Forwards/],
    ['two To', (l) => [...l, 'To: <sip:other@example.net>'], /To/],
    ['two From', (l) => [...l, 'f: <sip:other@example.net>;tag=9'], /From/],
    ['two Call-ID', (l) => [...l, 'i: other@host'], /Call-ID/],
    ['two CSeq', (l) => [...l, 'CSeq: 2 INVITE'], /CSeq/],
    ['missing Call-ID', (l) => l.filter((x) => !x.startsWith('Call-ID')), /Call-ID/],
    ['missing From', (l) => l.filter((x) => !x.startsWith('From')), /From/],
    ['missing To', (l) => l.filter((x) => !x.startsWith('To')), /To/],
    ['missing CSeq', (l) => l.filter((x) => !x.startsWith('CSeq')), /CSeq/],
    ['missing Via', (l) => l.filter((x) => !x.startsWith('Via')), /Via/],
    ['unterminated quote', (l) => l.map((x) => (x.startsWith('To:') ? 'To: "Mr. J. User <sip:j.user@example.com>' : x)), /To/],
    ['unquoted display name with comma', (l) => l.map((x) => (x.startsWith('To:') ? 'To: Watson, Thomas <sip:t@example.org>' : x)), /To/],
    ['Request-URI in <>', (l) => ['INVITE <sip:bob@biloxi.example.com> SIP/2.0', ...l.slice(1)], /Request-URI/],
    ['LWS in Request-URI', (l) => ['INVITE sip:bob@biloxi.example.com; lr SIP/2.0', ...l.slice(1)], /Request-Line/],
    ['IPv6 Request-URI without brackets', (l) => ['INVITE sip:2001:db8::10 SIP/2.0', ...l.slice(1)], /Request-URI/],
    ['empty Via elements', (l) => l.map((x) => (x.startsWith('Via') ? 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,' : x)), /Via/],
    ['Via without host', (l) => l.map((x) => (x.startsWith('Via') ? 'Via: SIP/2.0/UDP ;branch=z9hG4bK1' : x)), /Via/],
    ['Via bad port', (l) => l.map((x) => (x.startsWith('Via') ? 'Via: SIP/2.0/UDP host:70000' : x)), /Via/],
    ['Call-ID with space', (l) => l.map((x) => (x.startsWith('Call-ID') ? 'Call-ID: a b' : x)), /Call-ID/],
    ['header line without colon', (l) => [...l, 'This is not a header'], /header/],
    ['header name not a token', (l) => [...l, 'Bad Name: x'], /header/],
    ['folded first header', (l) => [l[0]!, ' continuation', ...l.slice(1)], /Folded/],
    ['method not a token', (l) => ['INV(ITE sip:bob@biloxi.example.com SIP/2.0', ...l.slice(1)], /Request-Line/],
    ['two-element Request-Line', (l) => ['INVITE sip:bob@biloxi.example.com', ...l.slice(1)], /Request-Line|version/],
  ];
  for (const [name, edit, reason, status] of cases) {
    it(`rejects: ${name}`, () => {
      const f = bad(variant(edit));
      expect(f.reason).toMatch(reason);
      expect(f.status).toBe(status ?? 400);
      expect(f.reason).toMatch(/^[\x20-\x7e]+$/);
    });
  }

  it('offers respondTo with every header when the request can be answered', () => {
    const f = bad(variant((l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 1 OPTIONS' : x))));
    expect(f.respondTo?.method).toBe('INVITE');
    expect(f.respondTo?.headers.map((h) => h.name)).toContain('via');
    expect(f.respondTo?.headers).toHaveLength(INVITE_LINES.length - 1);
  });

  it('offers respondTo for an unknown version (505)', () => {
    const f = bad(variant((l) => ['INVITE sip:bob@biloxi.example.com SIP/7.0', ...l.slice(1)]));
    expect(f.status).toBe(505);
    expect(f.respondTo?.method).toBe('INVITE');
  });

  it('offers respondTo whenever a Via can route the answer, and not without one', () => {
    for (const h of ['From', 'To', 'Call-ID', 'CSeq']) {
      const f = bad(variant((l) => l.filter((x) => !x.startsWith(h))));
      expect(f.respondTo, h).toBeDefined();
    }
    const noVia = bad(variant((l) => l.filter((x) => !x.startsWith('Via') && !x.startsWith('Call-ID'))));
    expect(noVia.respondTo).toBeUndefined();
  });

  it('offers no respondTo for ACK', () => {
    const f = bad(variant((l) => ['ACK sip:bob@biloxi.example.com SIP/2.0', ...l.slice(1)]));
    expect(f.reason).toMatch(/CSeq/);
    expect(f.respondTo).toBeUndefined();
  });

  it('fails on empty input and on CRLFs only', () => {
    expect(bad(Buffer.alloc(0)).reason).toMatch(/Empty/);
    expect(bad(Buffer.from('\r\n\r\n')).reason).toMatch(/Empty/);
  });
});

describe('parseMessage: limits', () => {
  const limits = (p: Partial<ParseLimits>): ParseLimits => ({ ...DEFAULT_PARSE_LIMITS, ...p });

  it('answers an oversized message with 513 when it can', () => {
    const buf = wire(INVITE_LINES, SDP);
    const f = bad(buf, { limits: limits({ maxMessageBytes: buf.length - 1 }) });
    expect(f.status).toBe(513);
    expect(f.respondTo).toBeDefined();
    expect(ok(buf, { limits: limits({ maxMessageBytes: buf.length }) }).kind).toBe('request');
  });

  it('limits the number of headers', () => {
    const lines = [...INVITE_LINES.slice(0, -1), ...Array.from({ length: 20 }, (_, i) => `X-H${i}: ${i}`), INVITE_LINES.at(-1)!];
    expect(bad(wire(lines, SDP), { limits: limits({ maxHeaders: 15 }) }).reason).toMatch(/Too many headers/);
    expect(ok(wire(lines, SDP), { limits: limits({ maxHeaders: lines.length - 1 }) }).headers).toHaveLength(lines.length - 1);
  });

  it('limits header line length, counting folded lines as one', () => {
    const long = 'X-Long: ' + 'a'.repeat(100) + '\r\n ' + 'b'.repeat(100);
    const buf = wire([...INVITE_LINES.slice(0, -1), long, INVITE_LINES.at(-1)!], SDP);
    expect(bad(buf, { limits: limits({ maxHeaderLineBytes: 150 }) }).reason).toMatch(/too long/);
    expect(ok(buf, { limits: limits({ maxHeaderLineBytes: 300 }) }).headers.find((h) => h.name === 'x-long')?.value).toBe(
      'a'.repeat(100) + ' ' + 'b'.repeat(100),
    );
  });

  it('limits the start line too', () => {
    const buf = variant((l) => [`INVITE sip:${'u'.repeat(300)}@example.com SIP/2.0`, ...l.slice(1)]);
    expect(bad(buf, { limits: limits({ maxHeaderLineBytes: 200 }) }).reason).toMatch(/too long/);
  });
});

describe('parseMessage: never throws', () => {
  it('survives assorted garbage', () => {
    const inputs = [
      '\u0000\u0001\u0002',
      'SIP/2.0',
      'SIP/',
      'INVITE',
      ':',
      '\r\n\r\nINVITE sip:a SIP/2.0\r\n:\r\n\r\n',
      'INVITE sip:a@b SIP/2.0\r\nVia: \r\nFrom: "\r\nTo: <\r\nCall-ID:\r\nCSeq:\r\n\r\n',
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [\r\n\r\n',
      'INVITE sip:a@b SIP/2.0\r\n\tfolded\r\n\r\n',
      '\xff\xfe\xfd\r\n\r\n',
    ];
    for (const s of inputs) {
      const r = parseMessage(Buffer.from(s, 'latin1'));
      expect(r.ok, JSON.stringify(s)).toBe(false);
    }
  });
});

describe('parseMessage: octet-level oddities', () => {
  it('rejects a bare CR in decoded headers; raw headers keep it until serialization neutralises it', () => {
    expect(bad(variant((l) => l.map((x) => (x.startsWith('Call-ID') ? 'Call-ID: \rabc' : x)))).reason).toMatch(/Call-ID/);
    expect(bad(variant((l) => l.map((x) => (x.startsWith('Call-ID') ? 'Call-ID: a\rbc' : x)))).reason).toMatch(/Call-ID/);
    expect(bad(variant((l) => l.map((x) => (x.startsWith('CSeq') ? 'CSeq: 1\rINVITE' : x)))).reason).toMatch(/CSeq/);
    expect(bad(variant((l) => l.map((x) => (x.startsWith('From') ? 'From: <sip:a@b>;tag=1\r2' : x)))).reason).toMatch(/From/);
    const m = ok(variant((l) => [...l, 'Subject: a\rb']));
    expect(m.headers.at(-1)?.value).toBe('a\rb');
  });

  it('finds the body of a bare-LF message by octets even with invalid UTF-8 in the head', () => {
    const head = Buffer.from(INVITE_LINES.slice(0, -1).join('\n') + '\nX-Bin: ', 'latin1');
    const body = 'v=0\r\n';
    const buf = Buffer.concat([head, Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`\nContent-Length: ${body.length}\n\n${body}`)]);
    expect(ok(buf).body.toString()).toBe(body);
  });
});

describe('parseMessage and frameStream: hostile shapes stay linear', () => {
  const timeIt = (fn: () => void) => {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  };

  it('handles ~64 KB of colon-less lines quickly', () => {
    const crlf = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n' + 'c\r\n'.repeat(21_000) + '\r\n');
    const lf = Buffer.from('OPTIONS sip:a@b SIP/2.0\n' + 'a\n'.repeat(32_000));
    const noColon = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n' + 'x'.repeat(60) + '\r\n'.repeat(1) + 'y\r\n'.repeat(20_000));
    for (const buf of [crlf, lf, noColon]) {
      let r: ReturnType<typeof parseMessage> | undefined;
      const ms = timeIt(() => {
        r = parseMessage(buf);
      });
      expect(r?.ok).toBe(false);
      expect(ms).toBeLessThan(200);
    }
    const f = timeIt(() => frameStream(crlf, 0, { ...DEFAULT_PARSE_LIMITS, maxMessageBytes: 1 << 20 }));
    expect(f).toBeLessThan(200);
  });

  it('handles bare-LF heads with many valid headers quickly', () => {
    const buf = Buffer.from('OPTIONS sip:a@b SIP/2.0\n' + 'X-A: 1\n'.repeat(250) + '\n');
    let r: ReturnType<typeof parseMessage> | undefined;
    const ms = timeIt(() => {
      r = parseMessage(buf);
    });
    expect(r?.ok).toBe(false); // no Via/From/...
    expect(ms).toBeLessThan(100);
  });
});

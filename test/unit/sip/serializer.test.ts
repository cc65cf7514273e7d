import { describe, expect, it } from 'vitest';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/sip/message.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import { parseUri } from '../../../src/sip/uri.ts';
import {
  createRequest, createResponse, createResponseFromHeaders, formatNameAddr, formatUri, formatVia,
  reasonPhrase, serializeMessage,
} from '../../../src/sip/serializer.ts';

function parse(buf: Buffer): SipMessage {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

function wire(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);
}

const BODY = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';
const INVITE = wire([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx',
  'Via: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKy',
  'Max-Forwards: 70',
  't: Bob <sip:bob@biloxi.example.com>',
  'f: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'i: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Timestamp: 54',
  'x-custom-thing: kept as is',
  'c: application/sdp',
  'l: 999',
], BODY);

function request(): SipRequest {
  const m = parse(Buffer.concat([INVITE.subarray(0, INVITE.indexOf('l: 999')), Buffer.from(`l: ${BODY.length}\r\n\r\n${BODY}`)]));
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

describe('serializeMessage', () => {
  it('writes the start line, long header names in order, and the body', () => {
    const text = serializeMessage(request()).toString();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('INVITE sip:bob@biloxi.example.com SIP/2.0');
    expect(lines.slice(1, 12)).toEqual([
      'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx',
      'Via: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bKy',
      'Max-Forwards: 70',
      'To: Bob <sip:bob@biloxi.example.com>',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq: 314159 INVITE',
      'Timestamp: 54',
      'X-Custom-Thing: kept as is',
      'Content-Type: application/sdp',
      `Content-Length: ${BODY.length}`,
    ]);
    expect(text.endsWith('\r\n\r\n' + BODY)).toBe(true);
  });

  it('recomputes Content-Length from the body, whatever headers[] says', () => {
    const m = request();
    m.headers.push({ name: 'content-length', value: '12345' });
    m.body = Buffer.from('xyz');
    const text = serializeMessage(m).toString();
    expect(text.match(/Content-Length/g)).toHaveLength(1);
    expect(text).toContain('Content-Length: 3\r\n\r\nxyz');
  });

  it('writes binary bodies byte for byte', () => {
    const m = request();
    m.body = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x80]);
    const again = parse(serializeMessage(m));
    expect(Buffer.compare(again.body, m.body)).toBe(0);
  });

  it('round-trips: parse(serialize(parse(x))) has the same views', () => {
    const a = request();
    const b = parse(serializeMessage(a)) as SipRequest;
    expect(b.method).toBe(a.method);
    expect(b.uri).toEqual(a.uri);
    expect(b.via).toEqual(a.via);
    expect(b.from).toEqual(a.from);
    expect(b.to).toEqual(a.to);
    expect(b.callId).toBe(a.callId);
    expect(b.cseq).toEqual(a.cseq);
    expect(b.headers).toEqual(a.headers);
  });

  it('neutralises CR/LF smuggled into values by applications', () => {
    const m = request();
    m.headers.push({ name: 'subject', value: 'hi\r\nVia: SIP/2.0/UDP evil.example.com' });
    const text = serializeMessage(m).toString();
    expect(text).toContain('Subject: hi  Via: SIP/2.0/UDP evil.example.com\r\n');
    expect(parse(serializeMessage(m)).via).toHaveLength(3);
  });

  it('writes UTF-8 text and keeps it through a round trip', () => {
    const m = request();
    m.headers.push({ name: 'subject', value: 'Grüße ☎' });
    expect(parse(serializeMessage(m)).headers.find((h) => h.name === 'subject')?.value).toBe('Grüße ☎');
  });

  it('formats the Request-URI when uriRaw is empty', () => {
    const m = request();
    m.uri = parseUri('sip:carol@chicago.example.com;transport=tcp')!;
    m.uriRaw = '';
    expect(serializeMessage(m).toString().split('\r\n')[0]).toBe('INVITE sip:carol@chicago.example.com;transport=tcp SIP/2.0');
  });
});

describe('createResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via lines, From, To, Call-ID, CSeq and adds a To tag', () => {
    const req = request();
    const res = createResponse(req, 486);
    expect(res.status).toBe(486);
    expect(res.reason).toBe('Busy Here');
    expect(res.headers.map((h) => h.name)).toEqual(['via', 'via', 'from', 'to', 'call-id', 'cseq']);
    expect(res.headers.filter((h) => h.name === 'via').map((h) => h.value)).toEqual(
      req.headers.filter((h) => h.name === 'via').map((h) => h.value),
    );
    const tag = res.to.params.get('tag');
    expect(tag).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(res.headers[3]?.value).toBe(`Bob <sip:bob@biloxi.example.com>;tag=${tag}`);
    expect(req.to.params.has('tag')).toBe(false);
    expect(res.via).toEqual(req.via);
    expect(res.via).not.toBe(req.via);
    const wire2 = parse(serializeMessage(res)) as SipResponse;
    expect(wire2.status).toBe(486);
    expect(wire2.to.params.get('tag')).toBe(tag);
    expect(wire2.via.map((v) => v.params.get('branch'))).toEqual(['z9hG4bKnashds8', 'z9hG4bKx', 'z9hG4bKy']);
    expect(wire2.cseq).toEqual({ seq: 314159, method: 'INVITE' });
  });

  it('uses the given To tag, keeps an existing one, adds none to 100 Trying', () => {
    const req = request();
    expect(createResponse(req, 200, undefined, { toTag: 'mine' }).to.params.get('tag')).toBe('mine');
    const trying = createResponse(req, 100);
    expect(trying.to.params.has('tag')).toBe(false);
    expect(trying.headers.find((h) => h.name === 'to')?.value).toBe('Bob <sip:bob@biloxi.example.com>');
    const tagged = parse(serializeMessage(createResponse(req, 180, undefined, { toTag: 'first' }))) as SipResponse;
    expect(tagged.to.params.get('tag')).toBe('first');
    const inDialog = request();
    inDialog.to = { ...inDialog.to, params: new Map([['tag', 'existing']]) };
    inDialog.headers = inDialog.headers.map((h) => (h.name === 'to' ? { name: 'to', value: h.value + ';tag=existing' } : h));
    const r = createResponse(inDialog, 200, undefined, { toTag: 'other' });
    expect(r.to.params.get('tag')).toBe('existing');
    expect(r.headers.find((h) => h.name === 'to')?.value).toBe('Bob <sip:bob@biloxi.example.com>;tag=existing');
  });

  it('copies Record-Route, in order, into the 1xx/2xx of a request that can create a dialog (RFC 3261 §12.1.1), and nowhere else', () => {
    const rr = ['<sip:p1.example.com;lr;ftag=x>', '<sip:p2.example.com;lr>'];
    const withRr = (method: string): SipRequest => {
      const req = request();
      req.method = method;
      req.cseq = { seq: 1, method };
      req.headers.push(...rr.map((value) => ({ name: 'record-route', value })));
      return req;
    };
    const copied = (req: SipRequest, status: number) => createResponse(req, status).headers.filter((h) => h.name === 'record-route').map((h) => h.value);
    for (const m of ['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']) {
      expect(copied(withRr(m), 180), m).toEqual(rr);
      expect(copied(withRr(m), 200), m).toEqual(rr);
    }
    // Through a proxy, the caller's route set comes from the 2xx: read back from the wire, in order.
    const wire = parse(serializeMessage(createResponse(withRr('INVITE'), 200, undefined, { toTag: 't' })));
    expect(wire.headers.filter((h) => h.name === 'record-route').map((h) => h.value)).toEqual(rr);
    expect(copied(withRr('INVITE'), 100)).toEqual([]);
    expect(copied(withRr('INVITE'), 486)).toEqual([]);
    expect(copied(withRr('OPTIONS'), 200)).toEqual([]);
    expect(copied(withRr('REGISTER'), 200)).toEqual([]);
  });

  it('copies Timestamp into 100 Trying only', () => {
    const req = request();
    expect(createResponse(req, 100).headers.find((h) => h.name === 'timestamp')?.value).toBe('54');
    expect(createResponse(req, 200).headers.some((h) => h.name === 'timestamp')).toBe(false);
  });

  it('adds extra headers, body and content type; custom reason', () => {
    const res = createResponse(request(), 200, 'Fine', {
      extraHeaders: [{ name: 'Contact', value: '<sip:bob@192.0.2.4>' }, { name: 'k', value: 'timer' }],
      body: Buffer.from(BODY),
      contentType: 'application/sdp',
    });
    expect(res.reason).toBe('Fine');
    expect(res.headers.slice(-3)).toEqual([
      { name: 'contact', value: '<sip:bob@192.0.2.4>' },
      { name: 'supported', value: 'timer' },
      { name: 'content-type', value: 'application/sdp' },
    ]);
    const back = parse(serializeMessage(res));
    expect(back.body.toString()).toBe(BODY);
  });
});

describe('createResponseFromHeaders', () => {
  it('answers a ParseFailure.respondTo with the raw lines copied', () => {
    const bad = wire([
      'OPTIONS sip:user@example.com SIP/2.0',
      'To: sip:j.user@example.com',
      'From: sip:caller@example.net;tag=34525',
      'Max-Forwards: 6',
      'Call-ID: mismatch01.dj0234sxdfl3',
      'CSeq: 8 INVITE',
      'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw',
      'l: 0',
    ]);
    const f = parseMessage(bad);
    if (f.ok || !f.respondTo) throw new Error('expected a failure with respondTo');
    const res = createResponseFromHeaders(f.respondTo.method, f.respondTo.headers, f.status, f.reason);
    expect(res.status).toBe(400);
    expect(res.reason).toBe(f.reason);
    expect(res.via[0]?.params.get('branch')).toBe('z9hG4bKkdjuw');
    const back = parse(serializeMessage(res)) as SipResponse;
    expect(back.callId).toBe('mismatch01.dj0234sxdfl3');
    expect(back.cseq).toEqual({ seq: 8, method: 'INVITE' });
    expect(back.to.params.get('tag')).toBe(res.to.params.get('tag'));
    expect(back.from.params.get('tag')).toBe('34525');
  });

  it('copes with undecodable Via and To lines', () => {
    const res = createResponseFromHeaders('INVITE', [
      { name: 'via', value: 'SIP/2.0/UDP 192.0.2.15;;,;,,' },
      { name: 'from', value: 'sip:caller@example.net;tag=1' },
      { name: 'to', value: '"Mr. J. User <sip:j.user@example.com>' },
      { name: 'call-id', value: 'quotbal.aksdj' },
      { name: 'cseq', value: '8 INVITE' },
    ], 400, 'Bad To');
    expect(res.via).toEqual([]);
    expect(res.headers[0]).toEqual({ name: 'via', value: 'SIP/2.0/UDP 192.0.2.15;;,;,,' });
    expect(res.to.uri.host).toBe('invalid');
    const text = serializeMessage(res).toString();
    expect(text.startsWith('SIP/2.0 400 Bad To\r\n')).toBe(true);
    expect(text).toContain('Call-ID: quotbal.aksdj');
  });

  it('uses the default reason phrase (505)', () => {
    expect(createResponseFromHeaders('OPTIONS', [], 505).reason).toBe('Version Not Supported');
  });
});

describe('createRequest', () => {
  const from = { displayName: 'Alice', uri: parseUri('sip:alice@atlanta.example.com')!, params: new Map([['tag', 'a1']]) };
  const to = { uri: parseUri('sip:bob@biloxi.example.com')!, params: new Map() };
  const via = { protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5060, params: new Map<string, string | null>([['branch', 'z9hG4bK1'], ['rport', null]]) };

  it('builds a request whose wire form parses back to the same fields', () => {
    const r = createRequest({
      method: 'INVITE', uri: 'sip:bob@biloxi.example.com', from, to, callId: 'c1@atlanta', cseq: 1, via,
      contact: { uri: parseUri('sip:alice@192.0.2.1:5060')!, params: new Map() },
      headers: [{ name: 'Supported', value: 'timer' }],
      body: Buffer.from(BODY), contentType: 'application/sdp',
    });
    expect(r.maxForwards).toBe(70);
    expect(r.headers.map((h) => h.name)).toEqual(['via', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'contact', 'supported', 'content-type']);
    const back = parse(serializeMessage(r)) as SipRequest;
    expect(back.method).toBe('INVITE');
    expect(back.uriRaw).toBe('sip:bob@biloxi.example.com');
    expect(back.maxForwards).toBe(70);
    expect(back.from).toEqual(r.from);
    expect(back.to).toEqual(r.to);
    expect(back.via).toEqual(r.via);
    expect(back.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(back.body.toString()).toBe(BODY);
  });

  it('accepts a SipUri and a Via list, and a custom Max-Forwards', () => {
    const r = createRequest({ method: 'OPTIONS', uri: parseUri('sip:bob@biloxi.example.com')!, from, to, callId: 'c2', cseq: 7, via: [via, { ...via, host: '192.0.2.2' }], maxForwards: 5 });
    expect(r.uriRaw).toBe('sip:bob@biloxi.example.com');
    expect(r.via).toHaveLength(2);
    expect((parse(serializeMessage(r)) as SipRequest).maxForwards).toBe(5);
  });

  it('throws on a Request-URI string that does not parse', () => {
    expect(() => createRequest({ method: 'OPTIONS', uri: 'not a uri', from, to, callId: 'c', cseq: 1, via })).toThrow(TypeError);
  });
});

describe('formatters', () => {
  it('formats name-addrs with quoted display names and escaped quotes', () => {
    expect(formatNameAddr({ displayName: 'A "B" C', uri: parseUri('sip:a@b')!, params: new Map([['tag', 'x'], ['lr', null]]) })).toBe(
      '"A \\"B\\" C" <sip:a@b>;tag=x;lr',
    );
    expect(formatNameAddr({ uri: parseUri('sip:a@b;transport=tcp')!, params: new Map() })).toBe('<sip:a@b;transport=tcp>');
  });

  it('quotes parameter values that are not tokens', () => {
    expect(formatNameAddr({ uri: parseUri('sip:a@b')!, params: new Map([['x', 'has space'], ['y', '"already"'], ['r', '[2001:db8::1]']]) })).toBe(
      '<sip:a@b>;x="has space";y="already";r=[2001:db8::1]',
    );
  });

  it('formats Via values and URIs', () => {
    expect(formatVia({ protocol: 'SIP/2.0', transport: 'TLS', host: '[2001:db8::1]', port: 5061, params: new Map([['branch', 'z9hG4bK9']]) })).toBe(
      'SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bK9',
    );
    expect(formatUri(parseUri('sips:a@b:5061')!)).toBe('sips:a@b:5061');
  });

  it('has standard reason phrases and sensible fallbacks', () => {
    expect(reasonPhrase(200)).toBe('OK');
    expect(reasonPhrase(416)).toBe('Unsupported URI Scheme');
    expect(reasonPhrase(420)).toBe('Bad Extension');
    expect(reasonPhrase(499)).toBe('Client Error');
  });
});

describe('display names cannot inject headers', () => {
  it('drops control characters when quoting a display name', () => {
    const out = formatNameAddr({ displayName: 'Ward 4\r\nContact: <sip:evil@x>', uri: parseUri('sip:1001@example.com')!, params: new Map() });
    expect(out).not.toMatch(/[\r\n]/);
    expect(out).toContain('"Ward 4Contact: <sip:evil@x>"');
  });
});

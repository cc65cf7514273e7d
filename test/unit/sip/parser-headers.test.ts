// headers.ts: on-demand decoding of raw headers and view-preserving edits.
import { describe, expect, it } from 'vitest';
import type { SipMessage, SipRequest } from '../../../src/sip/message.ts';
import {
  addHeader, canonicalHeaderName, getContacts, getExpires, getHeader, getHeaders, getQ, hasHeader, parseAuthParams,
  parseNameAddrList, parseParams, parseTokenList, parseValueWithParams, popVia, pushVia, removeHeader, setHeader,
  setRequestUri, setToTag, unquote, wireHeaderName,
} from '../../../src/sip/headers.ts';
import { parseAuthHeader } from '../../../src/sip/auth-params.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import { serializeMessage } from '../../../src/sip/serializer.ts';

function parse(lines: string[]): SipMessage {
  const r = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n'));
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

const BASE = [
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKa, SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb',
  'Via: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKc',
  'Max-Forwards: 70',
  'To: <sip:1001@example.com>',
  'From: <sip:1001@example.com>;tag=abc',
  'Call-ID: reg-1@192.0.2.10',
  'CSeq: 2 REGISTER',
  'm: <sip:1001@192.0.2.10:5060;transport=udp>;expires=60;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>", "Desk, Phone" <sip:1001@192.0.2.11>',
  'Contact: sip:1001@gw1.example.net;unknownparam',
  'Expires: 3600',
  'Supported: path, gruu,',
  'k: outbound',
  'Authorization: Digest username="1001", realm="example.com", nonce="a,b", uri="sip:example.com", response="0123", qop=auth, nc=00000001',
  'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
  'Content-Length: 0',
];

function reparse(msg: SipMessage): SipMessage {
  const r = parseMessage(serializeMessage(msg));
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('header names', () => {
  it('canonicalises compact and odd-case names', () => {
    expect(canonicalHeaderName('v')).toBe('via');
    expect(canonicalHeaderName('I')).toBe('call-id');
    expect(canonicalHeaderName('WWW-AUTHENTICATE')).toBe('www-authenticate');
    expect(canonicalHeaderName('X-Custom')).toBe('x-custom');
  });

  it('writes conventional spellings, title-casing unknown names', () => {
    expect(wireHeaderName('call-id')).toBe('Call-ID');
    expect(wireHeaderName('cseq')).toBe('CSeq');
    expect(wireHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(wireHeaderName('x-my-header')).toBe('X-My-Header');
  });
});

describe('getHeader / getHeaders', () => {
  const m = parse(BASE);

  it('returns the first raw line for getHeader, any name spelling', () => {
    expect(getHeader(m, 'Expires')).toBe('3600');
    // 'k' is Supported: the first of its two lines, unsplit.
    expect(getHeader(m, 'k')).toBe('path, gruu,');
    expect(getHeader(m, 'EXPIRES')).toBe('3600');
    expect(getHeader(m, 'x-absent')).toBeUndefined();
    expect(hasHeader(m, 'route')).toBe(true);
  });

  it('splits list headers at top-level commas only', () => {
    expect(getHeaders(m, 'contact')).toEqual([
      '<sip:1001@192.0.2.10:5060;transport=udp>;expires=60;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
      '"Desk, Phone" <sip:1001@192.0.2.11>',
      'sip:1001@gw1.example.net;unknownparam',
    ]);
    expect(getHeaders(m, 'supported')).toEqual(['path', 'gruu', 'outbound']);
    expect(getHeaders(m, 'via')).toHaveLength(3);
    expect(getHeaders(m, 'route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  });

  it('does not split non-list headers that contain commas', () => {
    expect(getHeaders(m, 'authorization')).toHaveLength(1);
  });
});

describe('name-addr lists and contacts', () => {
  it('parses Contact lists with display names, URI and header params', () => {
    const list = parseNameAddrList('"Desk, Phone" <sip:a@192.0.2.11;transport=tcp>;expires=30, sip:b@h;q=0.1');
    expect(Array.isArray(list)).toBe(true);
    if (!Array.isArray(list)) return;
    expect(list).toHaveLength(2);
    expect(list[0]?.displayName).toBe('Desk, Phone');
    expect(list[0]?.uri.params.get('transport')).toBe('tcp');
    expect(list[0]?.params.get('expires')).toBe('30');
    expect(list[1]?.uri.params.size).toBe(0);
    expect(list[1]?.params.get('q')).toBe('0.1');
  });

  it('returns * for the wildcard and undefined for malformed lists', () => {
    expect(parseNameAddrList(' * ')).toBe('*');
    expect(parseNameAddrList('<sip:a@b>,')).toBeUndefined();
    expect(parseNameAddrList('"Joe" <sip:joe@example.org>;;;;')).toBeUndefined();
    expect(parseNameAddrList('<sip:a@b')).toBeUndefined();
    expect(parseNameAddrList('')).toBeUndefined();
  });

  it('keeps cparam01/cparam02 semantics: unknownparam on the contact vs on the URI', () => {
    const c1 = parseNameAddrList('sip:+19725552222@gw1.example.net;unknownparam');
    const c2 = parseNameAddrList('<sip:+19725552222@gw1.example.net;unknownparam>');
    if (!Array.isArray(c1) || !Array.isArray(c2)) throw new Error('parse');
    expect(c1[0]?.params.has('unknownparam')).toBe(true);
    expect(c1[0]?.uri.params.has('unknownparam')).toBe(false);
    expect(c2[0]?.uri.params.has('unknownparam')).toBe(true);
    expect(c2[0]?.params.size).toBe(0);
  });

  it('keeps an escaped Route header inside a bracketed contact URI (regescrt)', () => {
    const c = parseNameAddrList('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>');
    if (!Array.isArray(c)) throw new Error('parse');
    expect(c[0]?.uri.headers.get('Route')).toBe('<sip:sip.example.com>');
  });

  it('collects all Contact headers of a message', () => {
    const c = getContacts(parse(BASE));
    if (!Array.isArray(c)) throw new Error('contacts');
    expect(c.map((x) => x.uri.host)).toEqual(['192.0.2.10', '192.0.2.11', 'gw1.example.net']);
    expect(getContacts(parse([...BASE.filter((l) => !/^(m|Contact):/.test(l)), 'Contact: *']))).toBe('*');
    expect(getContacts(parse([...BASE, 'Contact: *']))).toBeUndefined();
  });

  it('keeps quoted parameter values as written; unquote reads them', () => {
    const c = getContacts(parse(BASE));
    if (!Array.isArray(c)) throw new Error('contacts');
    const inst = c[0]?.params.get('+sip.instance');
    expect(inst).toBe('"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"');
    expect(unquote(inst ?? '')).toBe('<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
  });
});

describe('expires and q', () => {
  const m = parse(BASE);
  const contacts = getContacts(m);
  if (!Array.isArray(contacts)) throw new Error('contacts');

  it('prefers the contact expires parameter, then the Expires header', () => {
    expect(getExpires(m, contacts[0])).toBe(60);
    expect(getExpires(m, contacts[1])).toBe(3600);
    expect(getExpires(m)).toBe(3600);
    expect(getExpires(parse(BASE.filter((l) => !l.startsWith('Expires'))), contacts[1])).toBeUndefined();
  });

  it('clamps huge values to 2^32-1 and ignores malformed ones', () => {
    const huge = parse(BASE.map((l) => (l.startsWith('Expires') ? 'Expires: 1' + '0'.repeat(100) : l)));
    expect(getExpires(huge)).toBe(0xffffffff);
    const junk = parse(BASE.map((l) => (l.startsWith('Expires') ? 'Expires: soon' : l)));
    expect(getExpires(junk)).toBeUndefined();
  });

  it('reads q values in 0..1', () => {
    expect(getQ(contacts[0]!)).toBe(0.7);
    expect(getQ(contacts[1]!)).toBeUndefined();
    const list = parseNameAddrList('<sip:a@b>;q=1.5, <sip:a@b>;q=abc, <sip:a@b>;q=0');
    if (!Array.isArray(list)) throw new Error('parse');
    expect(list.map(getQ)).toEqual([undefined, undefined, 0]);
  });
});

describe('parseAuthParams', () => {
  it('parses Digest credentials with quoted values containing commas', () => {
    const a = parseAuthParams(getHeader(parse(BASE), 'authorization') ?? '');
    expect(a?.scheme).toBe('Digest');
    expect(a?.params.get('username')).toBe('1001');
    expect(a?.params.get('nonce')).toBe('a,b');
    expect(a?.params.get('uri')).toBe('sip:example.com');
    expect(a?.params.get('qop')).toBe('auth');
    expect(a?.params.get('nc')).toBe('00000001');
  });

  it('unescapes quoted-pairs and lower-cases parameter names', () => {
    const a = parseAuthParams('Digest Realm="a\\"b", NONCE=xyz');
    expect(a?.params.get('realm')).toBe('a"b');
    expect(a?.params.get('nonce')).toBe('xyz');
  });

  it('parses unknown schemes the same way (regaut01)', () => {
    const a = parseAuthParams('NoOneKnowsThisScheme opaque-data=here');
    expect(a?.scheme).toBe('NoOneKnowsThisScheme');
    expect(a?.params.get('opaque-data')).toBe('here');
  });

  it('returns token68 credentials and bare schemes', () => {
    expect(parseAuthParams('Bearer abc.def-ghi==')).toEqual({ scheme: 'Bearer', params: new Map(), token68: 'abc.def-ghi==' });
    expect(parseAuthParams('Digest')?.params.size).toBe(0);
  });

  it('rejects malformed values', () => {
    expect(parseAuthParams('')).toBeUndefined();
    expect(parseAuthParams('Digest realm="unterminated')).toBeUndefined();
    expect(parseAuthParams('Digest realm="a" nonce="b"')).toBeUndefined();
  });

  it('is parseAuthHeader with token68 allowed: same limits, duplicates refused', () => {
    const v = 'Digest username="1001", realm="example.com", nonce="a,b", response="0123"';
    expect(parseAuthParams(v)).toEqual(parseAuthHeader(v));
    expect(parseAuthParams('Digest realm="a", REALM="b"')).toBeUndefined();
    expect(parseAuthParams('Digest ' + 'x=1,'.repeat(3000))).toBeUndefined();
    expect(parseAuthParams('Digest a=1 b=2')).toBeUndefined();
  });
});

describe('parameter and token helpers', () => {
  it('parses parameter strings with or without the leading ;', () => {
    expect(parseParams(';a=1;B;c="x y"')).toEqual(new Map([['a', '1'], ['b', null], ['c', '"x y"']]));
    expect(parseParams('a=1 ; b = 2')).toEqual(new Map([['a', '1'], ['b', '2']]));
    expect(parseParams(';a=')).toBeUndefined();
    expect(parseParams(';;')).toBeUndefined();
  });

  it('splits a value from its parameters', () => {
    expect(parseValueWithParams('multipart/mixed;boundary=7a9cbec02ceef655')).toEqual({
      value: 'multipart/mixed',
      params: new Map([['boundary', '7a9cbec02ceef655']]),
    });
    expect(parseValueWithParams('presence;id=1')?.params.get('id')).toBe('1');
    expect(parseValueWithParams(';x=1')).toBeUndefined();
  });

  it('parses token lists from one value or several', () => {
    expect(parseTokenList('INVITE, ACK ,BYE,,')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(parseTokenList(['path', 'gruu, outbound'])).toEqual(['path', 'gruu', 'outbound']);
    expect(parseTokenList(undefined)).toEqual([]);
  });
});

describe('editing helpers keep views and headers[] in sync', () => {
  it('setHeader replaces in place and updates decoded views', () => {
    const m = parse(BASE);
    const pos = m.headers.findIndex((h) => h.name === 'from');
    expect(setHeader(m, 'From', '"New" <sip:new@example.com>;tag=zz')).toBe(true);
    expect(m.headers.findIndex((h) => h.name === 'from')).toBe(pos);
    expect(m.from.displayName).toBe('New');
    expect(m.from.params.get('tag')).toBe('zz');
    expect(setHeader(m, 'cseq', '3 REGISTER')).toBe(true);
    expect(m.cseq.seq).toBe(3);
    expect(setHeader(m, 'max-forwards', '69')).toBe(true);
    expect((m as SipRequest).maxForwards).toBe(69);
    expect(setHeader(m, 'i', 'new-call-id')).toBe(true);
    expect(m.callId).toBe('new-call-id');
    const again = reparse(m);
    expect(again.from.displayName).toBe('New');
    expect(again.cseq.seq).toBe(3);
    expect(again.callId).toBe('new-call-id');
  });

  it('setHeader refuses values that do not decode and leaves the message alone', () => {
    const m = parse(BASE);
    const before = m.headers.slice();
    expect(setHeader(m, 'to', '"broken <sip:x@y>')).toBe(false);
    expect(setHeader(m, 'cseq', 'x REGISTER')).toBe(false);
    expect(setHeader(m, 'max-forwards', '256')).toBe(false);
    expect(setHeader(m, 'call-id', 'a b')).toBe(false);
    expect(setHeader(m, 'via', 'SIP/2.0/UDP')).toBe(false);
    expect(m.headers).toEqual(before);
  });

  it('setHeader on Via replaces all lines and the view', () => {
    const m = parse(BASE);
    expect(setHeader(m, 'v', 'SIP/2.0/TCP a.example.com;branch=z9hG4bKx')).toBe(true);
    expect(m.via).toHaveLength(1);
    expect(m.headers.filter((h) => h.name === 'via')).toHaveLength(1);
    expect(reparse(m).via[0]?.host).toBe('a.example.com');
  });

  it('addHeader inserts first or last and refuses a second From', () => {
    const m = parse(BASE);
    expect(addHeader(m, 'Route', '<sip:p0.example.com;lr>', { first: true })).toBe(true);
    expect(addHeader(m, 'Route', '<sip:p3.example.com;lr>')).toBe(true);
    expect(getHeaders(m, 'route')).toEqual(['<sip:p0.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>', '<sip:p3.example.com;lr>']);
    expect(addHeader(m, 'X-New', 'v')).toBe(true);
    expect(m.headers.at(-1)).toEqual({ name: 'x-new', value: 'v' });
    expect(addHeader(m, 'from', '<sip:x@y>;tag=1')).toBe(false);
    expect(addHeader(m, 'via', 'SIP/2.0/UDP top.example.com;branch=z9hG4bKtop', { first: true })).toBe(true);
    expect(m.via[0]?.host).toBe('top.example.com');
    expect(m.via).toHaveLength(4);
    expect(reparse(m).via.map((v) => v.host)).toEqual(m.via.map((v) => v.host));
  });

  it('removeHeader removes lines, clears views, refuses mandatory headers', () => {
    const m = parse(BASE) as SipRequest;
    expect(removeHeader(m, 'route')).toBe(1);
    expect(hasHeader(m, 'route')).toBe(false);
    expect(removeHeader(m, 'max-forwards')).toBe(1);
    expect(m.maxForwards).toBeUndefined();
    expect(removeHeader(m, 'to')).toBe(0);
    expect(removeHeader(m, 'x-absent')).toBe(0);
  });

  it('pushVia and popVia work on the top value, even inside a shared line', () => {
    const m = parse(BASE);
    pushVia(m, { protocol: 'SIP/2.0', transport: 'UDP', host: 'me.example.com', port: 5070, params: new Map([['branch', 'z9hG4bKme'], ['rport', null]]) });
    expect(m.headers.find((h) => h.name === 'via')?.value).toBe('SIP/2.0/UDP me.example.com:5070;branch=z9hG4bKme;rport');
    expect(m.via.map((v) => v.params.get('branch'))).toEqual(['z9hG4bKme', 'z9hG4bKa', 'z9hG4bKb', 'z9hG4bKc']);
    expect(popVia(m)?.host).toBe('me.example.com');
    expect(popVia(m)?.params.get('branch')).toBe('z9hG4bKa');
    expect(m.headers.filter((h) => h.name === 'via').map((h) => h.value)).toEqual([
      'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb',
      'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKc',
    ]);
    expect(reparse(m).via.map((v) => v.params.get('branch'))).toEqual(['z9hG4bKb', 'z9hG4bKc']);
    popVia(m);
    popVia(m);
    expect(popVia(m)).toBeUndefined();
    expect(m.via).toHaveLength(0);
  });

  it('setToTag appends or replaces the tag', () => {
    const m = parse(BASE);
    setToTag(m, 't1');
    expect(getHeader(m, 'to')).toBe('<sip:1001@example.com>;tag=t1');
    expect(m.to.params.get('tag')).toBe('t1');
    setToTag(m, 't2');
    expect(m.to.params.get('tag')).toBe('t2');
    expect(reparse(m).to.params.get('tag')).toBe('t2');
  });

  it('does not mutate Header objects shared with other messages', () => {
    const m = parse(BASE);
    const shared = m.headers.slice();
    const copies = shared.map((h) => ({ ...h }));
    setToTag(m, 'x');
    popVia(m);
    setHeader(m, 'cseq', '9 REGISTER');
    expect(shared).toEqual(copies);
  });

  it('setRequestUri keeps uri and uriRaw together', () => {
    const m = parse(BASE) as SipRequest;
    expect(setRequestUri(m, 'sip:1001@192.0.2.10:5060')).toBe(true);
    expect(m.uri.port).toBe(5060);
    expect((reparse(m) as SipRequest).uriRaw).toBe('sip:1001@192.0.2.10:5060');
    expect(setRequestUri(m, 'not a uri')).toBe(false);
    expect(m.uriRaw).toBe('sip:1001@192.0.2.10:5060');
  });
});

import { describe, expect, it } from 'vitest';
import { Dialog, dialogKey, dialogKeyOfRequest, endpointOfUri, newVia } from '../../../src/sip/dialog.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import { getHeaders } from '../../../src/sip/headers.ts';
import { formatUri, parseUri } from '../../../src/sip/uri.ts';
import type { SipRequest, SipResponse } from '../../../src/sip/message.ts';

function parse<T>(text: string): T {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok) throw new Error(r.reason);
  return r.message as T;
}

const invite = parse<SipRequest>(`INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc
Max-Forwards: 70
From: "Alice" <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: c1@10.0.0.1
CSeq: 7 INVITE
Contact: <sip:alice@10.0.0.1:5060>
Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Content-Length: 0

`);

const ok = parse<SipResponse>(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc
From: "Alice" <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b2
Call-ID: c1@10.0.0.1
CSeq: 7 INVITE
Contact: <sip:bob@10.0.0.2:5070;transport=tcp>
Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Content-Length: 0

`);

const via = newVia('udp', { address: '192.0.2.1', port: 5060 });

describe('Dialog (RFC 3261 §12)', () => {
  it('as UAS takes the remote target from Contact and the route set from Record-Route in order', () => {
    const d = Dialog.asUas(invite, 'us')!;
    expect(d.key).toBe(dialogKey('c1@10.0.0.1', 'us', 'a1'));
    expect(formatUri(d.remoteTarget)).toBe('sip:alice@10.0.0.1:5060');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteSeq).toBe(7);
    const bye = d.request('BYE', via);
    expect(bye.uriRaw).toBe('sip:alice@10.0.0.1:5060');
    expect(getHeaders(bye, 'route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(bye.from.params.get('tag')).toBe('us');
    expect(bye.to.params.get('tag')).toBe('a1');
    expect(bye.to.uri.user).toBe('alice');
    expect(bye.cseq.seq).toBe(1);
  });

  it('as UAC reverses the route set and counts CSeq from the INVITE; ACK reuses the INVITE number', () => {
    const d = Dialog.asUac(invite, ok)!;
    expect(d.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(d.request('ACK', via, { cseq: 7 }).cseq.seq).toBe(7);
    expect(d.request('BYE', via).cseq.seq).toBe(8);
    expect(d.request('INFO', via).cseq.seq).toBe(9);
    expect(endpointOfUri(d.remoteTarget)).toEqual({ transport: 'tcp', address: '10.0.0.2', port: 5070 });
  });

  it('uses the strict-router form when the first route has no lr', () => {
    const d = Dialog.asUas(invite, 'us')!;
    d.routeSet.splice(0, 2, '<sip:strict.example.com>');
    const req = d.request('BYE', via);
    expect(req.uriRaw).toBe('sip:strict.example.com');
    expect(getHeaders(req, 'route')).toEqual(['<sip:alice@10.0.0.1:5060>']);
  });

  it('refuses a remote CSeq that does not grow, and refreshes the target', () => {
    const d = Dialog.asUas(invite, 'us')!;
    const reinvite = { ...invite, cseq: { seq: 7, method: 'INVITE' } } as SipRequest;
    expect(d.acceptRemoteSeq(reinvite)).toBe(false);
    expect(d.acceptRemoteSeq({ ...invite, cseq: { seq: 8, method: 'INVITE' } } as SipRequest)).toBe(true);
    d.refreshTarget(ok);
    expect(formatUri(d.remoteTarget)).toBe('sip:bob@10.0.0.2:5070;transport=tcp');
  });

  it('needs a Contact and a To tag', () => {
    const noContact = { ...invite, headers: invite.headers.filter((h) => h.name !== 'contact') } as SipRequest;
    expect(Dialog.asUas(noContact, 'x')).toBeUndefined();
    const noTag = { ...ok, to: { ...ok.to, params: new Map() } } as SipResponse;
    expect(Dialog.asUac(invite, noTag)).toBeUndefined();
    expect(dialogKeyOfRequest(invite)).toBeUndefined();
  });

  it('maps URIs to endpoints by transport parameter and scheme', () => {
    expect(endpointOfUri(parseUri('sips:a@h.example')!)).toEqual({ transport: 'tls', address: 'h.example', port: 5061 });
    expect(endpointOfUri(parseUri('sip:a@[::1]:5062')!)).toEqual({ transport: 'udp', address: '::1', port: 5062 });
    expect(endpointOfUri(parseUri('sip:a@h;transport=sctp')!)).toBeUndefined();
  });
});

// Shared fixture of the parseMessage tests (parser.test.ts, parser-errors.test.ts):
// a typical INVITE as editable lines, and small helpers to build and parse it.
import type { ParseFailure, SipMessage, SipRequest } from '../../../src/sip/message.ts';
import { parseMessage } from '../../../src/sip/parser.ts';

export const SDP = 'v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

/** Header lines joined with CRLF, then an empty line and the body. */
export function wire(lines: readonly string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

export const INVITE_LINES: readonly string[] = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice \\"A\\" Liddell" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Content-Type: application/sdp',
  `Content-Length: ${SDP.length}`,
];

type ParseOptions = Parameters<typeof parseMessage>[1];

/** The parsed message; throws (failing the test) when parsing fails. */
export function ok(buf: Buffer, opts?: ParseOptions): SipMessage {
  const r = parseMessage(buf, opts);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  return r.message;
}

/** The parsed request; throws when parsing fails or gives a response. */
export function req(buf: Buffer): SipRequest {
  const m = ok(buf);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

/** The parse failure; throws when the message parses. */
export function bad(buf: Buffer, opts?: ParseOptions): ParseFailure {
  const r = parseMessage(buf, opts);
  if (r.ok) throw new Error('parsed but should not have');
  return r;
}

/** INVITE_LINES edited by a function (it gets a fresh copy), with a body. */
export function variant(edit: (lines: string[]) => string[], body = SDP): Buffer {
  return wire(edit([...INVITE_LINES]), body);
}

// Parser throughput: a typical INVITE with SDP (~900 bytes) and a REGISTER
// carrying Digest credentials, parsed from Buffers as a UDP transport would.
// Run: node --import tsx bench/parse.ts [seconds-per-figure]
// Prints one line per figure plus the machine it ran on.

import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseMessage } from '../src/sip/parser.ts';
import { getContacts, getHeader, parseAuthParams } from '../src/sip/headers.ts';
import { createResponse, serializeMessage } from '../src/sip/serializer.ts';
import { callsPerSecond } from './lib/micro.ts';

function msg(lines: string[], body = ''): Buffer {
  const b = Buffer.from(body.replace(/\n/g, '\r\n'));
  return Buffer.concat([Buffer.from(lines.join('\r\n') + `\r\nContent-Length: ${b.length}\r\n\r\n`), b]);
}

const SDP = `v=0
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 18 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`;

export const INVITE = msg([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, MESSAGE, UPDATE',
  'Supported: replaces, timer, 100rel',
  'Session-Expires: 1800',
  'User-Agent: Switchboard-Bench/1.0',
  'Content-Type: application/sdp',
], SDP);

export const REGISTER = msg([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---4a7e5c1b9d2f;rport',
  'Max-Forwards: 70',
  'Contact: <sip:1001@192.0.2.10:5060;rinstance=6a2b0f3c9e1d>;expires=3600',
  'To: <sip:1001@example.com>',
  'From: <sip:1001@example.com>;tag=8a3b1d4c',
  'Call-ID: ZmQ4NjQ2ZjE0YjJmNDI0OGE5N2MxYjJk',
  'CSeq: 2 REGISTER',
  'Expires: 3600',
  'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE',
  'Authorization: Digest username="1001",realm="example.com",nonce="5f2b8c1d9e3a4f7b",uri="sip:example.com",response="0a4f113b9c8d7e6f5a4b3c2d1e0f9a8b",algorithm=MD5,cnonce="6b8b4567",qop=auth,nc=00000001',
  'User-Agent: Z 5.4.12 v2.10.13.2',
]);

function measure(label: string, seconds: number, fn: () => void): void {
  const rate = callsPerSecond(seconds, fn);
  console.log(`${label}: ${Math.round(rate).toLocaleString('en-US')} msg/s`);
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench input broken: ${what}`);
}

function main(): void {
  const seconds = Number(process.argv[2] ?? 2);
  const inv = parseMessage(INVITE);
  const reg = parseMessage(REGISTER);
  must(inv.ok && reg.ok, 'parse');

  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, node ${process.version}, ${os.platform()} ${os.arch()}, load ${os.loadavg()[0]!.toFixed(2)}`);
  console.log(`sizes: INVITE ${INVITE.length} bytes, REGISTER ${REGISTER.length} bytes`);
  let sink = 0;
  measure('parse INVITE+SDP', seconds, () => {
    const r = parseMessage(INVITE);
    if (r.ok) sink += r.consumed;
  });
  measure('parse REGISTER+Authorization', seconds, () => {
    const r = parseMessage(REGISTER);
    if (r.ok) sink += r.consumed;
  });
  measure('parse REGISTER + decode Authorization, Contact, Expires', seconds, () => {
    const r = parseMessage(REGISTER);
    if (!r.ok) return;
    const a = parseAuthParams(getHeader(r.message, 'authorization') ?? '');
    const c = getContacts(r.message);
    if (a !== undefined && c !== undefined) sink += a.params.size;
  });
  if (inv.ok && inv.message.kind === 'request') {
    const req = inv.message;
    measure('createResponse 180 + serialize', seconds, () => {
      sink += serializeMessage(createResponse(req, 180)).length;
    });
    measure('serialize INVITE', seconds, () => {
      sink += serializeMessage(req).length;
    });
  }
  if (sink === 42) console.log('');
}

// Importable (the profiler script and tests reuse the sample messages) without running.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();

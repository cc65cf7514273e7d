// The fuzzers' seed corpus: every RFC 4475/5118 torture message plus a few
// everyday messages (an INVITE with SDP, a REGISTER with credentials, a 200).

import { readFileSync, readdirSync } from 'node:fs';
import { TORTURE_DIR } from '../lib/torture.ts';

export function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
}

const EVERYDAY = [
  `INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Supported: replaces, timer
Content-Type: application/sdp
Content-Length: 130

v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
`,
  `REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP [2001:db8::10]:5060;branch=z9hG4bK-524287-1;rport
Max-Forwards: 70
Contact: <sip:1001@[2001:db8::10]:5060;transport=tcp>;expires=3600;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";reg-id=1
To: <sip:1001@example.com>
From: <sip:1001@example.com>;tag=8a3b1d4c
Call-ID: ZmQ4NjQ2ZjE0YjJmNDI0OGE5N2M
CSeq: 2 REGISTER
Authorization: Digest username="1001",realm="example.com",nonce="5f2b8c1d",uri="sip:example.com",response="0a4f113b9c8d7e6f",algorithm=MD5,cnonce="6b8b4567",qop=auth,nc=00000001
Content-Length: 0

`,
  `SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;received=192.0.2.10;rport=5060
To: <sip:1001@example.com>;tag=as7d8f
From: <sip:1001@example.com>;tag=8a3b1d4c
Call-ID: ZmQ4NjQ2ZjE0YjJmNDI0OGE5N2M
CSeq: 2 REGISTER
Contact: <sip:1001@192.0.2.10:5060>;expires=3600
Content-Length: 0

`,
];

/** Torture messages (CRLF line ends everywhere) plus everyday messages. */
export function loadCorpus(): Buffer[] {
  const out = EVERYDAY.map(crlf);
  const dir = new URL('msgs/', TORTURE_DIR);
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.dat')) continue;
    const raw = readFileSync(new URL(f, dir));
    // RFC 5118 files use bare LF; convert those without touching binary bodies that already use CRLF.
    out.push(raw.includes('\r\n') ? raw : crlf(raw.toString('latin1')));
  }
  return out;
}


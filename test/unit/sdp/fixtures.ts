// Realistic descriptions in the shape each kind of endpoint sends, written for
// these tests (addresses from the documentation ranges, keys made up).

function sdp(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

/** A baresip-style offer: G.711 both laws, G.722, opus, telephone-event, rtcp-rsize. */
export const BARESIP = sdp(
  'v=0',
  'o=- 1518923745 2016187442 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'a=tool:baresip 3.10.1',
  'm=audio 10730 RTP/AVP 9 111 0 8 101',
  'b=AS:64',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 stereo=1;sprop-stereo=1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=rtcp-rsize',
  'a=ssrc:3462713470 cname:7f2c1f3e-9a1d-4b55-8c01-2f6b2d0c4e11',
);

/** A linphone-style offer: media-level c= missing, rtcp port explicit, rtcp-fb, a session-level attribute block. */
export const LINPHONE = sdp(
  'v=0',
  'o=alice 3245 1678 IN IP4 198.51.100.23',
  's=Talk',
  'c=IN IP4 198.51.100.23',
  't=0 0',
  'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
  'a=record:off',
  'm=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:97 speex/16000',
  'a=fmtp:97 vbr=on',
  'a=rtpmap:98 speex/8000',
  'a=fmtp:98 vbr=on',
  'a=fmtp:18 annexb=yes',
  'a=rtpmap:101 telephone-event/48000',
  'a=rtpmap:99 telephone-event/16000',
  'a=rtpmap:100 telephone-event/8000',
  'a=rtcp:7079',
  'a=rtcp-fb:* trr-int 1000',
  'a=rtcp-fb:* ccm tmmbr',
  'm=video 9078 RTP/AVP 103',
  'a=rtpmap:103 VP8/90000',
  'a=rtcp-fb:103 nack pli',
  'a=rtcp-fb:103 ccm fir',
);

/** SIPp's built-in UAC body: minimal, PCMU only, static payload type without rtpmap. */
export const SIPP = sdp(
  'v=0',
  'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 6000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
);

/** An Asterisk-like offer with G.729, ptime, CN and telephone-event, and the full line set of RFC 8866 order. */
export const ASTERISK = sdp(
  'v=0',
  'o=- 1402683720 1402683721 IN IP4 203.0.113.5',
  's=Asterisk',
  'i=A call from the PBX',
  'u=http://pbx.example.com/',
  'e=ops@example.com',
  'p=+1 555 0100',
  'c=IN IP4 203.0.113.5',
  'b=CT:384',
  't=0 0',
  'r=7d 1h 0 25h',
  'm=audio 17342 RTP/AVP 18 0 8 13 101',
  'i=voice',
  'b=AS:80',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
);

/** RTP/SAVP offer with two SDES crypto lines (one with lifetime and MKI), as an enforced-SRTP endpoint sends. */
export const SAVP = sdp(
  'v=0',
  'o=- 20518 0 IN IP4 192.0.2.44',
  's=SIP Call',
  'c=IN IP4 192.0.2.44',
  't=0 0',
  'm=audio 58000 RTP/SAVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo|2^31|1:1',
  'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:cXV1eHF1dXhxdXV4cXV1eHF1dXhxdXV4cXV1eA== UNENCRYPTED_SRTCP',
  'a=ptime:20',
  'a=sendrecv',
);

/** Best-effort SRTP offer with RFC 5939 capability negotiation (tcap/acap/pcfg), as 96x1/J100 phones send. */
export const CAPNEG = sdp(
  'v=0',
  'o=- 1 1 IN IP4 198.51.100.7',
  's=-',
  'c=IN IP4 198.51.100.7',
  'b=AS:2064',
  't=0 0',
  'm=audio 2048 RTP/AVP 0 8 18 127',
  'a=tcap:1 RTP/SAVP',
  'a=acap:1 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0|2^31',
  'a=acap:2 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0|2^31',
  'a=pcfg:1 t=1 a=1|2',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:127 telephone-event/8000',
  'a=sendrecv',
  'a=rtcp:2049 IN IP4 198.51.100.7',
);

/** IPv6 offer, media-level c= only. */
export const IPV6 = sdp(
  'v=0',
  'o=bob 8 9 IN IP6 2001:db8::20',
  's= ',
  't=0 0',
  'm=audio 40000 RTP/AVP 8 101',
  'c=IN IP6 2001:db8::20',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=rtcp-mux',
  'a=inactive',
);

/** Every fixture, for round-trip and fuzz corpora. */
export const ALL_FIXTURES: Readonly<Record<string, string>> = { BARESIP, LINPHONE, SIPP, ASTERISK, SAVP, CAPNEG, IPV6 };

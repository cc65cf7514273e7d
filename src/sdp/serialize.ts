// SDP serializer: each section in RFC 8866 order, CRLF after every line.
//
// Lines kept verbatim in `other` are split around c=/b=: i= u= e= p= go
// before them, everything else (t= r= z= k= and unknown letters) after, each
// group in model order. For well-formed input that is exactly where they were.
//
// Values are checked for CR, LF and NUL: a description is built from network
// input and must not be able to smuggle extra lines into what we send.

import type { Sdp, SdpAttribute, SdpBandwidth, SdpConnection, SdpLine, SdpMedia } from './model.ts';

const SESSION_EARLY = new Set(['i', 'u', 'e', 'p']);
const MEDIA_EARLY = new Set(['i']);

function safe(field: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new TypeError(`SDP ${field} contains CR, LF or NUL`);
  return value;
}

function word(field: string, value: string): string {
  if (value.length === 0 || /[ \t\r\n\0]/.test(value)) throw new TypeError(`SDP ${field} must be a non-empty word, got ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

function port(field: string, n: number, min: number): string {
  if (!Number.isInteger(n) || n < min || n > 65535) throw new TypeError(`SDP ${field} must be an integer ${min}-65535, got ${n}`);
  return String(n);
}

function connection(c: SdpConnection): string {
  return `c=${word('c= nettype', c.netType)} ${word('c= addrtype', c.addrType)} ${word('c= address', c.address)}`;
}

function bandwidth(b: SdpBandwidth): string {
  if (!Number.isInteger(b.value) || b.value < 0) throw new TypeError(`SDP b=${b.type} value must be a non-negative integer`);
  return `b=${word('b= type', b.type)}:${b.value}`;
}

function attribute(a: SdpAttribute): string {
  const name = safe('attribute name', a.name);
  if (name.includes(':')) throw new TypeError(`SDP attribute name ${JSON.stringify(name)} contains ':'`);
  return a.value === null ? `a=${name}` : `a=${name}:${safe(`a=${name} value`, a.value)}`;
}

function other(l: SdpLine): string {
  if (!/^[a-z]$/.test(l.type)) throw new TypeError(`SDP line type ${JSON.stringify(l.type)} is not one lower-case letter`);
  return `${l.type}=${safe(`${l.type}= value`, l.value)}`;
}

function mediaLine(m: SdpMedia): string {
  const p = port('m= port', m.port, 0) + (m.portCount === null ? '' : `/${port('m= port count', m.portCount, 1)}`);
  const head = `m=${word('m= media', m.media)} ${p} ${word('m= proto', m.proto)}`;
  return m.formats.length === 0 ? head : `${head} ${m.formats.map((f) => word('m= format', f)).join(' ')}`;
}

function pushSection(
  out: string[],
  early: ReadonlySet<string>,
  others: readonly SdpLine[],
  conns: readonly SdpConnection[],
  bws: readonly SdpBandwidth[],
  attrs: readonly SdpAttribute[],
): void {
  for (const l of others) if (early.has(l.type)) out.push(other(l));
  for (const c of conns) out.push(connection(c));
  for (const b of bws) out.push(bandwidth(b));
  for (const l of others) if (!early.has(l.type)) out.push(other(l));
  for (const a of attrs) out.push(attribute(a));
}

/** The description as text with CRLF line ends. TypeError if a field holds something no SDP line can carry. */
export function serializeSdp(sdp: Sdp): string {
  const o = sdp.origin;
  // Wider than the parser's 20 digits so that bumping a hostile 20-digit version still serializes.
  if (!/^[0-9]{1,40}$/.test(o.sessionVersion)) throw new TypeError('SDP o= sess-version must be 1 to 40 digits');
  const out: string[] = [
    'v=0',
    `o=${word('o= username', o.username)} ${word('o= sess-id', o.sessionId)} ${o.sessionVersion} ` +
      `${word('o= nettype', o.netType)} ${word('o= addrtype', o.addrType)} ${word('o= address', o.address)}`,
    `s=${safe('s=', sdp.sessionName)}`,
  ];
  pushSection(out, SESSION_EARLY, sdp.other, sdp.connection ? [sdp.connection] : [], sdp.bandwidths, sdp.attributes);
  for (const m of sdp.media) {
    out.push(mediaLine(m));
    pushSection(out, MEDIA_EARLY, m.other, m.connections, m.bandwidths, m.attributes);
  }
  return `${out.join('\r\n')}\r\n`;
}

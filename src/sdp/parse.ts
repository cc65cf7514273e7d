// SDP parser (RFC 8866 / RFC 4566, as much as telephony needs).
//
// Strict where offer/answer depends on a field (v=, o=, c=, m=), lenient
// elsewhere: attributes and lines we do not interpret are kept verbatim, an
// unparseable b= line is kept as an opaque line rather than failing a call,
// and the separators inside o=, c= and m= may be runs of blanks (written back
// as one space). Bare LF line ends are accepted and blank lines skipped.
// Never throws: every problem becomes { ok: false, reason } naming the line.

import type { ParseSdpResult, Sdp, SdpBandwidth, SdpConnection, SdpLimits, SdpMedia, SdpOrigin } from './model.ts';
import { DEFAULT_SDP_LIMITS, isRtpProto } from './model.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

class SdpError extends Error {}

function fail(line: number, msg: string): never {
  throw new SdpError(`line ${line}: ${msg}`);
}

export function parseSdp(text: string | Buffer | Uint8Array, limits: SdpLimits = DEFAULT_SDP_LIMITS): ParseSdpResult {
  try {
    const decoded = decode(text, limits);
    if (typeof decoded !== 'string') return decoded;
    return { ok: true, sdp: parse(decoded, limits) };
  } catch (err) {
    if (err instanceof SdpError) return { ok: false, reason: err.message };
    // Not expected on any input; kept so a parser bug cannot take a call down.
    return { ok: false, reason: 'unparseable SDP' };
  }
}

function decode(text: string | Buffer | Uint8Array, limits: SdpLimits): string | { ok: false; reason: string } {
  const tooBig = { ok: false as const, reason: `SDP larger than ${limits.maxBytes} bytes` };
  if (typeof text === 'string') {
    // UTF-16 length bounds the UTF-8 size from below, so the cheap test goes first.
    if (text.length > limits.maxBytes || Buffer.byteLength(text, 'utf8') > limits.maxBytes) return tooBig;
    return text;
  }
  if (text.length > limits.maxBytes) return tooBig;
  try {
    return utf8.decode(text);
  } catch {
    return { ok: false, reason: 'SDP is not valid UTF-8' };
  }
}

interface RawLine {
  no: number;
  type: string;
  value: string;
}

function splitLines(text: string, limits: SdpLimits): RawLine[] {
  const out: RawLine[] = [];
  let pos = 0;
  let no = 0;
  while (pos < text.length) {
    no++;
    if (no > limits.maxLines) fail(no, `more than ${limits.maxLines} lines`);
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let stop = end;
    if (stop > pos && text.charCodeAt(stop - 1) === 0x0d) stop--;
    const line = text.slice(pos, stop);
    pos = end + 1;
    if (line.length === 0) continue;
    const type = line.charCodeAt(0);
    if (type < 0x61 || type > 0x7a || line.charCodeAt(1) !== 0x3d) fail(no, 'expected "<letter>=<value>"');
    const value = line.slice(2);
    if (/[\r\n\0]/.test(value)) fail(no, 'CR or NUL inside a line');
    out.push({ no, type: line[0] as string, value });
  }
  return out;
}

/** Blank-separated fields; empty fields from repeated blanks are dropped. */
function fields(value: string): string[] {
  return value.split(/[ \t]+/).filter((f) => f.length > 0);
}

function decimal(s: string, maxDigits: number): number | null {
  if (s.length === 0 || s.length > maxDigits || !/^[0-9]+$/.test(s)) return null;
  return Number(s);
}

function parseOrigin(l: RawLine): SdpOrigin {
  const f = fields(l.value);
  if (f.length !== 6) fail(l.no, `o= needs 6 fields, got ${f.length}`);
  const [username, sessionId, sessionVersion, netType, addrType, address] = f as [string, string, string, string, string, string];
  if (!/^[0-9]{1,20}$/.test(sessionVersion)) fail(l.no, 'o= sess-version must be 1 to 20 digits');
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

function parseConnection(l: RawLine): SdpConnection {
  const f = fields(l.value);
  if (f.length !== 3) fail(l.no, `c= needs 3 fields, got ${f.length}`);
  const [netType, addrType, address] = f as [string, string, string];
  return { netType, addrType, address };
}

function parseBandwidth(value: string): SdpBandwidth | null {
  const colon = value.indexOf(':');
  if (colon <= 0) return null;
  const type = value.slice(0, colon);
  if (/[ \t]/.test(type)) return null;
  const n = decimal(value.slice(colon + 1), 10);
  return n === null ? null : { type, value: n };
}

function parseMediaLine(l: RawLine, limits: SdpLimits): SdpMedia {
  const f = fields(l.value);
  if (f.length < 3) fail(l.no, 'm= needs media, port and proto');
  const [media, portText, proto] = f as [string, string, string];
  const formats = f.slice(3);
  if (formats.length > limits.maxFormats) fail(l.no, `m= has more than ${limits.maxFormats} formats`);
  const slash = portText.indexOf('/');
  const port = decimal(slash < 0 ? portText : portText.slice(0, slash), 5);
  if (port === null || port > 65535) fail(l.no, `m= port "${clip(portText)}" is not 0-65535`);
  let portCount: number | null = null;
  if (slash >= 0) {
    portCount = decimal(portText.slice(slash + 1), 5);
    if (portCount === null || portCount < 1 || portCount > 65535) fail(l.no, 'm= port count is not 1-65535');
  }
  if (isRtpProto(proto)) {
    for (const fmt of formats) {
      const pt = decimal(fmt, 3);
      if (pt === null || pt > 127) fail(l.no, `m= payload type "${clip(fmt)}" is not 0-127`);
    }
  }
  return { media, port, portCount, proto, formats, connections: [], bandwidths: [], attributes: [], other: [] };
}

function clip(s: string): string {
  return s.length > 20 ? `${s.slice(0, 20)}...` : s;
}

function attribute(value: string): { name: string; value: string | null } {
  const colon = value.indexOf(':');
  return colon < 0 ? { name: value, value: null } : { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

function parse(text: string, limits: SdpLimits): Sdp {
  const lines = splitLines(text, limits);
  const [v, o, s] = lines;
  if (!v) fail(1, 'empty SDP');
  if (v.type !== 'v' || v.value !== '0') fail(v.no, 'first line must be v=0');
  if (!o || o.type !== 'o') fail(o?.no ?? v.no + 1, 'o= must follow v=');
  if (!s || s.type !== 's') fail(s?.no ?? o.no + 1, 's= must follow o=');

  const sdp: Sdp = {
    origin: parseOrigin(o),
    sessionName: s.value,
    connection: null,
    bandwidths: [],
    attributes: [],
    other: [],
    media: [],
  };
  let current: SdpMedia | null = null;
  for (let i = 3; i < lines.length; i++) {
    const l = lines[i] as RawLine;
    switch (l.type) {
      case 'v':
      case 'o':
      case 's':
        fail(l.no, `${l.type}= may appear only once, at the top`);
      case 'm':
        if (sdp.media.length >= limits.maxMedia) fail(l.no, `more than ${limits.maxMedia} media sections`);
        current = parseMediaLine(l, limits);
        sdp.media.push(current);
        break;
      case 'c': {
        const c = parseConnection(l);
        if (current) current.connections.push(c);
        else if (sdp.connection) fail(l.no, 'more than one session-level c=');
        else sdp.connection = c;
        break;
      }
      case 'b': {
        const b = parseBandwidth(l.value);
        const target = current ?? sdp;
        if (b) target.bandwidths.push(b);
        else target.other.push({ type: 'b', value: l.value });
        break;
      }
      case 'a':
        (current ?? sdp).attributes.push(attribute(l.value));
        break;
      default:
        (current ?? sdp).other.push({ type: l.type, value: l.value });
    }
  }
  return sdp;
}

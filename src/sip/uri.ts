// SIP/SIPS URIs (RFC 3261 §19.1, RFC 5118 for IPv6) and opaque handling of
// every other scheme (tel, im, http, ...): the application decides what to do
// with those (typically 416), the parser only has to carry them.

import { isUtf8 } from 'node:buffer';
import type { Params, SipUri } from './message.ts';
import { isAlpha, isDigit, isIpv6Char, lowerSlice, readHost } from './syntax.ts';

// Characters that may stay unescaped in each URI component when formatting
// (RFC 3261 §25.1); everything else is %-encoded as UTF-8 octets.
const UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()";
const USER_OK = table(UNRESERVED + '&=+$,;?/');
const PASSWORD_OK = table(UNRESERVED + '&=+$,');
const PARAM_OK = table(UNRESERVED + '[]/:&+$');
const HNV_OK = table(UNRESERVED + '[]/?:+$');

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Resolve %HH escapes. Octets are gathered and decoded as UTF-8 when they form
 * valid UTF-8, else as Latin-1 so no octet is lost (a %FF user must not turn
 * into U+FFFD and collide with another user). "%00" yields a NUL character.
 * A '%' not followed by two hex digits is kept literally.
 */
export function pctDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) bytes.push(c);
    else {
      const enc = Buffer.from(s[i] as string, 'utf8');
      for (const b of enc) bytes.push(b);
    }
  }
  const buf = Buffer.from(bytes);
  return isUtf8(buf) ? buf.toString('utf8') : buf.toString('latin1');
}

const HEX = '0123456789ABCDEF';

/** %-encode every character of s that `ok` does not allow. */
function pctEncode(s: string, ok: Uint8Array): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || ok[c] !== 1) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      out += ok[c] === 1 ? s[i] : '%' + HEX[c >> 4] + HEX[c & 15];
      continue;
    }
    // Surrogate pairs must be encoded together.
    const cp = s.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    for (const b of Buffer.from(ch, 'utf8')) out += '%' + HEX[b >> 4] + HEX[b & 15];
    i += ch.length - 1;
  }
  return out;
}

/** Reject characters that can never appear unescaped inside a URI. */
function hasForbidden(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return true;
  }
  return false;
}

/**
 * Parse a URI. sip: and sips: are decoded fully; any other scheme (tel:, im:,
 * http:, "soap.beep:") is kept opaque in `host`. Returns undefined when the
 * text is not a URI (no scheme, whitespace, bad host or port, ...).
 */
export function parseUri(s: string): SipUri | undefined {
  // Fast path for the schemes nearly every URI has.
  const c0 = s.charCodeAt(0) | 0x20;
  if (c0 === 0x73 && (s.charCodeAt(1) | 0x20) === 0x69 && (s.charCodeAt(2) | 0x20) === 0x70) {
    const c3 = s.charCodeAt(3);
    if (c3 === 0x3a) return parseSipUri(s, 'sip', 4);
    if ((c3 | 0x20) === 0x73 && s.charCodeAt(4) === 0x3a) return parseSipUri(s, 'sips', 5);
  }
  const colon = s.indexOf(':');
  if (colon <= 0 || !isAlpha(s.charCodeAt(0))) return undefined;
  for (let i = 1; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) return undefined;
  }
  const scheme = lowerSlice(s, 0, colon);
  if (colon + 1 >= s.length || hasForbidden(s, colon + 1, s.length)) return undefined;
  return { scheme, host: s.slice(colon + 1), params: new Map(), headers: new Map() };
}

function isForbidden(c: number): boolean {
  return c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22;
}

function parseSipUri(s: string, scheme: string, p: number): SipUri | undefined {
  const end = s.length;
  let user: string | undefined;
  let password: string | undefined;
  // Userinfo cannot contain an unescaped '@', and the host part cannot either,
  // so the first '@' ends it even when the user holds ';' or '?' (RFC 4475 semiuri).
  const at = s.indexOf('@', p);
  if (at >= 0) {
    if (at === p || hasForbidden(s, p, at)) return undefined;
    const pw = s.indexOf(':', p);
    if (pw >= 0 && pw < at) {
      user = pctDecode(s.slice(p, pw));
      password = pctDecode(s.slice(pw + 1, at));
    } else {
      user = pctDecode(s.slice(p, at));
    }
    p = at + 1;
  }
  let host: string;
  if (s.charCodeAt(p) === 0x5b) {
    const rb = s.indexOf(']', p);
    if (rb < 0 || rb === p + 1) return undefined;
    for (let i = p + 1; i < rb; i++) if (!isIpv6Char(s.charCodeAt(i))) return undefined;
    host = lowerSlice(s, p, rb + 1);
    p = rb + 1;
  } else {
    host = readHost(s, p);
    if (host.length === 0) return undefined;
    p += host.length;
  }
  let port: number | undefined;
  if (s.charCodeAt(p) === 0x3a) {
    const a = ++p;
    let n = 0;
    while (p < end && isDigit(s.charCodeAt(p))) {
      n = n * 10 + s.charCodeAt(p) - 0x30;
      if (n > 65535) return undefined;
      p++;
    }
    if (p === a) return undefined;
    port = n;
  }
  const params: Params = new Map();
  while (p < end && s.charCodeAt(p) === 0x3b) {
    const a = ++p;
    let eq = -1;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c === 0x3b || c === 0x3f) break;
      if (isForbidden(c)) return undefined;
      if (c === 0x3d && eq < 0) eq = p;
      p++;
    }
    const ne = eq < 0 ? p : eq;
    if (ne === a) return undefined;
    const name = s.indexOf('%', a) < 0 || s.indexOf('%', a) >= ne ? lowerSlice(s, a, ne) : pctDecode(s.slice(a, ne)).toLowerCase();
    if (!params.has(name)) params.set(name, eq < 0 ? null : pctDecode(s.slice(eq + 1, p)));
  }
  const headers = new Map<string, string>();
  if (p < end && s.charCodeAt(p) === 0x3f) {
    p++;
    if (hasForbidden(s, p, end)) return undefined;
    for (const part of s.slice(p).split('&')) {
      if (part.length === 0) continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (name.length === 0) return undefined;
      headers.set(name, eq < 0 ? '' : pctDecode(part.slice(eq + 1)));
    }
    p = end;
  }
  if (p !== end) return undefined;
  const uri: SipUri = { scheme, host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

function isSip(uri: SipUri): boolean {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

/** Wire form of a URI; user, password, parameters and headers are re-escaped canonically. */
export function formatUri(uri: SipUri): string {
  if (!isSip(uri)) return uri.scheme + ':' + uri.host;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += pctEncode(uri.user, USER_OK);
    if (uri.password !== undefined) out += ':' + pctEncode(uri.password, PASSWORD_OK);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += ':' + uri.port;
  for (const [name, value] of uri.params) {
    out += ';' + pctEncode(name, PARAM_OK);
    if (value !== null) out += '=' + pctEncode(value, PARAM_OK);
  }
  let sep = '?';
  for (const [name, value] of uri.headers) {
    out += sep + pctEncode(name, HNV_OK) + '=' + pctEncode(value, HNV_OK);
    sep = '&';
  }
  return out;
}

/** Parameters that, present in only one of two URIs, make them differ (RFC 3261 §19.1.4). */
const STRICT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'] as const;

function eqCi(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === b) return true;
  if (a == null || b == null) return false;
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

/**
 * URI equivalence per RFC 3261 §19.1.4: userinfo case-sensitive (after
 * unescaping), host case-insensitive, a port or strict parameter present on one
 * side only makes them differ, other parameters only count when both carry
 * them, and URI headers must match exactly. Non-SIP schemes compare the opaque
 * part (case-insensitively for tel, exactly otherwise).
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (!isSip(a)) return a.scheme === 'tel' ? eqCi(a.host, b.host) : a.host === b.host;
  if (a.user !== b.user || a.password !== b.password) return false;
  if (a.host !== b.host || a.port !== b.port) return false;
  for (const k of STRICT_PARAMS) {
    if (a.params.has(k) !== b.params.has(k)) return false;
    if (!eqCi(a.params.get(k), b.params.get(k))) return false;
  }
  for (const [k, v] of a.params) {
    if (b.params.has(k) && !eqCi(v, b.params.get(k))) return false;
  }
  if (a.headers.size !== b.headers.size) return false;
  for (const [k, v] of a.headers) {
    let found = false;
    for (const [k2, v2] of b.headers) {
      if (eqCi(k, k2) && v === v2) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/**
 * Canonical address-of-record key: "scheme:user@host[:port]" with the user
 * re-escaped canonically (so "%75ser" and "user" agree, and "%00" stays
 * distinct from nothing), host lower-case, parameters and headers dropped, and
 * the port only when it is not the scheme's default. Non-SIP schemes give
 * "scheme:opaque".
 */
export function aorOf(uri: SipUri): string {
  if (!isSip(uri)) return uri.scheme + ':' + uri.host;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) out += pctEncode(uri.user, USER_OK) + '@';
  out += uri.host;
  const dflt = uri.scheme === 'sips' ? 5061 : 5060;
  if (uri.port !== undefined && uri.port !== dflt) out += ':' + uri.port;
  return out;
}

/** Deep copy, for code that wants to change a URI taken from a message. */
export function cloneUri(uri: SipUri): SipUri {
  const out: SipUri = { scheme: uri.scheme, host: uri.host, params: new Map(uri.params), headers: new Map(uri.headers) };
  if (uri.user !== undefined) out.user = uri.user;
  if (uri.password !== undefined) out.password = uri.password;
  if (uri.port !== undefined) out.port = uri.port;
  return out;
}

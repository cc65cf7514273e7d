// auth-param syntax of Authorization / WWW-Authenticate values (RFC 7235
// §2.1, as RFC 3261 §25 and RFC 7616 use it). Hand-written scanner: these
// headers are parsed on every authenticated request, and input comes from the
// network, so it must be cheap, bounded and never throw. This is the one
// parser of that syntax; headers.ts (parseAuthParams) delegates here.

import { unescapeQuoted } from './syntax.ts';

export interface AuthHeader {
  /** Scheme as written ("Digest"); compare case-insensitively. */
  scheme: string;
  /** Lower-case parameter name -> unquoted, unescaped value. Empty for the token68 form. */
  params: Map<string, string>;
  /** The token68 form (e.g. "Bearer mF_9.B5f-4.1JqM"), only when the parse options allow it. */
  token68?: string;
}

export interface AuthParseOptions {
  /**
   * Accept `scheme token68` (RFC 7235 §2.1) besides `scheme auth-params`.
   * Default false: SIP digest never uses it, and there "Digest abc" is junk.
   */
  token68?: boolean;
}

const MAX_AUTH_HEADER = 8192;
const MAX_AUTH_PARAMS = 32;

function isTchar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
    c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
}
const isWs = (c: number): boolean => c === 0x20 || c === 0x09;

/** ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/": the body of a token68. */
function isToken68Char(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2b || c === 0x2f;
}

/** The token68 starting at value[i] when it runs to the end (trailing whitespace allowed), else undefined. */
function token68At(value: string, i: number): string | undefined {
  const n = value.length;
  const start = i;
  while (i < n && isToken68Char(value.charCodeAt(i))) i++;
  if (i === start) return undefined;
  while (i < n && value.charCodeAt(i) === 0x3d) i++;
  const end = i;
  while (i < n && isWs(value.charCodeAt(i))) i++;
  return i === n ? value.slice(start, end) : undefined;
}

/**
 * Parse `scheme name=value, name="quoted \"value\""`. Tolerates extra
 * whitespace, empty list elements and unquoted values holding non-token
 * characters (some phones send unquoted base64 nonces). Returns undefined on
 * anything else, on duplicate parameters and on oversized input; never throws.
 * With opts.token68, `scheme token68` parses too. A string that fits token68
 * can never be a valid auth-param list, so trying it first is unambiguous.
 */
export function parseAuthHeader(value: string, opts?: AuthParseOptions): AuthHeader | undefined {
  if (typeof value !== 'string' || value.length > MAX_AUTH_HEADER) return undefined;
  const n = value.length;
  let i = 0;
  while (i < n && isWs(value.charCodeAt(i))) i++;
  const schemeStart = i;
  while (i < n && isTchar(value.charCodeAt(i))) i++;
  if (i === schemeStart) return undefined;
  const scheme = value.slice(schemeStart, i);
  if (i < n && !isWs(value.charCodeAt(i))) return undefined;
  const params = new Map<string, string>();
  if (opts?.token68 === true) {
    while (i < n && isWs(value.charCodeAt(i))) i++;
    const t = token68At(value, i);
    if (t !== undefined) return { scheme, params, token68: t };
  }
  for (;;) {
    while (i < n && (isWs(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    if (i >= n) return { scheme, params };
    const nameStart = i;
    while (i < n && isTchar(value.charCodeAt(i))) i++;
    if (i === nameStart) return undefined;
    const name = value.slice(nameStart, i).toLowerCase();
    while (i < n && isWs(value.charCodeAt(i))) i++;
    if (value.charCodeAt(i) !== 0x3d) return undefined; // '='
    i++;
    while (i < n && isWs(value.charCodeAt(i))) i++;
    let v: string;
    if (value.charCodeAt(i) === 0x22) { // quoted-string
      i++;
      const start = i;
      let escaped = false;
      while (i < n) {
        const c = value.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c) { escaped = true; i++; }
        i++;
      }
      if (i >= n) return undefined; // unterminated (or a trailing lone backslash)
      v = escaped ? unescapeQuoted(value.slice(start, i)) : value.slice(start, i);
      i++;
    } else {
      const start = i;
      while (i < n) {
        const c = value.charCodeAt(i);
        if (c === 0x2c || c === 0x22 || isWs(c)) break;
        i++;
      }
      if (i === start) return undefined;
      v = value.slice(start, i);
    }
    while (i < n && isWs(value.charCodeAt(i))) i++;
    if (i < n && value.charCodeAt(i) !== 0x2c) return undefined;
    if (params.has(name) || params.size >= MAX_AUTH_PARAMS) return undefined;
    params.set(name, v);
  }
}

/** Quoting is the one of src/sip/syntax.ts (escapes, control characters dropped). */
export { quote } from './syntax.ts';

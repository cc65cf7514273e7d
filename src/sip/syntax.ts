// Low-level lexical helpers shared by the parser and the header helpers.
// Character classes are lookup tables because the parser asks these questions
// once per octet; everything works on char codes so no substring is built
// until a value is known to be needed.

const TOKEN = new Uint8Array(128);
const HOST = new Uint8Array(128);
const IPV6 = new Uint8Array(128);

function fill(table: Uint8Array, chars: string): void {
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
fill(TOKEN, ALNUM + "-.!%*_+`'~");
// '_' is not legal in a hostname but real devices send it; accepting it costs nothing.
fill(HOST, ALNUM + '-._');
// 2 marks upper-case letters so one scan both delimits and tells whether to lower-case.
for (let c = 0x41; c <= 0x5a; c++) {
  HOST[c] = 2;
  TOKEN[c] = 2;
}
fill(IPV6, '0123456789abcdefABCDEF:.');

export const SP = 0x20;
export const HT = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;

export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] !== 0;
}

/**
 * The hostname (or IPv4 address) starting at s[a], lower-cased; '' when there
 * is none. Lower-casing keeps ASCII lengths, so it ends at a + result.length.
 */
export function readHost(s: string, a: number): string {
  let i = a;
  let upper = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? (HOST[c] as number) : 0;
    if (k === 0) break;
    upper |= k;
    i++;
  }
  const out = s.slice(a, i);
  return upper & 2 ? out.toLowerCase() : out;
}

/** Like readHost for a token (parameter names): lower-cased, ends at a + result.length. */
export function readLowerToken(s: string, a: number): string {
  let i = a;
  let upper = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? (TOKEN[c] as number) : 0;
    if (k === 0) break;
    upper |= k;
    i++;
  }
  const out = s.slice(a, i);
  return upper & 2 ? out.toLowerCase() : out;
}

export function isIpv6Char(c: number): boolean {
  return c < 128 && IPV6[c] === 1;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isWs(c: number): boolean {
  return c === SP || c === HT;
}

export function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Index of the first non SP/HT character at or after i. */
export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HT) break;
    i++;
  }
  return i;
}

/** End index of the token starting at i (i itself when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/** True when s is a non-empty token (method names, header names, option tags). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  return scanToken(s, 0) === s.length;
}

/**
 * s[i] must be '"'. Returns the index just after the closing quote, or -1 when
 * the string is unterminated. A backslash escapes any following character.
 */
export function scanQuoted(s: string, i: number): number {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      i += 2;
      continue;
    }
    if (c === 0x22) return i + 1;
    // CR and LF cannot survive unfolding legitimately; a bare one is an attack or garbage.
    if (c === CR || c === LF) return -1;
    i++;
  }
  return -1;
}

/** Strip surrounding quotes and resolve backslash escapes; non-quoted input comes back unchanged. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  const inner = s.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : unescapeQuoted(inner);
}

/** Resolve quoted-pair escapes in the inside of a quoted string. */
export function unescapeQuoted(inner: string): string {
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '\\' && i + 1 < inner.length) {
      i++;
      out += inner[i];
    } else {
      out += ch;
    }
  }
  return out;
}

/** Wrap s as a quoted-string, escaping quote and backslash and dropping control characters. */
export function quote(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) {
    const c = s.charCodeAt(i);
    plain = c !== 0x22 && c !== 0x5c && !isCtl(c);
  }
  if (plain) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters are dropped, not escaped: a CR/LF must never reach the wire (header injection).
    if (isCtl(c)) continue;
    out += c === 0x22 || c === 0x5c ? '\\' + s[i] : s[i];
  }
  return out + '"';
}

const isCtl = (c: number): boolean => (c < 0x20 && c !== 0x09) || c === 0x7f;

/** s.slice(a, b) lower-cased, without the toLowerCase pass when it has no upper-case ASCII. */
export function lowerSlice(s: string, a: number, b: number): string {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) return s.slice(a, b).toLowerCase();
  }
  return s.slice(a, b);
}

/** Trim SP/HT only (String.prototype.trim also eats Unicode spaces that may be data). */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Parse a run of decimal digits s[a..b) no bigger than max. Returns -1 when
 * the run is empty, holds a non-digit, or exceeds max (checked while reading,
 * so huge inputs never overflow).
 */
export function parseDecimal(s: string, a: number, b: number, max: number): number {
  if (a >= b) return -1;
  let n = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
    if (n > max) return -1;
  }
  return n;
}

/**
 * Split a header value at top-level commas: commas inside quoted strings or
 * <...> do not split. Items are trimmed; empty items are kept so callers can
 * reject them where the grammar forbids them.
 */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inAngle = false;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      const j = scanQuoted(s, i);
      if (j < 0) break;
      i = j;
      continue;
    }
    if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      out.push(trimWs(s.slice(start, i)));
      start = i + 1;
    }
    i++;
  }
  out.push(trimWs(s.slice(start)));
  return out;
}

/**
 * A copy of s that does not share memory with the message it was cut from.
 * V8 keeps a whole message's text alive for as long as any slice of it lives,
 * so values stored for minutes (a binding's Call-ID, a tracked nonce) are
 * detached first; values used only while a message is handled need not be.
 */
export function detachString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

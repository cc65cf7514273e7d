// Header parameters (";name=value" after Via, name-addr, Content-Type, ...).
// Values are kept as written, quotes included, so a registrar can echo
// "+sip.instance" or feature tags back byte for byte; use unquote() to read
// a quoted value.

import type { Params } from './message.ts';
import { isTokenChar, readLowerToken, scanQuoted, skipWs, trimWs } from './syntax.ts';

/**
 * Parse ";name[=value]..." starting at s[i] into `out` (LWS allowed around
 * ';' and '='). Names are lower-cased; the first occurrence of a name wins.
 * Returns the index of the first character after the list (a ',', the end,
 * or whatever follows), or -1 on a syntax error: empty name, '=' without a
 * value, unterminated quoted string.
 */
export function parseParamsAt(s: string, i: number, out: Params): number {
  const len = s.length;
  for (;;) {
    const j = skipWs(s, i);
    if (j >= len || s.charCodeAt(j) !== 0x3b) return i;
    i = skipWs(s, j + 1);
    const name = readLowerToken(s, i);
    if (name.length === 0) return -1;
    const ne = i + name.length;
    i = skipWs(s, ne);
    let value: string | null = null;
    if (i < len && s.charCodeAt(i) === 0x3d) {
      i = skipWs(s, i + 1);
      const vs = i;
      if (s.charCodeAt(i) === 0x22) {
        i = scanQuoted(s, i);
        if (i < 0) return -1;
      } else {
        while (i < len) {
          const c = s.charCodeAt(i);
          if (c === 0x3b || c === 0x2c || c <= 0x20 || c === 0x7f || c === 0x22) break;
          i++;
        }
        if (i === vs) return -1;
      }
      value = s.slice(vs, i);
    } else {
      // Without '=', the name must be followed by a separator, not by junk.
      i = ne;
    }
    if (!out.has(name)) out.set(name, value);
  }
}

/**
 * Parse a whole parameter string, with or without the leading ';'
 * ("a=b;c" or ";a=b;c"). Undefined when it is not a clean parameter list.
 */
export function parseParams(s: string): Params | undefined {
  const out: Params = new Map();
  let start = skipWs(s, 0);
  if (start >= s.length) return out;
  if (s.charCodeAt(start) !== 0x3b) {
    s = ';' + s.slice(start);
    start = 0;
  }
  const end = parseParamsAt(s, start, out);
  if (end < 0 || skipWs(s, end) !== s.length) return undefined;
  return out;
}

/**
 * Split "value;p1=a;p2" (Content-Type, Event, Subscription-State, Reason,
 * Retry-After, ...) into the leading value and its parameters. Undefined on
 * a malformed parameter list or an empty value.
 */
export function parseValueWithParams(s: string): { value: string; params: Params } | undefined {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x3b) break;
    if (c === 0x22) {
      const j = scanQuoted(s, i);
      if (j < 0) return undefined;
      i = j;
      continue;
    }
    i++;
  }
  const value = trimWs(s.slice(0, i));
  if (value.length === 0) return undefined;
  const params: Params = new Map();
  const end = parseParamsAt(s, i, params);
  if (end < 0 || skipWs(s, end) !== s.length) return undefined;
  return { value, params };
}

function needsQuoting(v: string): boolean {
  if (v.length === 0) return true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    // Hosts and IPv6 references ([, ], :) are legal unquoted gen-values.
    if (!isTokenChar(c) && c !== 0x3a && c !== 0x5b && c !== 0x5d) return true;
  }
  return false;
}

/**
 * ";name=value" list. Values already quoted are written as they are; a value
 * that is not a token/host gets quoted so the output always re-parses.
 */
export function formatParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) {
    out += ';' + name;
    if (value === null) continue;
    if (value.charCodeAt(0) === 0x22 && value.length >= 2 && scanQuoted(value, 0) === value.length) {
      out += '=' + value;
    } else if (needsQuoting(value)) {
      out += '="' + value.replace(/["\\]/g, '\\$&') + '"';
    } else {
      out += '=' + value;
    }
  }
  return out;
}


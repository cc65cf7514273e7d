// name-addr / addr-spec values (From, To, Contact, Route, Record-Route,
// Refer-To, P-Asserted-Identity, ...), RFC 3261 §20.10 and §25.1.
//
// In the addr-spec form (no <>) everything after the first ';' belongs to the
// header, not the URI: "To: sip:a@b;tag=1" has a To tag, and a Contact
// "sip:a@b;unknownparam" has a contact-param (RFC 4475 cparam01).

import type { NameAddr, Params } from './message.ts';
import { formatParams, parseParamsAt } from './params.ts';
import { isTokenChar, isWs, quote, scanQuoted, skipWs, trimWs, unescapeQuoted } from './syntax.ts';
import { formatUri, parseUri } from './uri.ts';

/**
 * Parse one name-addr or addr-spec with its header parameters starting at
 * s[i]. In a list the value may end at a ','. Returns the value and the index
 * where parsing stopped (the ',' or the end), or undefined on a syntax error.
 */
export function parseNameAddrAt(s: string, i: number, inList: boolean): { value: NameAddr; end: number } | undefined {
  const len = s.length;
  i = skipWs(s, i);
  let displayName: string | undefined;
  let angle = false;
  if (s.charCodeAt(i) === 0x22) {
    const j = scanQuoted(s, i);
    if (j < 0) return undefined;
    const inner = s.slice(i + 1, j - 1);
    displayName = inner.indexOf('\\') < 0 ? inner : unescapeQuoted(inner);
    i = skipWs(s, j);
    if (s.charCodeAt(i) !== 0x3c) return undefined;
    angle = true;
  } else {
    // A display name made of tokens (RFC 4475 lwsdisp: none of the LWS before '<'
    // is required). Octets >= 0x80 are tolerated: phones send unquoted UTF-8 names.
    let j = i;
    while (j < len) {
      const c = s.charCodeAt(j);
      if (!isTokenChar(c) && !isWs(c) && c < 0x80) break;
      j++;
    }
    if (s.charCodeAt(j) === 0x3c) {
      const dn = trimWs(s.slice(i, j));
      if (dn.length > 0) displayName = dn;
      i = j;
      angle = true;
    }
  }
  let uriText: string;
  if (angle) {
    const gt = s.indexOf('>', i + 1);
    if (gt < 0) return undefined;
    // No LWS inside the brackets (RFC 3261 LAQUOT/RAQUOT; RFC 4475 badaspec):
    // accepting it would give the invalid badaspec OPTIONS a 200.
    uriText = s.slice(i + 1, gt);
    if (uriText !== trimWs(uriText)) return undefined;
    i = gt + 1;
  } else {
    const a = i;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c === 0x3b || c <= 0x20 || c === 0x3c || c === 0x3e || c === 0x22 || (inList && c === 0x2c)) break;
      i++;
    }
    uriText = s.slice(a, i);
  }
  const uri = parseUri(uriText);
  if (uri === undefined) return undefined;
  const params: Params = new Map();
  const pe = parseParamsAt(s, i, params);
  if (pe < 0) return undefined;
  const end = skipWs(s, pe);
  if (end < len && !(inList && s.charCodeAt(end) === 0x2c)) return undefined;
  const value: NameAddr = { uri, params };
  if (displayName !== undefined) value.displayName = displayName;
  return { value, end };
}

/** Parse a single-valued name-addr header (From, To, Refer-To, ...). */
export function parseNameAddr(s: string): NameAddr | undefined {
  return parseNameAddrAt(s, 0, false)?.value;
}

/**
 * Parse a comma list of name-addrs (Contact, Route, Record-Route, Path, ...).
 * Returns '*' for the wildcard Contact of a REGISTER that removes all
 * bindings, undefined when any element is malformed or empty.
 */
export function parseNameAddrList(s: string): NameAddr[] | '*' | undefined {
  const t = trimWs(s);
  if (t === '*') return '*';
  const out: NameAddr[] = [];
  let i = 0;
  for (;;) {
    const r = parseNameAddrAt(t, i, true);
    if (r === undefined) return undefined;
    out.push(r.value);
    if (r.end >= t.length) return out;
    i = r.end + 1;
  }
}

/** Wire form: always the <> form, display name always quoted, so any URI stays unambiguous. */
export function formatNameAddr(na: NameAddr): string {
  let out = '';
  if (na.displayName !== undefined && na.displayName.length > 0) out = quote(na.displayName) + ' ';
  return out + '<' + formatUri(na.uri) + '>' + formatParams(na.params);
}

/** The tag parameter of a From/To value, if any. */
export function tagOf(na: NameAddr): string | undefined {
  const t = na.params.get('tag');
  return t == null ? undefined : t;
}

// On-demand access to headers the parser leaves raw, and the only sanctioned
// way to modify a message's headers: these helpers keep the decoded views
// (via, from, to, callId, cseq, maxForwards) in sync with headers[], which is
// what the serializer writes. Header objects are never edited in place
// (responses share them with their request); lines are replaced instead.
//
// Names may be given in any case or compact form ("v", "Via", "VIA").

import type { Header, NameAddr, SipMessage, SipRequest, SipUri, Via } from './message.ts';
import { canonicalHeaderName, isListHeader } from './header-names.ts';
import { formatNameAddr, parseNameAddr, parseNameAddrList } from './name-addr.ts';
import { isCallId, parseCSeq } from './parser.ts';
import { parseDecimal, splitTopLevel, trimWs, unquote } from './syntax.ts';
import { formatUri, parseUri } from './uri.ts';
import { formatVia, parseViaList } from './via.ts';
import { parseAuthHeader } from './auth-params.ts';
import type { AuthHeader, AuthParseOptions } from './auth-params.ts';

export { parseNameAddr, parseNameAddrList, formatNameAddr, tagOf } from './name-addr.ts';
export { parseParams, parseValueWithParams, formatParams } from './params.ts';
export { parseVia, formatVia } from './via.ts';
export { canonicalHeaderName, wireHeaderName, isListHeader } from './header-names.ts';
export { unquote, quote } from './syntax.ts';

/** Raw value of the first line with this name (a list header's line is NOT split), or undefined. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const canon = canonicalHeaderName(name);
  for (const h of msg.headers) if (h.name === canon) return h.value;
  return undefined;
}

/**
 * Every value of a header in wire order. For list headers (Via, Contact,
 * Route, Supported, ...) each line is split at top-level commas (not inside
 * quotes or <>) and empty elements dropped; other headers give one value per line.
 */
export function getHeaders(msg: SipMessage, name: string): string[] {
  const canon = canonicalHeaderName(name);
  const split = isListHeader(canon);
  const out: string[] = [];
  for (const h of msg.headers) {
    if (h.name !== canon) continue;
    if (!split || h.value.indexOf(',') < 0) {
      if (h.value.length > 0 || !split) out.push(h.value);
      continue;
    }
    for (const part of splitTopLevel(h.value)) if (part.length > 0) out.push(part);
  }
  return out;
}

export function hasHeader(msg: SipMessage, name: string): boolean {
  return getHeader(msg, name) !== undefined;
}

const SINGLE_VIEWS: ReadonlySet<string> = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards']);

/**
 * Decode `value` into the view field for `canon`, without touching the
 * message yet. Returns false when the value cannot be decoded, so callers can
 * refuse the change and leave the message consistent.
 */
function applyView(msg: SipMessage, canon: string, value: string, dryRun: boolean): boolean {
  switch (canon) {
    case 'from':
    case 'to': {
      const na = parseNameAddr(value);
      if (na === undefined) return false;
      if (!dryRun) msg[canon] = na;
      return true;
    }
    case 'call-id':
      if (!isCallId(value)) return false;
      if (!dryRun) msg.callId = value;
      return true;
    case 'cseq': {
      const c = parseCSeq(value);
      if (c === undefined) return false;
      if (!dryRun) msg.cseq = c;
      return true;
    }
    case 'max-forwards': {
      const n = parseDecimal(value, 0, value.length, 255);
      if (n < 0) return false;
      if (!dryRun && msg.kind === 'request') msg.maxForwards = n;
      return true;
    }
    default:
      return true;
  }
}

/**
 * Replace every line of `name` by one line with `value`, at the position of
 * the first (appended when absent). For a decoded header the view is updated;
 * returns false (message unchanged) when the value does not parse.
 */
export function setHeader(msg: SipMessage, name: string, value: string): boolean {
  const canon = canonicalHeaderName(name);
  let vias: Via[] | undefined;
  if (canon === 'via') {
    vias = [];
    if (!parseViaList(value, vias)) return false;
  } else if (!applyView(msg, canon, value, true)) {
    return false;
  }
  const out: Header[] = [];
  let placed = false;
  for (const h of msg.headers) {
    if (h.name !== canon) out.push(h);
    else if (!placed) {
      out.push({ name: canon, value });
      placed = true;
    }
  }
  if (!placed) out.push({ name: canon, value });
  msg.headers = out;
  if (vias !== undefined) msg.via = vias;
  else applyView(msg, canon, value, false);
  return true;
}

/**
 * Add a line. `first` puts it before the existing lines of that name (a
 * proxy's Record-Route), otherwise after the last one (or at the end). Adding
 * a second From/To/Call-ID/CSeq/Max-Forwards is refused (false), as is a
 * value that does not parse for a decoded header.
 */
export function addHeader(msg: SipMessage, name: string, value: string, opts?: { first?: boolean }): boolean {
  const canon = canonicalHeaderName(name);
  const headers = msg.headers;
  let firstAt = -1;
  let lastAt = -1;
  for (let i = 0; i < headers.length; i++) {
    if ((headers[i] as Header).name === canon) {
      if (firstAt < 0) firstAt = i;
      lastAt = i;
    }
  }
  if (SINGLE_VIEWS.has(canon) && firstAt >= 0) return false;
  let vias: Via[] | undefined;
  if (canon === 'via') {
    vias = [];
    if (!parseViaList(value, vias)) return false;
  } else if (!applyView(msg, canon, value, true)) {
    return false;
  }
  const first = opts?.first === true;
  const at = firstAt < 0 ? headers.length : first ? firstAt : lastAt + 1;
  msg.headers = headers.slice(0, at).concat({ name: canon, value }, headers.slice(at));
  if (vias !== undefined) msg.via = first ? vias.concat(msg.via) : msg.via.concat(vias);
  else applyView(msg, canon, value, false);
  return true;
}

/**
 * Remove every line of `name`; returns how many went. From, To, Call-ID and
 * CSeq are mandatory and cannot be removed (returns 0).
 */
export function removeHeader(msg: SipMessage, name: string): number {
  const canon = canonicalHeaderName(name);
  if (canon === 'from' || canon === 'to' || canon === 'call-id' || canon === 'cseq') return 0;
  const out = msg.headers.filter((h) => h.name !== canon);
  const n = msg.headers.length - out.length;
  msg.headers = out;
  if (canon === 'via') msg.via = [];
  else if (canon === 'max-forwards' && msg.kind === 'request') delete msg.maxForwards;
  return n;
}

/** Put a Via on top (a proxy or UAC sending a request). */
export function pushVia(msg: SipMessage, via: Via): void {
  const headers = msg.headers;
  let at = headers.findIndex((h) => h.name === 'via');
  if (at < 0) at = 0;
  msg.headers = headers.slice(0, at).concat({ name: 'via', value: formatVia(via) }, headers.slice(at));
  msg.via = [via].concat(msg.via);
}

/** Remove the top Via value (a proxy forwarding a response), even when it shares a line with others. */
export function popVia(msg: SipMessage): Via | undefined {
  const headers = msg.headers;
  const at = headers.findIndex((h) => h.name === 'via');
  if (at < 0) return undefined;
  const parts = splitTopLevel((headers[at] as Header).value);
  const rest = parts.slice(1).filter((p) => p.length > 0);
  const out = headers.slice();
  if (rest.length === 0) out.splice(at, 1);
  else out[at] = { name: 'via', value: rest.join(', ') };
  msg.headers = out;
  const [top, ...others] = msg.via;
  msg.via = others;
  return top;
}

/** Replace the top Via value (a server annotating what its responses will echo), even when it shares a line with others. */
export function setTopVia(msg: SipMessage, via: Via): void {
  const headers = msg.headers;
  const at = headers.findIndex((h) => h.name === 'via');
  if (at < 0) return;
  const parts = splitTopLevel((headers[at] as Header).value);
  parts[0] = formatVia(via);
  const out = headers.slice();
  out[at] = { name: 'via', value: parts.join(', ') };
  msg.headers = out;
  msg.via = [via].concat(msg.via.slice(1));
}

/** Set the To tag (a UAS answering), rewriting the To line. */
export function setToTag(msg: SipMessage, tag: string): void {
  const raw = getHeader(msg, 'to');
  const hadTag = msg.to.params.has('tag');
  const to: NameAddr = { ...msg.to, params: new Map(msg.to.params).set('tag', tag) };
  const value = raw !== undefined && !hadTag ? raw + ';tag=' + tag : formatNameAddr(to);
  setHeader(msg, 'to', value);
}

/** Change the Request-URI, keeping uri and uriRaw in step. False when a string does not parse. */
export function setRequestUri(req: SipRequest, uri: SipUri | string): boolean {
  if (typeof uri === 'string') {
    const u = parseUri(uri);
    if (u === undefined) return false;
    req.uri = u;
    req.uriRaw = uri;
  } else {
    req.uri = uri;
    req.uriRaw = formatUri(uri);
  }
  return true;
}

/** All Contact values of the message: '*', the list (possibly empty), or undefined when one is malformed. */
export function getContacts(msg: SipMessage): NameAddr[] | '*' | undefined {
  const out: NameAddr[] = [];
  let star = false;
  for (const h of msg.headers) {
    if (h.name !== 'contact') continue;
    const r = parseNameAddrList(h.value);
    if (r === undefined) return undefined;
    if (r === '*') star = true;
    else out.push(...r);
  }
  if (star) return out.length === 0 ? '*' : undefined;
  return out;
}

/**
 * Option tags, methods, encodings: comma list of trimmed non-empty items as
 * written. Accepts one raw value or several (e.g. getHeaders(msg, 'supported')).
 */
export function parseTokenList(value: string | readonly string[] | undefined): string[] {
  const out: string[] = [];
  if (value === undefined) return out;
  const values = typeof value === 'string' ? [value] : value;
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = trimWs(part);
      if (t.length > 0) out.push(t);
    }
  }
  return out;
}

const MAX_DELTA = 0xffffffff;

/** delta-seconds; values beyond 2^32-1 are clamped to it (RFC 3261 §27 / RFC 4475 scalar02). */
export function parseDeltaSeconds(s: string): number | undefined {
  const t = trimWs(unquote(trimWs(s)));
  if (t.length === 0) return undefined;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const v = t.length > 10 ? MAX_DELTA : Number(t);
  return v > MAX_DELTA ? MAX_DELTA : v;
}

/**
 * Expiry that applies to a binding: the contact's expires parameter when it
 * has a valid one, else the Expires header, else undefined (the registrar
 * applies its default). Malformed values count as absent.
 */
export function getExpires(msg: SipMessage, contact?: NameAddr): number | undefined {
  const p = contact?.params.get('expires');
  if (p != null) {
    const v = parseDeltaSeconds(p);
    if (v !== undefined) return v;
  }
  const h = getHeader(msg, 'expires');
  return h === undefined ? undefined : parseDeltaSeconds(h);
}

/** The q parameter of a Contact (0..1, at most 3 decimals), or undefined when absent or malformed. */
export function getQ(na: NameAddr): number | undefined {
  const q = na.params.get('q');
  if (q == null) return undefined;
  const n = Number(q);
  if (q.length === 0 || q.length > 5 || !Number.isFinite(n) || n < 0 || n > 1) return undefined;
  return n;
}

/** A parsed Authorization / WWW-Authenticate value; the same shape parseAuthHeader returns. */
export type AuthParams = AuthHeader;

const WITH_TOKEN68: AuthParseOptions = { token68: true };

/**
 * Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate
 * value: scheme then comma-separated name=value pairs (values quoted-string or
 * token), or scheme then one token68 (e.g. Bearer). Unknown schemes parse the
 * same way (RFC 4475 regaut01). Undefined when malformed, on duplicate
 * parameters and past the size limits of parseAuthHeader (auth-params.ts),
 * which this is.
 */
export function parseAuthParams(value: string): AuthParams | undefined {
  return parseAuthHeader(value, WITH_TOKEN68);
}

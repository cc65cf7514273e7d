// Request-Line and Status-Line (RFC 3261 §7.1, §7.2).
//
// Liberal where RFC 4475 allows it: several SP between elements (lwsstart)
// are accepted. Strict where it asks for rejection: a Request-URI in <>
// (ltgtruri) or with LWS inside (lwsruri, which splits into four elements),
// trailing SP after the version (trws: an OPTIONS accepted liberally would
// earn an invalid message a 2xx), status codes outside 100..699 (bigcode).

import type { SipUri } from './message.ts';
import { isToken, isWs } from './syntax.ts';
import { parseUri } from './uri.ts';

export interface StartLine {
  kind: 'request' | 'response';
  /** Request method; '' for responses or when unreadable. */
  method: string;
  uriRaw: string;
  uri: SipUri | undefined;
  status: number;
  reason: string;
  /** Set when the line is unusable; the message must be rejected. */
  error?: string;
  /** Status to answer with when `error` is set (505 for an unknown SIP version). */
  errorStatus: number;
}

/** "SIP/2.0" in any case; another "SIP/x.y" is a version we do not speak (505). */
function versionStatus(v: string): number {
  if (v === 'SIP/2.0') return 0;
  const u = v.toUpperCase();
  if (u === 'SIP/2.0') return 0;
  if (u.startsWith('SIP/')) {
    const dot = u.indexOf('.', 4);
    if (dot > 4 && dot < u.length - 1 && isDigits(u, 4, dot) && isDigits(u, dot + 1, u.length)) return 505;
  }
  return 400;
}

function isDigits(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return b > a;
}

function isResponseLine(line: string): boolean {
  const c0 = line.charCodeAt(0) | 0x20;
  const c1 = line.charCodeAt(1) | 0x20;
  const c2 = line.charCodeAt(2) | 0x20;
  return c0 === 0x73 && c1 === 0x69 && c2 === 0x70 && line.charCodeAt(3) === 0x2f;
}

export function parseStartLine(line: string): StartLine {
  const out: StartLine = { kind: 'request', method: '', uriRaw: '', uri: undefined, status: 0, reason: '', errorStatus: 400 };
  if (isResponseLine(line)) {
    out.kind = 'response';
    let i = 0;
    while (i < line.length && !isWs(line.charCodeAt(i))) i++;
    const vs = versionStatus(line.slice(0, i));
    if (vs !== 0) {
      out.error = vs === 505 ? 'Unsupported SIP version' : 'Malformed SIP version';
      out.errorStatus = vs;
      return out;
    }
    while (i < line.length && isWs(line.charCodeAt(i))) i++;
    const ds = i;
    let code = 0;
    while (i < line.length && i - ds < 4) {
      const c = line.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      code = code * 10 + c - 0x30;
      i++;
    }
    if (i - ds !== 3 || (i < line.length && !isWs(line.charCodeAt(i))) || code < 100 || code > 699) {
      out.error = 'Malformed status code';
      return out;
    }
    out.status = code;
    let rs = i;
    while (rs < line.length && isWs(line.charCodeAt(rs))) rs++;
    let re = line.length;
    while (re > rs && isWs(line.charCodeAt(re - 1))) re--;
    out.reason = line.slice(rs, re);
    return out;
  }

  // Request-Line: exactly three elements separated by SP (runs of SP tolerated).
  const sp1 = line.indexOf(' ');
  const method = sp1 < 0 ? line : line.slice(0, sp1);
  if (!isToken(method)) {
    out.error = 'Malformed Request-Line';
    return out;
  }
  out.method = method;
  let us = sp1 + 1;
  while (line.charCodeAt(us) === 0x20) us++;
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', us);
  if (sp2 < 0) {
    out.error = 'Malformed Request-Line';
    return out;
  }
  let vs0 = sp2 + 1;
  while (line.charCodeAt(vs0) === 0x20) vs0++;
  let ve = line.indexOf(' ', vs0);
  if (ve < 0) ve = line.length;
  else {
    // A fourth element (LWS inside the Request-URI, RFC 4475 lwsruri) or trailing SP (trws).
    out.error = 'Malformed Request-Line';
    return out;
  }
  const version = line.slice(vs0, ve);
  const vs = versionStatus(version);
  if (vs !== 0) {
    out.error = vs === 505 ? 'Unsupported SIP version' : 'Malformed SIP version';
    out.errorStatus = vs;
    return out;
  }
  const uriRaw = line.slice(us, sp2);
  out.uriRaw = uriRaw;
  out.uri = parseUri(uriRaw);
  if (out.uri === undefined) out.error = 'Malformed Request-URI';
  return out;
}

// SIP message parser (RFC 3261 §7, §18.3, §25; RFC 4475 torture cases).
//
// One pass over the header block: the start line and the headers every layer
// needs (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length) are
// decoded; every other header stays a raw string for headers.ts. The header
// block is decoded to a string once and scanned with indexOf/charCodeAt: no
// regex, no per-line Buffer work.
//
// Errors never throw: the first problem found is remembered, the remaining
// header lines are still collected (without decoding) so the caller can answer
// a broken request with 400 when Via, From, To, Call-ID and CSeq are there.

import type { CSeq, Header, NameAddr, ParseFailure, ParseLimits, ParseResult, SipMessage, SipUri, Via } from './message.ts';
import { DEFAULT_PARSE_LIMITS } from './message.ts';
import { matchHeaderName } from './header-names.ts';
import { parseNameAddr } from './name-addr.ts';
import { parseStartLine } from './start-line.ts';
import { CR, LF, isToken, isWs, parseDecimal, scanToken, skipWs } from './syntax.ts';
import { parseViaList } from './via.ts';

export { frameStream } from './framing.ts';
export type { FrameResult } from './framing.ts';

export interface ParseOptions {
  limits?: ParseLimits;
  /**
   * Stream transports (TCP/TLS): Content-Length is mandatory, the message ends
   * where its body ends (`consumed`), and the body is copied out of `buf` so
   * the transport may reuse its buffer. Frame with frameStream() first.
   */
  stream?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const MAX_CSEQ = 0x7fffffff;
const MAX_CONTENT_LENGTH = 0x7fffffff;

/**
 * Parse one SIP message. Datagram mode (default): `buf` is the whole datagram;
 * the body is Content-Length octets and anything after it is discarded
 * (RFC 3261 §18.3), or the rest of the datagram when there is no
 * Content-Length. Never throws.
 */
export function parseMessage(buf: Buffer, opts?: ParseOptions): ParseResult {
  try {
    return parse(buf, opts?.limits ?? DEFAULT_PARSE_LIMITS, opts?.stream === true);
  } catch {
    // Not expected on any input; kept so a parser bug cannot take a transport down.
    return { ok: false, reason: 'Unparseable message', status: 400 };
  }
}

function parse(buf: Buffer, limits: ParseLimits, stream: boolean): ParseResult {
  const total = buf.length;
  let start = 0;
  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  while (start < total && (buf[start] === CR || buf[start] === LF)) start++;
  if (start >= total) return { ok: false, reason: 'Empty message', status: 400 };

  let headEnd = buf.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  if (headEnd >= 0) {
    bodyStart = headEnd + 4;
  } else {
    const lf = findBareLfEnd(buf, start);
    if (lf >= 0) {
      headEnd = lf;
      bodyStart = buf[lf + 1] === CR ? lf + 3 : lf + 2;
    } else if (stream) {
      return { ok: false, reason: 'Incomplete message', status: 400 };
    } else {
      // A datagram whose header block lacks the empty line (RFC 5118 §4.10 archive
      // files): take the whole datagram as headers, nothing is lost by doing so.
      headEnd = total;
      bodyStart = total;
    }
  }
  let err: string | undefined;
  let status = 400;
  // In stream mode `buf` may hold later messages too; the size is checked once the body end is known.
  if (total - start > limits.maxMessageBytes && (!stream || headEnd - start > limits.maxMessageBytes)) {
    err = 'Message too large';
    status = 513;
  }

  const head = buf.toString('utf8', start, headEnd);
  const len = head.length;
  let nl = head.indexOf('\n');
  let lineEnd = nl < 0 ? len : nl;
  if (lineEnd > 0 && head.charCodeAt(lineEnd - 1) === CR) lineEnd--;
  if (lineEnd > limits.maxHeaderLineBytes) return { ok: false, reason: 'Start line too long', status: 400 };
  const sl = parseStartLine(head.slice(0, lineEnd));
  if (sl.error !== undefined && err === undefined) {
    err = sl.error;
    status = sl.errorStatus;
  }
  const isRequest = sl.kind === 'request';

  const headers: Header[] = [];
  const via: Via[] = [];
  let from: NameAddr | undefined;
  let to: NameAddr | undefined;
  let callId: string | undefined;
  let cseq: CSeq | undefined;
  let maxForwards: number | undefined;
  let contentLength = -1;
  let emptyLineAt = -1;
  let lineCount = 0;
  let nextColon = -1;
  let pos = nl < 0 ? len : nl + 1;

  while (pos < len) {
    nl = head.indexOf('\n', pos);
    let next = nl < 0 ? len : nl + 1;
    let hEnd = nl < 0 ? len : nl;
    if (hEnd > pos && head.charCodeAt(hEnd - 1) === CR) hEnd--;
    if (hEnd === pos) {
      // An empty line before the CRLFCRLF we found: a bare-LF message.
      emptyLineAt = next;
      break;
    }
    const hStart = pos;
    if (isWs(head.charCodeAt(hStart))) {
      err ??= 'Folded line without header';
      pos = next;
      continue;
    }
    let folded = false;
    while (next < len && isWs(head.charCodeAt(next))) {
      folded = true;
      nl = head.indexOf('\n', next);
      hEnd = nl < 0 ? len : nl;
      if (hEnd > next && head.charCodeAt(hEnd - 1) === CR) hEnd--;
      next = nl < 0 ? len : nl + 1;
    }
    pos = next;
    if (hEnd - hStart > limits.maxHeaderLineBytes) {
      err ??= 'Header line too long';
      break;
    }
    // Malformed lines count too: every search below is bounded by the line, and the
    // number of lines by this limit, so hostile input cannot make parsing quadratic.
    if (++lineCount > limits.maxHeaders) {
      err ??= 'Too many headers';
      break;
    }
    // The next ':' is searched once and reused while lines stay before it, so
    // colon-less lines cannot make the scan quadratic.
    if (nextColon < hStart) {
      nextColon = head.indexOf(':', hStart);
      if (nextColon < 0) nextColon = len;
    }
    const colon = nextColon;
    if (colon >= hEnd) {
      err ??= 'Malformed header line';
      continue;
    }
    let ne = colon;
    while (ne > hStart && isWs(head.charCodeAt(ne - 1))) ne--;
    let name = matchHeaderName(head, hStart, ne);
    if (name === undefined) {
      const rawName = head.slice(hStart, ne);
      if (!isToken(rawName)) {
        err ??= 'Malformed header name';
        continue;
      }
      name = rawName.toLowerCase();
    }
    let value: string;
    if (folded) {
      value = unfold(head.slice(colon + 1, hEnd));
    } else {
      let vs = colon + 1;
      let ve = hEnd;
      while (vs < ve && isWs(head.charCodeAt(vs))) vs++;
      while (ve > vs && isWs(head.charCodeAt(ve - 1))) ve--;
      value = head.slice(vs, ve);
    }
    headers.push({ name, value });
    if (err !== undefined) continue;

    switch (name) {
      case 'via':
        if (!parseViaList(value, via)) err = 'Malformed Via';
        break;
      case 'from':
        if (from !== undefined) err = 'Multiple From headers';
        else if ((from = parseNameAddr(value)) === undefined) err = 'Malformed From';
        break;
      case 'to':
        if (to !== undefined) err = 'Multiple To headers';
        else if ((to = parseNameAddr(value)) === undefined) err = 'Malformed To';
        break;
      case 'call-id':
        if (callId !== undefined) err = 'Multiple Call-ID headers';
        else if (!isCallId(value)) err = 'Malformed Call-ID';
        else callId = value;
        break;
      case 'cseq':
        if (cseq !== undefined) err = 'Multiple CSeq headers';
        else if ((cseq = parseCSeq(value)) === undefined) err = 'Malformed CSeq';
        break;
      case 'max-forwards':
        if (!isRequest) break;
        if (maxForwards !== undefined) err = 'Multiple Max-Forwards headers';
        else {
          const mf = parseDecimal(value, 0, value.length, 255);
          if (mf < 0) err = 'Malformed Max-Forwards';
          else maxForwards = mf;
        }
        break;
      case 'content-length': {
        const cl = parseDecimal(value, 0, value.length, MAX_CONTENT_LENGTH);
        if (cl < 0) err = 'Malformed Content-Length';
        else if (contentLength >= 0 && cl !== contentLength) err = 'Conflicting Content-Length headers';
        else contentLength = cl;
        break;
      }
    }
  }

  if (emptyLineAt >= 0) {
    // Located again in octets: string offsets differ from octet offsets once UTF-8 (or garbage) is involved.
    const lf = findBareLfEnd(buf, start);
    if (lf >= 0) bodyStart = buf[lf + 1] === CR ? lf + 3 : lf + 2;
  }

  if (err === undefined) {
    if (via.length === 0) err = 'Missing Via';
    else if (from === undefined) err = 'Missing From';
    else if (to === undefined) err = 'Missing To';
    else if (callId === undefined) err = 'Missing Call-ID';
    else if (cseq === undefined) err = 'Missing CSeq';
    else if (isRequest && cseq.method !== sl.method) err = 'CSeq method does not match Request-Line';
  }

  let bodyEnd = total;
  if (err === undefined) {
    const avail = total - bodyStart;
    if (contentLength < 0) {
      if (stream) err = 'Missing Content-Length';
    } else if (contentLength > avail) {
      err = stream ? 'Incomplete body' : 'Content-Length larger than datagram';
    } else {
      bodyEnd = bodyStart + contentLength;
    }
    if (stream && bodyEnd - start > limits.maxMessageBytes) {
      err = 'Message too large';
      status = 513;
    }
  }

  if (err !== undefined) return failure(err, status, isRequest ? sl.method : undefined, headers);

  const body = bodyEnd === bodyStart ? EMPTY : stream ? Buffer.from(buf.subarray(bodyStart, bodyEnd)) : buf.subarray(bodyStart, bodyEnd);
  // from/to/callId/cseq are known present here (checked above); the casts only tell the compiler.
  let message: SipMessage;
  if (isRequest) {
    message = {
      kind: 'request', method: sl.method, uriRaw: sl.uriRaw, uri: sl.uri as SipUri,
      headers, body, via, from: from as NameAddr, to: to as NameAddr, callId: callId as string, cseq: cseq as CSeq,
    };
    if (maxForwards !== undefined) message.maxForwards = maxForwards;
  } else {
    message = {
      kind: 'response', status: sl.status, reason: sl.reason,
      headers, body, via, from: from as NameAddr, to: to as NameAddr, callId: callId as string, cseq: cseq as CSeq,
    };
  }
  return { ok: true, message, consumed: stream ? bodyEnd : total };
}

/** Index of the LF that ends the header block of a bare-LF message, or -1. */
function findBareLfEnd(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(LF, from); i >= 0; i = buf.indexOf(LF, i + 1)) {
    const n = buf[i + 1];
    if (n === LF || (n === CR && buf[i + 2] === LF)) return i;
  }
  return -1;
}

/** Replace each folding (LWS around CRLF) by one SP and trim (RFC 3261 §7.3.1). */
function unfold(s: string): string {
  let out = '';
  let i = 0;
  let segStart = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === CR || c === LF) {
      let e = i;
      while (e > segStart && isWs(s.charCodeAt(e - 1))) e--;
      out += s.slice(segStart, e) + ' ';
      while (i < s.length && (s.charCodeAt(i) === CR || s.charCodeAt(i) === LF || isWs(s.charCodeAt(i)))) i++;
      segStart = i;
      continue;
    }
    i++;
  }
  out += s.slice(segStart);
  let a = 0;
  let b = out.length;
  while (a < b && isWs(out.charCodeAt(a))) a++;
  while (b > a && isWs(out.charCodeAt(b - 1))) b--;
  return out.slice(a, b);
}

/**
 * Call-ID: non-empty, no whitespace inside (the value is already trimmed). A
 * bare CR is refused too: the serializer would turn it into a space, and the
 * Call-ID must come out of a proxy exactly as it went in.
 */
export function isCallId(v: string): boolean {
  return v.length > 0 && v.indexOf(' ') < 0 && v.indexOf('\t') < 0 && v.indexOf('\r') < 0;
}

/** "seq method"; seq must be below 2^31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(v: string): CSeq | undefined {
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const seq = parseDecimal(v, 0, i, MAX_CSEQ);
  if (seq < 0) return undefined;
  const ms = skipWs(v, i);
  if (ms === i) return undefined;
  const me = scanToken(v, ms);
  if (me === ms || me !== v.length) return undefined;
  return { seq, method: v.slice(ms, me) };
}

function failure(reason: string, status: number, method: string | undefined, headers: Header[]): ParseFailure {
  const f: ParseFailure = { ok: false, reason, status };
  // ACK never gets a response (RFC 3261 §17.2.1 / §8.2).
  if (method !== undefined && method !== 'ACK' && canRespond(headers)) f.respondTo = { method, headers };
  return f;
}

/** A response needs Via, From, To, Call-ID and CSeq to copy (RFC 3261 §8.2.6.2). */
function canRespond(headers: Header[]): boolean {
  let seen = 0;
  for (const h of headers) {
    switch (h.name) {
      case 'via': seen |= 1; break;
      case 'from': seen |= 2; break;
      case 'to': seen |= 4; break;
      case 'call-id': seen |= 8; break;
      case 'cseq': seen |= 16; break;
    }
  }
  // A Via is all a response needs to find its way back (RFC 4475 §3.3.1 asks for
  // a 400 even when From/To/Call-ID are missing); the rest is copied when present.
  return (seen & 1) === 1;
}

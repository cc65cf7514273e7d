// Wire form of messages, and the builders every layer uses to make them.
//
// headers[] is the truth when serializing: the decoded via/from/to/... fields
// are views kept in sync by headers.ts. Content-Length is always written from
// the body, whatever headers[] says. Header objects are treated as immutable
// (responses share them with their request), so nothing here edits one in place.

import type { CSeq, Header, NameAddr, SipRequest, SipResponse, SipUri, SipMessage, Via } from './message.ts';
import { canonicalHeaderName, wireHeaderName } from './header-names.ts';
import { generateTag } from './ids.ts';
import { formatNameAddr, parseNameAddr } from './name-addr.ts';
import { parseCSeq } from './parser.ts';
import { reasonPhrase } from './reason-phrases.ts';
import { formatUri, parseUri } from './uri.ts';
import { formatVia, parseViaList } from './via.ts';

export { formatUri } from './uri.ts';
export { formatNameAddr } from './name-addr.ts';
export { formatVia } from './via.ts';
export { reasonPhrase } from './reason-phrases.ts';
export { generateTag } from './ids.ts';

const EMPTY = Buffer.alloc(0);

/** Header values come from applications too: never let one smuggle a line break onto the wire. */
function safe(v: string): string {
  if (v.indexOf('\n') < 0 && v.indexOf('\r') < 0) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    out += c === 0x0d || c === 0x0a ? ' ' : v[i];
  }
  return out;
}

export function serializeMessage(msg: SipMessage): Buffer {
  let head =
    msg.kind === 'request'
      ? safe(msg.method) + ' ' + safe(msg.uriRaw.length > 0 ? msg.uriRaw : formatUri(msg.uri)) + ' SIP/2.0\r\n'
      : 'SIP/2.0 ' + msg.status + ' ' + safe(msg.reason) + '\r\n';
  const headers = msg.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as Header;
    if (h.name === 'content-length') continue;
    head += wireHeaderName(h.name) + ': ' + safe(h.value) + '\r\n';
  }
  const body = msg.body;
  head += 'Content-Length: ' + body.length + '\r\n\r\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(head, 0, 'utf8');
  if (body.length > 0) body.copy(out, headLen);
  return out;
}

export interface ResponseOptions {
  /** To tag to add when the request has none (default: a random one, except for 100). */
  toTag?: string;
  extraHeaders?: Header[];
  body?: Buffer;
  contentType?: string;
}

/**
 * Response to `req` per RFC 3261 §8.2.6: Via lines, From, To, Call-ID and CSeq
 * copied; a To tag added when the request had none and status > 100 (or when
 * opts.toTag is given); Timestamp copied into 100 Trying. `reason` defaults to
 * the standard phrase.
 */
/** Requests whose 1xx/2xx can create a dialog (RFC 3261 §12.1, RFC 6665 §4.1, RFC 3515 §2.4.4). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export function createResponse(req: SipRequest, status: number, reason?: string, opts?: ResponseOptions): SipResponse {
  const headers: Header[] = [];
  let toRaw: string | undefined;
  let fromH: Header | undefined;
  let callH: Header | undefined;
  let cseqH: Header | undefined;
  let stampH: Header | undefined;
  let recordRoutes: Header[] | undefined;
  for (const h of req.headers) {
    switch (h.name) {
      case 'via': headers.push(h); break;
      case 'from': fromH ??= h; break;
      case 'to': toRaw ??= h.value; break;
      case 'call-id': callH ??= h; break;
      case 'cseq': cseqH ??= h; break;
      case 'timestamp': stampH ??= h; break;
      case 'record-route': (recordRoutes ??= []).push(h); break;
    }
  }
  let to = req.to;
  if (!to.params.has('tag') && (opts?.toTag !== undefined || status > 100)) {
    const tag = opts?.toTag ?? generateTag();
    to = { ...to, params: new Map(to.params).set('tag', tag) };
    toRaw = toRaw !== undefined ? toRaw + ';tag=' + tag : undefined;
  }
  headers.push(fromH ?? { name: 'from', value: formatNameAddr(req.from) });
  headers.push({ name: 'to', value: toRaw ?? formatNameAddr(to) });
  headers.push(callH ?? { name: 'call-id', value: req.callId });
  headers.push(cseqH ?? { name: 'cseq', value: req.cseq.seq + ' ' + req.cseq.method });
  if (status === 100 && stampH !== undefined) headers.push(stampH);
  // A response that may establish a dialog carries the request's Record-Route
  // values, in order (RFC 3261 §12.1.1): the caller's route set comes from them.
  if (recordRoutes !== undefined && status > 100 && status < 300 && DIALOG_CREATING.has(req.method)) {
    for (const h of recordRoutes) headers.push(h);
  }
  return finishResponse(status, reason, headers, opts, { via: req.via.slice(), from: req.from, to, callId: req.callId, cseq: req.cseq });
}

function finishResponse(
  status: number,
  reason: string | undefined,
  headers: Header[],
  opts: ResponseOptions | undefined,
  views: { via: Via[]; from: NameAddr; to: NameAddr; callId: string; cseq: CSeq },
): SipResponse {
  if (opts?.extraHeaders !== undefined) {
    for (const h of opts.extraHeaders) headers.push({ name: canonicalHeaderName(h.name), value: h.value });
  }
  const body = opts?.body ?? EMPTY;
  if (opts?.contentType !== undefined) headers.push({ name: 'content-type', value: opts.contentType });
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers, body, ...views };
}

/** Stand-in for a From/To that could not be decoded, so a 400 can still be built. */
function placeholderNameAddr(): NameAddr {
  return { uri: { scheme: 'sip', host: 'invalid', params: new Map(), headers: new Map() }, params: new Map() };
}

/**
 * Response to a request the parser rejected (ParseFailure.respondTo): copies
 * the raw Via, From, To, Call-ID and CSeq lines as they came, adding a To tag
 * when status > 100. Views are decoded best-effort: a Via that does not parse
 * is missing from `via` (send to the packet's source then), an undecodable
 * From/To shows as sip:invalid. The wire form only depends on the raw lines.
 */
export function createResponseFromHeaders(method: string, reqHeaders: Header[], status: number, reason?: string, opts?: ResponseOptions): SipResponse {
  const headers: Header[] = [];
  const via: Via[] = [];
  let fromH: Header | undefined;
  let toH: Header | undefined;
  let callH: Header | undefined;
  let cseqH: Header | undefined;
  for (const h of reqHeaders) {
    switch (h.name) {
      case 'via':
        headers.push(h);
        parseViaList(h.value, via);
        break;
      case 'from': fromH ??= h; break;
      case 'to': toH ??= h; break;
      case 'call-id': callH ??= h; break;
      case 'cseq': cseqH ??= h; break;
    }
  }
  const from = (fromH && parseNameAddr(fromH.value)) || placeholderNameAddr();
  let to = (toH && parseNameAddr(toH.value)) || placeholderNameAddr();
  let toRaw = toH?.value ?? formatNameAddr(to);
  if (!to.params.has('tag') && (opts?.toTag !== undefined || status > 100)) {
    const tag = opts?.toTag ?? generateTag();
    to = { ...to, params: new Map(to.params).set('tag', tag) };
    // A To whose parameters are broken gets a clean rebuilt value instead of an appended tag.
    toRaw = toH !== undefined && parseNameAddr(toH.value) !== undefined ? toRaw + ';tag=' + tag : formatNameAddr(to);
  }
  if (fromH) headers.push(fromH);
  headers.push({ name: 'to', value: toRaw });
  if (callH) headers.push(callH);
  if (cseqH) headers.push(cseqH);
  const cseq = (cseqH && parseCSeq(cseqH.value)) || { seq: 0, method };
  return finishResponse(status, reason, headers, opts, { via, from, to, callId: callH?.value ?? '', cseq });
}

export interface RequestOptions {
  method: string;
  /** Request-URI; a string must parse (createRequest throws TypeError otherwise). */
  uri: SipUri | string;
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: number;
  /** Top-most first. */
  via: Via | Via[];
  contact?: NameAddr | NameAddr[];
  /** Default 70 (RFC 3261 §8.1.1.6). */
  maxForwards?: number;
  /** Extra headers, written after the standard ones in this order. */
  headers?: Header[];
  body?: Buffer;
  contentType?: string;
}

/**
 * A new UAC request (RFC 3261 §8.1.1). Headers come out as Via..., Max-Forwards,
 * From, To, Call-ID, CSeq, Contact, extras, Content-Type. Throws TypeError on
 * a Request-URI string that does not parse (caller data, not network data).
 */
export function createRequest(o: RequestOptions): SipRequest {
  let uri: SipUri;
  let uriRaw: string;
  if (typeof o.uri === 'string') {
    const u = parseUri(o.uri);
    if (u === undefined) throw new TypeError('createRequest: invalid Request-URI');
    uri = u;
    uriRaw = o.uri;
  } else {
    uri = o.uri;
    uriRaw = formatUri(o.uri);
  }
  const via = Array.isArray(o.via) ? o.via.slice() : [o.via];
  const maxForwards = o.maxForwards ?? 70;
  const headers: Header[] = [];
  for (const v of via) headers.push({ name: 'via', value: formatVia(v) });
  headers.push({ name: 'max-forwards', value: String(maxForwards) });
  headers.push({ name: 'from', value: formatNameAddr(o.from) });
  headers.push({ name: 'to', value: formatNameAddr(o.to) });
  headers.push({ name: 'call-id', value: o.callId });
  headers.push({ name: 'cseq', value: o.cseq + ' ' + o.method });
  if (o.contact !== undefined) {
    const list = Array.isArray(o.contact) ? o.contact : [o.contact];
    if (list.length > 0) headers.push({ name: 'contact', value: list.map(formatNameAddr).join(', ') });
  }
  if (o.headers !== undefined) {
    for (const h of o.headers) headers.push({ name: canonicalHeaderName(h.name), value: h.value });
  }
  if (o.contentType !== undefined) headers.push({ name: 'content-type', value: o.contentType });
  return {
    kind: 'request',
    method: o.method,
    uriRaw,
    uri,
    maxForwards,
    headers,
    body: o.body ?? EMPTY,
    via,
    from: o.from,
    to: o.to,
    callId: o.callId,
    cseq: { seq: o.cseq, method: o.method },
  };
}

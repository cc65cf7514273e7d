import type { Header, NameAddr, Params, SipRequest, SipResponse, Via } from '../message.ts';

// Messages the transaction layer (and the UA for CANCEL) builds from other
// messages. They are SipRequest/SipResponse objects whose decoded fields and
// headers[] agree, because headers[] is what the serializer writes.
//
// TEMPORARY ISOLATION: these builders deliberately do not import
// ../serializer.ts or ../headers.ts (written in parallel); they render the
// few header values they need themselves. When the shared helpers settle,
// switch formatVia/buildResponse/etc. to them; the exported signatures here
// can stay as they are.

const MAX_FORWARDS = 70;
// Zero-length, so sharing it between messages is safe.
const EMPTY = Buffer.alloc(0);

function formatParams(params: Params): string {
  let s = '';
  for (const [name, value] of params) s += value === null ? `;${name}` : `;${name}=${value}`;
  return s;
}

/** Renders one Via value from its decoded form, e.g. "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1". */
export function formatVia(via: Via): string {
  let host = via.host;
  if (host.includes(':') && host.charCodeAt(0) !== 91 /* [ */) host = `[${host}]`;
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `${via.protocol}/${via.transport} ${host}${port}${formatParams(via.params)}`;
}

function firstHeader(headers: Header[], name: string): string | undefined {
  for (const h of headers) if (h.name === name) return h.value;
  return undefined;
}

function copyNameAddr(na: NameAddr, params: Params): NameAddr {
  const copy: NameAddr = { uri: na.uri, params };
  if (na.displayName !== undefined) copy.displayName = na.displayName;
  return copy;
}

/**
 * The ACK a client INVITE transaction sends for a non-2xx final response
 * (RFC 3261 §17.1.1.3): Request-URI, Call-ID, From and CSeq number of the
 * INVITE, To of the response (with its tag), one Via equal to the INVITE's top
 * Via, the INVITE's Route headers, no body.
 */
export function buildAck(invite: SipRequest, response: SipResponse): SipRequest {
  return buildFromInvite(invite, 'ACK', response.to, firstHeader(response.headers, 'to'));
}

/**
 * The CANCEL for a request we sent (RFC 3261 §9.1): same Request-URI, Call-ID,
 * From, To (no tag added), CSeq number and top Via (so the same branch), and
 * the same Route headers. Send it with sendRequest (it is a non-INVITE
 * transaction of its own), only after a provisional response arrived.
 */
export function buildCancel(request: SipRequest): SipRequest {
  return buildFromInvite(request, 'CANCEL', request.to, firstHeader(request.headers, 'to'));
}

function buildFromInvite(req: SipRequest, method: 'ACK' | 'CANCEL', to: NameAddr, toRaw: string | undefined): SipRequest {
  const top = req.via[0];
  if (!top) throw new TypeError(`cannot build ${method}: the request has no Via`);
  const headers: Header[] = [{ name: 'via', value: formatVia(top) }, { name: 'max-forwards', value: String(MAX_FORWARDS) }];
  for (const h of req.headers) if (h.name === 'route') headers.push(h);
  headers.push(
    { name: 'from', value: firstHeader(req.headers, 'from') ?? '' },
    { name: 'to', value: toRaw ?? '' },
    { name: 'call-id', value: req.callId },
    { name: 'cseq', value: `${req.cseq.seq} ${method}` },
    { name: 'content-length', value: '0' },
  );
  return {
    kind: 'request',
    method,
    uriRaw: req.uriRaw,
    uri: req.uri,
    maxForwards: MAX_FORWARDS,
    headers,
    body: EMPTY,
    via: [top],
    from: req.from,
    to,
    callId: req.callId,
    cseq: { seq: req.cseq.seq, method },
  };
}

export interface BuildResponseOptions {
  /** Added to To when the request's To has no tag (every response but 100 needs one, §8.2.6.2). */
  toTag?: string;
  /** Extra headers appended after the mandatory ones (e.g. Retry-After). */
  extraHeaders?: Header[];
}

/**
 * A body-less response to `req` (RFC 3261 §8.2.6): all Via headers, From, To,
 * Call-ID and CSeq copied; Timestamp copied into a 100 (§8.2.6.1).
 */
export function buildResponse(req: SipRequest, status: number, reason: string, options: BuildResponseOptions = {}): SipResponse {
  const headers: Header[] = [];
  let toRaw = '';
  let fromRaw = '';
  let cseqRaw = '';
  let timestamp: string | undefined;
  for (const h of req.headers) {
    switch (h.name) {
      case 'via':
        headers.push(h);
        break;
      case 'from':
        if (!fromRaw) fromRaw = h.value;
        break;
      case 'to':
        if (!toRaw) toRaw = h.value;
        break;
      case 'cseq':
        if (!cseqRaw) cseqRaw = h.value;
        break;
      case 'timestamp':
        if (status === 100 && timestamp === undefined) timestamp = h.value;
        break;
    }
  }
  let to = req.to;
  if (options.toTag !== undefined && !req.to.params.has('tag')) {
    const params: Params = new Map(req.to.params);
    params.set('tag', options.toTag);
    to = copyNameAddr(req.to, params);
    toRaw += `;tag=${options.toTag}`;
  }
  headers.push(
    { name: 'from', value: fromRaw },
    { name: 'to', value: toRaw },
    { name: 'call-id', value: req.callId },
    { name: 'cseq', value: cseqRaw || `${req.cseq.seq} ${req.cseq.method}` },
  );
  if (timestamp !== undefined) headers.push({ name: 'timestamp', value: timestamp });
  if (options.extraHeaders) headers.push(...options.extraHeaders);
  headers.push({ name: 'content-length', value: '0' });
  return {
    kind: 'response',
    status,
    reason,
    headers,
    body: EMPTY,
    via: req.via,
    from: req.from,
    to,
    callId: req.callId,
    cseq: req.cseq,
  };
}

import type { Header, NameAddr, SipRequest, SipResponse } from '../message.ts';
import { formatNameAddr, formatVia } from '../serializer.ts';

// The requests a client transaction (and the UA, for CANCEL) derives from one
// it sent. Responses are built with createResponse from ../serializer.ts. The
// results are SipRequest objects whose decoded fields and headers[] agree,
// because headers[] is what the serializer writes.

const MAX_FORWARDS = 70;
// Zero-length, so sharing it between messages is safe.
const EMPTY = Buffer.alloc(0);

function firstHeader(headers: Header[], name: string): string | undefined {
  for (const h of headers) if (h.name === name) return h.value;
  return undefined;
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
  // From and To are copied as written (unknown parameters, quoting and all);
  // rendering the decoded form is only the fallback for a message built
  // without those lines.
  headers.push(
    { name: 'from', value: firstHeader(req.headers, 'from') ?? formatNameAddr(req.from) },
    { name: 'to', value: toRaw ?? formatNameAddr(to) },
    { name: 'call-id', value: req.callId },
    { name: 'cseq', value: `${req.cseq.seq} ${method}` },
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

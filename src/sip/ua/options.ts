// An out-of-dialog OPTIONS of ours (RFC 3261 §11), the probe behind trunk
// health, peer links and contact reachability: From user@domain with our tag,
// To the probed URI, one Call-ID per prober and its own CSeq count.
import type { Header, SipRequest, SipUri, Via } from '../message.ts';
import { createRequest } from '../serializer.ts';

export interface OptionsProbe {
  /** Request-URI. */
  uri: SipUri | string;
  /** To; the Request-URI when it is a parsed URI. */
  to?: SipUri;
  fromUser: string;
  domain: string;
  tag: string;
  callId: string;
  cseq: number;
  via: Via;
  headers?: Header[];
}

export function optionsRequest(o: OptionsProbe): SipRequest {
  const to = o.to ?? (typeof o.uri === 'string' ? undefined : o.uri);
  if (!to) throw new TypeError('optionsRequest: a To URI is needed with a string Request-URI');
  return createRequest({
    method: 'OPTIONS',
    uri: o.uri,
    from: { uri: { scheme: 'sip', user: o.fromUser, host: o.domain, params: new Map(), headers: new Map() }, params: new Map([['tag', o.tag]]) },
    to: { uri: to, params: new Map() },
    callId: o.callId,
    cseq: o.cseq,
    via: o.via,
    headers: o.headers,
  });
}

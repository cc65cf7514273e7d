// RFC 3261 §12 dialog state and the requests built inside a dialog. The
// dialog knows identities, sequence numbers, the remote target and the route
// set; where bytes go (the transport endpoint, NAT bindings, connections) is
// the application's business, so every builder takes the Via to put on top.

import type { Endpoint, Header, NameAddr, SipRequest, SipResponse, SipUri, TransportName, Via } from './message.ts';
import { getContacts, getHeaders } from './headers.ts';
import { createRequest } from './serializer.ts';
import { generateBranch } from './ids.ts';
import { parseNameAddr, tagOf } from './name-addr.ts';
import { cloneUri, formatUri } from './uri.ts';
import { bracketHost, unbracketHost } from '../lib/net.ts';

/** Key under which a UA finds the dialog of an in-dialog request: Call-ID, our tag, their tag. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return callId + '\u0000' + localTag + '\u0000' + remoteTag;
}

/** The key of the dialog an incoming request belongs to (the To tag is ours). */
export function dialogKeyOfRequest(req: SipRequest): string | undefined {
  const local = tagOf(req.to);
  if (local === undefined) return undefined;
  return dialogKey(req.callId, local, tagOf(req.from) ?? '');
}

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From (requests we send) without tag. */
  local: NameAddr;
  /** Their address, our To, without tag. */
  remote: NameAddr;
  remoteTarget: SipUri;
  /** Route set, in the order the Route headers of our requests list them. */
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  secure: boolean;
}

function withoutTag(na: NameAddr): NameAddr {
  const params = new Map(na.params);
  params.delete('tag');
  const out: NameAddr = { uri: na.uri, params };
  if (na.displayName !== undefined) out.displayName = na.displayName;
  return out;
}

function recordRoutes(msg: SipRequest | SipResponse): string[] {
  return getHeaders(msg, 'record-route');
}

function firstContactUri(msg: SipRequest | SipResponse): SipUri | undefined {
  const c = getContacts(msg);
  if (c === undefined || c === '*' || c.length === 0) return undefined;
  return c[0]!.uri;
}

/** Via transport token for a transport name. */
export function viaTransport(t: TransportName): string {
  return t === 'udp' ? 'UDP' : t === 'tcp' ? 'TCP' : 'TLS';
}

/** A Via for a request we send from `local` over `transport`, with a fresh branch and rport (RFC 3581). */
export function newVia(transport: TransportName, local: { address: string; port: number }): Via {
  const host = bracketHost(local.address);
  return { protocol: 'SIP/2.0', transport: viaTransport(transport), host, port: local.port, params: new Map<string, string | null>([['branch', generateBranch()], ['rport', null]]) };
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  readonly local: NameAddr;
  readonly remote: NameAddr;
  remoteTarget: SipUri;
  readonly routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  readonly secure: boolean;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.local = init.local;
    this.remote = init.remote;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.secure = init.secure;
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /**
   * The UAS side (§12.1.1): from a dialog-creating request and the To tag we
   * answer with. Undefined when the request has no usable Contact.
   */
  static asUas(req: SipRequest, localTag: string): Dialog | undefined {
    const target = firstContactUri(req);
    if (target === undefined) return undefined;
    return new Dialog({
      callId: req.callId,
      localTag,
      remoteTag: tagOf(req.from) ?? '',
      local: withoutTag(req.to),
      remote: withoutTag(req.from),
      remoteTarget: target,
      routeSet: recordRoutes(req),
      localSeq: 0,
      remoteSeq: req.cseq.seq,
      secure: req.uri.scheme === 'sips',
    });
  }

  /**
   * The UAC side (§12.1.2): from the request we sent and a response with a To
   * tag (1xx early dialog or 2xx). Undefined without a tag or a Contact.
   */
  static asUac(req: SipRequest, res: SipResponse): Dialog | undefined {
    const remoteTag = tagOf(res.to);
    const target = firstContactUri(res);
    if (remoteTag === undefined || target === undefined) return undefined;
    return new Dialog({
      callId: req.callId,
      localTag: tagOf(req.from) ?? '',
      remoteTag,
      local: withoutTag(req.from),
      remote: withoutTag(req.to),
      remoteTarget: target,
      routeSet: recordRoutes(res).reverse(),
      localSeq: req.cseq.seq,
      remoteSeq: undefined,
      secure: req.uri.scheme === 'sips',
    });
  }

  /**
   * §12.2.2: an in-dialog request is out of order when its CSeq is lower than
   * (or, but for ACK/CANCEL, equal to) the last one; true when it is acceptable
   * (and remembered).
   */
  acceptRemoteSeq(req: SipRequest): boolean {
    const seq = req.cseq.seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** Target refresh (§12.2): a re-INVITE/UPDATE or its 2xx may carry a new Contact. */
  refreshTarget(msg: SipRequest | SipResponse): void {
    const target = firstContactUri(msg);
    if (target !== undefined) this.remoteTarget = target;
  }

  /**
   * A request inside the dialog (§12.2.1.1): Request-URI = remote target with
   * loose routing, or the first route with the target appended when that
   * route is a strict router (no ;lr). CSeq is incremented except for ACK
   * (which uses `cseq`, the INVITE's number).
   */
  request(method: string, via: Via, opts: { contact?: NameAddr; headers?: Header[]; body?: Buffer; contentType?: string; cseq?: number } = {}): SipRequest {
    const seq = method === 'ACK' ? (opts.cseq ?? this.localSeq) : ++this.localSeq;
    let uri: SipUri = this.remoteTarget;
    const routes: Header[] = [];
    let list = this.routeSet;
    const first = list.length > 0 ? parseNameAddr(list[0]!) : undefined;
    if (first !== undefined && !first.uri.params.has('lr')) {
      uri = cloneUri(first.uri);
      uri.params = new Map([...first.uri.params].filter(([k]) => k !== 'method' && k !== 'maddr' && k !== 'ttl' && k !== 'transport' && k !== 'lr'));
      list = list.slice(1).concat('<' + formatUri(this.remoteTarget) + '>');
    }
    for (const r of list) routes.push({ name: 'route', value: r });
    const from: NameAddr = { ...this.local, params: new Map(this.local.params).set('tag', this.localTag) };
    const to: NameAddr = { ...this.remote, params: new Map(this.remote.params) };
    if (this.remoteTag !== '') to.params.set('tag', this.remoteTag);
    return createRequest({
      method,
      uri,
      from,
      to,
      callId: this.callId,
      cseq: seq,
      via,
      contact: opts.contact,
      headers: routes.concat(opts.headers ?? []),
      body: opts.body,
      contentType: opts.contentType,
    });
  }
}

/** Where a request to `uri` goes when no route set or NAT binding says otherwise (§8.1.2 without DNS). */
export function endpointOfUri(uri: SipUri, fallbackTransport: TransportName = 'udp'): Endpoint | undefined {
  const t = uri.params.get('transport');
  let transport: TransportName = fallbackTransport;
  if (uri.scheme === 'sips') transport = 'tls';
  else if (t != null) {
    const low = t.toLowerCase();
    if (low === 'udp' || low === 'tcp' || low === 'tls') transport = low;
    else return undefined;
  }
  const host = unbracketHost(uri.host);
  const port = uri.port ?? (transport === 'tls' ? 5061 : 5060);
  return { transport, address: host, port };
}

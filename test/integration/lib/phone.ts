// An in-process SIP phone for call tests, built on the project's own
// transport, transaction and dialog layers (the DESIGN's ring 2 "our own UA"):
// it registers with digest, places calls (answering 407), and takes calls
// with a behaviour the test chooses. Everything it saw is kept for asserts.
import type { Endpoint, Header, NameAddr, SipRequest, SipResponse, TransportName } from '../../../src/sip/message.ts';
import type { Inbound } from '../../../src/sip/transport/types.ts';
import type { ServerTransaction } from '../../../src/sip/transaction/types.ts';
import { TransportLayer } from '../../../src/sip/transport/layer.ts';
import { TransactionLayer } from '../../../src/sip/transaction/layer.ts';
import { TimerQueue } from '../../../src/sip/timer-queue.ts';
import { systemClock } from '../../../src/sip/clock.ts';
import { Dialog, dialogKeyOfRequest, newVia } from '../../../src/sip/dialog.ts';
import { createRequest, createResponse } from '../../../src/sip/serializer.ts';
import { generateCallId, generateTag } from '../../../src/sip/ids.ts';
import { formatNameAddr, getHeader, getHeaders, tagOf } from '../../../src/sip/headers.ts';
import { buildCancel } from '../../../src/sip/transaction/build.ts';
import { DigestClient } from '../../../src/sip/digest-client.ts';
import { requestFinal, sendUacRequest } from '../../../src/sip/ua/uac.ts';
import { DigestServer, ha1, parseAuthHeader } from '../../../src/sip/digest.ts';
import { waitUntil } from '../../lib/wait.ts';

export function sdpOffer(port: number, codecs: string = '0 8 9 101', direction = 'sendrecv', address = '127.0.0.1'): Buffer {
  const lines = [
    'v=0', `o=test 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${port} RTP/AVP ${codecs}`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:9 G722/8000', 'a=rtpmap:18 G729/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', `a=${direction}`,
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

/** What a phone does with an incoming INVITE. */
export type Behaviour = 'ring' | 'answer' | 'busy' | 'silent' | 'ring-answer' | 'reliable-ring';

export interface IncomingCall {
  invite: SipRequest;
  tx: ServerTransaction;
  tag: string;
  dialog: Dialog | undefined;
  cancelled: boolean;
  acked: SipRequest | undefined;
}

export interface OutgoingCall {
  /** The INVITE as last sent (with credentials after a challenge). */
  invite: SipRequest;
  /** The server challenged the INVITE (407) and the phone answered it. */
  challenged?: boolean;
  responses: SipResponse[];
  final: Promise<SipResponse>;
  dialog: Dialog | undefined;
  /** With holdAck: sends the ACK of the 2xx. */
  sendAck?: () => void;
}

/** A subscription this phone made: what a refresh needs to stay in its dialog. */
export interface PhoneSubscription {
  callId: string;
  fromTag: string;
  toTag: string | undefined;
  cseq: number;
  target: string;
}

export interface PhoneOptions {
  ext: string;
  password: string;
  server: { host: string; port: number; domain: string };
  transport?: TransportName;
  behaviour?: Behaviour;
  /** Our SDP answer / offer media port. */
  mediaPort?: number;
  /** Acting as a trunk peer: challenge INVITE (407) and REGISTER (401) for these credentials. */
  challenge?: { user: string; password: string; realm: string };
  /** Forward every incoming call with a 302 to this number (the phone's own call forwarding). */
  redirectTo?: string;
  /** For transport 'tls': the CA to trust the server with, and an identity for our own listener. */
  tls?: { caPem: string; certPem: string; keyPem: string };
  /** UDP/TCP port to listen on (0 = any). */
  port?: number;
  /** User part of our Contact: default the extension; null for none (sip:host:port, as some phones register). */
  contactUser?: string | null;
}

export class TestPhone {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  private readonly timers = new TimerQueue();
  readonly incoming: IncomingCall[] = [];
  /** Every in-dialog request received (BYE, re-INVITE, UPDATE, INFO, PRACK ...). */
  readonly requests: SipRequest[] = [];
  readonly dialogs = new Map<string, Dialog>();
  behaviour: Behaviour;
  /** SDP this phone answers re-INVITEs with (default: a plain offer on mediaPort). */
  reinviteAnswer: Buffer | undefined;
  /** Hold re-INVITEs unanswered (glare tests). */
  holdReinvites = false;
  heldReinvites: { req: SipRequest; tx: ServerTransaction }[] = [];
  readonly kind: TransportName;
  readonly mediaPort: number;
  private readonly digest: DigestClient;
  private digestServer: DigestServer | undefined;
  private ha1 = '';
  /** REGISTERs received (acting as a trunk peer). */
  readonly registers: SipRequest[] = [];
  /** NOTIFYs received in our subscriptions' dialogs and outside any dialog (unsolicited MWI), answered 200. */
  readonly notifies: SipRequest[] = [];
  /** Last CSeq of each registration (Call-ID) this phone sent. */
  private readonly registerCSeq = new Map<string, number>();
  /** Call-IDs of subscriptions this phone made: their NOTIFYs are taken, others' get 481. */
  private readonly subscriptionIds = new Set<string>();

  private constructor(readonly opts: PhoneOptions) {
    this.kind = opts.transport ?? 'udp';
    this.behaviour = opts.behaviour ?? 'answer';
    this.mediaPort = opts.mediaPort ?? 40000 + Math.floor(Math.random() * 10000) * 2;
    this.digest = new DigestClient({ username: opts.ext, password: opts.password });
    const listen = { host: '127.0.0.1', port: opts.port ?? 0 };
    if (opts.challenge) {
      const c = opts.challenge;
      this.digestServer = new DigestServer({ realm: c.realm, nonceTtlMs: 60_000, algorithms: ['MD5'], now: () => Date.now() });
      this.ha1 = ha1(c.user, c.realm, c.password);
    }
    this.transport = new TransportLayer(
      this.kind === 'udp' ? { udp: listen }
        : this.kind === 'tcp' ? { tcp: listen }
        : {
            tls: listen,
            tlsServerOptions: { key: opts.tls!.keyPem, cert: opts.tls!.certPem },
            tlsClientOptions: { ca: opts.tls!.caPem, rejectUnauthorized: true },
          },
    );
    this.transactions = new TransactionLayer({
      sender: this.transport,
      timers: this.timers,
      clock: systemClock,
      autoTrying: false,
      onRequest: (req, tx, inbound) => this.onRequest(req, tx, inbound),
    });
    this.transport.onInbound = (i) => this.transactions.receive(i);
  }

  static async start(opts: PhoneOptions): Promise<TestPhone> {
    const p = new TestPhone(opts);
    await p.transport.start();
    return p;
  }

  /** Sends from now on to another server (a phone failing over to the next DNS SRV target or outbound proxy). */
  useServer(server: PhoneOptions['server']): void {
    this.opts.server = server;
  }

  get server(): Endpoint {
    return { transport: this.kind, address: this.opts.server.host, port: this.opts.server.port };
  }

  get local(): { address: string; port: number } {
    return this.transport.localEndpoint(this.kind)!;
  }

  contact(): NameAddr {
    const l = this.local;
    const params = new Map<string, string | null>();
    if (this.kind !== 'udp') params.set('transport', this.kind);
    const user = this.opts.contactUser === null ? undefined : (this.opts.contactUser ?? this.opts.ext);
    return { uri: { scheme: 'sip', user, host: l.address, port: l.port, params, headers: new Map() }, params: new Map() };
  }

  private aor(user = this.opts.ext): NameAddr {
    return { uri: { scheme: 'sip', user, host: this.opts.server.domain, params: new Map(), headers: new Map() }, params: new Map() };
  }

  /** One non-INVITE request through the UA core's client (a 401/407 is answered); resolves with the final response. */
  private send(req: SipRequest): Promise<SipResponse> {
    return requestFinal(req, { transactions: this.transactions, dest: this.server, credentials: this.digest });
  }

  /** callId: the same one again is a refresh of the same registration (as phones do); default a new one. */
  register(expires = 3600, headers?: Header[], callId = generateCallId()): Promise<SipResponse> {
    const tag = generateTag();
    // CSeq rises within a Call-ID (RFC 3261 §10.2), the challenge round included.
    let cseq = this.registerCSeq.get(callId) ?? 0;
    const next = () => {
      this.registerCSeq.set(callId, ++cseq);
      return cseq;
    };
    return requestFinal(
      createRequest({
        method: 'REGISTER',
        uri: `sip:${this.opts.server.domain}`,
        from: { ...this.aor(), params: new Map([['tag', tag]]) },
        to: this.aor(),
        callId,
        cseq: next(),
        via: newVia(this.kind, this.local),
        contact: { ...this.contact(), params: new Map([['expires', String(expires)]]) },
        headers,
      }),
      { transactions: this.transactions, dest: this.server, credentials: this.digest, nextCSeq: next },
    );
  }

  /** An out-of-dialog request to `target` (default: the domain); a challenge is answered once. */
  request(method: string, o: { target?: string; headers?: Header[] } = {}): Promise<SipResponse> {
    const callId = generateCallId();
    const tag = generateTag();
    return this.send(
      createRequest({
        method,
        uri: o.target ? `sip:${o.target}@${this.opts.server.domain}` : `sip:${this.opts.server.domain}`,
        from: { ...this.aor(), params: new Map([['tag', tag]]) },
        to: o.target ? this.aor(o.target) : this.aor(),
        callId,
        cseq: 1,
        via: newVia(this.kind, this.local),
        contact: this.contact(),
        headers: o.headers,
      }),
    );
  }

  /** Places a call; 407 is answered once; 2xx is ACKed (with ackBody for late offers). */
  call(target: string, o: { body?: Buffer | null; headers?: Header[]; ackBody?: Buffer; uri?: 'sip' | 'sips'; holdAck?: boolean } = {}): OutgoingCall {
    const callId = generateCallId();
    const tag = generateTag();
    const body = o.body === null ? undefined : (o.body ?? sdpOffer(this.mediaPort));
    const out: OutgoingCall = { invite: undefined as unknown as SipRequest, responses: [], final: undefined as unknown as Promise<SipResponse>, dialog: undefined };
    out.final = new Promise((resolve, reject) => {
      const invite = createRequest({
        method: 'INVITE',
        // '#' may not stand unescaped in a URI's user part (RFC 3261 §25.1): dial strings such as *07*1003# go as %23, as phones send them.
        uri: `${o.uri ?? 'sip'}:${target.replace(/#/g, '%23')}@${this.opts.server.domain}`,
        from: { ...this.aor(), params: new Map([['tag', tag]]) },
        to: this.aor(target),
        callId,
        cseq: 1,
        via: newVia(this.kind, this.local),
        contact: this.contact(),
        headers: o.headers,
        body,
        contentType: body ? 'application/sdp' : undefined,
      });
      out.invite = invite;
      const onResponse = (res: SipResponse) => {
        out.responses.push(res);
        if (res.status >= 200 && res.status < 300) {
          const req = out.invite;
          if (!out.dialog) {
            out.dialog = Dialog.asUac(req, res)!;
            this.dialogs.set(out.dialog.key, out.dialog);
          }
          const ack = out.dialog.request('ACK', newVia(this.kind, this.local), { cseq: req.cseq.seq, body: o.ackBody, contentType: o.ackBody ? 'application/sdp' : undefined });
          // holdAck: the test sends it (out.sendAck) when it wants; a retransmitted 2xx does not send it either.
          if (o.holdAck) out.sendAck = () => this.transport.send(ack, this.server);
          else this.transport.send(ack, this.server);
        }
        if (res.status >= 200) resolve(res);
      };
      sendUacRequest(invite, {
        transactions: this.transactions,
        dest: this.server,
        credentials: this.digest,
        onProvisional: onResponse,
        onFinal: onResponse,
        onExtra2xx: onResponse,
        onRetry: (req) => {
          out.invite = req;
          out.challenged = true;
        },
        onFailure: (kind, _uac, err) => reject(err ?? new Error(`INVITE ${kind}`)),
      });
    });
    return out;
  }

  cancel(call: OutgoingCall): void {
    const nop = () => {};
    this.transactions.sendRequest(buildCancel(call.invite), this.server, { onResponse: nop, onTimeout: nop, onTransportError: nop });
  }

  /** Sends a request inside a dialog and resolves with its final response (ACKs a 2xx to INVITE). */
  inDialog(dialog: Dialog, method: string, o: { body?: Buffer; headers?: Header[]; contentType?: string } = {}): Promise<SipResponse> {
    const req = dialog.request(method, newVia(this.kind, this.local), {
      contact: method === 'INVITE' || method === 'UPDATE' ? this.contact() : undefined,
      headers: o.headers,
      body: o.body,
      contentType: o.body ? (o.contentType ?? 'application/sdp') : undefined,
    });
    return new Promise((resolve, reject) => {
      this.transactions.sendRequest(req, this.server, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if (method === 'INVITE' && res.status < 300) {
            this.transport.send(dialog.request('ACK', newVia(this.kind, this.local), { cseq: req.cseq.seq }), this.server);
          }
          resolve(res);
        },
        onTimeout: () => reject(new Error(`${method} timed out`)),
        onTransportError: (e) => reject(e),
      });
    });
  }

  /** Answers a ringing incoming call. */
  answer(call: IncomingCall, body: Buffer = sdpOffer(this.mediaPort), headers: Header[] = []): void {
    const res = createResponse(call.invite, 200, 'OK', {
      toTag: call.tag,
      extraHeaders: [{ name: 'contact', value: formatNameAddr(this.contact()) }, ...headers],
      body,
      contentType: 'application/sdp',
    });
    call.tx.respond(res);
    call.dialog = Dialog.asUas(call.invite, call.tag)!;
    this.dialogs.set(call.dialog.key, call.dialog);
  }

  reject(call: IncomingCall, status: number): void {
    call.tx.respond(createResponse(call.invite, status, undefined, { toTag: call.tag }));
  }

  /**
   * A SUBSCRIBE (default Event: message-summary, to our own AOR); with
   * `refresh` one inside that subscription's dialog (To tag, next CSeq). A
   * challenge is answered. Resolves with the final response and the
   * subscription's dialog state for a refresh.
   */
  async subscribe(o: { target?: string; expires?: number; event?: string; accept?: string; refresh?: PhoneSubscription } = {}): Promise<{ res: SipResponse; sub: PhoneSubscription }> {
    const r = o.refresh;
    const sub: PhoneSubscription = r ?? { callId: generateCallId(), fromTag: generateTag(), toTag: undefined, cseq: 0, target: o.target ?? this.opts.ext };
    this.subscriptionIds.add(sub.callId);
    const headers: Header[] = [{ name: 'event', value: o.event ?? 'message-summary' }];
    if (o.expires !== undefined) headers.push({ name: 'expires', value: String(o.expires) });
    if (o.accept !== undefined) headers.push({ name: 'accept', value: o.accept });
    const to = this.aor(sub.target);
    const req = createRequest({
      method: 'SUBSCRIBE',
      uri: `sip:${sub.target}@${this.opts.server.domain}`,
      from: { ...this.aor(), params: new Map([['tag', sub.fromTag]]) },
      to: sub.toTag === undefined ? to : { ...to, params: new Map([['tag', sub.toTag]]) },
      callId: sub.callId,
      cseq: ++sub.cseq,
      via: newVia(this.kind, this.local),
      contact: this.contact(),
      headers,
    });
    const res = await requestFinal(req, { transactions: this.transactions, dest: this.server, credentials: this.digest, nextCSeq: () => ++sub.cseq });
    if (res.status < 300 && sub.toTag === undefined) sub.toTag = tagOf(res.to);
    return { res, sub };
  }

  /** NOTIFYs received for one subscription (by Call-ID), or outside any (callId undefined: those with no To tag). */
  notifiesOf(callId?: string): SipRequest[] {
    return this.notifies.filter((n) => (callId === undefined ? tagOf(n.to) === undefined : n.callId === callId));
  }

  waitIncoming(n = 1, timeoutMs = 5000): Promise<IncomingCall> {
    return waitUntil(() => this.incoming.length >= n, timeoutMs).then(() => this.incoming[n - 1]!);
  }

  waitRequest(method: string, n = 1, timeoutMs = 5000): Promise<SipRequest> {
    const pick = () => this.requests.filter((r) => r.method === method);
    return waitUntil(() => pick().length >= n, timeoutMs).then(() => pick()[n - 1]!);
  }

  private onRequest(req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound): void {
    void inbound;
    if (req.method === 'ACK') {
      this.requests.push(req);
      const inc = this.incoming.find((c) => c.invite.callId === req.callId && c.tag === tagOf(req.to));
      if (inc) inc.acked = req;
      return;
    }
    if (!tx) return;
    if (req.method === 'CANCEL') {
      tx.respond(createResponse(req, 200, 'OK'));
      const inc = this.incoming.find((c) => c.invite.callId === req.callId && c.invite.cseq.seq === req.cseq.seq);
      if (inc) {
        inc.cancelled = true;
        inc.tx.respond(createResponse(inc.invite, 487, 'Request Terminated', { toTag: inc.tag }));
      }
      return;
    }
    if (req.method === 'NOTIFY' && (tagOf(req.to) === undefined || this.subscriptionIds.has(req.callId))) {
      this.notifies.push(req);
      tx.respond(createResponse(req, 200, 'OK'));
      return;
    }
    const key = dialogKeyOfRequest(req);
    if (key !== undefined) {
      this.requests.push(req);
      const dialog = this.dialogs.get(key);
      if (!dialog) {
        tx.respond(createResponse(req, 481));
        return;
      }
      if (req.method === 'INVITE' && this.holdReinvites) {
        this.heldReinvites.push({ req, tx });
        return;
      }
      const body = req.method === 'INVITE' ? (this.reinviteAnswer ?? sdpOffer(this.mediaPort)) : undefined;
      tx.respond(createResponse(req, 200, 'OK', {
        extraHeaders: req.method === 'INVITE' ? [{ name: 'contact', value: formatNameAddr(this.contact()) }] : [],
        body,
        contentType: body ? 'application/sdp' : undefined,
      }));
      if (req.method === 'BYE') this.dialogs.delete(key);
      return;
    }
    if ((req.method === 'INVITE' || req.method === 'REGISTER') && !this.authorized(req, tx)) return;
    if (req.method === 'REGISTER') {
      this.registers.push(req);
      tx.respond(createResponse(req, 200, 'OK', { extraHeaders: [{ name: 'contact', value: getHeader(req, 'contact')! }] }));
      return;
    }
    if (req.method !== 'INVITE') {
      tx.respond(createResponse(req, req.method === 'OPTIONS' ? 200 : 405));
      return;
    }
    const call: IncomingCall = { invite: req, tx, tag: generateTag(), dialog: undefined, cancelled: false, acked: undefined };
    this.incoming.push(call);
    const b = this.behaviour;
    const ringHeaders = [{ name: 'contact', value: formatNameAddr(this.contact()) }];
    if (this.opts.redirectTo !== undefined) {
      const contact = `<sip:${this.opts.redirectTo}@${this.opts.server.domain}>`;
      tx.respond(createResponse(req, 302, 'Moved Temporarily', { toTag: call.tag, extraHeaders: [{ name: 'contact', value: contact }] }));
      return;
    }
    if (b === 'busy') return this.reject(call, 486);
    if (b === 'silent') return;
    if (b === 'answer') return this.answer(call);
    if (b === 'reliable-ring') {
      ringHeaders.push({ name: 'require', value: '100rel' }, { name: 'rseq', value: '1' });
      tx.respond(createResponse(req, 180, 'Ringing', { toTag: call.tag, extraHeaders: ringHeaders }));
      return;
    }
    tx.respond(createResponse(req, 180, 'Ringing', { toTag: call.tag, extraHeaders: ringHeaders }));
    if (b === 'ring-answer') setTimeout(() => this.answer(call), 50);
  }

  /** As a trunk peer with credentials: true when the request carries valid ones, else a challenge was sent. */
  private authorized(req: SipRequest, tx: ServerTransaction): boolean {
    const server = this.digestServer;
    if (!server) return true;
    const isReg = req.method === 'REGISTER';
    const value = getHeader(req, isReg ? 'authorization' : 'proxy-authorization');
    const parsed = value !== undefined ? parseAuthHeader(value) : undefined;
    if (parsed) {
      const v = server.verify(parsed, req.method, req.uriRaw, () => this.ha1, {});
      if (v.kind === 'ok') return true;
    }
    const name = isReg ? 'www-authenticate' : 'proxy-authenticate';
    tx.respond(createResponse(req, isReg ? 401 : 407, undefined, { extraHeaders: server.challenge({ stale: false }).map((v) => ({ name, value: v })) }));
    return false;
  }

  async stop(): Promise<void> {
    await this.transport.stop();
    this.transactions.close();
    this.timers.close();
  }

  /** The SIP header value as received in the last incoming INVITE. */
  static header(msg: SipRequest | SipResponse, name: string): string | undefined {
    return getHeader(msg, name);
  }
}

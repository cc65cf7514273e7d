// One side of a B2BUA call: a dialog with one party, where its requests go,
// and what is pending on it. The two concrete sides (inbound-leg.ts: we are
// the UAS; outbound-leg.ts: we are the UAC) share the in-dialog machinery here.
import type { Endpoint, Header, NameAddr, SipRequest, SipResponse, TransportName, Via } from '../../sip/message.ts';
import type { ClientHandlers, ClientTransaction, ServerTransaction } from '../../sip/transaction/types.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import { Dialog, newVia } from '../../sip/dialog.ts';
import { createResponse } from '../../sip/serializer.ts';
import { formatNameAddr, getHeader } from '../../sip/headers.ts';
import { Retransmitter2xx } from '../../sip/transaction/retransmit-2xx.ts';
import type { User } from '../../store/types.ts';
import type { CallContext, DialogOwner } from './context.ts';
import type { MediaProfile } from '../media/profile.ts';
import { bracketHost } from '../../lib/net.ts';

/** The party's media identity: its policy and where its media may come from (follows the leg across bridges). */
export interface LegMedia {
  profile: MediaProfile;
  /** The party's signalling address may not be where its media comes from (NAT): relay and latch. */
  natted: boolean;
  /** Where the party's SIP comes from: an SDP address that differs from it means NAT too. */
  signalAddress?: string;
}

export interface LocalListener {
  transport: TransportName;
  address: string;
  port: number;
}

export interface LegPeer {
  /** The local user on this side, if it is one (codec list, status). */
  user: User | undefined;
  /** Trunk name when this side is a trunk. */
  trunk: string | undefined;
  /** The party's number and name as shown to others (an outside caller's From); a user's come from the user. */
  number?: string;
  name?: string;
}

/** What a leg reports to its owner (the call it belongs to now; a transfer hands it to another). */
export interface LegEvents {
  /** An in-dialog request from this leg's party (not ACK, not PRACK: the leg handles those). */
  onRequest(leg: Leg, req: SipRequest, tx: ServerTransaction): void;
  /** ACK for a 2xx we sent on this leg (initial INVITE or re-INVITE), with its body (late offer answer). */
  onAck(leg: Leg, ack: SipRequest): void;
  /** The party never ACKed our 2xx, or a request to it failed for good: the call cannot go on. */
  onLegFailed(leg: Leg, why: string): void;
}

const EMPTY = Buffer.alloc(0);

export abstract class Leg implements DialogOwner {
  dialog: Dialog | undefined;
  /** Where requests to the party go: updated to wherever its last in-dialog request came from (NAT, reconnects). */
  dest: Endpoint;
  /** Our re-INVITE on this leg waiting for its final response (RFC 3261 §14.1 glare). */
  clientInvitePending = false;
  /** A re-INVITE from the party we have not answered yet (§14.2: a second one gets 500). */
  serverInvitePending = false;
  /** Our 2xx being retransmitted until the party's ACK (initial INVITE or re-INVITE). */
  protected pending2xx: { cseq: number; retransmitter: Retransmitter2xx } | undefined;
  /** The ACK we last sent for a 2xx, re-sent if that 2xx is retransmitted. */
  protected lastAck: { cseq: number; ack: SipRequest } | undefined;
  private registeredKey: string | undefined;
  ended = false;
  /** SIPS dialog (RFC 5630): our Contact is sips:, and the leg runs over TLS. */
  secure = false;
  /** The last SDP we sent this party (offer or answer): a hold re-offers it with a new direction. */
  lastSdpSent: Buffer | undefined;
  /** Who the leg reports to; a transfer moves the leg to another call. */
  events: LegEvents;

  constructor(
    protected readonly ctx: CallContext,
    events: LegEvents,
    readonly local: LocalListener,
    dest: Endpoint,
    readonly peer: LegPeer,
    readonly media: LegMedia,
  ) {
    this.dest = dest;
    this.events = events;
  }

  /** The dialog is confirmed and the leg still up: it can take re-INVITEs. */
  abstract readonly established: boolean;

  abstract readonly side: 'inbound' | 'outbound';

  /** Our Contact on this leg: the listener the party talks to. */
  contact(): NameAddr {
    const host = bracketHost(this.local.address);
    const params = new Map<string, string | null>();
    if (this.secure) return { uri: { scheme: 'sips', host, port: this.local.port, params, headers: new Map() }, params: new Map() };
    if (this.local.transport !== 'udp') params.set('transport', this.local.transport);
    return { uri: { scheme: 'sip', host, port: this.local.port, params, headers: new Map() }, params: new Map() };
  }

  via(): Via {
    return newVia(this.dest.transport, this.local);
  }

  protected register(dialog: Dialog): void {
    this.dialog = dialog;
    const key = dialog.key;
    if (this.registeredKey === key) return;
    if (this.registeredKey !== undefined) this.ctx.unregisterDialog(this.registeredKey, this);
    this.registeredKey = key;
    this.ctx.registerDialog(key, this);
  }

  /** Forget the dialog; later requests in it get 481. */
  close(): void {
    this.ended = true;
    // A BYE waits for the ACK of our 2xx: the dialog stays known until it comes (or the 2xx times out).
    if (this.byeAfterAck !== undefined && this.pending2xx) return;
    this.pending2xx?.retransmitter.stop();
    this.pending2xx = undefined;
    if (this.registeredKey !== undefined) this.ctx.unregisterDialog(this.registeredKey, this);
    this.registeredKey = undefined;
    this.ackSettled();
  }

  /** Sends a request inside the dialog. Undefined when there is no dialog (yet). */
  sendInDialog(
    method: string,
    opts: { body?: Buffer; contentType?: string; headers?: Header[] },
    handlers: ClientHandlers,
  ): ClientTransaction | undefined {
    const dialog = this.dialog;
    if (!dialog) return undefined;
    const headers: Header[] = [];
    if (method === 'INVITE' || method === 'UPDATE') headers.push(this.ctx.commonHeaders.allow, this.ctx.commonHeaders.supported);
    if (opts.headers) headers.push(...opts.headers);
    const withBody = opts.body !== undefined && opts.body.length > 0;
    if (withBody && (method === 'INVITE' || method === 'UPDATE')) this.noteSdp(opts.body, opts.contentType);
    const req = dialog.request(method, this.via(), {
      contact: method === 'INVITE' || method === 'UPDATE' ? this.contact() : undefined,
      headers,
      body: withBody ? opts.body : undefined,
      contentType: withBody ? (opts.contentType ?? 'application/sdp') : undefined,
    });
    return this.ctx.transactions.sendRequest(req, this.dest, handlers);
  }

  private byeSent = false;
  /** A BYE asked for while our 2xx waits for its ACK (RFC 3261 §15: it may not be sent before): its Reason, or null. */
  private byeAfterAck: string | null | undefined;

  /** Our 2xx went out and its ACK has not come back yet. */
  get awaitingAck(): boolean {
    return this.pending2xx !== undefined;
  }

  /** Told once the 2xx we await an ACK for is settled: acknowledged, timed out or the leg closed. */
  private ackWaiters: (() => void)[] = [];

  /** Runs `fn` once no 2xx of ours awaits its ACK any more (at once when none does). */
  afterAck(fn: () => void): void {
    if (this.pending2xx === undefined) fn();
    else this.ackWaiters.push(fn);
  }

  private ackSettled(): void {
    const waiters = this.ackWaiters;
    this.ackWaiters = [];
    for (const fn of waiters) fn();
  }

  /**
   * BYE to the party, once, fire and forget (a failure changes nothing: the
   * call is over for us). While our 2xx awaits its ACK the BYE waits too
   * (RFC 3261 §15), and goes out when the ACK arrives.
   */
  bye(reason?: string): void {
    // A closed leg's dialog is over (the party's own BYE, or ours): nothing to end.
    if (this.byeSent || !this.dialog || this.ended) return;
    if (this.pending2xx) {
      this.byeAfterAck = reason ?? null;
      return;
    }
    this.sendBye(reason);
  }

  private sendBye(reason: string | undefined): void {
    this.byeSent = true;
    const headers: Header[] = reason ? [{ name: 'reason', value: reason }] : [];
    this.sendInDialog('BYE', { headers }, { onResponse() {}, onTimeout() {}, onTransportError() {} });
  }

  private sendDeferredBye(): void {
    const reason = this.byeAfterAck ?? undefined;
    this.byeAfterAck = undefined;
    this.sendBye(reason);
    if (this.ended) this.close();
  }

  /** ACK for a 2xx to an INVITE we sent in this dialog (§13.2.2.4): its own transaction-less request. */
  sendAck(cseq: number, body?: Buffer, contentType?: string): void {
    const dialog = this.dialog;
    if (!dialog) return;
    const withBody = body !== undefined && body.length > 0;
    if (withBody) this.noteSdp(body, contentType);
    const ack = dialog.request('ACK', this.via(), {
      cseq,
      body: withBody ? body : undefined,
      contentType: withBody ? (contentType ?? 'application/sdp') : undefined,
    });
    this.lastAck = { cseq, ack };
    this.ctx.sender.send(ack, this.dest);
  }

  /** A 2xx for an INVITE we sent came again (lost ACK): re-send the same ACK (§13.2.2.4). */
  protected resendAck(res: SipResponse): void {
    if (this.lastAck && this.lastAck.cseq === res.cseq.seq) this.ctx.sender.send(this.lastAck.ack, this.dest);
  }

  /** Answers a re-INVITE/UPDATE/INFO/... of the party through its transaction. */
  answer(req: SipRequest, tx: ServerTransaction, status: number, opts: { reason?: string; body?: Buffer; contentType?: string; headers?: Header[] } = {}): void {
    const extra: Header[] = [];
    if (req.method === 'INVITE' || req.method === 'UPDATE') {
      if (status >= 200 && status < 300) extra.push({ name: 'contact', value: formatNameAddr(this.contact()) });
      extra.push(this.ctx.commonHeaders.allow, this.ctx.commonHeaders.supported);
    }
    if (opts.headers) extra.push(...opts.headers);
    const withBody = opts.body !== undefined && opts.body.length > 0;
    if (withBody && status < 300 && (req.method === 'INVITE' || req.method === 'UPDATE')) this.noteSdp(opts.body, opts.contentType);
    const res = createResponse(req, status, opts.reason, {
      extraHeaders: extra,
      body: withBody ? opts.body : undefined,
      contentType: withBody ? (opts.contentType ?? 'application/sdp') : undefined,
    });
    tx.respond(res);
    if (req.method === 'INVITE' && status >= 200 && status < 300) this.retransmit2xx(tx, res);
  }

  /** Runs the 2xx retransmission until the ACK with this CSeq arrives. */
  protected retransmit2xx(tx: ServerTransaction, res: SipResponse): void {
    this.pending2xx?.retransmitter.stop();
    const retransmitter = this.ctx.transactions.retransmit2xx(tx as never, res, () => {
      this.pending2xx = undefined;
      if (this.byeAfterAck !== undefined) {
        // The call ended while we waited for this ACK: nothing left to tell the party.
        this.byeAfterAck = undefined;
        if (this.ended) this.close();
        return this.ackSettled();
      }
      this.events.onLegFailed(this, 'no ACK for 2xx');
      this.ackSettled();
    });
    this.pending2xx = { cseq: res.cseq.seq, retransmitter };
  }

  /** DialogUsage: the user-agent core hands us every request and ACK of our dialog. */
  onRequest(req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound): void {
    this.onInDialogRequest(req, tx, inbound.source);
  }

  onInDialogRequest(req: SipRequest, tx: ServerTransaction | undefined, source: Endpoint): void {
    this.dest = source.transport === this.dest.transport ? source : this.dest;
    if (req.method === 'ACK') {
      if (this.pending2xx && this.pending2xx.cseq === req.cseq.seq) {
        this.pending2xx.retransmitter.stop();
        this.pending2xx = undefined;
        if (this.byeAfterAck !== undefined) {
          this.sendDeferredBye();
          return this.ackSettled();
        }
        this.events.onAck(this, req);
        this.ackSettled();
      }
      return;
    }
    if (!tx) return;
    const dialog = this.dialog;
    if (!dialog || this.ended) {
      tx.respond(createResponse(req, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    if (!dialog.acceptRemoteSeq(req)) {
      tx.respond(createResponse(req, 500, 'CSeq Out of Order'));
      return;
    }
    if (this.handleLocally(req, tx)) return;
    this.events.onRequest(this, req, tx);
  }

  /** Requests a leg answers itself (PRACK, OPTIONS); true when handled. */
  protected handleLocally(req: SipRequest, tx: ServerTransaction): boolean {
    if (req.method === 'OPTIONS') {
      this.answer(req, tx, 200, { headers: [this.ctx.commonHeaders.allow, this.ctx.commonHeaders.supported] });
      return true;
    }
    return false;
  }

  /** Remembers an SDP body on its way to the party. */
  protected noteSdp(body: Buffer | undefined, contentType: string | undefined): void {
    if (body !== undefined && body.length > 0 && (contentType === undefined || contentType.toLowerCase().startsWith('application/sdp'))) this.lastSdpSent = body;
  }

  /**
   * A re-INVITE of ours on this leg (RFC 3261 §14.1), for features that
   * re-pair or hold parties. Resolves with the final response; for a 2xx the
   * caller must call ack() (with the answer when the re-INVITE had no offer).
   * Glare (491) is reported like any failure: the feature decides to retry.
   */
  reinvite(body: Buffer | undefined, headers: Header[] = []): Promise<{ res: SipResponse; ack(answer?: Buffer): void }> {
    return new Promise((resolve) => {
      const fail = (status: number, reason: string) => resolve({ res: { status, reason } as SipResponse, ack: () => {} });
      if (this.ended || !this.dialog) return fail(481, 'Call/Transaction Does Not Exist');
      if (this.clientInvitePending || this.serverInvitePending) return fail(491, 'Request Pending');
      this.clientInvitePending = true;
      const done = () => void (this.clientInvitePending = false);
      const sent = this.sendInDialog('INVITE', { body, headers }, {
        onResponse: (res) => {
          if (res.status < 200) return;
          done();
          if (res.status >= 300) return resolve({ res, ack: () => {} });
          this.dialog?.refreshTarget(res);
          resolve({ res, ack: (answer) => this.sendAck(res.cseq.seq, answer) });
        },
        onTimeout: () => {
          done();
          fail(408, 'Request Timeout');
        },
        onTransportError: () => {
          done();
          fail(503, 'Service Unavailable');
        },
      });
      if (!sent) {
        done();
        fail(481, 'Call/Transaction Does Not Exist');
      }
    });
  }

  bodyOf(msg: SipRequest | SipResponse): { body: Buffer; contentType: string | undefined } {
    if (msg.body.length === 0) return { body: EMPTY, contentType: undefined };
    return { body: msg.body, contentType: getHeader(msg, 'content-type') };
  }
}

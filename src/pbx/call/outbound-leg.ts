// A callee's side of a call: we are the UAC of an INVITE to one contact of a
// user (one fork) or to a trunk. The INVITE goes through the UA core's client
// (auth retry for trunks, CANCEL only after a provisional as RFC 3261 §9.1
// asks); the leg PRACKs reliable provisionals (RFC 3262) and reports
// provisionals and the final answer to its owner.
import type { Endpoint, Header, NameAddr, SipRequest, SipResponse, SipUri } from '../../sip/message.ts';
import { Dialog } from '../../sip/dialog.ts';
import { generateCallId, generateTag } from '../../sip/ids.ts';
import { createRequest } from '../../sip/serializer.ts';
import { getHeader, getHeaders, parseTokenList, tagOf } from '../../sip/headers.ts';
import { sendUacRequest } from '../../sip/ua/uac.ts';
import { offerLoss } from '../../sip/overload-via.ts';
import type { UacRequest } from '../../sip/ua/uac.ts';
import { formatUri } from '../../sip/uri.ts';
import type { CallContext } from './context.ts';
import type { LegEvents, LegMedia, LegPeer, LocalListener } from './leg.ts';
import { Leg } from './leg.ts';

export interface OutboundTarget {
  requestUri: SipUri;
  dest: Endpoint;
  /** Our listener for dest's transport. */
  local: LocalListener;
  from: NameAddr;
  to: NameAddr;
  /** Pre-loaded Route set (a registered Path, or a trunk's outbound proxy). */
  routes: string[];
  /** Credentials for a peer that challenges (trunks). */
  credentials?: { username: string; password: string };
  peer: LegPeer;
  /** The party's media policy and NAT state. */
  media: LegMedia;
  /** SIPS end to end: our Contact on this leg is a sips: URI. */
  secure?: boolean;
  /** Our Contact on this leg when it is not our listener's address (an upstream line's registered Contact). */
  contact?: SipUri;
}

export interface OutboundEvents extends LegEvents {
  /** A 101–199 response (retransmitted reliable ones are filtered out). */
  onProvisional(leg: OutboundLeg, res: SipResponse): void;
  /** The final response (2xx or not); for a 2xx the call must ack() or ack() and bye(). */
  onFinal(leg: OutboundLeg, res: SipResponse): void;
}

export type OutboundState = 'calling' | 'early' | 'answered' | 'failed';

export class OutboundLeg extends Leg {
  readonly side = 'outbound';
  state: OutboundState = 'calling';
  /** Final status (0 until there is one; 408 for a timeout, 503 for a transport failure). */
  status = 0;
  /** Reason phrase of that status ('' until there is one), for the call record. */
  reason = '';
  private uac: UacRequest | undefined;
  private gotProvisional = false;
  private lastRseq = -1;
  private readonly callId = generateCallId();
  private readonly fromTag = generateTag();

  constructor(
    ctx: CallContext,
    readonly outEvents: OutboundEvents,
    readonly target: OutboundTarget,
  ) {
    super(ctx, outEvents, target.local, target.dest, target.peer, target.media);
    this.secure = target.secure === true;
  }

  override contact(): NameAddr {
    const c = this.target.contact;
    return c ? { uri: c, params: new Map() } : super.contact();
  }

  /** Answered, ACKed by us, and still up. */
  get established(): boolean {
    return this.state === 'answered' && this.lastAck !== undefined && !this.ended;
  }

  get label(): string {
    return formatUri(this.target.requestUri);
  }

  get legCallId(): string {
    return this.callId;
  }

  /** The INVITE as last sent (a challenge retry replaces it): ACK and CANCEL copy it. */
  get request(): SipRequest {
    return this.uac!.current;
  }

  /** Sends the INVITE through the one client (src/sip/ua/uac.ts): digest retries for trunks, CANCEL per §9.1. */
  start(body: Buffer | undefined, headers: Header[]): void {
    const t = this.target;
    const routes: Header[] = t.routes.map((r) => ({ name: 'route', value: r }));
    const withBody = body !== undefined && body.length > 0;
    this.noteSdp(body, undefined);
    const from: NameAddr = { ...t.from, params: new Map(t.from.params).set('tag', this.fromTag) };
    const invite = createRequest({
      method: 'INVITE',
      uri: t.requestUri,
      from,
      to: t.to,
      callId: this.callId,
      cseq: 1,
      // A trunk is asked for its overload feedback (RFC 7339 §5.1); phones do not give any.
      via: t.peer.trunk !== undefined && this.ctx.trunkOverload !== undefined ? offerLoss(this.via()) : this.via(),
      contact: this.contact(),
      headers: routes.concat(this.ctx.commonHeaders.allow, this.ctx.commonHeaders.supported, headers),
      body: withBody ? body : undefined,
      contentType: withBody ? 'application/sdp' : undefined,
    });
    const onResponse = (res: SipResponse) => this.onResponse(res);
    this.uac = sendUacRequest(invite, {
      transactions: this.ctx.transactions,
      dest: this.dest,
      credentials: t.credentials,
      onProvisional: onResponse,
      onFinal: onResponse,
      onExtra2xx: onResponse,
      onFailure: (kind) => (kind === 'timeout' ? this.fail(this.gotProvisional ? 480 : 408, 'Request Timeout') : this.fail(503, 'Service Unavailable')),
    });
  }

  /** Stops ringing: CANCEL now if the callee has answered provisionally, else as soon as it does (§9.1). */
  cancel(): void {
    if (this.state !== 'calling' && this.state !== 'early') return;
    this.uac?.cancel();
  }

  /** ACK for the 2xx (with the late-offer answer when there is one). */
  ack(body?: Buffer): void {
    this.sendAck(this.request.cseq.seq, body);
  }

  private fail(status: number, reason: string): void {
    if (this.state === 'answered' || this.state === 'failed') return;
    this.state = 'failed';
    this.status = status;
    this.reason = reason;
    this.close();
    const synthetic = { status, reason } as SipResponse;
    this.outEvents.onFinal(this, synthetic);
  }

  private onResponse(res: SipResponse): void {
    const trunk = this.target.peer.trunk;
    if (trunk !== undefined) this.ctx.trunkOverload?.noteResponse(trunk, res);
    const status = res.status;
    if (status < 200) {
      if (this.state === 'failed' || this.state === 'answered') return;
      this.gotProvisional = true;
      if (status === 100) return;
      if (tagOf(res.to) !== undefined && (!this.dialog || this.dialog.remoteTag !== tagOf(res.to))) {
        const early = Dialog.asUac(this.request, res);
        if (early) this.register(early);
      }
      this.state = 'early';
      if (this.isReliable(res)) {
        const rseq = Number(getHeader(res, 'rseq'));
        if (rseq <= this.lastRseq) return; // a retransmission: PRACKed already
        this.lastRseq = rseq;
        this.prack(rseq);
      }
      this.outEvents.onProvisional(this, res);
      return;
    }
    if (status < 300) {
      if (this.state === 'answered') {
        // The same 2xx again (our ACK was lost): ACK again. A 2xx from another
        // downstream fork: take it and hang it up at once (§13.2.2.4).
        if (this.dialog && tagOf(res.to) === this.dialog.remoteTag) this.resendAck(res);
        else this.ackAndBye(res);
        return;
      }
      if (this.state === 'failed') {
        this.ackAndBye(res);
        return;
      }
      const dialog = Dialog.asUac(this.request, res);
      if (!dialog) {
        this.ackAndBye(res);
        this.fail(502, 'Bad Gateway');
        return;
      }
      this.register(dialog);
      this.state = 'answered';
      this.status = status;
      this.outEvents.onFinal(this, res);
      return;
    }
    if (this.state === 'answered' || this.state === 'failed') return;
    this.state = 'failed';
    this.status = status;
    // Bounded: a far end's phrase goes into the call log.
    this.reason = res.reason.slice(0, 200);
    this.close();
    this.outEvents.onFinal(this, res);
  }

  private isReliable(res: SipResponse): boolean {
    return parseTokenList(getHeaders(res, 'require')).includes('100rel') && getHeader(res, 'rseq') !== undefined;
  }

  private prack(rseq: number): void {
    const nop = () => {};
    this.sendInDialog('PRACK', { headers: [{ name: 'rack', value: `${rseq} ${this.request.cseq.seq} INVITE` }] }, {
      onResponse: nop,
      onTimeout: nop,
      onTransportError: nop,
    });
  }

  /** A 2xx we do not want: acknowledge it, then end that dialog. */
  private ackAndBye(res: SipResponse): void {
    const dialog = Dialog.asUac(this.request, res);
    if (!dialog) return;
    const via = this.via();
    const ack = dialog.request('ACK', via, { cseq: this.request.cseq.seq });
    this.ctx.sender.send(ack, this.dest);
    const bye = dialog.request('BYE', this.via());
    const nop = () => {};
    this.ctx.transactions.sendRequest(bye, this.dest, { onResponse: nop, onTimeout: nop, onTransportError: nop });
  }
}

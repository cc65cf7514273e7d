// The caller's side of a call: we are the UAS of its INVITE. It answers that
// INVITE (provisional responses, reliably when the caller requires RFC 3262,
// and one final response) and then lives on as a dialog.
import type { Endpoint, Header, SipRequest } from '../../sip/message.ts';
import type { InviteServerTransaction, ServerTransaction } from '../../sip/transaction/types.ts';
import { Dialog } from '../../sip/dialog.ts';
import { generateTag } from '../../sip/ids.ts';
import { createResponse } from '../../sip/serializer.ts';
import { formatNameAddr, getHeader, getHeaders, parseTokenList } from '../../sip/headers.ts';
import { Retransmitter2xx } from '../../sip/transaction/retransmit-2xx.ts';
import type { CallContext } from './context.ts';
import type { LegEvents, LegMedia, LegPeer, LocalListener } from './leg.ts';
import { Leg } from './leg.ts';

interface Reliable {
  rseq: number;
  cseq: number;
  retransmitter: Retransmitter2xx;
}

export class InboundLeg extends Leg {
  readonly side = 'inbound';
  readonly localTag = generateTag();
  /** RFC 3262 as the caller stated it in its INVITE. */
  readonly caller100rel: 'none' | 'supported' | 'required';
  /** Supports RFC 4028 session timers. */
  readonly callerTimer: boolean;
  private rseq = 1 + Math.floor(Math.random() * 0x7fff);
  private reliable: Reliable | undefined;
  /** A reliable provisional waiting for the PRACK of the previous one (RFC 3262 §3: one at a time). */
  private queued: { status: number; reason: string | undefined; body: Buffer | undefined; headers: Header[] } | undefined;
  private finalSent = false;

  constructor(
    ctx: CallContext,
    events: LegEvents,
    local: LocalListener,
    source: Endpoint,
    peer: LegPeer,
    media: LegMedia,
    readonly invite: SipRequest,
    readonly inviteTx: InviteServerTransaction,
  ) {
    super(ctx, events, local, source, peer, media);
    this.secure = invite.uri.scheme === 'sips';
    const required = parseTokenList(getHeaders(invite, 'require'));
    const supported = parseTokenList(getHeaders(invite, 'supported'));
    this.caller100rel = required.includes('100rel') ? 'required' : supported.includes('100rel') ? 'supported' : 'none';
    this.callerTimer = supported.includes('timer') || required.includes('timer');
    const dialog = Dialog.asUas(invite, this.localTag);
    if (dialog) this.register(dialog);
  }

  get answered(): boolean {
    return this.finalSent;
  }

  /** Our 2xx went out and its ACK came back. */
  get established(): boolean {
    return this.answeredOk && this.pending2xx === undefined && !this.ended;
  }

  /** The final response was a 2xx. */
  answeredOk = false;

  /**
   * A provisional response to the caller (101–199, with our To tag so an early
   * dialog exists). Reliable only when the caller requires 100rel; otherwise
   * an SDP in it is a preview and the final 2xx repeats it.
   */
  provisional(status: number, reason: string | undefined, body: Buffer | undefined, headers: Header[] = []): void {
    if (this.finalSent || this.ended) return;
    this.noteSdp(body, undefined);
    if (this.caller100rel !== 'required') {
      this.inviteTx.respond(this.build(status, reason, body, headers));
      return;
    }
    if (this.reliable) {
      this.queued = { status, reason, body, headers };
      return;
    }
    this.sendReliable(status, reason, body, headers);
  }

  private sendReliable(status: number, reason: string | undefined, body: Buffer | undefined, headers: Header[]): void {
    const rseq = this.rseq++;
    const res = this.build(status, reason, body, headers.concat({ name: 'require', value: '100rel' }, { name: 'rseq', value: String(rseq) }));
    this.inviteTx.respond(res);
    const tx = this.inviteTx;
    const retransmitter = new Retransmitter2xx({
      timers: this.ctx.timers,
      t1: this.ctx.transactions.t1,
      t2: this.ctx.transactions.t2,
      // The transaction refuses a second copy of a 1xx only once it is past "proceeding": then nothing needs re-sending.
      send: () => void (tx.state === 'proceeding' && this.ctx.sender.send(res, tx.source)),
      onTimeout: () => {
        // RFC 3262 §3: no PRACK for 64*T1 — reject the INVITE with a 5xx.
        this.reliable = undefined;
        if (!this.finalSent) this.events.onLegFailed(this, 'no PRACK for a reliable provisional response');
      },
    });
    this.reliable = { rseq, cseq: this.invite.cseq.seq, retransmitter };
  }

  /** The final response to the INVITE. A 2xx is retransmitted until the caller's ACK. */
  final(status: number, reason?: string, body?: Buffer, headers: Header[] = []): void {
    if (this.finalSent) return;
    this.finalSent = true;
    this.reliable?.retransmitter.stop();
    this.reliable = undefined;
    this.queued = undefined;
    const res = this.build(status, reason, body, headers);
    this.inviteTx.respond(res);
    if (status >= 200 && status < 300) {
      this.answeredOk = true;
      this.noteSdp(body, undefined);
      this.retransmit2xx(this.inviteTx, res);
    } else this.close();
  }

  private build(status: number, reason: string | undefined, body: Buffer | undefined, headers: Header[]) {
    const extra: Header[] = [];
    if (status > 100 && status < 300) extra.push({ name: 'contact', value: formatNameAddr(this.contact()) });
    if (status > 100) extra.push(this.ctx.commonHeaders.allow, this.ctx.commonHeaders.supported);
    extra.push(...headers);
    const withBody = body !== undefined && body.length > 0;
    return createResponse(this.invite, status, reason, {
      toTag: this.localTag,
      extraHeaders: extra,
      body: withBody ? body : undefined,
      contentType: withBody ? 'application/sdp' : undefined,
    });
  }

  protected override handleLocally(req: SipRequest, tx: ServerTransaction): boolean {
    if (req.method !== 'PRACK') return super.handleLocally(req, tx);
    const rack = parseRack(getHeader(req, 'rack'));
    const pending = this.reliable;
    if (!rack || !pending || rack.rseq !== pending.rseq || rack.cseq !== pending.cseq || rack.method !== 'INVITE') {
      tx.respond(createResponse(req, 481, 'Call/Transaction Does Not Exist'));
      return true;
    }
    pending.retransmitter.stop();
    this.reliable = undefined;
    tx.respond(createResponse(req, 200, 'OK'));
    const next = this.queued;
    this.queued = undefined;
    if (next && !this.finalSent) this.sendReliable(next.status, next.reason, next.body, next.headers);
    return true;
  }

  override close(): void {
    this.reliable?.retransmitter.stop();
    this.reliable = undefined;
    super.close();
  }
}

/** RAck: "response-num CSeq-num Method" (RFC 3262 §7.2). */
export function parseRack(v: string | undefined): { rseq: number; cseq: number; method: string } | undefined {
  if (v === undefined) return undefined;
  const parts = v.trim().split(/\s+/);
  if (parts.length !== 3) return undefined;
  const rseq = Number(parts[0]);
  const cseq = Number(parts[1]);
  if (!Number.isInteger(rseq) || !Number.isInteger(cseq) || rseq < 1 || cseq < 0) return undefined;
  return { rseq, cseq, method: parts[2]! };
}

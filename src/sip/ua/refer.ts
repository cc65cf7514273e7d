// RFC 3515 REFER, both sides: Refer-To (§2.1) with its URI headers (an
// escaped Replaces for attended transfer, RFC 3891), the implicit "refer"
// subscription whose NOTIFYs carry message/sipfrag progress (§2.4.4-2.4.7,
// id= from the second REFER of a dialog on, §2.4.6), and RFC 4488's
// Refer-Sub: false / norefersub (no subscription, no NOTIFY). Referred-By
// (RFC 3892) is carried as data. Who does the referred-to call is the
// application's business.

import type { Header, NameAddr, SipRequest, SipResponse, SipUri } from '../message.ts';
import type { Inbound } from '../transport/types.ts';
import type { ServerTransaction } from '../transaction/types.ts';
import type { TimerHandle } from '../timer-queue.ts';
import type { DialogTable, DialogUsage } from './core.ts';
import type { Replaces } from './replaces.ts';
import type { EventHeader, UsageContext } from './subscription.ts';
import type { UacRequest } from './uac.ts';
import { Dialog } from '../dialog.ts';
import { createResponse } from '../serializer.ts';
import { formatNameAddr, getHeader, getHeaders, parseNameAddr, tagOf } from '../headers.ts';
import { generateTag } from '../ids.ts';
import { cloneUri } from '../uri.ts';
import { parseReplaces } from './replaces.ts';
import { NotifierSubscription, eventMatches, parseEvent, parseSubscriptionState } from './subscription.ts';
import { sendUacRequest } from './uac.ts';

export interface ReferTo {
  nameAddr: NameAddr;
  /** The URI to call, with the URI headers taken off (they are for the new request, §2.1). */
  target: SipUri;
  /** URI headers, names as written, values decoded. */
  headers: Map<string, string>;
  /** The Replaces header the new INVITE must carry, when present and valid. */
  replaces?: Replaces;
}

/** A Refer-To value: name-addr or addr-spec (header escapes inside the URI decoded by the URI parser). */
export function parseReferTo(value: string): ReferTo | undefined {
  const na = parseNameAddr(value);
  if (na === undefined) return undefined;
  const target = cloneUri(na.uri);
  target.headers = new Map();
  const out: ReferTo = { nameAddr: na, target, headers: na.uri.headers };
  for (const [k, v] of na.uri.headers) {
    if (k.toLowerCase() !== 'replaces') continue;
    const r = parseReplaces(v);
    if (r !== undefined) out.replaces = r;
  }
  return out;
}

/** RFC 4488: the REFER asks for no implicit subscription. */
export function wantsNoSubscription(req: SipRequest | SipResponse): boolean {
  const v = getHeader(req, 'refer-sub');
  return v !== undefined && v.trim().toLowerCase() === 'false';
}

/** A message/sipfrag;version=2.0 body holding a status line (§2.4.5). */
export function sipfrag(status: number, reason: string): Buffer {
  return Buffer.from(`SIP/2.0 ${status} ${reason}\r\n`);
}

/** The status line of a sipfrag body, or undefined. */
export function parseSipfrag(body: Buffer): { status: number; reason: string } | undefined {
  const text = body.toString('utf8');
  const eol = text.indexOf('\n');
  const line = (eol < 0 ? text : text.slice(0, eol)).trim();
  if (!line.startsWith('SIP/2.0 ')) return undefined;
  const status = Number(line.slice(8, 11));
  if (!Number.isInteger(status) || status < 100 || status > 699) return undefined;
  return { status, reason: line.slice(12).trim() };
}

const SIPFRAG = 'message/sipfrag;version=2.0';
/** REFERs received / sent per dialog, for the id rule of §2.4.6 (weak: no cleanup needed). */
const received = new WeakMap<Dialog, number>();
const sentCount = new WeakMap<Dialog, number>();

/** Takes the dialog key only when nobody owns it (an INVITE usage that owns it forwards to us instead). */
function claim(dialogs: DialogTable | undefined, key: string, usage: DialogUsage): boolean {
  if (dialogs === undefined || dialogs.get(key) !== undefined) return false;
  dialogs.add(key, usage);
  return true;
}

export interface AcceptReferOptions extends UsageContext {
  /** The dialog the REFER came in; omitted for an out-of-dialog REFER, which creates one. */
  dialog?: Dialog;
  dialogs?: DialogTable;
  /** Lifetime of the implicit subscription, seconds (default 180: long enough for the referred call to ring). */
  expires?: number;
  /** Honour Refer-Sub: false (RFC 4488; we then list norefersub in Supported). Default true. */
  noReferSub?: boolean;
  onTerminated?(refer: ReferNotifier, reason: string): void;
}

/** The referee's side: the REFER accepted, progress reported to the referrer. */
export class ReferNotifier implements DialogUsage {
  readonly referTo: ReferTo;
  /** Referred-By as written (RFC 3892), for the new request. */
  readonly referredBy: string | undefined;
  /** The implicit subscription; undefined under Refer-Sub: false. */
  readonly subscription: NotifierSubscription | undefined;
  readonly dialog: Dialog;
  private claimed = false;
  private readonly dialogs: DialogTable | undefined;

  private constructor(referTo: ReferTo, referredBy: string | undefined, dialog: Dialog, sub: NotifierSubscription | undefined, dialogs: DialogTable | undefined) {
    this.referTo = referTo;
    this.referredBy = referredBy;
    this.dialog = dialog;
    this.subscription = sub;
    this.dialogs = dialogs;
  }

  /**
   * Answers the REFER (an in-dialog one after the owner's CSeq check): 400 without exactly one valid Refer-To (returns
   * undefined); else 202 Accepted and a first NOTIFY "100 Trying", or, for
   * Refer-Sub: false, 200 with Refer-Sub: false and no NOTIFY ever.
   */
  static accept(req: SipRequest, tx: ServerTransaction, opts: AcceptReferOptions): ReferNotifier | undefined {
    const values = getHeaders(req, 'refer-to');
    const referTo = values.length === 1 ? parseReferTo(values[0]!) : undefined;
    const localTag = opts.dialog?.localTag ?? tagOf(req.to) ?? generateTag();
    const dialog = opts.dialog ?? Dialog.asUas(req, localTag);
    if (referTo === undefined || dialog === undefined) {
      tx.respond(createResponse(req, 400, referTo === undefined ? 'Bad Refer-To' : 'Missing Contact'));
      return undefined;
    }
    const n = (received.get(dialog) ?? 0) + 1;
    received.set(dialog, n);
    const noSub = opts.noReferSub !== false && wantsNoSubscription(req);
    const extra: Header[] = [{ name: 'contact', value: formatNameAddr(opts.contact) }];
    if (noSub) {
      extra.push({ name: 'refer-sub', value: 'false' }, { name: 'supported', value: 'norefersub' });
      tx.respond(createResponse(req, 200, 'OK', { toTag: localTag, extraHeaders: extra }));
      return new ReferNotifier(referTo, getHeader(req, 'referred-by'), dialog, undefined, undefined);
    }
    tx.respond(createResponse(req, 202, 'Accepted', { toTag: localTag, extraHeaders: extra }));
    const event: EventHeader = n > 1 ? { package: 'refer', id: String(req.cseq.seq) } : { package: 'refer' };
    let self: ReferNotifier | undefined;
    const sub = new NotifierSubscription({
      ...opts, dialog, event, expires: opts.expires ?? 180, dialogs: undefined,
      onTerminated: (_s, reason) => { if (self !== undefined) { self.release(); opts.onTerminated?.(self, reason); } },
    });
    self = new ReferNotifier(referTo, getHeader(req, 'referred-by'), dialog, sub, opts.dialogs);
    self.claimed = claim(opts.dialogs, dialog.key, self);
    sub.notify({ state: 'active', body: sipfrag(100, 'Trying'), contentType: SIPFRAG });
    return self;
  }

  /**
   * Progress of the referred request (§2.4.5): 1xx keeps the subscription,
   * a final status ends it (terminated;reason=noresource). Nothing is sent
   * under Refer-Sub: false.
   */
  progress(status: number, reason: string): void {
    const sub = this.subscription;
    if (sub === undefined || sub.terminated) return;
    if (status < 200) sub.notify({ state: 'active', body: sipfrag(status, reason), contentType: SIPFRAG });
    else sub.terminate('noresource', sipfrag(status, reason), SIPFRAG);
  }

  /** Is this in-dialog request (a SUBSCRIBE refreshing the implicit subscription) ours? */
  matches(req: SipRequest): boolean {
    return this.subscription?.matches(req) ?? false;
  }

  onRequest(req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound): void {
    if (this.subscription !== undefined) this.subscription.onRequest(req, tx, inbound);
    else if (tx !== undefined) tx.respond(createResponse(req, 481));
  }

  private release(): void {
    if (this.claimed) this.dialogs?.remove(this.dialog.key, this);
    this.claimed = false;
  }
}

export interface SendReferOptions extends UsageContext {
  dialog: Dialog;
  dialogs?: DialogTable;
  /** Refer-To value as it goes on the wire, e.g. '<sip:200@pbx>' or referToWithReplaces(...). */
  referTo: string;
  referredBy?: string;
  /** RFC 4488: ask for no implicit subscription. */
  noReferSub?: boolean;
  headers?: Header[];
  /** The REFER's final response. */
  onResponse?(res: SipResponse, refer: ReferSubscriber): void;
  /** Each NOTIFY's sipfrag status (100 Trying, 180, 200...). */
  onProgress?(status: number, reason: string, notify: SipRequest, refer: ReferSubscriber): void;
  /**
   * Over: `status` is the last sipfrag status (the referred call's outcome)
   * when a NOTIFY said so; `reason` 'done', 'rejected' (REFER refused, status
   * is then the REFER's), 'no-subscription' (Refer-Sub: false accepted),
   * 'timeout', 'transport', or the terminated NOTIFY's reason when no final status came.
   */
  onDone?(result: { status?: number; reason: string }, refer: ReferSubscriber): void;
}

/** The referrer's side: sends the REFER in a dialog and follows its NOTIFYs. */
export class ReferSubscriber implements DialogUsage {
  readonly uac: UacRequest;
  private readonly opts: SendReferOptions;
  private readonly first: boolean;
  private lastStatus: number | undefined;
  private done = false;
  private claimed = false;
  private guard: TimerHandle | undefined;

  constructor(opts: SendReferOptions) {
    this.opts = opts;
    const dialog = opts.dialog;
    const n = (sentCount.get(dialog) ?? 0) + 1;
    sentCount.set(dialog, n);
    this.first = n === 1;
    const headers: Header[] = [{ name: 'refer-to', value: opts.referTo }];
    if (opts.referredBy !== undefined) headers.push({ name: 'referred-by', value: opts.referredBy });
    if (opts.noReferSub === true) headers.push({ name: 'refer-sub', value: 'false' }, { name: 'supported', value: 'norefersub' });
    if (opts.headers !== undefined) headers.push(...opts.headers);
    const req = dialog.request('REFER', opts.via(), { contact: opts.contact, headers });
    this.claimed = claim(opts.dialogs, dialog.key, this);
    this.uac = sendUacRequest(req, {
      transactions: opts.transactions, dest: opts.dest, credentials: opts.credentials,
      nextCSeq: () => ++dialog.localSeq,
      onFinal: (res) => {
        opts.onResponse?.(res, this);
        if (res.status >= 300) this.finish({ status: res.status, reason: 'rejected' });
        else if (wantsNoSubscription(res)) this.finish({ reason: 'no-subscription' });
        // Should no NOTIFY ever come, do not wait forever.
        else if (this.guard === undefined && !this.done) this.arm(180 + 32);
      },
      onFailure: (kind) => this.finish({ reason: kind }),
    });
  }

  /** The Event this REFER's NOTIFYs carry: no id for the first REFER of the dialog, else id=CSeq (§2.4.6). */
  get event(): EventHeader {
    return { package: 'refer', id: String(this.uac.current.cseq.seq) };
  }

  matches(req: SipRequest): boolean {
    if (eventMatches(req, this.event)) return true;
    if (!this.first) return false;
    const e = parseEvent(getHeader(req, 'event'));
    return e !== undefined && e.package === 'refer' && e.id === undefined;
  }

  onRequest(req: SipRequest, tx: ServerTransaction | undefined, _inbound: Inbound): void {
    if (tx === undefined) return;
    if (req.method !== 'NOTIFY' || !this.matches(req)) {
      tx.respond(createResponse(req, req.method === 'NOTIFY' ? 489 : 405, req.method === 'NOTIFY' ? 'Bad Event' : undefined));
      return;
    }
    if (this.done) { tx.respond(createResponse(req, 481)); return; }
    const st = parseSubscriptionState(getHeader(req, 'subscription-state') ?? '');
    if (st === undefined) { tx.respond(createResponse(req, 400, 'Missing Subscription-State')); return; }
    if (!this.opts.dialog.acceptRemoteSeq(req)) { tx.respond(createResponse(req, 500, 'CSeq Out of Order')); return; }
    tx.respond(createResponse(req, 200));
    const frag = parseSipfrag(req.body);
    if (frag !== undefined) {
      this.lastStatus = frag.status;
      this.opts.onProgress?.(frag.status, frag.reason, req, this);
    }
    if (st.state === 'terminated') {
      if (this.lastStatus !== undefined && this.lastStatus >= 200) this.finish({ status: this.lastStatus, reason: 'done' });
      else this.finish({ reason: st.reason ?? 'noresource' });
    } else if (st.expires !== undefined) this.arm(st.expires + 32);
  }

  private arm(seconds: number): void {
    this.opts.timers.cancel(this.guard);
    this.guard = this.opts.timers.schedule(seconds * 1000, () => { this.guard = undefined; this.finish({ reason: 'timeout' }); });
  }

  private finish(result: { status?: number; reason: string }): void {
    if (this.done) return;
    this.done = true;
    this.opts.timers.cancel(this.guard);
    if (this.claimed) this.opts.dialogs?.remove(this.opts.dialog.key, this);
    this.opts.onDone?.(result, this);
  }
}

/** Shorthand: new ReferSubscriber(opts). */
export function sendRefer(opts: SendReferOptions): ReferSubscriber {
  return new ReferSubscriber(opts);
}


// RFC 6665 subscriber side (§4.1): sends SUBSCRIBE through the UAC (digest
// included), takes the dialog from the 2xx or from a NOTIFY that overtakes it
// (§4.1.2.4), answers NOTIFYs, refreshes before expiry (§4.1.2.2), follows
// Subscription-State to its end (§4.1.3) and unsubscribes (§4.1.2.3).
// Re-exported by subscription.ts.

import type { Header, NameAddr, SipRequest, SipResponse, SipUri } from '../message.ts';
import type { Inbound } from '../transport/types.ts';
import type { ServerTransaction } from '../transaction/types.ts';
import type { TimerHandle } from '../timer-queue.ts';
import type { DialogTable, DialogUsage } from './core.ts';
import type { EventHeader, SubscriptionState, UsageContext } from './subscription.ts';
import { Dialog, dialogKey } from '../dialog.ts';
import { createRequest, createResponse } from '../serializer.ts';
import { getContacts, getHeader, getHeaders, parseDeltaSeconds, tagOf } from '../headers.ts';
import { generateCallId, generateTag } from '../ids.ts';
import { eventMatches, formatEvent, parseSubscriptionState } from './subscription.ts';
import { sendUacRequest } from './uac.ts';

export interface NotifyInfo {
  state: SubscriptionState;
  body: Buffer;
  contentType: string | undefined;
  request: SipRequest;
}

export interface SubscriberOptions extends UsageContext {
  dialogs: DialogTable;
  event: EventHeader;
  /** Accept header values (the package's body types). */
  accept?: string[];
  /** Seconds asked for. */
  expires: number;
  /** Addressing of the initial SUBSCRIBE. */
  target: { uri: SipUri | string; from: NameAddr; to: NameAddr; callId?: string; routeSet?: string[] };
  /** Extra headers and body of every SUBSCRIBE (e.g. a filter). */
  headers?: Header[];
  body?: Buffer;
  contentType?: string;
  onNotify?(info: NotifyInfo, sub: Subscriber): void;
  /** The SUBSCRIBE's final response (the initial one and each refresh). */
  onResponse?(res: SipResponse, sub: Subscriber): void;
  /**
   * The subscription is over: `reason` is the NOTIFY's reason (§6.2; the app
   * resubscribes for deactivated/timeout, after retryAfter for probation/giveup),
   * or 'rejected' (non-2xx to the initial SUBSCRIBE, see `status`), 'refresh-failed',
   * 'expired', 'unsubscribed', 'timeout' (no answer), 'transport'.
   */
  onTerminated?(sub: Subscriber, reason: string, detail: { retryAfter?: number; status?: number }): void;
}

/** A NOTIFY after an unsubscribe may never come; stop waiting after this long (64*T1). */
const UNSUBSCRIBE_WAIT_MS = 32_000;

export class Subscriber implements DialogUsage {
  dialog: Dialog | undefined;
  state: 'init' | 'pending' | 'active' | 'terminating' | 'terminated' = 'init';
  /** Clock ms the subscription runs out, once granted. */
  expiresAt = 0;
  readonly callId: string;
  readonly localTag = generateTag();
  private readonly opts: SubscriberOptions;
  private readonly halfKey: string;
  private timer: TimerHandle | undefined;
  private initialSeq = 1;
  private firstRequest: SipRequest | undefined;

  constructor(opts: SubscriberOptions) {
    this.opts = opts;
    this.callId = opts.target.callId ?? generateCallId();
    this.halfKey = dialogKey(this.callId, this.localTag, '');
  }

  /** For an owner that shares its dialog: does this NOTIFY belong here? */
  matches(req: SipRequest): boolean {
    return eventMatches(req, this.opts.event);
  }

  /** Sends the initial SUBSCRIBE. */
  subscribe(): void {
    if (this.state !== 'init') return;
    this.state = 'pending';
    const t = this.opts.target;
    const req = createRequest({
      method: 'SUBSCRIBE', uri: t.uri,
      from: { ...t.from, params: new Map(t.from.params).set('tag', this.localTag) }, to: t.to,
      callId: this.callId, cseq: this.initialSeq, via: this.opts.via(), contact: this.opts.contact,
      headers: (t.routeSet ?? []).map((r): Header => ({ name: 'route', value: r })).concat(this.headers(this.opts.expires)),
      body: this.opts.body, contentType: this.opts.contentType,
    });
    this.firstRequest = req;
    // A NOTIFY may come before the 2xx: it finds us under the half key.
    this.opts.dialogs.add(this.halfKey, this);
    sendUacRequest(req, {
      transactions: this.opts.transactions, dest: this.opts.dest, credentials: this.opts.credentials,
      nextCSeq: () => ++this.initialSeq,
      onFinal: (res, uac) => {
        this.opts.dialogs.remove(this.halfKey, this);
        this.firstRequest = uac.current;
        this.opts.onResponse?.(res, this);
        if (this.state === 'terminated') return;
        if (res.status >= 300) { this.end('rejected', { status: res.status }); return; }
        if (this.dialog === undefined) {
          const d = Dialog.asUac(uac.current, res);
          if (d === undefined) { this.end('rejected', { status: res.status }); return; }
          this.adopt(d);
        }
        this.granted(res);
      },
      onFailure: (kind) => { this.opts.dialogs.remove(this.halfKey, this); this.end(kind, {}); },
    });
  }

  /** Refreshes now (normally the timer does it). */
  refresh(expires = this.opts.expires): void {
    const dialog = this.dialog;
    if (dialog === undefined || (this.state !== 'active' && this.state !== 'pending')) return;
    this.sendInDialog(dialog, expires);
  }

  /** §4.1.2.3: SUBSCRIBE with Expires: 0; the terminating NOTIFY ends it (or a timeout). */
  unsubscribe(): void {
    if (this.state === 'terminated' || this.state === 'terminating') return;
    const dialog = this.dialog;
    if (dialog === undefined) {
      // Nothing established yet: forget it; a late NOTIFY finds no owner and gets 481, which ends the notifier's side.
      this.opts.dialogs.remove(this.halfKey, this);
      this.end('unsubscribed', {});
      return;
    }
    this.state = 'terminating';
    this.sendInDialog(dialog, 0);
    this.schedule(UNSUBSCRIBE_WAIT_MS, () => this.end('unsubscribed', {}));
  }

  onRequest(req: SipRequest, tx: ServerTransaction | undefined, _inbound: Inbound): void {
    if (tx === undefined) return;
    if (req.method !== 'NOTIFY') {
      tx.respond(createResponse(req, 405, undefined, { extraHeaders: [{ name: 'allow', value: 'NOTIFY' }] }));
      return;
    }
    if (!this.matches(req)) { tx.respond(createResponse(req, 489, 'Bad Event')); return; }
    const st = parseSubscriptionState(getHeader(req, 'subscription-state') ?? '');
    if (st === undefined) { tx.respond(createResponse(req, 400, 'Missing Subscription-State')); return; }
    if (this.state === 'terminated') { tx.respond(createResponse(req, 481)); return; }
    let dialog = this.dialog;
    if (dialog === undefined) {
      dialog = this.dialogFromNotify(req);
      if (dialog === undefined) { tx.respond(createResponse(req, 400, 'Missing Contact')); return; }
      this.adopt(dialog);
    } else if (tagOf(req.from) !== dialog.remoteTag) {
      // A second fork's NOTIFY: we keep one subscription (§4.1.2.4 lets us refuse the others).
      tx.respond(createResponse(req, 481));
      return;
    }
    if (!dialog.acceptRemoteSeq(req)) { tx.respond(createResponse(req, 500, 'CSeq Out of Order')); return; }
    // NOTIFY is a target refresh request (§4.1.3).
    dialog.refreshTarget(req);
    tx.respond(createResponse(req, 200));
    if (st.state === 'active' || st.state === 'pending') {
      if (this.state !== 'terminating') this.state = st.state;
      // The notifier may shorten the subscription (§4.1.3): refresh against its figure.
      if (st.expires !== undefined && this.state !== 'terminating') {
        const until = this.now() + st.expires * 1000;
        if (this.expiresAt === 0 || until < this.expiresAt) this.scheduleRefresh(st.expires);
      }
    }
    const ct = getHeader(req, 'content-type');
    this.opts.onNotify?.({ state: st, body: req.body, contentType: ct, request: req }, this);
    if (st.state === 'terminated') {
      const detail: { retryAfter?: number } = {};
      if (st.retryAfter !== undefined) detail.retryAfter = st.retryAfter;
      this.end(this.state === 'terminating' && st.reason === undefined ? 'unsubscribed' : (st.reason ?? 'noresource'), detail);
    }
  }

  private headers(expires: number): Header[] {
    const h: Header[] = [{ name: 'event', value: formatEvent(this.opts.event) }, { name: 'expires', value: String(expires) }];
    if (this.opts.accept !== undefined && this.opts.accept.length > 0) h.push({ name: 'accept', value: this.opts.accept.join(', ') });
    if (this.opts.headers !== undefined) h.push(...this.opts.headers);
    return h;
  }

  private sendInDialog(dialog: Dialog, expires: number): void {
    const req = dialog.request('SUBSCRIBE', this.opts.via(), { contact: this.opts.contact, headers: this.headers(expires), body: this.opts.body, contentType: this.opts.contentType });
    sendUacRequest(req, {
      transactions: this.opts.transactions, dest: this.opts.dest, credentials: this.opts.credentials,
      nextCSeq: () => ++dialog.localSeq,
      onFinal: (res) => {
        this.opts.onResponse?.(res, this);
        if (this.state === 'terminated' || expires === 0) return;
        if (res.status < 300) { this.granted(res); return; }
        // §4.1.2.2: 481 (or a timeout) means the subscription is gone; other
        // failures leave it valid until it runs out.
        if (res.status === 481 || res.status === 408) this.end('refresh-failed', { status: res.status });
        else this.schedule(Math.max(0, this.expiresAt - this.now()), () => this.end('expired', {}));
      },
      onFailure: (kind) => { if (expires === 0) this.end('unsubscribed', {}); else this.end(kind === 'timeout' ? 'refresh-failed' : kind, {}); },
    });
  }

  private dialogFromNotify(req: SipRequest): Dialog | undefined {
    const first = this.firstRequest;
    const target = firstContact(req);
    if (first === undefined || target === undefined) return undefined;
    const strip = (na: NameAddr): NameAddr => { const p = new Map(na.params); p.delete('tag'); return { ...na, params: p }; };
    // As a UAS would (§12.1.1): the NOTIFY's Record-Route in order, its Contact as target.
    return new Dialog({
      callId: this.callId, localTag: this.localTag, remoteTag: tagOf(req.from) ?? '',
      local: strip(first.from), remote: strip(first.to), remoteTarget: target,
      routeSet: getHeaders(req, 'record-route'), localSeq: first.cseq.seq, remoteSeq: undefined,
      secure: first.uri.scheme === 'sips',
    });
  }

  private adopt(d: Dialog): void {
    this.dialog = d;
    this.opts.dialogs.add(d.key, this);
  }

  /** A 2xx: Expires says what was granted (§4.1.2.1; MUST be present, our ask otherwise). */
  private granted(res: SipResponse): void {
    if (this.state === 'terminating') return;
    const v = getHeader(res, 'expires');
    const secs = (v !== undefined ? parseDeltaSeconds(v) : undefined) ?? this.opts.expires;
    if (secs === 0) { this.end('expired', {}); return; }
    this.scheduleRefresh(secs);
  }

  private scheduleRefresh(secs: number): void {
    this.expiresAt = this.now() + secs * 1000;
    // Refresh early enough for a transaction timeout (32 s) to fit, or halfway for short ones.
    const at = secs > 64 ? secs - 32 : secs / 2;
    this.schedule(at * 1000, () => this.refresh());
  }

  private schedule(ms: number, fn: () => void): void {
    this.opts.timers.cancel(this.timer);
    this.timer = this.opts.timers.schedule(ms, () => { this.timer = undefined; fn(); });
  }

  private now(): number {
    return this.opts.timers.clock.now();
  }

  private end(reason: string, detail: { retryAfter?: number; status?: number }): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.opts.timers.cancel(this.timer);
    this.timer = undefined;
    this.opts.dialogs.remove(this.halfKey, this);
    if (this.dialog !== undefined) this.opts.dialogs.remove(this.dialog.key, this);
    this.opts.onTerminated?.(this, reason, detail);
  }
}

function firstContact(req: SipRequest): SipUri | undefined {
  const c = getContacts(req);
  return Array.isArray(c) && c.length > 0 ? c[0]!.uri : undefined;
}

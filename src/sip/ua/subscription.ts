// RFC 6665 event subscriptions, notifier side (§4.2) and the shared pieces
// of both sides: the Event and Subscription-State headers (§8.2.1, §8.2.3),
// the context a usage needs to send in-dialog requests. The subscriber side
// is in subscriber.ts. Event packages (what a body means, which Accept) are
// the application's: the library carries the package name and bodies.

import type { Endpoint, Header, NameAddr, SipRequest, Via } from '../message.ts';
import type { Inbound } from '../transport/types.ts';
import type { ServerTransaction } from '../transaction/types.ts';
import type { TimerHandle, TimerQueue } from '../timer-queue.ts';
import type { DialogTable, DialogUsage } from './core.ts';
import type { DigestClient } from '../digest-client.ts';
import type { UacTransport } from './uac.ts';
import { Dialog } from '../dialog.ts';
import { createResponse } from '../serializer.ts';
import { formatNameAddr } from '../name-addr.ts';
import { getHeader, parseDeltaSeconds, parseValueWithParams } from '../headers.ts';
import { generateTag } from '../ids.ts';
import { sendUacRequest } from './uac.ts';

/** What a usage needs to send requests inside its dialog. */
export interface UsageContext {
  transactions: UacTransport;
  timers: TimerQueue;
  /** Where the usage's requests go (the application resolves the remote target / keeps the connection). */
  dest: Endpoint;
  /** A Via for a new request (fresh branch): e.g. () => newVia('udp', local). */
  via(): Via;
  /** Our Contact for dialog-creating and target-refresh messages. */
  contact: NameAddr;
  credentials?: { username: string; password: string } | DigestClient;
}

export type SubState = 'active' | 'pending' | 'terminated';

/** Subscription-State (§8.2.3): unknown states are kept as written (the RFC says treat them as... the app decides). */
export interface SubscriptionState {
  state: string;
  expires?: number;
  reason?: string;
  retryAfter?: number;
}

export function formatSubscriptionState(s: SubscriptionState): string {
  let out = s.state;
  if (s.reason !== undefined) out += ';reason=' + s.reason;
  if (s.expires !== undefined) out += ';expires=' + Math.max(0, Math.floor(s.expires));
  if (s.retryAfter !== undefined) out += ';retry-after=' + Math.max(0, Math.floor(s.retryAfter));
  return out;
}

export function parseSubscriptionState(value: string): SubscriptionState | undefined {
  const v = parseValueWithParams(value);
  if (v === undefined || v.value.length === 0) return undefined;
  const out: SubscriptionState = { state: v.value.toLowerCase() };
  const reason = v.params.get('reason');
  if (reason != null) out.reason = reason.toLowerCase();
  const exp = v.params.get('expires');
  if (exp != null) { const n = parseDeltaSeconds(exp); if (n !== undefined) out.expires = n; }
  const ra = v.params.get('retry-after');
  if (ra != null) { const n = parseDeltaSeconds(ra); if (n !== undefined) out.retryAfter = n; }
  return out;
}

/** Event header (§8.2.1): package (lower-cased, it is a token compared case-insensitively) and id. */
export interface EventHeader {
  package: string;
  id?: string;
}

export function parseEvent(value: string | undefined): EventHeader | undefined {
  if (value === undefined) return undefined;
  const v = parseValueWithParams(value);
  if (v === undefined || v.value.length === 0) return undefined;
  const out: EventHeader = { package: v.value.toLowerCase() };
  const id = v.params.get('id');
  if (id != null) out.id = id;
  return out;
}

export function formatEvent(e: EventHeader): string {
  return e.id !== undefined ? e.package + ';id=' + e.id : e.package;
}

/** §4.1.2.4 / §4.2.1: a NOTIFY or SUBSCRIBE belongs to a subscription when package and id (both absent counts) agree. */
export function eventMatches(req: SipRequest, e: EventHeader): boolean {
  const got = parseEvent(getHeader(req, 'event'));
  return got !== undefined && got.package === e.package.toLowerCase() && got.id === e.id;
}

/** What the application notifies: the state and the package's body. */
export interface NotifyContent {
  state: SubState;
  body?: Buffer;
  contentType?: string;
  /** terminated: deactivated, probation, rejected, timeout, giveup, noresource, invariant (§6.2). */
  reason?: string;
  retryAfter?: number;
  headers?: Header[];
}

export interface NotifierOptions extends UsageContext {
  dialog: Dialog;
  event: EventHeader;
  /** Seconds granted. */
  expires: number;
  /** Where to own the dialog key. Omit when another usage owns the dialog and forwards (REFER in an INVITE dialog). */
  dialogs?: DialogTable;
  /** Granted to a refresh without Expires (the package default; default: the first grant). */
  defaultExpires?: number;
  /** Refreshes asking for less get 423 with Min-Expires (§4.2.1.1). */
  minExpires?: number;
  /** Cap on what a refresh is granted. */
  maxExpires?: number;
  /** A refresh was granted; a NOTIFY (§4.2.1.2 requires one) with the last content follows unless the app sends one here. */
  onRefresh?(sub: NotifierSubscription, req: SipRequest): void;
  /** The subscription ended: 'timeout', 'unsubscribed', 'notify-failed', or the reason the app terminated with. */
  onTerminated?(sub: NotifierSubscription, reason: string): void;
}

export interface AcceptSubscribeOptions extends Omit<NotifierOptions, 'dialog' | 'event' | 'expires' | 'defaultExpires'> {
  /** Expires when a SUBSCRIBE (initial or refresh) has none (the package's default). */
  defaultExpires: number;
  /** 202 was common under RFC 3265; RFC 6665 §8.3.1 deprecates it. Default 200. */
  status?: 200 | 202;
  localTag?: string;
  /** The content of the immediate first NOTIFY (§4.2.1.2). */
  initial: NotifyContent;
}

/** Seconds requested by a SUBSCRIBE, or undefined when it has no valid Expires. */
function requestedExpires(req: SipRequest): number | undefined {
  const v = getHeader(req, 'expires');
  return v === undefined ? undefined : parseDeltaSeconds(v);
}

/**
 * One subscription as the notifier holds it. NOTIFYs go out one at a time
 * (a second one waits for the first's response) so they cannot arrive out of
 * CSeq order over UDP; while one waits, newer content replaces older.
 */
export class NotifierSubscription implements DialogUsage {
  readonly dialog: Dialog;
  readonly event: EventHeader;
  state: SubState = 'pending';
  /** Clock ms when the subscription runs out. */
  expiresAt: number;
  private readonly opts: NotifierOptions;
  private timer: TimerHandle | undefined;
  private inFlight = false;
  private queued: NotifyContent | undefined;
  private last: NotifyContent = { state: 'pending' };
  private ended = false;
  private notifiedDuringRefresh = false;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
    this.dialog = opts.dialog;
    this.event = opts.event;
    this.expiresAt = 0;
    this.setExpiry(opts.expires);
    opts.dialogs?.add(this.dialog.key, this);
  }

  /**
   * Accepts an out-of-dialog SUBSCRIBE (§4.2.1): 2xx with Expires and our
   * Contact, then the first NOTIFY at once. Answers 400 and returns undefined
   * when the SUBSCRIBE has no Event or Contact, 423 when it asks too little.
   * Expires: 0 is a fetch: the NOTIFY carries the state and terminates.
   */
  static accept(req: SipRequest, tx: ServerTransaction, opts: AcceptSubscribeOptions): NotifierSubscription | undefined {
    const event = parseEvent(getHeader(req, 'event'));
    const localTag = opts.localTag ?? generateTag();
    const dialog = Dialog.asUas(req, localTag);
    if (event === undefined || dialog === undefined) {
      tx.respond(createResponse(req, 400, event === undefined ? 'Missing Event' : 'Missing Contact'));
      return undefined;
    }
    const granted = grant(req, opts.defaultExpires, opts.minExpires, opts.maxExpires);
    if (typeof granted !== 'number') {
      tx.respond(createResponse(req, 423, 'Interval Too Brief', { extraHeaders: [granted] }));
      return undefined;
    }
    tx.respond(createResponse(req, opts.status ?? 200, undefined, {
      toTag: localTag,
      extraHeaders: [{ name: 'expires', value: String(granted) }, { name: 'contact', value: formatNameAddr(opts.contact) }],
    }));
    const sub = new NotifierSubscription({ ...opts, dialog, event, expires: granted });
    if (granted === 0) sub.terminate('timeout', opts.initial.body, opts.initial.contentType);
    else sub.notify(opts.initial);
    return sub;
  }

  get terminated(): boolean {
    return this.ended;
  }

  /** For an owner that shares its dialog: does this in-dialog request belong here? */
  matches(req: SipRequest): boolean {
    return eventMatches(req, this.event);
  }

  /** Sends (or queues) a NOTIFY. 'terminated' ends the subscription. */
  notify(content: NotifyContent): void {
    if (this.ended || (this.last.state === 'terminated')) return;
    this.notifiedDuringRefresh = true;
    this.last = content;
    if (content.state !== 'terminated') this.state = content.state;
    else this.stopTimer();
    if (this.inFlight) {
      this.queued = content;
      return;
    }
    this.send(content);
  }

  /** Final NOTIFY, Subscription-State: terminated;reason=`reason`. */
  terminate(reason = 'noresource', body?: Buffer, contentType?: string, retryAfter?: number): void {
    const c: NotifyContent = { state: 'terminated', reason };
    if (body !== undefined) { c.body = body; c.contentType = contentType; }
    if (retryAfter !== undefined) c.retryAfter = retryAfter;
    this.notify(c);
  }

  /** Ends at once without a NOTIFY (the dialog went away, shutdown). */
  close(reason = 'closed'): void {
    this.end(reason);
  }

  onRequest(req: SipRequest, tx: ServerTransaction | undefined, _inbound: Inbound): void {
    if (tx === undefined) return;
    if (req.method !== 'SUBSCRIBE') {
      tx.respond(createResponse(req, 405, undefined, { extraHeaders: [{ name: 'allow', value: 'SUBSCRIBE' }] }));
      return;
    }
    if (!this.matches(req)) { tx.respond(createResponse(req, 489, 'Bad Event')); return; }
    if (!this.dialog.acceptRemoteSeq(req)) { tx.respond(createResponse(req, 500, 'CSeq Out of Order')); return; }
    if (this.ended || this.last.state === 'terminated') { tx.respond(createResponse(req, 481)); return; }
    const granted = grant(req, this.opts.defaultExpires ?? this.opts.expires, this.opts.minExpires, this.opts.maxExpires);
    if (typeof granted !== 'number') {
      tx.respond(createResponse(req, 423, 'Interval Too Brief', { extraHeaders: [granted] }));
      return;
    }
    this.dialog.refreshTarget(req);
    tx.respond(createResponse(req, 200, undefined, { extraHeaders: [{ name: 'expires', value: String(granted) }, { name: 'contact', value: formatNameAddr(this.opts.contact) }] }));
    if (granted === 0) {
      // §4.2.1.4: an unsubscribe still gets a NOTIFY, with the last state, terminated.
      this.terminate('timeout', this.last.body, this.last.contentType);
      return;
    }
    this.setExpiry(granted);
    this.notifiedDuringRefresh = false;
    this.opts.onRefresh?.(this, req);
    if (!this.notifiedDuringRefresh) this.notify({ ...this.last, state: this.state });
  }

  private now(): number {
    return this.opts.timers.clock.now();
  }

  private setExpiry(seconds: number): void {
    this.stopTimer();
    this.expiresAt = this.now() + seconds * 1000;
    if (seconds > 0) this.timer = this.opts.timers.schedule(seconds * 1000, () => { this.timer = undefined; this.terminate('timeout', this.last.body, this.last.contentType); });
  }

  private stopTimer(): void {
    this.opts.timers.cancel(this.timer);
    this.timer = undefined;
  }

  private send(c: NotifyContent): void {
    this.inFlight = true;
    const sub: SubscriptionState = { state: c.state };
    if (c.state === 'terminated') {
      sub.reason = c.reason ?? 'noresource';
      if (c.retryAfter !== undefined) sub.retryAfter = c.retryAfter;
    } else sub.expires = Math.max(0, Math.ceil((this.expiresAt - this.now()) / 1000));
    const headers: Header[] = [
      { name: 'event', value: formatEvent(this.event) },
      { name: 'subscription-state', value: formatSubscriptionState(sub) },
    ];
    if (c.headers !== undefined) headers.push(...c.headers);
    const req = this.dialog.request('NOTIFY', this.opts.via(), { contact: this.opts.contact, headers, body: c.body, contentType: c.body !== undefined ? c.contentType : undefined });
    const dialog = this.dialog;
    sendUacRequest(req, {
      transactions: this.opts.transactions,
      dest: this.opts.dest,
      credentials: this.opts.credentials,
      nextCSeq: () => ++dialog.localSeq,
      onFinal: (res) => {
        this.inFlight = false;
        // §4.2.2: a failed NOTIFY (481 above all) ends the subscription.
        if (res.status >= 300) { this.end('notify-failed'); return; }
        this.sent(c);
      },
      onFailure: () => { this.inFlight = false; this.end('notify-failed'); },
    });
  }

  private sent(c: NotifyContent): void {
    if (c.state === 'terminated') { this.end(c.reason ?? 'noresource'); return; }
    const next = this.queued;
    this.queued = undefined;
    if (next !== undefined && !this.ended) this.send(next);
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.state = 'terminated';
    this.stopTimer();
    this.queued = undefined;
    this.opts.dialogs?.remove(this.dialog.key, this);
    this.opts.onTerminated?.(this, reason);
  }
}

/** Seconds to grant: the request's Expires (else `dflt`) capped at `max`; a Min-Expires header when below `min`. */
function grant(req: SipRequest, dflt: number, min: number | undefined, max: number | undefined): number | Header {
  let want = requestedExpires(req) ?? dflt;
  if (want !== 0 && min !== undefined && want < min) return { name: 'min-expires', value: String(min) };
  if (max !== undefined && want > max) want = max;
  return want;
}
export { Subscriber } from './subscriber.ts';
export type { NotifyInfo, SubscriberOptions } from './subscriber.ts';

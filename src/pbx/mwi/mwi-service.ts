// Message waiting indication (RFC 3842) for the users' mailboxes: the
// notifier of message-summary subscriptions (§3.4-3.8, over RFC 6665 §4.2
// in the UA core) and unsolicited NOTIFYs for phones that do not subscribe.
//
// Subscriptions live in the worker that took the SUBSCRIBE (its tag names
// that worker, so refreshes reach it); unsolicited NOTIFYs go only from the
// worker that holds the phone's registration (the REGISTER came through it,
// as for the contact prober), so with several workers each phone hears one.
// Counts always come from the store, never from memory: right after a
// restart, and whichever worker or node the message was left on. Every
// worker follows the store's mailbox change feed and calls mailboxChanged().
// A mailbox kept elsewhere (a handset gateway user's, upstream) is answered
// from a counts source plugged in with addCountsSource(), followed the same way.
import type { Endpoint, NameAddr, SipRequest } from '../../sip/message.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { Logger } from '../../lib/log.ts';
import { OncePerInterval } from '../../lib/log.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import { sendUacRequest } from '../../sip/ua/uac.ts';
import type { DialogTable } from '../../sip/ua/core.ts';
import { NotifierSubscription, parseEvent } from '../../sip/ua/subscription.ts';
import { newVia } from '../../sip/dialog.ts';
import { createRequest, createResponse } from '../../sip/serializer.ts';
import { generateCallId, generateTag } from '../../sip/ids.ts';
import { getHeaders } from '../../sip/headers.ts';
import { bracketHost } from '../../lib/net.ts';
import { parseUri } from '../../sip/uri.ts';
import type { ChangeWatcher, User, VoicemailCounts, VoicemailRepository, WatchOptions } from '../../store/types.ts';
import type { LiveBinding } from '../registrar/location.ts';
import { MESSAGE_SUMMARY, MESSAGE_SUMMARY_TYPE, formatMessageSummary } from './message-summary.ts';

/** What a mailbox's phones are told: the lamp and the voice message counts. */
export interface MailboxSummary {
  waiting: boolean;
  new: number;
  old: number;
}

/**
 * Mailboxes whose summary does not come from the local voicemail (a handset
 * gateway user's mailbox is upstream). summary() answers undefined for a
 * mailbox that is not the source's; watch() calls back with the mailboxes
 * whose summary changed, as the voicemail feed does.
 */
export interface MwiCountsSource {
  summary(mailbox: string): Promise<MailboxSummary | undefined>;
  watch(listener: (mailboxes: readonly string[]) => void | Promise<void>, opts: WatchOptions): ChangeWatcher;
}

export interface MwiLimits {
  minExpiresSec: number;
  maxExpiresSec: number;
  defaultExpiresSec: number;
}

export interface MwiDeps {
  voicemail: Pick<VoicemailRepository, 'counts' | 'watch' | 'allCounts'>;
  /** The directory as it is now (unsolicited mode is read at each change). */
  userByExtension(extension: string): User | undefined;
  /** The AOR the registrar files an extension's bindings under. */
  aorFor(extension: string): string;
  transactions: UacTransport;
  timers: TimerQueue;
  dialogs: DialogTable;
  domain: string;
  localEndpoint(t: Endpoint['transport']): { address: string; port: number } | undefined;
  /** The voicemail number: a SUBSCRIBE to it is one to the subscriber's own mailbox (phones configured with it). */
  voicemailNumber: string;
  limits: MwiLimits;
  log: Logger;
}

const EVENT = MESSAGE_SUMMARY;
/**
 * Subscriptions one mailbox may hold in a worker: each phone of the user
 * needs one, and a phone that restarted leaves its old one until it runs
 * out. Past the bound the oldest is dropped without a NOTIFY (its phone,
 * if alive, gets 481 at its next refresh and subscribes again), so a
 * SUBSCRIBE loop of an authenticated user costs bounded memory.
 */
export const MAX_SUBSCRIPTIONS_PER_MAILBOX = 16;
/** Allow-Events on a 489: the one package this server notifies (RFC 6665 §8.3.2). */
const ALLOW_EVENTS = { name: 'allow-events', value: EVENT };

/** Our Contact for a dialog whose requests arrive on `local`. */
function contactAt(local: Inbound['local']): NameAddr {
  const params = new Map<string, string | null>();
  if (local.transport !== 'udp') params.set('transport', local.transport);
  return { uri: { scheme: 'sip', host: bracketHost(local.address), port: local.port, params, headers: new Map() }, params: new Map() };
}

/** Whether an Accept header list admits the summary body (none given: the package's own, RFC 3842 §3.5). */
function acceptsSummary(req: SipRequest): boolean {
  const values = getHeaders(req, 'accept');
  if (values.length === 0) return true;
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = part.split(';')[0]!.trim().toLowerCase();
      if (t === MESSAGE_SUMMARY_TYPE || t === 'application/*' || t === '*/*') return true;
    }
  }
  return false;
}

export class MwiService {
  /** User id -> the subscriptions to the user's mailbox in this worker (by id: they follow a renumbering). */
  private readonly subs = new Map<number, Set<NotifierSubscription>>();
  /** AOR -> contact -> binding registered through this worker (unsolicited NOTIFYs go to these). */
  private readonly local = new Map<string, Map<string, LiveBinding>>();
  /** One Call-ID and tag per mailbox for unsolicited NOTIFYs, CSeq rising: a phone can tell a newer one from a retransmission. */
  private readonly unsolicited = new Map<string, { callId: string; tag: string; cseq: number }>();
  private readonly failures = new OncePerInterval(60_000);
  private closed = false;
  private feed: ChangeWatcher | undefined;
  private readonly sources = new Map<MwiCountsSource, ChangeWatcher | undefined>();
  /** The feed interval once started (sources added later follow at the same rate); undefined before start(). */
  private started: { intervalMs: number | undefined } | undefined;
  /** Moves with every mailbox change seen: a SUBSCRIBE whose counts were read before a change reads them again. */
  private generation = 0;
  /** Messages of every mailbox by folder (the metric), read again after each batch of changes; undefined until first read. */
  totals: VoicemailCounts | undefined;

  constructor(private readonly deps: MwiDeps) {}

  /**
   * Follows the store's mailbox feed (every worker does: its subscriptions
   * and phones may be anyone's). withTotals: also keeps `totals` (a read of
   * every mailbox's counts after each batch), for the one worker that reports the metric.
   */
  start(intervalMs: number | undefined, withTotals: boolean): void {
    this.started = { intervalMs };
    this.feed = this.deps.voicemail.watch(async (boxes) => {
      for (const m of boxes) await this.mailboxChanged(m);
      if (withTotals) await this.readTotals();
    }, { intervalMs });
    if (withTotals) void this.readTotals();
    for (const source of this.sources.keys()) this.follow(source);
  }

  /**
   * Plugs in a source of summaries for mailboxes kept elsewhere; asked
   * before the local voicemail, followed like the mailbox feed from start()
   * (or at once when started). Returns its removal.
   */
  addCountsSource(source: MwiCountsSource): () => void {
    this.sources.set(source, undefined);
    if (this.started !== undefined && !this.closed) this.follow(source);
    return () => {
      this.sources.get(source)?.stop();
      this.sources.delete(source);
    };
  }

  private follow(source: MwiCountsSource): void {
    this.sources.set(source, source.watch(async (boxes) => {
      for (const m of boxes) await this.mailboxChanged(m).catch((err: unknown) => this.logFailure('mailbox counts unreadable', m, err));
    }, { intervalMs: this.started?.intervalMs }));
  }

  /** The mailbox's summary: from the first source that keeps it, else the local voicemail. */
  private async summary(mailbox: string): Promise<MailboxSummary> {
    for (const source of this.sources.keys()) {
      const s = await source.summary(mailbox);
      if (s !== undefined) return s;
    }
    const c = await this.deps.voicemail.counts(mailbox);
    return { waiting: c.new > 0, new: c.new, old: c.saved };
  }

  private async readTotals(): Promise<void> {
    try {
      const t: VoicemailCounts = { new: 0, saved: 0 };
      for (const c of (await this.deps.voicemail.allCounts()).values()) {
        t.new += c.new;
        t.saved += c.saved;
      }
      this.totals = t;
    } catch (err) {
      this.logFailure('mailbox totals unreadable', '*', err);
    }
  }

  /** Looks at the feed now; resolves once the NOTIFYs of what changed are on their way. */
  async poll(): Promise<void> {
    await this.feed?.poll();
    for (const w of this.sources.values()) await w?.poll();
  }

  /** Subscriptions held here (status, tests). */
  get subscriptionCount(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  /**
   * An out-of-dialog SUBSCRIBE from an authenticated user: message-summary
   * for the user's own mailbox only (its extension, auth user or the
   * voicemail number as the Request-URI user); 489 for another package, 403
   * for another user's mailbox, 406 when the body type is not accepted.
   */
  async subscribe(req: SipRequest, tx: ServerTransaction, inbound: Inbound, user: User): Promise<void> {
    const event = parseEvent(getHeaders(req, 'event')[0]);
    if (event === undefined || event.package !== EVENT) {
      tx.respond(createResponse(req, 489, 'Bad Event', { extraHeaders: [ALLOW_EVENTS] }));
      return;
    }
    const target = req.uri.user;
    if (target !== user.extension && target !== user.authUser && target !== this.deps.voicemailNumber) {
      tx.respond(createResponse(req, 403, 'Not Your Mailbox'));
      return;
    }
    if (!acceptsSummary(req)) {
      tx.respond(createResponse(req, 406, 'Not Acceptable', { extraHeaders: [{ name: 'accept', value: MESSAGE_SUMMARY_TYPE }] }));
      return;
    }
    const mailbox = user.extension;
    const generation = this.generation;
    let counts: MailboxSummary;
    try {
      counts = await this.summary(mailbox);
    } catch (err) {
      this.logFailure('mailbox counts unreadable', mailbox, err);
      tx.respond(createResponse(req, 500, 'Mailbox Unavailable', { extraHeaders: [{ name: 'retry-after', value: '30' }] }));
      return;
    }
    if (this.closed) {
      tx.respond(createResponse(req, 503, 'Shutting Down'));
      return;
    }
    const l = this.deps.limits;
    const local = inbound.local;
    const sub = NotifierSubscription.accept(req, tx, {
      transactions: this.deps.transactions,
      timers: this.deps.timers,
      dest: inbound.source,
      via: () => newVia(local.transport, local),
      contact: contactAt(local),
      dialogs: this.deps.dialogs,
      defaultExpires: l.defaultExpiresSec,
      minExpires: l.minExpiresSec,
      maxExpires: l.maxExpiresSec,
      initial: this.content(mailbox, counts),
      onTerminated: (s) => this.forget(user.id, s),
    });
    if (sub === undefined) return;
    if (this.generation !== generation) {
      // A change landed while the counts were read: the subscriber hears the newer ones too.
      void this.summary(mailbox).then((c) => sub.notify(this.content(mailbox, c)), (err: unknown) => this.logFailure('mailbox counts unreadable', mailbox, err));
    }
    let set = this.subs.get(user.id);
    if (!set) this.subs.set(user.id, (set = new Set()));
    set.add(sub);
    // A Set iterates in insertion order: the first is the oldest.
    if (set.size > MAX_SUBSCRIPTIONS_PER_MAILBOX) for (const oldest of set) {
      set.delete(oldest);
      oldest.close('too many subscriptions');
      break;
    }
  }

  /**
   * The mailbox's messages changed (the store's feed, any worker or node):
   * every subscription here hears the new counts, and for a user in
   * unsolicited mode every phone registered through this worker.
   */
  async mailboxChanged(mailbox: string): Promise<void> {
    this.generation++;
    const user = this.deps.userByExtension(mailbox);
    const subs = user && this.subs.get(user.id);
    const phones = user?.mwi === 'unsolicited' ? this.local.get(this.deps.aorFor(mailbox)) : undefined;
    if (subs === undefined && phones === undefined) return;
    const counts = await this.summary(mailbox);
    if (this.closed) return;
    const content = this.content(mailbox, counts);
    for (const s of subs ?? []) s.notify(content);
    for (const b of phones?.values() ?? []) this.sendUnsolicited(mailbox, b, content.body!);
  }

  /**
   * A binding registered through this worker (every REGISTER, refreshes
   * too): a new contact, or a phone that restarted (new Call-ID), of a user
   * in unsolicited mode is told the counts at once, so its lamp is right
   * after a phone or server restart; refreshes tell nothing.
   */
  localBinding(b: LiveBinding): void {
    if (this.closed) return;
    // Only phones of users in unsolicited mode are kept (a user switched to it is
    // picked up at its phones' next REGISTER). The registrar's AORs are sip:EXT@DOMAIN.
    const at = b.aor.indexOf('@');
    const extension = at > 4 && b.aor.startsWith('sip:') ? b.aor.slice(4, at) : undefined;
    const user = extension === undefined ? undefined : this.deps.userByExtension(extension);
    let held = this.local.get(b.aor);
    if (extension === undefined || user?.mwi !== 'unsolicited') {
      if (held?.delete(b.contactUri) && held.size === 0) this.local.delete(b.aor);
      return;
    }
    const before = held?.get(b.contactUri);
    if (!held) this.local.set(b.aor, (held = new Map()));
    held.set(b.contactUri, b);
    if (before !== undefined && before.callId === b.callId) return;
    void this.summary(extension).then(
      (counts) => {
        if (!this.closed && this.local.get(b.aor)?.get(b.contactUri) === b) this.sendUnsolicited(extension, b, this.content(extension, counts).body!);
      },
      (err: unknown) => this.logFailure('mailbox counts unreadable', extension, err),
    );
  }

  /** The AOR's bindings as they now are: those gone, or registered again through another worker, are no longer ours. */
  bindingsChanged(aor: string, bindings: readonly LiveBinding[]): void {
    const held = this.local.get(aor);
    if (held === undefined) return;
    for (const [uri, mine] of held) {
      const b = bindings.find((x) => x.contactUri === uri);
      if (!b || b.updatedAt !== mine.updatedAt || b.remote) held.delete(uri);
    }
    if (held.size === 0) this.local.delete(aor);
  }

  /** Ends every subscription without a NOTIFY (shutdown: the phones re-subscribe to whoever answers next). */
  close(): void {
    this.closed = true;
    this.feed?.stop();
    for (const w of this.sources.values()) w?.stop();
    for (const set of this.subs.values()) for (const s of [...set]) s.close('shutdown');
    this.subs.clear();
    this.local.clear();
  }

  private content(mailbox: string, s: MailboxSummary) {
    return { state: 'active' as const, body: formatMessageSummary(`sip:${mailbox}@${this.deps.domain}`, s, s.waiting), contentType: MESSAGE_SUMMARY_TYPE };
  }

  private forget(userId: number, sub: NotifierSubscription): void {
    const set = this.subs.get(userId);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.subs.delete(userId);
  }

  /**
   * A NOTIFY outside any dialog (outside RFC 3842, which assumes a subscription; phones such
   * as Yealink and Polycom take it with Subscription-State: active), to the
   * contact where its REGISTER came from, over its connection when it has one.
   */
  private sendUnsolicited(mailbox: string, b: LiveBinding, body: Buffer): void {
    const transport = b.transport as Endpoint['transport'];
    const local = this.deps.localEndpoint(transport);
    const uri = parseUri(b.contactUri);
    const aor = parseUri(b.aor);
    if (!local || !uri || !aor) return;
    let id = this.unsolicited.get(mailbox);
    if (!id) this.unsolicited.set(mailbox, (id = { callId: generateCallId(), tag: generateTag(), cseq: 0 }));
    const dest: Endpoint = { transport, address: b.sourceAddress, port: b.sourcePort };
    if (b.connectionId !== undefined) dest.connectionId = b.connectionId;
    const mailboxUri = { scheme: 'sip' as const, user: mailbox, host: this.deps.domain, params: new Map(), headers: new Map() };
    const req = createRequest({
      method: 'NOTIFY',
      uri,
      from: { uri: mailboxUri, params: new Map([['tag', id.tag]]) },
      to: { uri: aor, params: new Map() },
      callId: id.callId,
      cseq: ++id.cseq,
      via: newVia(transport, local),
      contact: contactAt({ transport, ...local }),
      headers: [
        ...b.path.map((p) => ({ name: 'route', value: p })),
        { name: 'event', value: EVENT },
        { name: 'subscription-state', value: 'active' },
      ],
      body,
      contentType: MESSAGE_SUMMARY_TYPE,
    });
    sendUacRequest(req, {
      transactions: this.deps.transactions,
      dest,
      onFinal: (res) => {
        if (res.status >= 300) this.logFailure(`unsolicited NOTIFY answered ${res.status}`, mailbox);
      },
      onFailure: (kind) => this.logFailure(`unsolicited NOTIFY ${kind}`, mailbox),
    });
  }

  private logFailure(what: string, mailbox: string, err?: unknown): void {
    if (this.failures.take(what) < 0) return;
    this.deps.log.warn({ mailbox, err: err instanceof Error ? err.message : err }, `MWI: ${what} (logged once a minute)`);
  }
}

/**
 * Hands out-of-dialog SUBSCRIBEs to the MWI notifier. They were
 * authenticated statelessly by the PBX's screen (src/pbx/requests.ts), so
 * authenticate() here returns that user (or the refusal, for a request that
 * bypassed the screen).
 */
export function serveMwi(
  core: { handle(method: string, handler: (req: SipRequest, tx: ServerTransaction, inbound: Inbound) => void): void },
  auth: { authenticate(req: SipRequest, source: Endpoint, role: 'proxy'): { kind: 'ok'; user: User } | { kind: 'reject'; status: number; reason: string; headers?: { name: string; value: string }[] } },
  mwi: MwiService,
): void {
  core.handle('SUBSCRIBE', (req, tx, inbound) => {
    const a = auth.authenticate(req, inbound.source, 'proxy');
    if (a.kind === 'reject') {
      tx.respond(createResponse(req, a.status, a.reason, { extraHeaders: a.headers }));
      return;
    }
    void mwi.subscribe(req, tx, inbound, a.user);
  });
}

// Message waiting for the handset gateway (issue 15 item 4; B-10, B-30,
// AC-11, AC-14): per registered line, with settings.mwi on, a subscription
// to the line's own message-summary at the upstream (RFC 6665 §4.1, RFC 3842
// §3), refreshed, resubscribed after it ends (§4.1.3 reasons), after the line
// re-registers over a new flow, and at start; each NOTIFY's summary is
// written to the repository. The handset is told from there by the MWI
// notifier (src/pbx/mwi/mwi-service.ts) through the counts source below.
import type { NameAddr, SipResponse, Via } from '../sip/message.ts';
import { newVia } from '../sip/dialog.ts';
import type { UacTransport } from '../sip/ua/uac.ts';
import type { DialogTable } from '../sip/ua/core.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import type { Logger } from '../lib/log.ts';
import { OncePerInterval } from '../lib/log.ts';
import { Subscriber } from '../sip/ua/subscriber.ts';
import { getHeader, parseDeltaSeconds } from '../sip/headers.ts';
import { formatUri } from '../sip/uri.ts';
import type { MwiSubscriptionState } from '../model/gateway.ts';
import type { GatewayRepository, UpstreamMwi } from '../store/gateway-types.ts';
import type { ChangeWatcher, WatchOptions } from '../store/types.ts';
import type { MailboxSummary, MwiCountsSource } from '../pbx/mwi/mwi-service.ts';
import { MESSAGE_SUMMARY, MESSAGE_SUMMARY_TYPE, parseMessageSummary } from '../pbx/mwi/message-summary.ts';
import type { GatewayLines, UpstreamRoute } from './types.ts';

/** First wait after a failed subscription; doubled per consecutive failure up to the cap. */
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 30 * 60_000;
/** probation/giveup without a retry-after (RFC 6665 §4.1.3 leaves the time to us). */
export const RETRY_DEFAULT_SEC = 60;
/** A subscription that ended sooner than this after its grant counts as a failure (no loop of immediate resubscribes). */
export const STABLE_MS = 60_000;

/**
 * How long to wait before subscribing again after a subscription ended, or
 * undefined for never (we ended it). `byNotify`: the reason is a terminating
 * NOTIFY's (§4.1.3), not our transaction's. `failures`: consecutive
 * subscriptions that ended early before this one.
 */
export function resubscribeDelay(reason: string, detail: { retryAfter?: number; status?: number }, byNotify: boolean, failures: number): number | undefined {
  const backoff = (n: number): number => Math.min(RETRY_BASE_MS * 2 ** Math.min(n, 16), RETRY_MAX_MS);
  if (reason === 'unsubscribed') return undefined;
  const atOnce = (): number => (failures === 0 ? 0 : backoff(failures - 1));
  if (byNotify) {
    // deactivated/timeout: "the subscriber may retry immediately"; probation/giveup: after retry-after.
    if (reason === 'deactivated' || reason === 'timeout') return atOnce();
    if (reason === 'probation' || reason === 'giveup') return Math.max((detail.retryAfter ?? RETRY_DEFAULT_SEC) * 1000, atOnce());
    return backoff(failures); // rejected, noresource, or one we do not know
  }
  // Our refresh found the subscription gone (481) or it ran out: subscribe anew.
  if (reason === 'refresh-failed' || reason === 'expired') return atOnce();
  // 'rejected' (non-2xx to the initial SUBSCRIBE), no answer, transport failure.
  return backoff(failures);
}

export interface GatewayMwiDeps {
  lines: GatewayLines;
  repo: Pick<GatewayRepository, 'setUpstreamMwi' | 'watch'>;
  transactions: UacTransport;
  timers: TimerQueue;
  dialogs: DialogTable;
  /** Tells the lines manager the line's subscription state and what the upstream last said (LineStatus.mwi, messagesWaiting). */
  report(extension: string, state: MwiSubscriptionState, waiting: boolean | null): void;
  /** Jitter of the retry waits (tests: a fixed value); [0, 1). */
  random?: () => number;
  log: Logger;
}

interface LineSub {
  extension: string;
  sub: Subscriber | undefined;
  /** The route the subscription went out on: a new one (re-registered, new flow) means subscribe again. */
  routeKey: string;
  state: MwiSubscriptionState;
  waiting: boolean | null;
  retry: TimerHandle | undefined;
  failures: number;
  grantedAt: number | undefined;
  /** Expires to ask for: the setting, or the upstream's Min-Expires after a 423. */
  expires: number;
  /** What was last written to the repository (a refresh NOTIFY with the same counts writes nothing). */
  written: string | undefined;
  /** A 423 raised `expires`: the next SUBSCRIBE goes at once. */
  longer: boolean;
}

/** Bodies longer than this are not read (a summary is a few lines). */
const MAX_BODY = 8192;

function routeKey(r: UpstreamRoute): string {
  const d = r.dest;
  return `${d.transport}:${d.address}:${d.port}:${d.connectionId ?? ''}|${formatUri(r.contact)}|${formatUri(r.aor.uri)}|${r.routes.join(',')}`;
}

/** Our Via for a line's request: sent-by is where its Contact says we are (the flow's port with B-03). */
function viaOf(r: UpstreamRoute): Via {
  const host = r.contact.host;
  const address = host.startsWith('[') ? host.slice(1, -1) : host;
  return newVia(r.dest.transport, { address, port: r.contact.port ?? (r.dest.transport === 'tls' ? 5061 : 5060) });
}

export class GatewayMwi {
  private readonly byExt = new Map<string, LineSub>();
  private readonly failures = new OncePerInterval(60_000);
  private unwatchLines: (() => void) | undefined;
  private config: ChangeWatcher | undefined;
  private closed = false;

  constructor(private readonly deps: GatewayMwiDeps) {}

  /** Subscribes for every registered line and follows the lines' changes and the settings. */
  start(watch?: WatchOptions): void {
    this.unwatchLines = this.deps.lines.onChange((ext) => this.sync(ext));
    this.config = this.deps.repo.watch((c) => { if (c.config) this.syncAll(); }, watch);
    this.syncAll();
  }

  /** Every line known to the lines manager, and those held here (a line that went). */
  syncAll(): void {
    const exts = new Set(this.byExt.keys());
    for (const l of this.deps.lines.status().lines) exts.add(l.extension);
    for (const ext of exts) this.sync(ext);
  }

  /** Subscription states held (status, tests). */
  state(extension: string): MwiSubscriptionState | undefined {
    return this.byExt.get(extension)?.state;
  }

  /** Brings the line's subscription in line with its registration and the settings. */
  sync(extension: string): void {
    if (this.closed) return;
    const lines = this.deps.lines;
    const status = lines.lineStatus(extension);
    let e = this.byExt.get(extension);
    if (status === undefined) {
      // The line went: no subscription, nothing to report.
      if (e !== undefined) this.drop(e, true);
      return;
    }
    const route = lines.settings.mwi && status.registration === 'registered' ? lines.route(extension) : undefined;
    if (route === undefined) {
      if (e !== undefined) this.drop(e, false);
      else if (status.mwi !== 'off') this.deps.report(extension, 'off', null);
      return;
    }
    const key = routeKey(route);
    if (e === undefined) {
      e = { extension, sub: undefined, routeKey: key, state: 'off', waiting: null, retry: undefined, failures: 0, grantedAt: undefined, expires: lines.settings.mwiExpiresSec, written: undefined, longer: false };
      this.byExt.set(extension, e);
    } else if (e.routeKey === key && (e.sub !== undefined || e.retry !== undefined)) {
      return; // subscribed (or waiting to retry) over this very registration
    } else if (e.routeKey !== key) {
      // Re-registered (new flow, another proxy, restart of the upstream): subscribe again now.
      this.endSub(e);
      this.deps.timers.cancel(e.retry);
      e.retry = undefined;
      e.failures = 0;
      e.routeKey = key;
    }
    this.subscribe(e, route);
  }

  /** Unsubscribes every line (shutdown; after a restart they subscribe again). */
  close(): void {
    this.closed = true;
    this.unwatchLines?.();
    this.config?.stop();
    for (const e of this.byExt.values()) {
      this.deps.timers.cancel(e.retry);
      this.endSub(e);
    }
    this.byExt.clear();
  }

  private subscribe(e: LineSub, route: UpstreamRoute): void {
    const contact: NameAddr = { uri: route.contact, params: new Map() };
    let byNotify: string | undefined;
    const sub: Subscriber = new Subscriber({
      transactions: this.deps.transactions, timers: this.deps.timers, dialogs: this.deps.dialogs,
      dest: route.dest, via: () => viaOf(route), contact, credentials: route.credentials,
      event: { package: MESSAGE_SUMMARY }, accept: [MESSAGE_SUMMARY_TYPE], expires: e.expires,
      // RFC 3842 §3.2: the subscription is to the user's own AoR.
      target: { uri: route.aor.uri, from: route.aor, to: { uri: route.aor.uri, params: new Map() }, routeSet: route.routes },
      onResponse: (res) => { if (e.sub === sub) this.answered(e, res); },
      onNotify: (info) => {
        if (e.sub !== sub) return;
        if (info.state.state === 'terminated') byNotify = info.state.reason ?? 'noresource';
        this.notified(e, info.body, info.state.state);
      },
      onTerminated: (_s, reason, detail) => { if (e.sub === sub) this.ended(e, reason, detail, byNotify !== undefined); },
    });
    e.sub = sub;
    e.grantedAt = undefined;
    this.setState(e, 'subscribing');
    sub.subscribe();
  }

  private answered(e: LineSub, res: SipResponse): void {
    if (res.status === 423) {
      // Interval too brief: ask for what the upstream wants next time (bounded by a day).
      const min = parseDeltaSeconds(getHeader(res, 'min-expires') ?? '');
      if (min !== undefined && min > e.expires && min <= 86_400) {
        e.expires = min;
        e.longer = true; // not the upstream failing: ask again at once, for longer
      }
      return;
    }
    if (res.status >= 200 && res.status < 300) {
      e.grantedAt ??= this.deps.timers.clock.now();
      if (e.state !== 'active') this.setState(e, 'active');
    } else if (res.status >= 300) {
      this.logFailure(`SUBSCRIBE answered ${res.status}`, e.extension);
    }
  }

  private notified(e: LineSub, body: Buffer, state: string): void {
    if (state === 'active' && e.state !== 'active') this.setState(e, 'active');
    if (body.length === 0 || body.length > MAX_BODY) return;
    const s = parseMessageSummary(body);
    if (s === undefined) {
      this.logFailure('NOTIFY body is not a message summary', e.extension);
      return;
    }
    const voice = s.counts.get('voice-message');
    const mwi: UpstreamMwi = { waiting: s.waiting, newMessages: voice?.new ?? 0, oldMessages: voice?.old ?? 0, at: this.deps.timers.clock.now() };
    const key = `${mwi.waiting}/${mwi.newMessages}/${mwi.oldMessages}`;
    if (e.waiting !== s.waiting) {
      e.waiting = s.waiting;
      this.deps.report(e.extension, e.state, e.waiting);
    }
    if (key === e.written) return;
    e.written = key;
    this.deps.repo.setUpstreamMwi(e.extension, mwi).catch((err: unknown) => {
      if (e.written === key) e.written = undefined; // the next NOTIFY writes again
      this.logFailure('upstream MWI not stored', e.extension, err);
    });
  }

  private ended(e: LineSub, reason: string, detail: { retryAfter?: number; status?: number }, byNotify: boolean): void {
    e.sub = undefined;
    if (this.closed) return;
    const now = this.deps.timers.clock.now();
    if (e.grantedAt !== undefined && now - e.grantedAt >= STABLE_MS) e.failures = 0;
    const longer = e.longer;
    e.longer = false;
    const delay = longer ? 0 : resubscribeDelay(reason, detail, byNotify, e.failures);
    if (delay === undefined) return;
    if (!longer) e.failures++;
    const jitter = delay > 0 ? Math.floor((this.deps.random ?? Math.random)() * delay / 4) : 0;
    // Scheduled before the state is reported: a report may come back here as a sync, which must see the retry.
    e.retry = this.deps.timers.schedule(delay - jitter, () => {
      e.retry = undefined;
      this.sync(e.extension);
    });
    if (delay > 0) {
      this.logFailure(`subscription ended (${reason}${detail.status !== undefined ? ` ${detail.status}` : ''}); retrying`, e.extension);
      this.setState(e, 'failed');
    } else this.setState(e, 'subscribing');
  }

  /** Ends the subscription of the line (unsubscribing upstream when it was up). */
  private endSub(e: LineSub): void {
    const sub = e.sub;
    e.sub = undefined;
    sub?.unsubscribe();
  }

  private drop(e: LineSub, gone: boolean): void {
    this.deps.timers.cancel(e.retry);
    this.endSub(e);
    this.byExt.delete(e.extension);
    if (!gone) {
      e.waiting = null;
      this.setState(e, 'off');
    }
  }

  private setState(e: LineSub, state: MwiSubscriptionState): void {
    if (e.state === state && state !== 'off') return;
    e.state = state;
    this.deps.report(e.extension, state, e.waiting);
  }

  private logFailure(what: string, extension: string, err?: unknown): void {
    if (this.failures.take(what) < 0) return;
    this.deps.log.warn({ extension, err: err instanceof Error ? err.message : err }, `gateway MWI: ${what} (logged once a minute)`);
  }
}

/** Which mailboxes are upstream now, and whether their lamps are relayed. */
interface Upstream {
  extensions: Set<string>;
  mwiOn: boolean;
}

/**
 * The handsets' summaries for the MWI notifier (every worker's: the phones
 * subscribe wherever they are): a gateway user's mailbox (an enabled line, the
 * gateway running) is upstream, so its phones hear the upstream's last
 * summary, nothing waiting while none came or with MWI off; other users'
 * mailboxes are not the source's. Which users those are is read from the
 * store and again on each settings or lines change, whose users are told too.
 */
export function gatewayCountsSource(repo: Pick<GatewayRepository, 'upstreamMwi' | 'watch' | 'listLines' | 'settings'>): MwiCountsSource {
  let known: Promise<Upstream> | undefined;
  const load = async (): Promise<Upstream> => {
    const [lines, settings] = await Promise.all([repo.listLines(), repo.settings()]);
    const on = settings.mode !== 'call-server';
    return { extensions: new Set(on ? lines.filter((l) => !l.disabled).map((l) => l.extension) : []), mwiOn: settings.mwi };
  };
  const current = (): Promise<Upstream> => {
    const k = (known ??= load());
    // A failed read is not kept: the next question reads again.
    k.catch(() => { if (known === k) known = undefined; });
    return k;
  };
  return {
    async summary(mailbox: string): Promise<MailboxSummary | undefined> {
      const k = await current();
      if (!k.extensions.has(mailbox)) return undefined;
      const m = k.mwiOn ? await repo.upstreamMwi(mailbox) : undefined;
      return m === undefined ? { waiting: false, new: 0, old: 0 } : { waiting: m.waiting, new: m.newMessages, old: m.oldMessages };
    },
    watch(listener, opts) {
      return repo.watch(async (c) => {
        const told = new Set(c.mwi);
        if (c.config) {
          const before = await known?.catch(() => undefined);
          known = undefined;
          const after = await current();
          // Users who became or stopped being gateway users, or all of them when MWI was switched: their summary source changed.
          const mwiSwitched = before !== undefined && before.mwiOn !== after.mwiOn;
          for (const e of after.extensions) if (mwiSwitched || (before !== undefined && !before.extensions.has(e))) told.add(e);
          for (const e of before?.extensions ?? []) if (!after.extensions.has(e)) told.add(e);
        }
        if (told.size > 0) await listener([...told]);
      }, opts);
    },
  };
}

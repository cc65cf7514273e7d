// Transfer by a handset whose other party is the upstream (SPEC B-12; RFC
// 3515 REFER, RFC 3891 Replaces): the REFER goes upstream, where the
// upstream's call server carries it out — the transfer target is a number of
// the upstream's plan, not ours. Blind: Refer-To is the dialled number at the
// upstream. Attended with both calls upstream: the handset's Replaces names
// its consultation dialog with us, which the upstream does not know, so the
// Refer-To we send names our consultation leg's dialog with the upstream
// instead; the upstream joins its two parties and ends both our legs (a
// consultation call still ringing upstream makes it a blind one). An
// attended transfer with one call local and one upstream is bridged here, as
// any local transfer (features/transfer.ts). With Send Hold before REFER the
// upstream leg is first re-INVITEd to hold; with Send BYE with REFER our call
// ends as soon as the upstream accepts the REFER, else the handset's leg ends
// and the upstream leg stays until the upstream ends it, its sipfrag NOTIFYs
// relayed to the handset's REFER subscription for as long as that implicit
// subscription lives (RFC 3515 §2.4.4, RFC 6665 §4.1.2.4).
import type { SipRequest, SipResponse } from '../sip/message.ts';
import type { ServerTransaction } from '../sip/transaction/types.ts';
import { formatUri } from '../sip/uri.ts';
import { formatNameAddr, getHeader } from '../sip/headers.ts';
import { dialogKey } from '../sip/dialog.ts';
import { createResponse } from '../sip/serializer.ts';
import { ReferNotifier, parseReferTo, parseSipfrag, wantsNoSubscription } from '../sip/ua/refer.ts';
import { referToWithReplaces, replacesDialogKey } from '../sip/ua/replaces.ts';
import type { Replaces } from '../sip/ua/replaces.ts';
import { parseEvent, parseSubscriptionState } from '../sip/ua/subscription.ts';
import type { Call, CallHooks } from '../pbx/call/call.ts';
import type { CallContext } from '../pbx/call/context.ts';
import type { Leg, LegEvents } from '../pbx/call/leg.ts';
import { holdOffer } from '../pbx/media/placeholder.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import type { GatewayLines } from './types.ts';
import { UPSTREAM } from './calls.ts';

/** Calls with a transfer sent upstream and not yet over: one at a time per call (as features/transfer.ts). */
const inProgress = new WeakSet<Call>();
/**
 * The longest an accepted transfer waits for the upstream's outcome, whatever
 * expiry its NOTIFYs give: the handset cannot transfer again meanwhile, and
 * our own REFER subscription with the handset lasts as long (180 s).
 */
const MAX_OUTCOME_WAIT_MS = 180_000;

export type LegByDialog = (key: string) => { leg: Leg; call: Call } | undefined;

/** The upstream leg of a connected call through the gateway, or undefined. */
function upstreamLegOf(call: Call, mine: Leg): Leg | undefined {
  if (call.callee.trunk !== UPSTREAM || !call.bridge.b || !call.bridge.has(mine)) return undefined;
  const other = call.bridge.other(mine);
  return other && other.peer.user === undefined && other.established && other.dialog ? other : undefined;
}

/** The engine's REFER hook with upstream transfers in front of `local` (the engine's own). */
export function upstreamRefer(lines: () => GatewayLines | undefined, ctx: () => CallContext, local: CallHooks['refer'], legByDialog: LegByDialog): CallHooks['refer'] {
  return (call, bridge, leg, req, tx) => {
    const gw = lines();
    const ext = leg.peer.user?.extension;
    const upstream = bridge === call.bridge ? upstreamLegOf(call, leg) : undefined;
    const route = gw && ext !== undefined && gw.isGatewayUser(ext) ? gw.route(ext) : undefined;
    if (!gw || !route || !upstream || !leg.dialog) return local(call, bridge, leg, req, tx);
    // Attended: only when the consultation call is upstream too; one local party is bridged here.
    const replaces = referReplaces(req);
    const consult = replaces ? consultation(replaces, call, ext!, legByDialog) : undefined;
    if (replaces && !consult) return local(call, bridge, leg, req, tx);
    const ringing = consult && 'ringing' in consult ? consult.ringing : undefined;
    if (inProgress.has(call)) return leg.answer(req, tx, 491, { reason: 'Transfer In Progress' });
    const c = ctx();
    const notifier = ReferNotifier.accept(req, tx, {
      dialog: leg.dialog, transactions: c.transactions, timers: c.timers, dest: leg.dest, via: () => leg.via(), contact: leg.contact(),
    });
    if (!notifier) return;
    inProgress.add(call);
    let referTo: string;
    if (ringing) {
      // The consultation call still rings upstream: it becomes a blind transfer to the number it rings (as features/transfer.ts).
      ringing.hangup('replaced by a transfer');
      referTo = `<${formatUri(route.requestUri(ringing.callee.number))}>`;
    } else if (consult && 'leg' in consult) {
      // RFC 3891 §3: to-tag is the tag of the UA that receives the INVITE (the upstream's in our consultation dialog).
      const d = consult.leg.dialog!;
      referTo = referToWithReplaces(d.remoteTarget, { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    } else if (notifier.referTo.target.user) {
      referTo = `<${formatUri(route.requestUri(notifier.referTo.target.user))}>`;
    } else {
      inProgress.delete(call);
      notifier.progress(404, 'Not Found');
      return;
    }
    const s = gw.settings;
    c.log.info({ call: call.ref, by: ext, to: notifier.referTo.target.user, attended: consult !== undefined && !ringing, hold: s.holdBeforeRefer }, 'gateway: transfer sent upstream');
    // The handset leaves once the upstream says the transfer is done (it may hang up itself before).
    const leave = (): void => {
      if (leg.ended) return;
      call.release(leg);
      leg.bye();
      leg.close();
    };
    const relay = s.byeWithRefer ? undefined : relayProgress(upstream, notifier, c.timers, 64 * c.transactions.t1, (outcome) => {
      inProgress.delete(call);
      if (outcome === 'transferred') return leave();
      if (outcome !== 'expired' || leg.ended) return;
      // The upstream's subscription ran out with no final NOTIFY: the transfer counts as failed, as when the upstream
      // ends it without a final sipfrag. The handset keeps its call (and may transfer again): ending it on a guess
      // would drop a caller whose transfer never happened, while one the upstream did carry out ends with its BYE.
      c.log.info({ call: call.ref, by: ext }, 'gateway: transfer sent upstream had no outcome before its subscription ran out; counted as failed');
      notifier.progress(408, 'Request Timeout');
    });
    void referUpstream(upstream, referTo, formatNameAddr(route.aor), s.holdBeforeRefer).then((res) => {
      if (res.status >= 300 || res.referSub === false) inProgress.delete(call);
      if (res.status >= 300) {
        relay?.stop();
        return notifier.progress(res.status, res.reason);
      }
      if (s.byeWithRefer) {
        notifier.progress(200, 'OK');
        return call.hangup('transferred upstream');
      }
      // Upstream says Refer-Sub: false (RFC 4488): no progress will come, the handset leaves now.
      if (res.referSub === false) {
        relay?.stop();
        notifier.progress(200, 'OK');
        leave();
        return;
      }
      relay?.accepted();
    });
  };
}

/** The Replaces of a REFER's Refer-To, read before the REFER is accepted. */
function referReplaces(req: SipRequest): Replaces | undefined {
  const v = getHeader(req, 'refer-to');
  return v === undefined ? undefined : parseReferTo(v)?.replaces;
}

/**
 * The handset's consultation call the Replaces names, when it is upstream too: its upstream leg, or the call
 * itself while it still rings there.
 */
function consultation(r: Replaces, call: Call, ext: string, legByDialog: LegByDialog): { leg: Leg } | { ringing: Call } | undefined {
  // The handset names its dialog with us from its side; accept either tag order (as features/transfer.ts does).
  const found = legByDialog(replacesDialogKey(r)) ?? legByDialog(dialogKey(r.callId, r.fromTag, r.toTag));
  if (!found || found.call === call || found.leg.peer.user?.extension !== ext) return undefined;
  if (!found.call.isAnswered) return found.call.callee.trunk === UPSTREAM && found.leg === found.call.inbound ? { ringing: found.call } : undefined;
  const leg = upstreamLegOf(found.call, found.leg);
  return leg ? { leg } : undefined;
}

/**
 * RFC 3515 §2.4.4: the upstream's NOTIFYs for our REFER come in the upstream
 * leg's dialog; their sipfrag goes to the handset's subscription. The leg's
 * events are wrapped (the leg has already checked the CSeq) and restored once
 * a final status or a terminated subscription came, or the subscription ran
 * out: the expiry of the upstream's last NOTIFY (RFC 6665 §4.1.3), else
 * `firstNotifyMs` after the REFER was accepted (a subscriber gives up on a
 * first NOTIFY after 64*T1, §4.1.2.4), at most MAX_OUTCOME_WAIT_MS.
 */
function relayProgress(
  upstream: Leg, notifier: ReferNotifier, timers: TimerQueue, firstNotifyMs: number, over: (outcome: 'transferred' | 'failed' | 'expired') => void,
): { accepted(): void; stop(): void } {
  const inner: LegEvents = upstream.events;
  let stopped = false;
  let expiry: TimerHandle | undefined;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    timers.cancel(expiry);
    if (upstream.events === wrapped) upstream.events = inner;
  };
  const expireIn = (ms: number): void => {
    timers.cancel(expiry);
    expiry = timers.schedule(Math.min(ms, MAX_OUTCOME_WAIT_MS), () => {
      stop();
      over('expired');
    });
  };
  const wrapped: LegEvents = {
    onAck: (l, ack) => inner.onAck(l, ack),
    onLegFailed: (l, why) => inner.onLegFailed(l, why),
    onRequest: (l, req, tx) => {
      if (req.method !== 'NOTIFY' || parseEvent(getHeader(req, 'event'))?.package !== 'refer') return inner.onRequest(l, req, tx);
      const r = onNotify(req, tx, notifier, stop);
      if (stopped) over(r.transferred ? 'transferred' : 'failed');
      else if (r.expiresSec !== undefined) expireIn(r.expiresSec * 1000);
    },
  };
  upstream.events = wrapped;
  return {
    stop,
    // A NOTIFY may overtake the REFER's 2xx and have set the expiry already.
    accepted: () => { if (!stopped && expiry === undefined) expireIn(firstNotifyMs); },
  };
}

/**
 * Answers one NOTIFY and passes its sipfrag on; `transferred` when it said the transfer succeeded (2xx, §2.4.5),
 * `expiresSec` as its Subscription-State gave it.
 */
function onNotify(req: SipRequest, tx: ServerTransaction, notifier: ReferNotifier, stop: () => void): { transferred: boolean; expiresSec?: number } {
  const st = parseSubscriptionState(getHeader(req, 'subscription-state') ?? '');
  if (st === undefined) {
    tx.respond(createResponse(req, 400, 'Missing Subscription-State'));
    return { transferred: false };
  }
  tx.respond(createResponse(req, 200));
  const frag = parseSipfrag(req.body);
  if (frag !== undefined && frag.status > 100) notifier.progress(frag.status, frag.reason);
  if (st.state === 'terminated' || (frag !== undefined && frag.status >= 200)) {
    if (frag === undefined || frag.status < 200) notifier.progress(487, 'Request Terminated');
    stop();
  }
  return { transferred: frag !== undefined && frag.status >= 200 && frag.status < 300, expiresSec: st.expires };
}

/** Hold (when asked), then REFER in the upstream leg's dialog; resolves with the REFER's final response. */
async function referUpstream(upstream: Leg, referTo: string, referredBy: string, hold: boolean): Promise<{ status: number; reason: string; referSub?: boolean }> {
  if (hold) {
    const r = await upstream.reinvite(holdOffer(upstream.lastSdpSent));
    if (r.res.status >= 300) return { status: r.res.status, reason: `Hold Before Transfer Failed: ${r.res.reason}`.slice(0, 120) };
    r.ack();
  }
  return new Promise((resolve) => {
    const sent = upstream.sendInDialog('REFER', { headers: [{ name: 'refer-to', value: referTo }, { name: 'referred-by', value: referredBy }] }, {
      onResponse: (res: SipResponse) => {
        if (res.status >= 200) resolve({ status: res.status, reason: res.reason, referSub: !wantsNoSubscription(res) });
      },
      onTimeout: () => resolve({ status: 408, reason: 'Request Timeout' }),
      onTransportError: () => resolve({ status: 503, reason: 'Service Unavailable' }),
    });
    if (!sent) resolve({ status: 481, reason: 'Call/Transaction Does Not Exist' });
  });
}

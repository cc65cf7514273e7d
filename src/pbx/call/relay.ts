// In-dialog traffic across a bridge: BYE and REFER go to the bridge's owner;
// re-INVITE, UPDATE and INFO are re-issued on the other leg (its own CSeq,
// tags and Call-ID) and the answer carried back; SDP crosses the media
// session. The glare rules of RFC 3261 §14 are applied per leg.
import type { Header, SipRequest, SipResponse } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import { getHeader, getHeaders } from '../../sip/headers.ts';
import type { Bridge } from './bridge.ts';
import { holdOffer, inactiveAnswer } from '../media/placeholder.ts';
import { parseDtmfRelay } from '../../media/dtmf.ts';
import type { Leg } from './leg.ts';

/** Headers an in-dialog request or its response carries across. */
const CARRIED = ['session-expires', 'min-se', 'reason', 'subject', 'event', 'info-package', 'recv-info'];

function carried(msg: SipRequest | SipResponse): Header[] {
  const out: Header[] = [];
  for (const name of CARRIED) for (const value of getHeaders(msg, name)) out.push({ name, value });
  return out;
}

export function relayRequest(bridge: Bridge, from: Leg, req: SipRequest, tx: ServerTransaction): void {
  const to = bridge.other(from);
  switch (req.method) {
    case 'BYE':
      from.answer(req, tx, 200);
      bridge.owner.legBye(bridge, from, getHeader(req, 'reason'));
      return;
    case 'REFER':
      bridge.owner.refer(bridge, from, req, tx);
      return;
    case 'INVITE':
    case 'UPDATE':
    case 'INFO':
      if (bridge.alone) return answerAlone(from, req, tx);
      if (!to || to.ended || !to.dialog) {
        from.answer(req, tx, 500, { reason: 'Server Internal Error', headers: [{ name: 'retry-after', value: '1' }] });
        return;
      }
      if (req.method === 'INFO' && infoAsRtpEvents(bridge, from, req)) {
        from.answer(req, tx, 200);
        return;
      }
      if (req.method === 'INVITE' && bridge.owner.takeReoffer?.(bridge, from, req, tx)) return;
      if (req.method === 'INVITE') relayInvite(bridge, from, to, req, tx);
      else relayNonInvite(bridge, from, to, req, tx);
      return;
    default:
      from.answer(req, tx, 405, { headers: [bridge.ctx.commonHeaders.allow] });
  }
}

/**
 * A party alone in its call (parked, waiting to be joined) refreshes its
 * session or changes its media: we answer for the absent other side with an
 * inactive stream, so the session stays up (a 500 would make phones that
 * refresh by re-INVITE hang up).
 */
function answerAlone(from: Leg, req: SipRequest, tx: ServerTransaction): void {
  if (req.method === 'INFO') return from.answer(req, tx, 200);
  from.dialog?.refreshTarget(req);
  const offer = req.body.length > 0 && (getHeader(req, 'content-type') ?? 'application/sdp').toLowerCase().startsWith('application/sdp');
  const body = offer ? inactiveAnswer(req.body, from.local.address) : req.method === 'INVITE' ? holdOffer(from.lastSdpSent) : undefined;
  if (offer && body === undefined) return from.answer(req, tx, 488);
  from.answer(req, tx, 200, { body });
}

/**
 * A DTMF INFO from a party that signals digits that way, toward one that
 * wants RFC 4733: the digit goes into the other party's RTP stream instead.
 */
function infoAsRtpEvents(bridge: Bridge, from: Leg, req: SipRequest): boolean {
  const type = (getHeader(req, 'content-type') ?? '').toLowerCase();
  if (!type.startsWith('application/dtmf-relay') && !type.startsWith('application/dtmf')) return false;
  const mine = bridge.sideOf(from);
  const theirs = bridge.sideOf(bridge.other(from) ?? from);
  if (mine.profile.dtmf !== 'info' || theirs.profile.dtmf !== 'rfc4733' || !bridge.media.injectDtmf) return false;
  const d = parseDtmfRelay(req.body.toString('utf8'));
  return d !== undefined && bridge.media.injectDtmf(theirs.role, d.digit, d.durationMs);
}

function relayInvite(bridge: Bridge, from: Leg, to: Leg, req: SipRequest, tx: ServerTransaction): void {
  // §14.1/14.2: an INVITE while ours is pending on this leg is glare (491);
  // a second one while theirs is pending gets 500 with Retry-After.
  if (from.clientInvitePending) {
    from.answer(req, tx, 491);
    return;
  }
  if (from.serverInvitePending) {
    from.answer(req, tx, 500, { headers: [{ name: 'retry-after', value: String(1 + Math.floor(Math.random() * 10)) }] });
    return;
  }
  from.serverInvitePending = true;
  to.clientInvitePending = true;
  if (req.body.length === 0) {
    sendReinvite(bridge, from, to, req, tx, undefined);
    return;
  }
  void bridge.media.offer(bridge.sideOf(from), bridge.sideOf(to), req.body).then((verdict) => {
    if (!verdict.ok) {
      from.serverInvitePending = false;
      to.clientInvitePending = false;
      from.answer(req, tx, verdict.status, { reason: verdict.reason });
      return;
    }
    sendReinvite(bridge, from, to, req, tx, verdict.body);
  }, () => {
    // A media failure must end this re-INVITE, not the process (an unhandled rejection would).
    from.serverInvitePending = false;
    to.clientInvitePending = false;
    from.answer(req, tx, 500);
  });
}

function sendReinvite(bridge: Bridge, from: Leg, to: Leg, req: SipRequest, tx: ServerTransaction, body: Buffer | undefined): void {
  if (bridge.closed || to.ended) {
    from.serverInvitePending = false;
    to.clientInvitePending = false;
    from.answer(req, tx, 481);
    return;
  }
  from.dialog?.refreshTarget(req);
  const done = () => {
    from.serverInvitePending = false;
    to.clientInvitePending = false;
  };
  const sent = to.sendInDialog('INVITE', { body, headers: carried(req) }, {
    onResponse: (res) => {
      if (res.status < 200) return;
      if (res.status >= 300) {
        done();
        from.answer(req, tx, res.status, { reason: res.reason, headers: carried(res) });
        return;
      }
      done();
      to.dialog?.refreshTarget(res);
      bridge.sessionTimer.refreshed();
      if (body !== undefined) {
        // Offer went out with the re-INVITE: the 2xx holds the answer; ACK it at once.
        to.sendAck(res.cseq.seq);
        const answered = res.body.length > 0 ? bridge.media.answer(bridge.sideOf(to), bridge.sideOf(from), res.body) : Promise.resolve(undefined);
        void answered.then((verdict) => {
          if (verdict && !verdict.ok) {
            // The other party's new media is not acceptable to this one: the offer fails, the old media stays.
            from.answer(req, tx, verdict.status, { reason: verdict.reason });
            return;
          }
          from.answer(req, tx, 200, { body: verdict?.body, headers: carried(res) });
          bridge.owner.changed();
          bridge.owner.reoffered?.(bridge, from);
        });
        return;
      }
      // Offerless re-INVITE: the 2xx holds the offer, the party's ACK the answer.
      const offered = res.body.length > 0 ? bridge.media.offer(bridge.sideOf(to), bridge.sideOf(from), res.body) : Promise.resolve(undefined);
      void offered.then((verdict) => {
        if (verdict && !verdict.ok) {
          to.sendAck(res.cseq.seq);
          from.answer(req, tx, verdict.status, { reason: verdict.reason });
          return;
        }
        bridge.pendingAckRelay = { from, cseq: req.cseq.seq, to, toCseq: res.cseq.seq };
        from.answer(req, tx, 200, { body: verdict?.body, headers: carried(res) });
      });
    },
    onTimeout: () => {
      done();
      from.answer(req, tx, 408);
    },
    onTransportError: () => {
      done();
      from.answer(req, tx, 503);
    },
  });
  if (!sent) {
    done();
    from.answer(req, tx, 500);
  }
}

function relayNonInvite(bridge: Bridge, from: Leg, to: Leg, req: SipRequest, tx: ServerTransaction): void {
  const isSdp = req.body.length > 0 && (getHeader(req, 'content-type') ?? '').toLowerCase().startsWith('application/sdp');
  if (req.method === 'UPDATE' && isSdp) {
    void bridge.media.offer(bridge.sideOf(from), bridge.sideOf(to), req.body).then((verdict) => {
      if (!verdict.ok) from.answer(req, tx, verdict.status, { reason: verdict.reason });
      else sendNonInvite(bridge, from, to, req, tx, verdict.body, true);
    });
    return;
  }
  sendNonInvite(bridge, from, to, req, tx, req.body.length > 0 ? req.body : undefined, false);
}

function sendNonInvite(bridge: Bridge, from: Leg, to: Leg, req: SipRequest, tx: ServerTransaction, body: Buffer | undefined, isSdp: boolean): void {
  if (req.method === 'UPDATE') from.dialog?.refreshTarget(req);
  const contentType = body !== undefined ? getHeader(req, 'content-type') : undefined;
  const sent = to.sendInDialog(req.method, { body, contentType, headers: carried(req) }, {
    onResponse: (res) => {
      if (res.status < 200) return;
      if (res.status < 300 && req.method === 'UPDATE') {
        to.dialog?.refreshTarget(res);
        bridge.sessionTimer.refreshed();
        if (isSdp && res.body.length > 0) {
          void bridge.media.answer(bridge.sideOf(to), bridge.sideOf(from), res.body).then((verdict) => {
            if (!verdict.ok) from.answer(req, tx, verdict.status, { reason: verdict.reason });
            else from.answer(req, tx, res.status, { reason: res.reason, body: verdict.body, headers: carried(res) });
            bridge.owner.changed();
          });
          return;
        }
      }
      const answerBody = res.status < 300 && req.method !== 'UPDATE' && res.body.length > 0 ? res.body : undefined;
      const answerType = answerBody ? getHeader(res, 'content-type') : undefined;
      from.answer(req, tx, res.status, { reason: res.reason, body: answerBody, contentType: answerType, headers: carried(res) });
    },
    onTimeout: () => from.answer(req, tx, 408),
    onTransportError: () => from.answer(req, tx, 503),
  });
  if (!sent) from.answer(req, tx, 500);
}

/** The party ACKed our 2xx: if that 2xx held an offer, its answer goes on in our ACK to the other party. */
export function relayAck(bridge: Bridge, leg: Leg, ack: SipRequest): void {
  const p = bridge.pendingAckRelay;
  if (!p || p.from !== leg || p.cseq !== ack.cseq.seq) return;
  bridge.pendingAckRelay = undefined;
  if (ack.body.length === 0) {
    p.to.sendAck(p.toCseq);
    return;
  }
  void bridge.media.answer(bridge.sideOf(leg), bridge.sideOf(p.to), ack.body).then((verdict) => {
    // An answer in an ACK cannot be refused (no response to an ACK): a bad one is logged and the ACK goes on bare.
    if (!verdict.ok) bridge.ctx.log.info({ bridge: bridge.owner.ref, status: verdict.status }, 'answer in ACK not acceptable');
    p.to.sendAck(p.toCseq, verdict.ok ? verdict.body : undefined);
    bridge.owner.changed();
  });
}

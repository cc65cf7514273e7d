// Joining two parties who were not talking to each other (transfer, unpark,
// pickup) is third-party call control (RFC 3725 flow I): one party's offer —
// from its INVITE, from the 200 to our offerless INVITE, or from the 200 to
// an offerless re-INVITE — goes through the new bridge's media session to the
// other party in a re-INVITE; that party's answer comes back through the
// media session to the first. Each side so gets fresh relay ports and SRTP
// keys (SPEC KI-04), and direct media is decided anew for the new pair.
import type { Bridge } from './bridge.ts';
import type { Leg } from './leg.ts';

/** An offer we hold from one party, and how its answer gets back to it (ACK, or our 200). */
export interface PendingOffer {
  offer: Buffer;
  /** Delivers the answer (undefined: none could be made; the party keeps its old media and the join failed). */
  complete(answer: Buffer | undefined): void;
}

/**
 * A fresh offer from an established leg: an offerless re-INVITE, whose 2xx
 * holds the offer and whose ACK will carry the answer. Undefined when the
 * party refused or did not answer (a 2xx without SDP is ACKed at once).
 */
export async function askOffer(leg: Leg): Promise<PendingOffer | undefined> {
  const r = await leg.reinvite(undefined);
  if (r.res.status < 200 || r.res.status >= 300) return undefined;
  if (r.res.body.length === 0) {
    r.ack();
    return undefined;
  }
  return {
    offer: r.res.body,
    // An ACK to a 2xx that held an offer must carry an answer: without a new one, the last SDP the party had.
    complete: (answer) => r.ack(answer ?? leg.lastSdpSent),
  };
}

/** An offer to an established leg in a re-INVITE; resolves with its answer (ACKed), or undefined. */
export async function sendOffer(leg: Leg, offer: Buffer): Promise<Buffer | undefined> {
  const r = await leg.reinvite(offer);
  if (r.res.status < 200 || r.res.status >= 300) return undefined;
  r.ack();
  return r.res.body.length > 0 ? r.res.body : undefined;
}

/**
 * Joins `offerer` (whose offer is pending) with the other leg of `bridge`
 * (established: it is re-INVITEd) through the bridge's media session. True
 * when both parties now have each other's media.
 */
export async function connectOffer(bridge: Bridge, offerer: Leg, pending: PendingOffer): Promise<boolean> {
  const other = bridge.other(offerer);
  if (!other || !other.established) {
    pending.complete(undefined);
    return false;
  }
  const offered = await bridge.media.offer(bridge.sideOf(offerer), bridge.sideOf(other), pending.offer);
  if (!offered.ok) {
    pending.complete(undefined);
    return false;
  }
  const answer = await sendOffer(other, offered.body);
  if (answer === undefined) {
    pending.complete(undefined);
    return false;
  }
  const answered = await bridge.media.answer(bridge.sideOf(other), bridge.sideOf(offerer), answer);
  pending.complete(answered.ok ? answered.body : undefined);
  return answered.ok;
}

// RFC 7339 as a client (§5.1, §5.4, §5.5, §5.7, §5.10 with the loss
// algorithm of §7): what the servers we send requests to (trunks) tell us of
// their overload, and how many new requests we still send each of them.
//
// Per server: the last feedback taken (its reduction, until when it holds,
// its oc-seq). A response carrying an older oc-seq than the one held was
// overtaken by a newer one and is ignored; the same oc-seq again is the
// server repeating itself and keeps the reduction in force for another
// validity period. oc-validity=0 ends the reduction at once.
//
// The reduction is applied to the caller's new out-of-dialog requests only
// (§5.10.1: requests inside dialogs finish work already begun), evenly and
// deterministically rather than by a random draw per request: the same
// share, without runs of refusals, and testable.
import type { SipResponse } from './message.ts';
import type { Clock } from '../lib/time.ts';
import { compareOcSeq, readFeedback } from './overload-via.ts';
import type { OcSeq } from './overload-via.ts';

/** One server's feedback as held now, for status. */
export interface PeerReduction {
  peer: string;
  /** Percentage of new requests not sent (0 when the feedback ran out or was ended). */
  reduction: number;
  /** When the feedback runs out, epoch ms (of the clock given). */
  until: number;
  /** New requests not sent to this peer since start. */
  shed: number;
}

interface Held {
  reduction: number;
  until: number;
  seq: OcSeq | undefined;
  /** Credit that spreads the admitted share evenly (as overload.ts does). */
  credit: number;
  shed: number;
}

export class OverloadFeedback {
  private readonly peers = new Map<string, Held>();

  constructor(private readonly clock: Clock) {}

  /**
   * Takes the feedback in a response from `peer` to a request we sent with
   * offerLoss() in its Via: one Map lookup when there is none.
   */
  noteResponse(peer: string, res: SipResponse): void {
    const top = res.via[0];
    if (top === undefined) return;
    const oc = top.params.get('oc');
    if (oc === undefined || oc === null) return;
    const fb = readFeedback(top);
    if (fb === undefined) return;
    const held = this.peers.get(peer);
    if (held !== undefined && held.seq !== undefined && fb.seq !== undefined && compareOcSeq(fb.seq, held.seq) < 0) return;
    const now = this.clock.now();
    const reduction = fb.validityMs === 0 ? 0 : fb.reduction;
    const until = fb.validityMs === 0 ? now : now + fb.validityMs;
    if (held === undefined) {
      this.peers.set(peer, { reduction, until, seq: fb.seq, credit: 0, shed: 0 });
      return;
    }
    held.reduction = reduction;
    held.until = until;
    held.seq = fb.seq ?? held.seq;
  }

  /** Whether a new out-of-dialog request to `peer` may go out now; false: answer its caller 503. */
  admit(peer: string): boolean {
    const held = this.peers.get(peer);
    if (held === undefined || held.reduction === 0) return true;
    if (this.clock.now() >= held.until) {
      held.reduction = 0;
      held.credit = 0;
      return true;
    }
    held.credit += 1 - held.reduction / 100;
    if (held.credit >= 1) {
      held.credit -= 1;
      return true;
    }
    held.shed++;
    return false;
  }

  /** Every peer that has sent feedback, with what holds now. */
  list(): PeerReduction[] {
    const now = this.clock.now();
    return [...this.peers].map(([peer, h]) => ({ peer, reduction: now < h.until ? h.reduction : 0, until: h.until, shed: h.shed }));
  }
}

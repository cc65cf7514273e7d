// A call the server answers itself (a short code, a picker-up waiting to be
// joined): our 200 with an inactive answer, and the party's ACK awaited.
// Until a feature takes the leg over, a BYE from the party ends it.
import type { InboundLeg } from '../call/inbound-leg.ts';
import { inactiveAnswer, inactiveOffer } from '../media/placeholder.ts';

/** Answers `leg` with an inactive stream; resolves true once the party's ACK arrives, false if it never does or hangs up. */
export function answerAlone(leg: InboundLeg): Promise<boolean> {
  // No media flows, so the listener the phone reached us on is as good an address as any.
  const body = leg.invite.body.length > 0 ? inactiveAnswer(leg.invite.body, leg.local.address) : inactiveOffer(leg.local.address);
  return new Promise((resolve) => {
    if (leg.invite.body.length > 0 && body === undefined) {
      leg.final(488, 'Not Acceptable Here');
      return resolve(false);
    }
    leg.events = {
      onAck: () => resolve(true),
      onRequest: (l, req, tx) => {
        l.answer(req, tx, req.method === 'BYE' ? 200 : 491);
        if (req.method === 'BYE') {
          l.close();
          resolve(false);
        }
      },
      onLegFailed: (l) => {
        l.close();
        resolve(false);
      },
    };
    leg.final(200, 'OK', body);
  });
}

/**
 * A code that changed a setting: answered 200 and ended by us with BYE as
 * soon as the ACK arrives (the confirmation tone comes with the media server).
 */
export async function confirmAndHangUp(leg: InboundLeg): Promise<void> {
  if (await answerAlone(leg)) leg.bye();
  leg.close();
}

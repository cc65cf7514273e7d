// What a short-code feature is handed: the caller's INVITE (no call exists
// yet: the feature decides what the INVITE becomes), who dialled, and the
// matched code.
import type { SipRequest } from '../../sip/message.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import type { InviteServerTransaction } from '../../sip/transaction/types.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { User } from '../../store/types.ts';

export interface FeatureRequest {
  req: SipRequest;
  tx: InviteServerTransaction;
  inbound: Inbound;
  /** The authenticated local user who dialled the code. */
  user: User;
  match: ShortCodeMatch;
  /** Refuses the INVITE with a status whose reason phrase says why (and records the attempt). */
  refuse(status: number, reason: string): void;
}

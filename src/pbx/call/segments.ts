// Who talked to whom, and when: a call keeps one record however often it is
// transferred, parked or picked up, with one segment per pair of parties.
import type { User } from '../../store/types.ts';
import type { Leg } from './leg.ts';

export interface CallParty {
  number: string;
  name: string;
  user: User | undefined;
  trunk?: string | undefined;
}

export interface Segment {
  a: CallParty;
  b: CallParty;
  startedAt: number;
  endedAt: number | undefined;
}

/** The party at the far end of a leg. */
export function partyOf(leg: Leg): CallParty {
  const p = leg.peer;
  if (p.user) return { number: p.user.extension, name: p.user.name, user: p.user, trunk: undefined };
  return { number: p.number ?? '', name: p.name ?? '', user: undefined, trunk: p.trunk };
}

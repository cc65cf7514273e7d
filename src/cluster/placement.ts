// Which worker of a cluster takes a new request (one that names no dialog of
// ours), when it is about something another worker holds: the calls that a
// feature joins must be on one worker, and the callers of a meet-me room
// must reach the one media server that mixes it (each worker has its own).
// Otherwise the worker the kernel gave it to takes it. A wrong guess costs nothing worse than what a lone server
// answers (the owner finds no parked call, no ringing call: 404).
import type { SipRequest } from '../sip/message.ts';
import { replacesOf } from '../sip/ua/replaces.ts';
import { ownerOfId } from '../sip/owner.ts';
import type { ShortCodeMatch } from '../store/types.ts';
import type { User } from '../store/types.ts';
import type { ClusterActivity } from './activity.ts';

export interface PlacementDeps {
  activity: ClusterActivity;
  /** The short code a dialled string is (the routing's own table). */
  shortCode: (dialled: string) => ShortCodeMatch | undefined;
  /** A user by extension (the directory). */
  user: (extension: string) => User | undefined;
  /** The dialled string is a meet-me conference room's number. */
  isRoom?: (dialled: string) => boolean;
  /** Workers in the cluster. */
  workers?: number;
}

/** The worker that hosts a meet-me room: the same for every caller, so all of them meet in one mixer. */
export function roomWorker(number: string, workers: number): number {
  let h = 0;
  for (let i = 0; i < number.length; i++) h = (h * 31 + number.charCodeAt(i)) >>> 0;
  return 1 + (h % workers);
}

/** 0 to take the request here, else the worker that should. */
export function placeRequest(req: SipRequest, deps: PlacementDeps): number {
  if (req.method !== 'INVITE') return 0;
  // RFC 3891: the dialog it replaces names, in our tag, the worker holding it.
  const replaces = replacesOf(req);
  if (typeof replaces === 'object') return ownerOfId(replaces.toTag);
  const { activity } = deps;
  const dialled = req.uri.user;
  const code = dialled !== undefined ? deps.shortCode(dialled) : undefined;
  const caller = req.from.uri.user;
  if (dialled !== undefined && deps.workers !== undefined && deps.workers > 1 && deps.isRoom?.(dialled) === true) return roomWorker(dialled, deps.workers);
  if (code?.feature === 'unpark' && code.param !== null) return activity.slotAt(code.param);
  if (code?.feature === 'pickup-directed' && code.param !== null) return activity.ringingAt(code.param);
  if (code?.feature === 'pickup-group' && caller !== undefined) {
    const group = deps.user(caller)?.pickupGroup;
    if (group == null) return 0;
    return activity.ringingWhere((ext) => ext !== caller && deps.user(ext)?.pickupGroup === group);
  }
  // A user's calls stay together (consultation and transfer, call waiting, park by dialling).
  return caller !== undefined ? activity.callsAt(caller) : 0;
}

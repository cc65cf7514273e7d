// Which worker of a cluster takes a new request (one that names no dialog of
// ours), when it is about something another worker holds: the calls that a
// feature joins must be on one worker. Otherwise the worker the kernel gave
// it to takes it. A wrong guess costs nothing worse than what a lone server
// answers (the owner finds no parked call, no ringing call: 404). A
// conference room's callers must meet in one worker's mixer: every call to
// a room number goes to the worker its number hashes to. A call pinned to
// a worker (the handset gateway's, issue 15) goes there before anything else.
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
  /** A meet-me conference room has this number (the routing's own table). */
  room: (number: string) => boolean;
  /** Workers in the cluster (numbered 1..workers). */
  workers: number;
  /** The worker a new INVITE must go to whoever places it (e.g. the one running the handset gateway's lines), or 0. */
  pinned?: (req: SipRequest) => number;
}

/** The worker that holds room `number`'s mixer: FNV-1a of the number, the same on every worker and across restarts. */
export function roomWorker(number: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < number.length; i++) h = Math.imul(h ^ number.charCodeAt(i), 0x01000193);
  return workers > 0 ? ((h >>> 0) % workers) + 1 : 0;
}

/** 0 to take the request here, else the worker that should. */
export function placeRequest(req: SipRequest, deps: PlacementDeps): number {
  if (req.method !== 'INVITE') return 0;
  // RFC 3891: the dialog it replaces names, in our tag, the worker holding it.
  const replaces = replacesOf(req);
  if (typeof replaces === 'object') return ownerOfId(replaces.toTag);
  const pin = deps.pinned?.(req) ?? 0;
  if (pin !== 0) return pin;
  const { activity } = deps;
  const dialled = req.uri.user;
  if (dialled !== undefined && deps.room(dialled)) return roomWorker(dialled, deps.workers);
  const code = dialled !== undefined ? deps.shortCode(dialled) : undefined;
  const caller = req.from.uri.user;
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

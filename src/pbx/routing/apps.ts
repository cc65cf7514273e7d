// Routing to the media server (SPEC A-10, AC-11): the voicemail number and
// the voicemail short code (mailbox login), IVR menus and conference rooms by
// number, and an application's own name as a transfer target ("vm-deposit-
// 1001": transfer a caller straight to a mailbox). And voicemail coverage:
// the step a user's call falls to when nobody answers, the user is busy or
// in DND, or no phone is registered, and no forward applies.
import type { User } from '../../store/types.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { RouteRequest, RoutingPipeline, Stage } from './pipeline.ts';
import type { RouteResult } from './plan.ts';

/** Application names on the media server (src/pbx/apps/): the Request-URI user is `<name>-<arg>`. */
export const APP = {
  deposit: 'vm-deposit',
  login: 'vm-login',
  ivr: 'ivr',
  conference: 'conf',
  moh: 'moh',
} as const;

export interface AppNumbers {
  /** The number that reaches the mailbox login from any phone. */
  voicemailNumber(): string;
  /** A short code the dialled string matches (the 'voicemail' code reaches one's own mailbox). */
  shortCode(dialled: string): ShortCodeMatch | undefined;
  /** An IVR menu / conference room has this number. */
  isMenu(number: string): boolean;
  isRoom(number: string): boolean;
}

/** A user's mailbox takes calls: voicemail on (the default). */
export function hasMailbox(user: User): boolean {
  return user.voicemail;
}

/** The deposit step into `user`'s mailbox, for a call routed to `user` that nobody takes. */
export function mailboxStep(r: RouteRequest, p: RoutingPipeline, user: User): RouteResult | undefined {
  if (!hasMailbox(user) || !p.deps.targets.serves(APP.deposit)) return undefined;
  const step = p.deps.targets.toApp(
    { name: APP.deposit, arg: user.extension, kind: 'voicemail', label: `${user.extension} (voicemail)`, display: 'Voicemail' },
    user.extension, r.caller, r.direction, user,
  );
  // A media server that cannot take it: the caller hears why the user could not, not that voicemail failed.
  return step.ok ? step : undefined;
}

/**
 * The stage: before short codes (the voicemail code is one) and extensions.
 * From a trunk only the numbers a DID names reach it (didStage resolves them
 * first, then routes them as diverted).
 */
export function appStage(numbers: AppNumbers): Stage {
  return (r, p) => {
    const dialled = r.dialled;
    const targets = p.deps.targets;
    if (r.caller.fromTrunk && !r.diverted) return undefined;
    const own = r.caller.user;
    // Voicemail switched off: the code and the number are nobody's (the code's feature says so).
    const voicemail = targets.serves(APP.login);
    if (voicemail && !r.diverted && own !== undefined && numbers.shortCode(dialled)?.feature === 'voicemail') {
      return login(r, p, own.extension);
    }
    if (voicemail && dialled === numbers.voicemailNumber()) {
      // Forwarded to the voicemail number: into the forwarding user's mailbox.
      const by = r.diverted ? r.permitted : undefined;
      if (by && r.visited.has(by.extension)) return mailboxStep(r, p, by) ?? { ok: false, status: 480, reason: 'Temporarily Unavailable', calleeUser: by };
      return login(r, p, undefined);
    }
    if (numbers.isMenu(dialled)) {
      return targets.toApp({ name: APP.ivr, arg: dialled, kind: 'ivr', label: `IVR ${dialled}`, display: 'Auto attendant' }, dialled, r.caller, r.direction);
    }
    if (numbers.isRoom(dialled)) {
      return targets.toApp({ name: APP.conference, arg: dialled, kind: 'conference', label: `conference ${dialled}`, display: 'Conference' }, dialled, r.caller, r.direction);
    }
    // "vm-deposit-1001" as a transfer or forward target: that user's mailbox, without ringing them.
    if (r.diverted && dialled.startsWith(APP.deposit + '-')) {
      const user = p.deps.directory.byExtension(dialled.slice(APP.deposit.length + 1));
      if (user && user.enabled) return mailboxStep(r, p, user) ?? { ok: false, status: 404, reason: 'Not Found' };
    }
    return undefined;
  };
}

function login(r: RouteRequest, p: RoutingPipeline, mailbox: string | undefined): RouteResult {
  const number = mailbox === undefined ? 'voicemail' : mailbox;
  return p.deps.targets.toApp({ name: APP.login, arg: mailbox, kind: 'voicemail', label: 'voicemail login', display: 'Voicemail' }, number, r.caller, r.direction);
}

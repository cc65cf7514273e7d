// The extension stage: a dialled user's own rules decide how the call rings
// it — forward unconditional first, then follow me (the calls ring another
// extension's phones), do not disturb with its exceptions, busy (in a call
// without call waiting, or at the call limit), and otherwise the user's
// contacts, with forward on no answer / on busy as the step's fallbacks.
// Forward targets are routed afresh through the pipeline (a user, a hunt
// group or, with the forwarding user's outbound permission, a trunk).
import type { User } from '../../store/types.ts';
import type { RouteRequest, RoutingPipeline, Stage } from './pipeline.ts';
import { refusal } from './pipeline.ts';
import type { RouteResult, StepOutcome } from './plan.ts';
import { mailboxStep } from './apps.ts';

export interface UserRuleSettings {
  domain: string;
  /** Seconds a call rings when the user sets none. */
  noAnswerTimeoutSec: number;
}

/** RFC 4458-style causes carried in Diversion / History-Info. */
const CAUSE = { unconditional: 302, busy: 486, noAnswer: 408, unavailable: 480 } as const;

export function extensionStage(settings: UserRuleSettings): Stage {
  return (r, p) => {
    const user = p.deps.directory.byExtension(r.dialled);
    if (!user) return undefined;
    if (!user.enabled) return refusal(404, 'Not Found');
    return userPlan(r, p, user, settings);
  };
}

function userPlan(r: RouteRequest, p: RoutingPipeline, user: User, settings: UserRuleSettings): RouteResult {
  const targets = p.deps.targets;
  const divert = (number: string | null, cause: number): RouteResult | undefined => {
    if (number === null) return undefined;
    const next = p.divert(r, number, user.extension, user);
    if (!next || !next.ok) return next;
    return { ...next, diversions: [{ uri: `sip:${user.extension}@${settings.domain}`, cause }, ...(next.diversions ?? [])] };
  };
  const forwarded = divert(user.forwardUnconditional, CAUSE.unconditional);
  if (forwarded) return forwarded;

  // Follow me: the user's calls ring the phones of the extension they followed to.
  let phone = user;
  if (user.followMe !== null && !r.visited.has(user.followMe)) {
    const there = p.deps.directory.byExtension(user.followMe);
    if (there && there.enabled) phone = there;
  }
  // Voicemail coverage: where no forward applies, the user's mailbox takes the call.
  const mailbox = (): RouteResult | undefined => mailboxStep(r, p, user);
  const onBusy = (reason: string): RouteResult => divert(user.forwardBusy, CAUSE.busy) ?? mailbox() ?? refusal(486, reason, user);
  const callerNumber = r.caller.user?.extension ?? r.caller.from.uri.user ?? '';
  if (user.dnd && !user.dndExceptions.includes(callerNumber)) return onBusy('Do Not Disturb');
  if (targets.busy(phone)) return onBusy('Busy Here');

  const unavailable = (): RouteResult | undefined => divert(user.forwardNoAnswer, CAUSE.unavailable) ?? divert(user.forwardBusy, CAUSE.unavailable) ?? mailbox();
  const step = targets.toUser(phone, r.caller, r.direction);
  if (!step.ok) return unavailable() ?? { ...step, calleeUser: user };
  const ringSec = user.forwardNoAnswer !== null
    ? (user.forwardNoAnswerSec ?? user.noAnswerTimeoutSec ?? settings.noAnswerTimeoutSec)
    : (user.noAnswerTimeoutSec ?? settings.noAnswerTimeoutSec);
  return {
    ...step,
    label: phone === user ? user.extension : `${user.extension} (follow me ${phone.extension})`,
    ringMs: ringSec * 1000,
    next: (outcome: StepOutcome) => {
      if (outcome === 'busy') return divert(user.forwardBusy, CAUSE.busy) ?? mailbox();
      if (outcome === 'no-answer') return divert(user.forwardNoAnswer, CAUSE.noAnswer) ?? mailbox();
      return unavailable();
    },
  };
}

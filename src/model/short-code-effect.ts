// What a matched short code asks for, as data: a change to a user record, a
// hunt group login, or an action on calls the engine performs itself. Pure,
// so the routing stage (src/pbx) only applies the answer and tests need no
// server. Forward rules are those of user-features.ts.
import type { ShortCodeMatch } from './short-code.ts';
import { DND_EXCEPTIONS_MAX, type UserFeaturePatch, type UserFeatures } from './user-features.ts';

/** The caller's record as far as short codes read it. */
export type ShortCodeCaller = UserFeatures & { readonly extension: string; readonly callWaiting: boolean };

export type ShortCodeAction =
  /** users.update(extension, patch); extension is the caller's except for follow me. */
  | { kind: 'user'; extension: string; patch: UserFeaturePatch & { callWaiting?: boolean } }
  | { kind: 'hunt-login'; group: string; extension: string; loggedIn: boolean }
  /** Acts on calls, not data: the engine does it (param: slot, extension...). */
  | { kind: 'call'; feature: 'voicemail' | 'pickup-group' | 'pickup-directed' | 'park' | 'unpark' | 'conference'; param: string | null }
  /** Cannot be done; reason is for the log (the caller hears a refusal tone). */
  | { kind: 'refused'; reason: string };

const OFF = { forwardUnconditional: null, forwardBusy: null, forwardNoAnswer: null } as const;

export function shortCodeAction(m: ShortCodeMatch, caller: ShortCodeCaller): ShortCodeAction {
  const self = (patch: UserFeaturePatch & { callWaiting?: boolean }): ShortCodeAction => ({ kind: 'user', extension: caller.extension, patch });
  const stored = (key: 'forwardUnconditional' | 'forwardBusy' | 'forwardNoAnswer'): ShortCodeAction =>
    caller.forwardNumber === null ? { kind: 'refused', reason: 'no forward number stored (set one with forward-number)' } : self({ [key]: caller.forwardNumber });
  const p = m.param;
  const needParam = (): ShortCodeAction => ({ kind: 'refused', reason: `${m.feature} needs a number` });
  switch (m.feature) {
    case 'cancel-all-forwarding': return self({ ...OFF });
    case 'forward-unconditional-on': return stored('forwardUnconditional');
    case 'forward-busy-on': return stored('forwardBusy');
    case 'forward-no-answer-on': return stored('forwardNoAnswer');
    case 'forward-unconditional-off': return self({ forwardUnconditional: null });
    case 'forward-busy-off': return self({ forwardBusy: null });
    case 'forward-no-answer-off': return self({ forwardNoAnswer: null });
    case 'forward-number':
      if (p === null) return needParam();
      if (p === caller.extension) return { kind: 'refused', reason: 'cannot forward to oneself' };
      return self({ forwardNumber: p, forwardUnconditional: p });
    case 'dnd-on': return self({ dnd: true });
    case 'dnd-off': return self({ dnd: false });
    case 'dnd-exception-add':
      if (p === null) return needParam();
      if (caller.dndExceptions.includes(p)) return self({});
      if (caller.dndExceptions.length >= DND_EXCEPTIONS_MAX) return { kind: 'refused', reason: `at most ${DND_EXCEPTIONS_MAX} exceptions` };
      return self({ dndExceptions: [...caller.dndExceptions, p] });
    case 'dnd-exception-remove':
      if (p === null) return needParam();
      return self({ dndExceptions: caller.dndExceptions.filter((x) => x !== p) });
    case 'follow-me-here':
      if (p === null) return needParam();
      if (p === caller.extension) return { kind: 'refused', reason: 'follow me to the same extension' };
      return { kind: 'user', extension: p, patch: { followMe: caller.extension } };
    case 'follow-me-cancel':
      return { kind: 'user', extension: p ?? caller.extension, patch: { followMe: null } };
    case 'call-waiting-on': return self({ callWaiting: true });
    case 'call-waiting-off': return self({ callWaiting: false });
    case 'huntgroup-login':
    case 'huntgroup-logout':
      if (p === null) return needParam();
      return { kind: 'hunt-login', group: p, extension: caller.extension, loggedIn: m.feature === 'huntgroup-login' };
    case 'voicemail':
    case 'pickup-group':
    case 'pickup-directed':
    case 'park':
    case 'unpark':
    case 'conference':
      return { kind: 'call', feature: m.feature, param: p };
  }
}

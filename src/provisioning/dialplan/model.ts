// SPEC §6 (Lync dial plan → phone digit map): the rule model shared by the
// four steps, the limits of the phone's working buffer, and the one place a
// dropped rule becomes a DIALPLANERROR (§6.1 step 5).
import type { Logger } from '../../lib/log.ts';

/** §6: one working buffer of this many characters covers every step; a string of exactly this length fits. */
export const MAX_BUFFER_CHARS = 10_000;
/** §6.1 step 3: alternatives in one alternation group. */
export const MAX_ALTERNATIVES = 30;
/** §6.1 step 3: characters in one alternative (without its own optional pair of parentheses). */
export const MAX_ALTERNATIVE_CHARS = 32;
/** §6.1 step 5: the tag every error about a dropped or cut rule carries. */
export const DIALPLAN_ERROR = 'DIALPLANERROR';

/** A normalisation rule as the registrar sends it (Lync Get-CsDialPlan: Name, Description, Pattern, Translation, IsInternalExtension). */
export interface NormalisationRule {
  name?: string;
  description?: string;
  pattern: string;
  translation: string;
  isInternalExtension: boolean;
}

/** Where a rule of the working plan came from: the registrar's rule number (0-based) or the emergency settings. */
export type RuleOrigin = { kind: 'rule'; index: number; name?: string } | { kind: 'emergency'; number: string };

/** A rule in the working buffer: `pattern@translation@flag`. */
export interface PlanRule {
  /** Anchored regex (`^…$`), after step 3 free of alternation. */
  pattern: string;
  translation: string;
  internal: boolean;
  origin: RuleOrigin;
  /** The anchored pattern of the rule before step 3 expanded it: the regex a translation is applied with. */
  sourcePattern: string;
}

/** `pattern@translation@1|0` (§6.1 step 1). */
export function serialiseRule(rule: Pick<PlanRule, 'pattern' | 'translation' | 'internal'>): string {
  return `${rule.pattern}@${rule.translation}@${rule.internal ? '1' : '0'}`;
}

/** Rule strings joined with `|` (§6.1 step 1). */
export function serialisePlan(rules: readonly PlanRule[]): string {
  return rules.map(serialiseRule).join('|');
}

/** Length of `a|b` given the length of a (0 = empty) and of b. */
export function joinedLength(sofar: number, added: number): number {
  return sofar === 0 ? added : sofar + 1 + added;
}

/** Collects the errors of one conversion, each logged once at warn (§6.1 step 5, level 4). */
export class DialPlanErrors {
  readonly list: string[] = [];
  constructor(private readonly log?: Logger) {}

  drop(step: 1 | 2 | 3 | 4, origin: RuleOrigin, pattern: string, reason: string): void {
    const who = origin.kind === 'emergency' ? `emergency number ${origin.number}` : `rule ${origin.index + 1}${origin.name ? ` "${origin.name}"` : ''}`;
    const message = `${DIALPLAN_ERROR}: step ${step}: ${who} (${pattern}) dropped: ${reason}`;
    this.list.push(message);
    this.log?.warn({ step, rule: origin, pattern }, message);
  }
}

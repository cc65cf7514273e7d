// SPEC §6: the registrar's normalisation rules and emergency settings →
// dialplan.1.originaldigitmap and dialplan.1.digitmap (with the side table of
// translations, SPEC §6.3), and applying that result to a dialled number as
// the handset does.
import type { Logger } from '../../lib/log.ts';
import { type DigitMapTranslation, convertPlan } from './convert.ts';
import { appendEmergencyRules } from './emergency.ts';
import { expandAlternation } from './expand.ts';
import { acceptingString, parseDigitMap } from './match.ts';
import { DialPlanErrors, type NormalisationRule, serialisePlan } from './model.ts';
import { serialiseRules } from './serialise.ts';

export { DIALPLAN_ERROR, MAX_ALTERNATIVE_CHARS, MAX_ALTERNATIVES, MAX_BUFFER_CHARS, type NormalisationRule } from './model.ts';
export type { DigitMapTranslation } from './convert.ts';

export interface DialPlanInput {
  rules: readonly NormalisationRule[];
  /** dialplan.1.e911dialstring (e.g. 911). */
  emergencyDialString?: string;
  /** dialplan.1.e911dialmask: more numbers that reach the dial string (e.g. `112;999`). */
  emergencyDialMask?: string;
}

export interface DialPlanResult {
  /** dialplan.1.originaldigitmap: step 1, `pattern@translation@flag|…`. */
  originalDigitMap: string;
  /** dialplan.1.digitmap: RFC 3435 strings joined with `|`, emergency strings last. */
  digitMap: string;
  /** One entry per string of digitMap, in the same order. */
  translations: DigitMapTranslation[];
  /** One line per dropped or cut rule, each containing DIALPLANERROR. */
  errors: string[];
}

/** SPEC §6.1 steps 1–5. Errors are also logged at warn; steps 3 and 4 log their input and output at debug. */
export function convertDialPlan(input: DialPlanInput, log?: Logger): DialPlanResult {
  const errors = new DialPlanErrors(log);
  const step1 = serialiseRules(input.rules, errors);
  const working = [...step1.rules];
  appendEmergencyRules(working, step1.text.length, input.emergencyDialString, input.emergencyDialMask, errors);
  log?.debug({ step: 3, plan: serialisePlan(working) }, 'dial plan: remove alternation, input');
  const expanded = expandAlternation(working, errors);
  log?.debug({ step: 3, plan: serialisePlan(expanded) }, 'dial plan: remove alternation, output');
  const converted = convertPlan(expanded, errors);
  log?.debug({ step: 4, digitMap: converted.digitMap }, 'dial plan: digit map');
  return { originalDigitMap: step1.text, digitMap: converted.digitMap, translations: converted.translations, errors: errors.list };
}

export interface NormalisedNumber {
  /** The number after the rule's translation. */
  number: string;
  internal: boolean;
  /** The digit-map string that accepted the dialled number. */
  digitMap: string;
}

/** What the handset sends for a dialled number under a converted plan, or undefined when the map does not accept it. */
export function normaliseNumber(plan: Pick<DialPlanResult, 'digitMap' | 'translations'>, digits: string): NormalisedNumber | undefined {
  if (plan.digitMap === '') return undefined;
  const index = acceptingString(parseDigitMap(plan.digitMap), digits);
  if (index < 0) return undefined;
  const t = plan.translations[index];
  if (!t) throw new Error('dial plan: the translations do not follow the digit map');
  return { number: digits.replace(new RegExp(t.pattern), t.translation), internal: t.internal, digitMap: t.digitMap };
}

// SPEC §6.1 step 4: the expanded plan in RFC 3435 §2.1.5 digit-map syntax
// (dialplan.1.digitmap), cut at a rule boundary to the 10,000-character buffer.
//
// SPEC §6.3 decision: a digit map has no rewrite construct (the R…R…R
// extension some phones have replaces literal digits only and cannot move a
// captured group), so Translation and IsInternalExtension stay out of the
// map, in a side table with one entry per digit-map string, in the same
// order. The entry carries the rule's regex as the registrar wrote it
// (anchored, before step 3), because step 3 renumbers the capture groups of
// an alternative that had its own parentheses, and `$n` must mean what the
// registrar meant.
import { type DialPlanErrors, joinedLength, MAX_BUFFER_CHARS, type PlanRule, type RuleOrigin } from './model.ts';
import { patternToDigitMap } from './pattern.ts';
import { compilesAsRegex } from '../../lib/regex.ts';

/** What the phone does with a number one digit-map string accepted. */
export interface DigitMapTranslation {
  /** The digit-map string (one alternative of dialplan.1.digitmap). */
  digitMap: string;
  /** The registrar's regex, anchored: the number is rewritten with `number.replace(new RegExp(pattern), translation)`. */
  pattern: string;
  translation: string;
  /** IsInternalExtension. */
  internal: boolean;
  origin: RuleOrigin;
}

export interface ConvertedPlan {
  digitMap: string;
  translations: DigitMapTranslation[];
}

/**
 * Step 4. A rule with no digit-map form is dropped; once a rule does not fit
 * in the buffer, the map is cut there and it and every later rule are dropped.
 * Each is logged.
 */
export function convertPlan(rules: readonly PlanRule[], errors: DialPlanErrors): ConvertedPlan {
  const translations: DigitMapTranslation[] = [];
  let length = 0;
  let cut = false;
  for (const rule of rules) {
    if (cut) {
      errors.drop(4, rule.origin, rule.pattern, `the digit map was cut at ${MAX_BUFFER_CHARS} characters before this rule`);
      continue;
    }
    // The translation is applied with the source regex, so it must compile even where step 3 left only valid alternatives.
    const result = compilesAsRegex(rule.sourcePattern) ? patternToDigitMap(rule.pattern) : { error: 'the rule is not a valid regular expression' };
    if ('error' in result) {
      errors.drop(4, rule.origin, rule.pattern, result.error);
      continue;
    }
    let next = length;
    for (const s of result.strings) next = joinedLength(next, s.length);
    if (next > MAX_BUFFER_CHARS) {
      cut = true;
      errors.drop(4, rule.origin, rule.pattern, `it would take the digit map to ${next} characters, past the ${MAX_BUFFER_CHARS}-character buffer`);
      continue;
    }
    length = next;
    for (const digitMap of result.strings) {
      translations.push({ digitMap, pattern: rule.sourcePattern, translation: rule.translation, internal: rule.internal, origin: rule.origin });
    }
  }
  return { digitMap: translations.map((t) => t.digitMap).join('|'), translations };
}


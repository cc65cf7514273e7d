// SPEC §6.1 step 1: the registrar's rules, in order, as `pattern@translation@flag`
// joined with `|` (dialplan.1.originaldigitmap), within the 10,000-character buffer.
import { type DialPlanErrors, joinedLength, MAX_BUFFER_CHARS, type NormalisationRule, type PlanRule, serialiseRule } from './model.ts';

/** The pattern with a leading `^` and a trailing `$`, each added only when missing. */
export function anchorPattern(pattern: string): string {
  let p = pattern.startsWith('^') ? pattern : `^${pattern}`;
  // A trailing `\$` is a literal dollar, not an anchor.
  if (!p.endsWith('$') || endsEscaped(p)) p = `${p}$`;
  return p;
}

function endsEscaped(p: string): boolean {
  let backslashes = 0;
  for (let i = p.length - 2; i >= 0 && p[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

export interface SerialisedPlan {
  rules: PlanRule[];
  /** dialplan.1.originaldigitmap */
  text: string;
}

/**
 * Step 1. A rule that would take the string past the buffer is left out, and
 * so is every rule after it (SPEC §6.1, read as "stop appending"); each is
 * logged. A rule whose pattern or translation holds `@`, or whose translation
 * holds `|`, cannot be written unambiguously and is left out on its own.
 */
export function serialiseRules(input: readonly NormalisationRule[], errors: DialPlanErrors): SerialisedPlan {
  const rules: PlanRule[] = [];
  const parts: string[] = [];
  let length = 0;
  let overflowed = false;
  input.forEach((r, index) => {
    const origin = { kind: 'rule' as const, index, ...(r.name ? { name: r.name } : {}) };
    const pattern = anchorPattern(r.pattern);
    if (overflowed) {
      errors.drop(1, origin, pattern, `an earlier rule passed the ${MAX_BUFFER_CHARS}-character buffer; every later rule is left out`);
      return;
    }
    if (r.pattern.includes('@') || r.translation.includes('@') || r.translation.includes('|')) {
      errors.drop(1, origin, pattern, 'pattern or translation holds "@" (or the translation "|"), which the serialised plan uses as separators');
      return;
    }
    const rule: PlanRule = { pattern, translation: r.translation, internal: r.isInternalExtension, origin, sourcePattern: pattern };
    const text = serialiseRule(rule);
    const next = joinedLength(length, text.length);
    if (next > MAX_BUFFER_CHARS) {
      overflowed = true;
      errors.drop(1, origin, pattern, `it would take the plan to ${next} characters, past the ${MAX_BUFFER_CHARS}-character buffer`);
      return;
    }
    rules.push(rule);
    parts.push(text);
    length = next;
  });
  return { rules, text: parts.join('|') };
}

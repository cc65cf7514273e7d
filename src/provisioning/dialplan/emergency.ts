// SPEC §6.1 step 2: emergency rules from dialplan.1.e911dialstring and
// dialplan.1.e911dialmask, appended after the registrar's rules when they fit.
//
// The format is ours (SPEC §6.3 left it open): the dial string and every
// number of the mask each become one rule `^<number>$@<dial string>@0`, so the
// handset dials those numbers at once and a mask number reaches the network
// as the dial string. The mask lists numbers separated by `;` (Lync's
// EmergencyDialMask) or `,`; a number holds only digits, `*` and `#`.
import { type DialPlanErrors, joinedLength, MAX_BUFFER_CHARS, type PlanRule, serialiseRule } from './model.ts';

const DIALABLE = /^[0-9*#]+$/;

/** The numbers that make emergency rules: the dial string first, then the mask's numbers not already listed. */
export function emergencyNumbers(dialString: string | undefined, mask: string | undefined): string[] {
  const numbers: string[] = [];
  for (const n of [dialString ?? '', ...(mask ?? '').split(/[;,]/)]) {
    const t = n.trim();
    if (t !== '' && !numbers.includes(t)) numbers.push(t);
  }
  return numbers;
}

/**
 * Step 2: appends the emergency rules to `rules` (whose serialised length is
 * `length`) while they fit; a rule that does not fit is left out with every
 * later one, each logged. Returns the new serialised length.
 */
export function appendEmergencyRules(rules: PlanRule[], length: number, dialString: string | undefined, mask: string | undefined, errors: DialPlanErrors): number {
  const target = dialString?.trim() ?? '';
  let full = false;
  for (const number of emergencyNumbers(dialString, mask)) {
    const origin = { kind: 'emergency' as const, number };
    const pattern = `^${number.replaceAll('*', '\\*')}$`;
    if (!DIALABLE.test(target)) {
      errors.drop(2, origin, pattern, target === '' ? 'there is no emergency dial string to send' : 'the emergency dial string holds only digits, * and #');
      continue;
    }
    if (!DIALABLE.test(number)) {
      errors.drop(2, origin, pattern, 'an emergency number holds only digits, * and #');
      continue;
    }
    if (full) {
      errors.drop(2, origin, pattern, `an earlier emergency rule did not fit in the ${MAX_BUFFER_CHARS}-character buffer`);
      continue;
    }
    const rule: PlanRule = { pattern, translation: target, internal: false, origin, sourcePattern: pattern };
    const next = joinedLength(length, serialiseRule(rule).length);
    if (next > MAX_BUFFER_CHARS) {
      full = true;
      errors.drop(2, origin, pattern, `it would take the plan to ${next} characters, past the ${MAX_BUFFER_CHARS}-character buffer`);
      continue;
    }
    rules.push(rule);
    length = next;
  }
  return length;
}

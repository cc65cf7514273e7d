// SPEC §6.2: every test vector, named by its ID, plus the boundaries our
// §6.3 decisions add (exactly 10,000 characters fits).
import { describe, expect, it } from 'vitest';
import { convertDialPlan, DIALPLAN_ERROR, MAX_BUFFER_CHARS, type NormalisationRule } from '../../../../src/provisioning/dialplan/index.ts';
import { expandAlternation } from '../../../../src/provisioning/dialplan/expand.ts';
import { DialPlanErrors, type PlanRule, serialisePlan } from '../../../../src/provisioning/dialplan/model.ts';
import { serialiseRules } from '../../../../src/provisioning/dialplan/serialise.ts';

const TV01: NormalisationRule = {
  description: 'Lisbon 8047x & 8063x',
  name: 'Lisbon 5 digit 2',
  pattern: '^((8047[0-9])|(8063[0-9]))$',
  translation: '+3512131$1',
  isInternalExtension: true,
};
const TV02_OUT = '^(8047[0-9])$@+3512131$1@1|^(8063[0-9])$@+3512131$1@1';

function step1(rules: NormalisationRule[]) {
  const errors = new DialPlanErrors();
  return { ...serialiseRules(rules, errors), errors: errors.list };
}

/** Step 3 on one rule given as step-3 input text `pattern@translation@flag`. */
function step3(text: string) {
  const [pattern, translation, flag] = text.split('@') as [string, string, string];
  const rule: PlanRule = { pattern, translation, internal: flag === '1', origin: { kind: 'rule', index: 0 }, sourcePattern: pattern };
  const errors = new DialPlanErrors();
  return { text: serialisePlan(expandAlternation([rule], errors)), errors: errors.list };
}

/** A rule whose serialised form `^1…1$@@0` is exactly `length` characters. */
function ruleOfLength(length: number): NormalisationRule {
  return { pattern: `^${'1'.repeat(length - 5)}$`, translation: '', isInternalExtension: false };
}

/** `count` alternatives of `chars` characters each: distinct digit strings. */
function alternatives(count: number, chars: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i).padStart(2, '0') + '7'.repeat(chars - 2));
}

function expectDialPlanErrors(errors: string[], count: number): void {
  expect(errors).toHaveLength(count);
  for (const e of errors) expect(e).toContain(DIALPLAN_ERROR);
}

describe('SPEC §6.2 test vectors', () => {
  it('TV-01: a rule serialises as pattern@translation@1', () => {
    const r = step1([TV01]);
    expect(r.text).toBe('^((8047[0-9])|(8063[0-9]))$@+3512131$1@1');
    expect(convertDialPlan({ rules: [TV01] }).originalDigitMap).toBe(r.text);
    expect(r.errors).toEqual([]);
  });

  it('TV-02: an alternation group becomes one rule per alternative, each in one pair of parentheses', () => {
    expect(step3('^(8047[0-9]|8063[0-9])$@+3512131$1@1')).toEqual({ text: TV02_OUT, errors: [] });
  });

  it('TV-03: alternatives with their own parentheses give the same output as TV-02', () => {
    expect(step3('^((8047[0-9])|(8063[0-9]))$@+3512131$1@1')).toEqual({ text: TV02_OUT, errors: [] });
  });

  it('TV-04: a pattern without anchors gets ^ and $, and False is written 0', () => {
    expect(step1([{ pattern: '((8047[0-9])|(8063[0-9]))', translation: '+3512131$1', isInternalExtension: false }]).text).toBe(
      '^((8047[0-9])|(8063[0-9]))$@+3512131$1@0',
    );
  });

  it('TV-05: two rules are joined with |', () => {
    const r = step1([TV01, { pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false }]);
    expect(r.text).toBe('^((8047[0-9])|(8063[0-9]))$@+3512131$1@1|^(\\d{4})$@+1555$1@0');
  });

  it('TV-06: a group of 30 alternatives of 32 characters expands into 30 rules', () => {
    const alts = alternatives(30, 32);
    expect(alts.every((a) => a.length === 32)).toBe(true);
    const r = step3(`^(${alts.join('|')})$@$1@0`);
    expect(r.errors).toEqual([]);
    expect(r.text.split('|')).toEqual(alts.map((a) => `^(${a})$@$1@0`));
    const plan = convertDialPlan({ rules: [{ pattern: `^(${alts.join('|')})$`, translation: '$1', isInternalExtension: false }] });
    expect(plan.digitMap.split('|')).toEqual(alts);
  });

  it('TV-07: a group of 31 alternatives drops the rule with one DIALPLANERROR', () => {
    const r = step3(`^(${alternatives(31, 4).join('|')})$@$1@0`);
    expect(r.text).toBe('');
    expectDialPlanErrors(r.errors, 1);
    expect(r.errors[0]).toContain('31 alternatives');
  });

  it('TV-08: an alternative of 33 characters drops the rule with one DIALPLANERROR', () => {
    const [long] = alternatives(1, 33);
    const r = step3(`^(1234|${long}|5678)$@$1@0`);
    expect(r.text).toBe('');
    expectDialPlanErrors(r.errors, 1);
    expect(r.errors[0]).toContain('33 characters');
  });

  it('TV-09: past 9,990 characters a 20-character rule and the 5-character rule after it are both left out', () => {
    const head = [ruleOfLength(4995), ruleOfLength(4994)];
    const r = step1([...head, ruleOfLength(20), { pattern: '^$', translation: '', isInternalExtension: false }]);
    expect(r.text.length).toBe(9990);
    expect(r.rules).toHaveLength(2);
    expectDialPlanErrors(r.errors, 2);
    expect(r.errors[0]).toContain('rule 3');
    expect(r.errors[1]).toContain('rule 4');
  });

  it('TV-09 boundary: a rule that makes the plan exactly 10,000 characters fits', () => {
    const r = step1([ruleOfLength(4995), ruleOfLength(4994), ruleOfLength(9)]);
    expect(r.text.length).toBe(MAX_BUFFER_CHARS);
    expect(r.errors).toEqual([]);
  });

  it('TV-10: a plan of 9,995 characters leaves no room for an emergency rule of 10 characters', () => {
    const rules = [ruleOfLength(4995), ruleOfLength(4999)];
    expect(step1(rules).text.length).toBe(9995);
    // Dial string 11, mask 112: the mask's rule ^112$@11@0 is 10 characters.
    const r = convertDialPlan({ rules, emergencyDialString: '11', emergencyDialMask: '112' });
    expect(r.digitMap.split('|')).toEqual(['1'.repeat(4990), '1'.repeat(4994)]);
    expectDialPlanErrors(r.errors, 2);
    expect(r.errors[1]).toContain('emergency number 112');
    // With a plan of 9,985 the 9-character rule fits (9,995) and the 10-character one does not (10,006).
    const roomy = convertDialPlan({ rules: [ruleOfLength(4995), ruleOfLength(4989)], emergencyDialString: '11', emergencyDialMask: '112' });
    expect(roomy.digitMap.split('|').slice(2)).toEqual(['11']);
    expectDialPlanErrors(roomy.errors, 1);
    expect(roomy.errors[0]).toContain('emergency number 112');
  });

  it('TV-11: a rule whose expansion would pass 10,000 characters is dropped; the rules before and after it stay', () => {
    const filler = ruleOfLength(3000);
    const wide: NormalisationRule = { name: 'wide', pattern: `^(${alternatives(30, 32).join('|')})$`, translation: `+${'4'.repeat(250)}$1`, isInternalExtension: false };
    const after: NormalisationRule = { pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false };
    const r = convertDialPlan({ rules: [filler, wide, after] });
    expect(r.originalDigitMap.length).toBeLessThanOrEqual(MAX_BUFFER_CHARS);
    expect(r.digitMap).toBe(`${'1'.repeat(2995)}|xxxx`);
    expectDialPlanErrors(r.errors, 1);
    expect(r.errors[0]).toMatch(/step 3: rule 2 "wide".*past the 10000-character buffer/);
  });
});

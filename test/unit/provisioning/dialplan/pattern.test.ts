// SPEC §6.3 decisions: how a regex becomes digit-map strings (step 4), how
// step 3 treats what §6.1 leaves open, the emergency rules of step 2, and
// that every dropped rule is one warn line.
import { describe, expect, it } from 'vitest';
import { expandPattern } from '../../../../src/provisioning/dialplan/expand.ts';
import { emergencyNumbers } from '../../../../src/provisioning/dialplan/emergency.ts';
import { convertDialPlan, DIALPLAN_ERROR, normaliseNumber } from '../../../../src/provisioning/dialplan/index.ts';
import { patternToDigitMap } from '../../../../src/provisioning/dialplan/pattern.ts';
import { anchorPattern } from '../../../../src/provisioning/dialplan/serialise.ts';

const strings = (p: string) => {
  const r = patternToDigitMap(p);
  if ('error' in r) throw new Error(r.error);
  return r.strings;
};
const refusal = (p: string) => {
  const r = patternToDigitMap(p);
  return 'error' in r ? r.error : `converted to ${r.strings.join('|')}`;
};

describe('pattern → digit map (step 4)', () => {
  it('keeps literal digits, # and \\*, drops the anchors and groups', () => {
    expect(strings('^(8047[0-9])$')).toEqual(['8047x']);
    expect(strings('^\\*72#$')).toEqual(['*72#']);
    expect(strings('^(?:12)(3)$')).toEqual(['123']);
  });

  it('\\d and [0-9] become x; other classes stay ranges', () => {
    expect(strings('^\\d[0-9]$')).toEqual(['xx']);
    expect(strings('^[2-9][13][4-6#][\\d*]$')).toEqual(['[2-9][13][4-6#][0-9*]']);
    expect(strings('^[5][0-35-9]$')).toEqual(['5[0-35-9]']);
    expect(strings('^[12]$')).toEqual(['[12]']);
  });

  it('{n} repeats; ?, {n,m} give one string per length', () => {
    expect(strings('^(\\d{4})$')).toEqual(['xxxx']);
    expect(strings('^0?1$')).toEqual(['1', '01']);
    // A shorter length that a longer one of the same rule can follow waits for the timer (phones dial at the first full match).
    expect(strings('^9\\d{2,4}$')).toEqual(['9xxT', '9xxxT', '9xxxx']);
    expect(strings('^12\\*?#$')).toEqual(['12#', '12*#']);
    expect(strings('^[2-9]\\d{2}(\\d{2})?$')).toEqual(['[2-9]xxT', '[2-9]xxxx']);
    expect(strings('^(12){2}$')).toEqual(['1212']);
  });

  it('*, + and {n,} become the minimum, then "." and the timer T', () => {
    expect(strings('^9(\\d*)$')).toEqual(['9x.T']);
    expect(strings('^011\\d+$')).toEqual(['011xx.T']);
    expect(strings('^[2-9]{3,}$')).toEqual(['[2-9][2-9][2-9][2-9].T']);
    expect(strings('^1\\d*?$')).toEqual(['1x.T']);
  });

  it('leaves out a string that is only the empty number', () => {
    expect(strings('^\\d?$')).toEqual(['x']);
    expect(refusal('^$')).toMatch(/empty number/);
  });

  it('refuses what has no digit-map form', () => {
    expect(refusal('^\\+(\\d*)$')).toMatch(/\\\+/);
    expect(refusal('^.$')).toMatch(/"\."/);
    expect(refusal('^[^0]$')).toMatch(/negated/);
    expect(refusal('^(12)*$')).toMatch(/one position/);
    expect(refusal('^a$')).toMatch(/"a"/);
    expect(refusal('^(1)\\1$')).toMatch(/\\1/);
    expect(refusal('^\\d{1,40}$')).toMatch(/more than 30/);
    expect(refusal('^\\d?\\d?\\d?\\d?\\d?$')).toMatch(/more than 30/);
    expect(refusal('^\\d{20000}$')).toMatch(/10000 positions/);
    expect(refusal('^\\d**$')).toMatch(/quantifier follows/);
    expect(refusal('^(?=1)1$')).toMatch(/lookarounds/);
    expect(refusal('^[1-$')).toMatch(/not closed|has no digit-map form/);
  });

  it('drops every copy of a rule that is not a valid regex, though one alternative alone would convert', () => {
    const plan = convertDialPlan({ rules: [{ pattern: '^(1|(?<x)2)$', translation: '$1', isInternalExtension: false }] });
    expect(plan.digitMap).toBe('');
    expect(plan.errors).toEqual([
      'DIALPLANERROR: step 4: rule 1 (^(1)$) dropped: the rule is not a valid regular expression',
      'DIALPLANERROR: step 4: rule 1 (^((?<x)2)$) dropped: the rule is not a valid regular expression',
    ]);
  });
});

describe('alternation (step 3) beyond the SPEC example', () => {
  it('expands several groups, leftmost first, every combination in order', () => {
    expect(expandPattern('^(1|2)(3|4)$')).toEqual({ patterns: ['^(1)(3)$', '^(1)(4)$', '^(2)(3)$', '^(2)(4)$'] });
  });

  it('expands nested groups from the outside in', () => {
    expect(expandPattern('^(1(2|3)|4)$')).toEqual({ patterns: ['^(1(2))$', '^(1(3))$', '^(4)$'] });
  });

  it('keeps a non-capturing group non-capturing', () => {
    expect(expandPattern('^(?:1|2)$')).toEqual({ patterns: ['^(?:1)$', '^(?:2)$'] });
  });

  it('refuses a top-level |, a quantified group and more than 30 copies', () => {
    expect(expandPattern(anchorPattern('123|456'))).toEqual({ error: expect.stringMatching(/outside parentheses/) });
    expect(expandPattern('^(1|2){3}$')).toEqual({ error: expect.stringMatching(/quantifier/) });
    expect(expandPattern(`^(${'1|2|3|4|5|6'})(${'1|2|3|4|5|6'})$`)).toEqual({ error: expect.stringMatching(/more than 30 rules/) });
    expect(expandPattern('^(1|2$')).toEqual({ error: expect.stringMatching(/not closed/) });
  });

  it('| inside a character class or escaped is not alternation', () => {
    expect(expandPattern('^[1|2]\\|$')).toEqual({ patterns: ['^[1|2]\\|$'] });
  });
});

describe('emergency rules (step 2)', () => {
  it('the dial string and each mask number become one rule to the dial string, after the plan', () => {
    expect(emergencyNumbers('911', '112; 999,911')).toEqual(['911', '112', '999']);
    const plan = convertDialPlan({ rules: [{ pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: true }], emergencyDialString: '911', emergencyDialMask: '112;*99' });
    expect(plan.digitMap).toBe('xxxx|911|112|*99');
    expect(plan.originalDigitMap).toBe('^(\\d{4})$@+1555$1@1');
    expect(normaliseNumber(plan, '112')).toEqual({ number: '911', internal: false, digitMap: '112' });
    expect(normaliseNumber(plan, '*99')?.number).toBe('911');
  });

  it('refuses a number that is not digits, * and #', () => {
    const plan = convertDialPlan({ rules: [], emergencyDialString: '911', emergencyDialMask: '1-1-2' });
    expect(plan.digitMap).toBe('911');
    expect(plan.errors).toEqual([expect.stringContaining(`${DIALPLAN_ERROR}: step 2: emergency number 1-1-2`)]);
    const noTarget = convertDialPlan({ rules: [], emergencyDialMask: '112' });
    expect(noTarget.digitMap).toBe('');
    expect(noTarget.errors).toEqual([expect.stringMatching(/emergency number 112 .* no emergency dial string/)]);
  });
});

describe('errors (step 5)', () => {
  it('each dropped rule is one warn line with DIALPLANERROR, and the result lists the same lines', () => {
    const warned: string[] = [];
    const debug: object[] = [];
    const log = { warn: (_: object, m?: string) => warned.push(m ?? ''), debug: (o: object) => debug.push(o), info() {}, error() {} };
    const plan = convertDialPlan(
      {
        rules: [
          { name: 'plus', pattern: '^\\+(\\d*)$', translation: '+$1', isInternalExtension: false },
          { pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false },
          { pattern: '1|2', translation: '', isInternalExtension: false },
          { pattern: '^1@2$', translation: '', isInternalExtension: false },
        ],
      },
      log,
    );
    expect(plan.digitMap).toBe('xxxx');
    expect(warned).toEqual(plan.errors);
    expect(plan.errors).toEqual([
      expect.stringMatching(/^DIALPLANERROR: step 1: rule 4 \(\^1@2\$\) dropped: /),
      expect.stringMatching(/^DIALPLANERROR: step 3: rule 3 \(\^1\|2\$\) dropped: /),
      expect.stringMatching(/^DIALPLANERROR: step 4: rule 1 "plus" \(\^\\\+\(\\d\*\)\$\) dropped: /),
    ]);
    // Steps 3 and 4 log their input and output at debug.
    expect(debug).toHaveLength(3);
  });
});

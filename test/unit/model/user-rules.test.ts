import { describe, expect, it } from 'vitest';
import {
  extensionProblem, generateSipPassword, sipPasswordProblems, USER_RULES_DEFAULTS, userRuleIssues, userRulesOf, userRulesSchema,
} from '../../../src/model/user-rules.ts';
import { renumberNote, renumberPreview } from '../../../src/model/user-renumber.ts';

const rules = USER_RULES_DEFAULTS;

describe('SIP password rules', () => {
  it('refuses short and trivially guessable passwords, each with a reason', () => {
    const cases: [string, RegExp][] = [
      ['123', /at least 8 characters/],
      ['11111111', /one character or a short group repeated/],
      ['12121212', /one character or a short group repeated/],
      ['abcabcabc', /one character or a short group repeated/],
      ['12345678', /run of characters/],
      ['987654321', /run of characters/],
      ['34567890', /run of characters/],
      ['abcdefghij', /run of characters/],
      ['password', /common word/],
      ['Password1!', /common word/],
      ['2024welcome', /common word/],
      ['QWERTY-123', /common word/],
      ['Desk-1001-x', /must not contain the extension \(1001\)/],
    ];
    for (const [password, why] of cases) {
      const problems = sipPasswordProblems(password, rules, { extension: '1001', authUser: 'desk' });
      expect(problems.join('; '), password).toMatch(why);
    }
    expect(sipPasswordProblems('my-desk-phone', rules, { extension: '1001', authUser: 'desk' })).toEqual(['must not contain the auth user (desk)']);
    expect(sipPasswordProblems('1234', rules)).toEqual(['must have at least 8 characters', 'must not be a run of characters (like 1234, 4321 or abcd)']);
  });

  it('accepts passwords that are long enough and not guessable', () => {
    for (const p of ['Ward-4-Secret', 'correct horse battery', 'x7Kp2mQ9', 'Sun&Moon-2026']) {
      expect(sipPasswordProblems(p, rules, { extension: '1001' }), p).toEqual([]);
    }
  });

  it('follows the configured length, and can let guessable ones through', () => {
    const lax = userRulesSchema.parse({ password: { minLength: 4, refuseGuessable: false } });
    expect(sipPasswordProblems('1111', lax, { extension: '1111' })).toEqual([]);
    const strict = userRulesSchema.parse({ password: { minLength: 20 } });
    expect(sipPasswordProblems('Ward-4-Secret', strict)).toEqual(['must have at least 20 characters']);
    expect(userRulesSchema.safeParse({ password: { minLength: 2 } }).success).toBe(false);
  });

  it('generates passwords that pass the rules, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generateSipPassword(rules);
      expect(sipPasswordProblems(p, rules)).toEqual([]);
      expect(p).toMatch(/^[A-HJ-NP-Za-km-z2-9]{16}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    expect(generateSipPassword(userRulesSchema.parse({ password: { minLength: 40 } }))).toHaveLength(40);
  });
});

describe('extension pattern', () => {
  it('takes digits only by default, 2 to 15 of them', () => {
    for (const ok of ['10', '1001', '123456789012345']) expect(extensionProblem(ok, rules), ok).toBeNull();
    for (const bad of ['20a1', '1', '1234567890123456', '+4930', '*17', 'alice', '']) {
      expect(extensionProblem(bad, rules), bad).toBe('must be digits only, 2 to 15 of them');
    }
  });

  it('follows a configured pattern as a whole, with its words in the message', () => {
    const own = userRulesSchema.parse({ extensionPattern: '[0-9]{4}|[a-z]+', extensionHint: 'four digits or a name in lower case' });
    expect(extensionProblem('1234', own)).toBeNull();
    expect(extensionProblem('jim', own)).toBeNull();
    // Anchored around the whole alternation: not "starts with four digits".
    expect(extensionProblem('12345', own)).toBe('must be four digits or a name in lower case');
    expect(userRulesSchema.safeParse({ extensionPattern: '([0-9' }).success).toBe(false);
    // A stored value that no longer validates falls back to the defaults.
    expect(userRulesOf({ extensionPattern: '([' })).toEqual(USER_RULES_DEFAULTS);
  });
});

describe('rule issues of a user write', () => {
  it('judges a new extension and a new password, not the ones a user already has', () => {
    expect(userRuleIssues({ extension: '20a1', password: '123' }, rules).map((i) => i.path)).toEqual(['extension', 'password', 'password']);
    const current = { extension: '7', authUser: '7' }; // stored before the rule: not judged again
    expect(userRuleIssues({ name: 'x' }, rules, current)).toEqual([]);
    expect(userRuleIssues({ extension: '7', name: 'x' }, rules, current)).toEqual([]);
    expect(userRuleIssues({ extension: '7a' }, rules, current)).toEqual([{ path: 'extension', message: 'must be digits only, 2 to 15 of them' }]);
    expect(userRuleIssues({ password: 'Room-7-Phone' }, rules, current)).toEqual([]);
    expect(userRuleIssues({ password: 'Room-77-Phone', extension: '77' }, rules, current)).toEqual([
      { path: 'password', message: 'must not contain the extension (77)' },
    ]);
    // Wrong types are the schema's to report.
    expect(userRuleIssues({ extension: 5, password: null }, rules)).toEqual([]);
  });
});

describe('renumbering and the auth user', () => {
  it('says whether the auth user followed or stayed', () => {
    expect(renumberNote({ extension: '100', authUser: '100' }, { extension: '101', authUser: '101' }))
      .toBe('extension 100 is now 101; the auth user followed it (was 100, now 101): reconfigure the phone');
    expect(renumberNote({ extension: '100', authUser: 'desk' }, { extension: '101', authUser: 'desk' }))
      .toBe('extension 100 is now 101; the auth user stays desk');
    expect(renumberNote({ extension: '100', authUser: 'desk' }, { extension: '100', authUser: 'desk' })).toBeNull();
    expect(renumberPreview({ extension: '100', authUser: '100' }, '101')).toMatch(/follows the new extension: it becomes 101/);
    expect(renumberPreview({ extension: '100', authUser: 'desk' }, '101')).toMatch(/stays desk/);
    expect(renumberPreview({ extension: '100', authUser: '100' }, '100')).toBeNull();
  });
});

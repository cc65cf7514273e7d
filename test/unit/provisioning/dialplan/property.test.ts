// Property (issue 14 item 4): for rule sets within the supported subset, the
// generated digit map accepts a dialled number exactly when some rule's regex
// (JavaScript RegExp of the original pattern) matches it, and the number the
// handset sends is what the first matching rule's regex replacement gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertDialPlan, normaliseNumber, type NormalisationRule } from '../../../../src/provisioning/dialplan/index.ts';
import { acceptingString, parseDigitMap } from '../../../../src/provisioning/dialplan/match.ts';
import { anchorPattern } from '../../../../src/provisioning/dialplan/serialise.ts';

// A small regex AST of the supported subset; each node renders to regex text
// and can produce a number it matches (so the property sees matches, not only misses).
type Atom = { t: 'lit'; c: string } | { t: 'any'; form: string } | { t: 'class'; chars: string } | { t: 'group'; alts: Item[][]; capture: boolean };
interface Item {
  atom: Atom;
  q: { min: number; max: number; text: string };
}

const KEYS = '0123456789*#';
const literal = fc.constantFrom(...KEYS).map((c): Atom => ({ t: 'lit', c }));
const any = fc.constantFrom('\\d', '[0-9]').map((form): Atom => ({ t: 'any', form }));
const klass = fc.subarray([...KEYS], { minLength: 2, maxLength: 5 }).map((cs): Atom => ({ t: 'class', chars: cs.join('') }));
const single = fc.oneof(literal, any, klass);

const bounded = fc.oneof(
  fc.constant({ min: 1, max: 1, text: '' }),
  fc.constant({ min: 0, max: 1, text: '?' }),
  fc.integer({ min: 1, max: 3 }).map((n) => ({ min: n, max: n, text: `{${n}}` })),
  fc.integer({ min: 0, max: 2 }).map((n) => ({ min: n, max: n + 1, text: `{${n},${n + 1}}` })),
);
const unbounded = fc.oneof(
  fc.constant({ min: 0, max: Infinity, text: '*' }),
  fc.constant({ min: 1, max: Infinity, text: '+' }),
  fc.integer({ min: 1, max: 2 }).map((n) => ({ min: n, max: Infinity, text: `{${n},}` })),
);
const singleItem = fc.record({ atom: single, q: fc.oneof({ weight: 3, arbitrary: bounded }, { weight: 1, arbitrary: unbounded }) });
const flatSeq = fc.array(fc.record({ atom: single, q: bounded }), { minLength: 1, maxLength: 3 });
// A group: plain (may take a bounded quantifier) or an alternation group of 2-3 alternatives (no quantifier: step 3 refuses one).
const group = fc.oneof(
  fc.record({ alts: flatSeq.map((s) => [s]), capture: fc.boolean(), q: fc.constantFrom({ min: 1, max: 1, text: '' }, { min: 0, max: 1, text: '?' }) }),
  fc.record({ alts: fc.array(flatSeq, { minLength: 2, maxLength: 3 }), capture: fc.boolean(), q: fc.constant({ min: 1, max: 1, text: '' }) }),
).map(({ alts, capture, q }): Item => ({ atom: { t: 'group', alts, capture }, q }));
const sequence = fc.array(fc.oneof({ weight: 3, arbitrary: singleItem }, { weight: 1, arbitrary: group }), { minLength: 1, maxLength: 4 });

function atomText(a: Atom): string {
  switch (a.t) {
    case 'lit':
      return a.c === '*' ? '\\*' : a.c;
    case 'any':
      return a.form;
    case 'class':
      return `[${a.chars.replace('*', '\\*')}]`;
    case 'group':
      return `(${a.capture ? '' : '?:'}${a.alts.map(seqText).join('|')})`;
  }
}
function seqText(s: Item[]): string {
  return s.map((i) => atomText(i.atom) + i.q.text).join('');
}

/** A number the sequence matches, choices taken from `pick` (cycled). */
function sample(s: Item[], pick: () => number): string {
  let out = '';
  for (const { atom, q } of s) {
    const count = q.min + (pick() % ((q.max === Infinity ? q.min + 3 : q.max) - q.min + 1));
    for (let k = 0; k < count; k++) out += sampleAtom(atom, pick);
  }
  return out;
}
function sampleAtom(a: Atom, pick: () => number): string {
  switch (a.t) {
    case 'lit':
      return a.c;
    case 'any':
      return String(pick() % 10);
    case 'class':
      return a.chars.charAt(pick() % a.chars.length);
    case 'group':
      return sample(a.alts[pick() % a.alts.length] ?? [], pick);
  }
}

const rule = fc.record({
  body: sequence,
  anchors: fc.constantFrom('^$', '^', '$', ''),
  translation: fc.constantFrom('$1', '+1555$1', '', '9$1#', '$&0', '+44$2'),
  isInternalExtension: fc.boolean(),
});

const property = fc.record({
  rules: fc.array(rule, { minLength: 1, maxLength: 4 }),
  choices: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
  noise: fc.array(fc.stringMatching(/^[0-9*#]{1,9}$/), { maxLength: 6 }),
});

describe('digit map and translations agree with the regexes', () => {
  it('accepts exactly what some rule matches, and translates as the first matching rule replaces', () => {
    fc.assert(
      fc.property(property, ({ rules, choices, noise }) => {
        const input: NormalisationRule[] = rules.map((r) => {
          const body = seqText(r.body);
          const pattern = (r.anchors.includes('^') ? '^' : '') + body + (r.anchors.includes('$') ? '$' : '');
          return { pattern, translation: r.translation, isInternalExtension: r.isInternalExtension };
        });
        const plan = convertDialPlan({ rules: input });
        // Within the subset every rule converts; a rule dropped for its size (over 30 strings) is outside it.
        fc.pre(plan.errors.length === 0);
        let n = 0;
        const pick = () => choices[n++ % choices.length] ?? 0;
        const numbers = new Set<string>(noise);
        for (const r of rules) {
          const s = sample(r.body, pick);
          numbers.add(s);
          numbers.add(`${s}${pick() % 10}`);
          if (s.length > 1) numbers.add(s.slice(0, -1));
        }
        numbers.delete(''); // nobody dials nothing; empty-only strings are left out by design
        const regexes = input.map((r) => new RegExp(anchorPattern(r.pattern)));
        const map = parseDigitMap(plan.digitMap);
        for (const dialled of numbers) {
          const first = regexes.findIndex((re) => re.test(dialled));
          expect(acceptingString(map, dialled) >= 0, `${dialled} against ${plan.digitMap}`).toBe(first >= 0);
          const sent = normaliseNumber(plan, dialled);
          if (first < 0) expect(sent).toBeUndefined();
          else {
            const r = input[first]!;
            expect(sent, dialled).toEqual({ number: dialled.replace(regexes[first]!, r.translation), internal: r.isInternalExtension, digitMap: expect.any(String) });
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile rules', () => {
  // Any text as pattern and translation: the conversion never throws, both maps stay within the buffer, and the digit map is valid RFC 3435.
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[\^$()|\[\]\\d{}0-9,*+?#.:=!<-]{0,40}$/));
  it('never throws and keeps both maps within 10,000 characters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pattern: text, translation: text, isInternalExtension: fc.boolean() }), { maxLength: 12 }),
        fc.option(text, { nil: undefined }),
        fc.option(text, { nil: undefined }),
        (rules, emergencyDialString, emergencyDialMask) => {
          const plan = convertDialPlan({ rules, ...(emergencyDialString !== undefined ? { emergencyDialString } : {}), ...(emergencyDialMask !== undefined ? { emergencyDialMask } : {}) });
          expect(plan.originalDigitMap.length).toBeLessThanOrEqual(10_000);
          expect(plan.digitMap.length).toBeLessThanOrEqual(10_000);
          if (plan.digitMap !== '') expect(parseDigitMap(plan.digitMap)).toHaveLength(plan.translations.length);
          for (const e of plan.errors) expect(e).toMatch(/^DIALPLANERROR: /);
          for (const n of ['1', '911', '*#0']) expect(() => normaliseNumber(plan, n)).not.toThrow();
        },
      ),
      { numRuns: 500 },
    );
  });
});

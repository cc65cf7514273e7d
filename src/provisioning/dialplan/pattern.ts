// SPEC §6.3 pattern mapping (our decision): one anchored, alternation-free
// regex of a normalisation rule → the RFC 3435 §2.1.5 digit-map strings that
// accept exactly the numbers the regex matches.
//
//   literal 0-9, #, \* (\#)        → the same letter
//   \d, [0-9]                      → x
//   [1-5], [13#], [\d*]            → a range [..] (x when it is all ten digits)
//   e{n}                           → e written n times
//   e?, e{n,m}                     → one string per length (at most 30 in all)
//   e*, e+, e{n,}                  → e written the minimum times, then e.
//   (…), (?:…)                     → their content (groups only capture)
// Anything else (`.`, `\+`, letters, back-references, lookarounds, negated
// classes, an unbounded repeat of more than one position, more than 30
// strings) has no digit-map form, and the rule is dropped. A string that can
// only be the empty number is left out (nobody dials nothing).
import { MAX_ALTERNATIVES, MAX_BUFFER_CHARS } from './model.ts';

/** One digit-map position: a letter, x or a range, with `.` = any number of it (RFC 3435). */
interface Position {
  text: string;
  /** The keys it matches. */
  letters: string;
  dot: boolean;
}
type DigitString = Position[];

class Unconvertible extends Error {}

const DIGITS = '0123456789';

function isDigit(c: string): boolean {
  return c.length === 1 && c >= '0' && c <= '9';
}

/** Digit-map strings for an anchored pattern (`^…$`), or why there are none. */
export function patternToDigitMap(pattern: string): { strings: string[] } | { error: string } {
  if (!pattern.startsWith('^') || !pattern.endsWith('$')) return { error: 'the pattern is not anchored' };
  const parser = new Parser(pattern.slice(1, -1));
  try {
    const alts = parser.sequence();
    if (parser.i < parser.p.length) throw new Unconvertible(`"${parser.p[parser.i]}" at ${parser.i + 2} has no digit-map form`);
    const kept = alts.filter((s) => s.length > 0);
    const strings = kept.map((s, i) => render(s, kept.some((other, j) => j !== i && extends_(s, other))));
    if (strings.length === 0) throw new Unconvertible('it matches only the empty number');
    return { strings };
  } catch (err) {
    if (err instanceof Unconvertible) return { error: err.message };
    throw err;
  }
}

/**
 * A digit-map string. A phone completes a number at the first full match
 * (RFC 3435), so a string that a longer number of the same rule could follow
 * (`\d{3,4}`: xxx then xxxx), or one with a `.`, ends with the timer T: the
 * phone waits for the next digit before it dials.
 */
function render(s: DigitString, longerFollows: boolean): string {
  let out = '';
  let open = longerFollows;
  for (const p of s) {
    out += p.dot ? `${p.text}.` : p.text;
    open ||= p.dot;
  }
  return open ? `${out}T` : out;
}

/** Some number `longer` accepts begins with a number `s` accepts and has more keys after it. */
function extends_(s: DigitString, longer: DigitString): boolean {
  const closure = (states: Set<number>) => {
    for (const st of states) if (longer[st]?.dot) states.add(st + 1);
    return states;
  };
  let states = closure(new Set([0]));
  for (const p of s) {
    const next = new Set<number>();
    for (const st of states) {
      const q = longer[st];
      if (q && [...p.letters].some((k) => q.letters.includes(k))) next.add(q.dot ? st : st + 1);
    }
    states = closure(next);
    if (states.size === 0) return false;
  }
  for (const st of states) if (st < longer.length) return true;
  return false;
}

function product(a: DigitString[], b: DigitString[]): DigitString[] {
  if (a.length * b.length > MAX_ALTERNATIVES) throw new Unconvertible(`it needs more than ${MAX_ALTERNATIVES} digit-map strings`);
  const out: DigitString[] = [];
  for (const x of a) {
    for (const y of b) {
      if (x.length + y.length > MAX_BUFFER_CHARS) throw new Unconvertible(`it needs more than ${MAX_BUFFER_CHARS} positions`);
      out.push([...x, ...y]);
    }
  }
  return out;
}

class Parser {
  i = 0;
  constructor(readonly p: string) {}

  /** Items up to `)` or the end. */
  sequence(): DigitString[] {
    let result: DigitString[] = [[]];
    while (this.i < this.p.length && this.p.charAt(this.i) !== ')') {
      const atom = this.atom();
      result = product(result, this.quantified(atom));
    }
    return result;
  }

  private atom(): DigitString[] {
    const c = this.p.charAt(this.i);
    if (isDigit(c) || c === '#') {
      this.i++;
      return [[{ text: c, letters: c, dot: false }]];
    }
    if (c === '\\') {
      const e = this.p.charAt(this.i + 1);
      this.i += 2;
      if (e === 'd') return [[{ text: 'x', letters: DIGITS, dot: false }]];
      if (e === '*' || e === '#') return [[{ text: e, letters: e, dot: false }]];
      throw new Unconvertible(`\\${e} has no digit-map form`);
    }
    if (c === '[') return [[{ ...this.range(), dot: false }]];
    if (c === '(') {
      if (this.p.startsWith('(?:', this.i)) this.i += 3;
      else if (this.p.charAt(this.i + 1) === '?') throw new Unconvertible('lookarounds and named groups have no digit-map form');
      else this.i++;
      const inner = this.sequence();
      if (this.p.charAt(this.i) !== ')') throw new Unconvertible('a "(" is not closed');
      this.i++;
      return inner;
    }
    throw new Unconvertible(`"${c}" at ${this.i + 2} has no digit-map form`);
  }

  /** A character class of digits, ranges, * and #, as x, one letter or an RFC 3435 range. */
  private range(): { text: string; letters: string } {
    this.i++;
    if (this.p.charAt(this.i) === '^') throw new Unconvertible('a negated class has no digit-map form');
    const set = new Set<string>();
    while (this.i < this.p.length && this.p.charAt(this.i) !== ']') {
      let c = this.p.charAt(this.i++);
      if (c === '\\') {
        const e = this.p.charAt(this.i++);
        if (e === 'd') {
          for (const d of DIGITS) set.add(d);
          continue;
        }
        if (e !== '*' && e !== '#' && !isDigit(e)) throw new Unconvertible(`[\\${e}] has no digit-map form`);
        c = e;
      } else if (isDigit(c) && this.p.charAt(this.i) === '-' && isDigit(this.p.charAt(this.i + 1)) ) {
        const to = this.p.charAt(this.i + 1);
        this.i += 2;
        if (to < c) throw new Unconvertible(`the range ${c}-${to} is reversed`);
        for (let d = c.charCodeAt(0); d <= to.charCodeAt(0); d++) set.add(String.fromCharCode(d));
        continue;
      }
      if (!isDigit(c) && c !== '*' && c !== '#') throw new Unconvertible(`"${c}" in a class has no digit-map form`);
      set.add(c);
    }
    if (this.p.charAt(this.i) !== ']') throw new Unconvertible('a character class is not closed');
    this.i++;
    if (set.size === 0) throw new Unconvertible('an empty class matches nothing');
    return { text: rangeText(set), letters: [...set].join('') };
  }

  /** The atom with the quantifier that follows it, if any. */
  private quantified(atom: DigitString[]): DigitString[] {
    const q = this.quantifier();
    if (!q) return atom;
    const { min, max } = q;
    if (max === Infinity) {
      const single = atom.length === 1 && atom[0]?.length === 1 && !atom[0][0]?.dot ? atom[0][0] : undefined;
      if (!single) throw new Unconvertible('only one position can repeat without bound in a digit map');
      return [[...Array.from({ length: min }, () => single), { ...single, dot: true }]];
    }
    if (max - min + 1 > MAX_ALTERNATIVES) throw new Unconvertible(`it needs more than ${MAX_ALTERNATIVES} digit-map strings`);
    if (atom.length === 1) {
      // One string repeated: built per length directly, so \d{9999} costs 9999 positions, not a product per step.
      const one = atom[0] ?? [];
      if (one.length * max > MAX_BUFFER_CHARS) throw new Unconvertible(`it needs more than ${MAX_BUFFER_CHARS} positions`);
      const lengths: DigitString[] = [];
      for (let k = min; k <= max; k++) lengths.push(Array.from({ length: k }, () => one).flat());
      return lengths;
    }
    const out: DigitString[] = [];
    let power: DigitString[] = [[]];
    for (let k = 0; k <= max; k++) {
      if (k >= min) out.push(...power);
      if (out.length > MAX_ALTERNATIVES) throw new Unconvertible(`it needs more than ${MAX_ALTERNATIVES} digit-map strings`);
      if (k < max) power = product(power, atom);
    }
    return out;
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.p.charAt(this.i);
    let q: { min: number; max: number } | undefined;
    if (c === '?') q = { min: 0, max: 1 };
    else if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '{') {
      const m = /^\{(\d{1,5})(,(\d{0,5}))?\}/.exec(this.p.slice(this.i, this.i + 14));
      if (!m) throw new Unconvertible(`the quantifier at ${this.i + 2} is not {n}, {n,} or {n,m}`);
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new Unconvertible(`the quantifier ${m[0]} is reversed`);
      if (min > MAX_BUFFER_CHARS) throw new Unconvertible(`the quantifier ${m[0]} needs more than ${MAX_BUFFER_CHARS} positions`);
      this.i += m[0].length - 1;
      q = { min, max };
    }
    if (!q) return undefined;
    this.i++;
    // A lazy quantifier matches the same numbers in an anchored pattern.
    if (this.p.charAt(this.i) === '?') this.i++;
    if ('?*+{'.includes(this.p.charAt(this.i) || '-')) throw new Unconvertible('a quantifier follows a quantifier');
    return q;
  }
}

/** x for all ten digits, the letter for one, else an RFC 3435 range with runs of digits as a-b. */
function rangeText(set: Set<string>): string {
  const digits = [...DIGITS].filter((d) => set.has(d));
  const others = ['*', '#'].filter((c) => set.has(c));
  if (digits.length === 10 && others.length === 0) return 'x';
  if (digits.length + others.length === 1) return [...digits, ...others].join('');
  let body = '';
  for (let k = 0; k < digits.length; ) {
    let j = k;
    while (j + 1 < digits.length && Number(digits[j + 1]) === Number(digits[j]) + 1) j++;
    body += j - k >= 2 ? `${digits[k]}-${digits[j]}` : digits.slice(k, j + 1).join('');
    k = j + 1;
  }
  return `[${body}${others.join('')}]`;
}

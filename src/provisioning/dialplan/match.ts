// RFC 3435 §2.1.5 digit-map matching, as a phone applies dialplan.1.digitmap:
// a map is one string or `(s1|s2|…)` (the parentheses may be left out, as
// phones write it); a string is positions — a letter (0-9 # * A-D), `x` (any
// digit), a range `[1-4#]` — each optionally followed by `.` (any number of
// that position, zero included), and the timer letter T, which matches the
// event the phone produces when the inter-digit timer expires.
export interface DigitMapString {
  text: string;
  positions: { letters: string; dot: boolean }[];
}

const LETTERS = '0123456789#*ABCDT';
const DIGITS = '0123456789';

/** The strings of a digit map; throws on a map that is not RFC 3435 syntax. */
export function parseDigitMap(map: string): DigitMapString[] {
  const body = map.startsWith('(') && map.endsWith(')') ? map.slice(1, -1) : map;
  return body.split('|').map((text) => {
    const positions: DigitMapString['positions'] = [];
    for (let i = 0; i < text.length; i++) {
      const last = positions[positions.length - 1];
      const c = text.charAt(i).toUpperCase();
      let letters: string;
      if (c === 'X') letters = DIGITS;
      else if (LETTERS.includes(c)) letters = c;
      else if (c === '[') {
        const end = text.indexOf(']', i);
        if (end < 0) throw new Error(`digit map: "[" not closed in ${text}`);
        letters = rangeLetters(text.slice(i + 1, end), text);
        i = end;
      } else if (c === '.' && last && !last.dot) {
        last.dot = true;
        continue;
      } else throw new Error(`digit map: "${c}" is not digit-map syntax in ${text}`);
      positions.push({ letters, dot: false });
    }
    if (positions.length === 0) throw new Error('digit map: an empty string');
    return { text, positions };
  });
}

function rangeLetters(body: string, text: string): string {
  let letters = '';
  for (let k = 0; k < body.length; k++) {
    const c = body.charAt(k).toUpperCase();
    const to = body.charAt(k + 2);
    if (c >= '0' && c <= '9' && body.charAt(k + 1) === '-' && to >= '0' && to <= '9' && to.length === 1) {
      for (let d = Number(c); d <= Number(to); d++) letters += String(d);
      k += 2;
    } else if (LETTERS.includes(c)) letters += c;
    else throw new Error(`digit map: "${c}" is not allowed in a range in ${text}`);
  }
  if (letters === '') throw new Error(`digit map: an empty range in ${text}`);
  return letters;
}

export interface DigitMapMatch {
  /** Index of the first string the events match completely, or -1. */
  full: number;
  /** Some string could still match if more events came. */
  partial: boolean;
}

/** Matches a sequence of events (dialled digits, `T` for the timer) against every string of the map. */
export function matchDigitMap(map: readonly DigitMapString[], events: string): DigitMapMatch {
  let full = -1;
  let partial = false;
  map.forEach((s, index) => {
    const states = run(s, events.toUpperCase());
    if (states.has(s.positions.length) && full < 0) full = index;
    for (const st of states) if (st < s.positions.length) partial = true;
  });
  return { full, partial };
}

/** The set of positions reachable after the events (NFA run; a dotted position may be skipped or repeated). */
function run(s: DigitMapString, events: string): Set<number> {
  let states = closure(s, new Set([0]));
  for (const e of events) {
    const next = new Set<number>();
    for (const st of states) {
      const p = s.positions[st];
      if (p && p.letters.includes(e)) next.add(p.dot ? st : st + 1);
    }
    states = closure(s, next);
    if (states.size === 0) break;
  }
  return states;
}

function closure(s: DigitMapString, states: Set<number>): Set<number> {
  for (const st of states) if (s.positions[st]?.dot) states.add(st + 1); // a Set visits what is added while iterating
  return states;
}

/**
 * The first string (in map order) that accepts a dialled number, as dialled
 * or once the inter-digit timer expires after it; -1 when none does. Map
 * order is rule order, so this is the rule whose translation applies.
 */
export function acceptingString(map: readonly DigitMapString[], digits: string): number {
  const d = digits.toUpperCase();
  return map.findIndex((s) => run(s, d).has(s.positions.length) || run(s, `${d}T`).has(s.positions.length));
}

// SPEC §6.1 step 3: a rule whose pattern holds an alternation group `(a|b|c)`
// (an alternative may carry its own parentheses: `((a)|(b))`) becomes one rule
// per alternative, in order, each with the alternative in a single pair of
// parentheses, within the limits of 30 alternatives of 32 characters.
//
// Decisions for what SPEC §6.3 leaves open: several groups and nested groups
// are expanded one after the other (outermost, leftmost first) until none is
// left, and one rule may become at most 30 rules in all; a `|` outside any
// group, a group followed by a quantifier (`(1|2){3}`) and lookarounds cannot
// be expanded into plain copies, so such a rule is dropped.
import { type DialPlanErrors, MAX_ALTERNATIVE_CHARS, MAX_ALTERNATIVES, MAX_BUFFER_CHARS, type PlanRule, serialiseRule } from './model.ts';

interface Group {
  start: number;
  end: number;
  bars: number[];
}

type Scan = { groups: Group[]; topLevelBar: boolean } | { error: string };

/** The parenthesised groups of a regex (escapes and character classes skipped), in order of their `(`. */
export function scanGroups(p: string): Scan {
  const open: Group[] = [];
  const groups: Group[] = [];
  let topLevelBar = false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charAt(i);
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      i++;
      if (p.charAt(i) === ']') i++; // `[]…]`: a leading `]` is literal in most regex dialects; JavaScript reads it as empty, which no rule means
      while (i < p.length && p.charAt(i) !== ']') i += p.charAt(i) === '\\' ? 2 : 1;
      if (i >= p.length) return { error: 'a character class is not closed' };
    } else if (c === '(') {
      open.push({ start: i, end: -1, bars: [] });
    } else if (c === ')') {
      const g = open.pop();
      if (!g) return { error: 'a ")" closes no group' };
      g.end = i;
      groups.push(g);
    } else if (c === '|') {
      if (open.length === 0) topLevelBar = true;
      else open[open.length - 1]?.bars.push(i);
    }
  }
  if (open.length > 0) return { error: 'a "(" is not closed' };
  groups.sort((a, b) => a.start - b.start);
  return { groups, topLevelBar };
}

/** The alternative without one pair of parentheses around all of it. */
function unwrap(alt: string): string {
  if (!alt.startsWith('(') || alt.startsWith('(?') || !alt.endsWith(')')) return alt;
  const scan = scanGroups(alt);
  if ('error' in scan) return alt;
  return scan.groups.some((g) => g.start === 0 && g.end === alt.length - 1) ? alt.slice(1, -1) : alt;
}

/** One level of expansion: the copies of `p` for its first alternation group, `p` itself when it has none, or why it cannot be expanded. */
function expandOnce(p: string): { copies: string[] } | { done: true } | { error: string } {
  const scan = scanGroups(p);
  if ('error' in scan) return { error: scan.error };
  if (scan.topLevelBar) return { error: 'a "|" outside parentheses makes the anchors apply to one side only' };
  const g = scan.groups.find((x) => x.bars.length > 0);
  if (!g) return { done: true };
  const opener = p.startsWith('(?:', g.start) ? '(?:' : '(';
  if (opener === '(' && p.charAt(g.start + 1) === '?') return { error: 'lookarounds and named groups are not supported' };
  if ('*+?{'.includes(p.charAt(g.end + 1) || '-')) return { error: 'an alternation group with a quantifier cannot be split into copies' };
  const cuts = [g.start + opener.length - 1, ...g.bars, g.end];
  const alternatives: string[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) alternatives.push(unwrap(p.slice(cuts[k]! + 1, cuts[k + 1])));
  if (alternatives.length > MAX_ALTERNATIVES) return { error: `a group has ${alternatives.length} alternatives, more than ${MAX_ALTERNATIVES}` };
  const long = alternatives.find((a) => a.length > MAX_ALTERNATIVE_CHARS);
  if (long !== undefined) return { error: `the alternative ${long} has ${long.length} characters, more than ${MAX_ALTERNATIVE_CHARS}` };
  const prefix = p.slice(0, g.start) + opener;
  const suffix = `)${p.slice(g.end + 1)}`;
  return { copies: alternatives.map((a) => prefix + a + suffix) };
}

/** The alternation-free patterns one pattern expands to, in order, or why it cannot be expanded. */
export function expandPattern(pattern: string): { patterns: string[] } | { error: string } {
  let work = [pattern];
  for (;;) {
    const next: string[] = [];
    let changed = false;
    for (const p of work) {
      const r = expandOnce(p);
      if ('error' in r) return r;
      if ('done' in r) next.push(p);
      else {
        changed = true;
        next.push(...r.copies);
      }
      if (next.length > MAX_ALTERNATIVES) return { error: `it expands to more than ${MAX_ALTERNATIVES} rules` };
    }
    if (!changed) return { patterns: next };
    work = next;
  }
}

/**
 * Step 3 over the working plan. A rule that cannot be expanded, or whose
 * expansion would take the plan past the buffer, is dropped and logged; the
 * rules before and after it are kept (a later rule is measured with the
 * earlier ones already expanded).
 */
export function expandAlternation(rules: readonly PlanRule[], errors: DialPlanErrors): PlanRule[] {
  let sum = 0;
  let count = rules.length;
  for (const r of rules) sum += serialiseRule(r).length;
  const total = () => sum + Math.max(0, count - 1);
  const out: PlanRule[] = [];
  for (const rule of rules) {
    const result = expandPattern(rule.pattern);
    const own = serialiseRule(rule).length;
    if ('error' in result) {
      errors.drop(3, rule.origin, rule.pattern, result.error);
      sum -= own;
      count--;
      continue;
    }
    const copies = result.patterns.map((pattern) => ({ ...rule, pattern }));
    const copiesLength = copies.reduce((n, c) => n + serialiseRule(c).length, 0);
    sum += copiesLength - own;
    count += copies.length - 1;
    if (total() > MAX_BUFFER_CHARS) {
      errors.drop(3, rule.origin, rule.pattern, `its ${copies.length} copies would take the plan to ${total()} characters, past the ${MAX_BUFFER_CHARS}-character buffer`);
      sum -= copiesLength;
      count -= copies.length;
      continue;
    }
    out.push(...copies);
  }
  return out;
}

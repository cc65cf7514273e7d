// Seeded random mutations of the realistic fixtures. The parser must never
// throw nor fall back to its defensive catch; whatever it accepts must
// serialize, come back to the same text through a second parse, and survive
// every helper a B2BUA calls on it.
import { describe, expect, it } from 'vitest';
import {
  bumpVersion,
  connectionOf,
  filterCodecs,
  isHold,
  mediaDirection,
  negotiatedCodec,
  parseSdp,
  serializeSdp,
  setDirection,
} from '../../../src/sdp/index.ts';
import { makeRng } from '../../lib/prng.ts';
import type { Rng } from '../../lib/prng.ts';
import { ALL_FIXTURES } from './fixtures.ts';

const CORPUS = Object.values(ALL_FIXTURES);
const ALPHABET = ['\r', '\n', '\r\n', '\0', ' ', '\t', ':', '/', '=', '0', '9', '-', 'a', 'm', 'c', 'é', '☎', '\u{1F4DE}'];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)] as T;
}

function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

function mutateOnce(rng: Rng, s: string): string {
  const at = int(rng, s.length + 1);
  const lines = s.split('\n');
  const li = int(rng, lines.length);
  switch (int(rng, 11)) {
    case 0: // replace one character
      return s.slice(0, at) + pick(rng, ALPHABET) + s.slice(at + 1);
    case 1: // insert a few characters
      return s.slice(0, at) + Array.from({ length: 1 + int(rng, 4) }, () => pick(rng, ALPHABET)).join('') + s.slice(at);
    case 2: // delete a range
      return s.slice(0, at) + s.slice(at + 1 + int(rng, 40));
    case 3: // truncate
      return s.slice(0, at);
    case 4: // duplicate a line
      lines.splice(li, 0, lines[li] ?? '');
      return lines.join('\n');
    case 5: // swap two lines
      {
        const lj = int(rng, lines.length);
        const t = lines[li] as string;
        lines[li] = lines[lj] as string;
        lines[lj] = t;
      }
      return lines.join('\n');
    case 6: // a line from another description
      {
        const donor = pick(rng, CORPUS).split('\n');
        lines.splice(li, 0, pick(rng, donor));
      }
      return lines.join('\n');
    case 7: // a number made huge
      return s.replace(/[0-9]+/g, (m) => (rng() < 0.1 ? '9'.repeat(1 + int(rng, 30)) : m));
    case 8: // a line repeated many times
      return [...lines.slice(0, li), ...Array(1 + int(rng, 1500)).fill(lines[li] ?? 'a=x'), ...lines.slice(li)].join('\n');
    case 9: // a field blanked
      return s.replace(/ [^ \r\n]+/, rng() < 0.5 ? ' ' : '');
    default: // lower/upper-case flip somewhere
      return s.slice(0, at) + (s[at] ?? '').toUpperCase() + s.slice(at + 1);
  }
}

function mutateBytes(rng: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = 1 + int(rng, 4); i > 0 && out.length > 0; i--) out[int(rng, out.length)] = int(rng, 256);
  return out;
}

/** Problems found with one input, empty when it behaved. */
function check(input: string | Buffer): string[] {
  const problems: string[] = [];
  let r: ReturnType<typeof parseSdp>;
  try {
    r = parseSdp(input);
  } catch (err) {
    return [`parseSdp threw ${String(err)}`];
  }
  if (!r.ok) {
    if (r.reason === 'unparseable SDP') problems.push('defensive catch answered');
    return problems;
  }
  try {
    const once = serializeSdp(r.sdp);
    const again = parseSdp(once);
    if (!again.ok) {
      // LF -> CRLF may push a description that was just under the size limit over it.
      if (!/larger than/.test(again.reason)) problems.push(`serialized form rejected: ${again.reason}`);
    } else if (serializeSdp(again.sdp) !== once) {
      problems.push('serialize(parse(serialize(x))) is not a fixpoint');
    }
    const filtered = filterCodecs(r.sdp, ['PCMA', 'G729', 'PCMU']);
    if (!parseSdp(serializeSdp(filtered.sdp)).ok && once.length < 60_000) problems.push('filtered form rejected');
    if (!Number.isInteger(filtered.left) || filtered.left < 0) problems.push('bad left');
    negotiatedCodec(r.sdp);
    isHold(r.sdp);
    serializeSdp(bumpVersion(r.sdp));
    serializeSdp(setDirection(r.sdp, 'sendonly'));
    for (let i = 0; i < r.sdp.media.length; i++) {
      mediaDirection(r.sdp, i);
      connectionOf(r.sdp, i);
    }
  } catch (err) {
    problems.push(`helper threw ${String(err)}`);
  }
  return problems;
}

describe('SDP fuzzing', () => {
  it('is deterministic for a seed', () => {
    const a = makeRng(7);
    const b = makeRng(7);
    const base = CORPUS[0] as string;
    expect(mutateOnce(a, mutateOnce(a, base))).toBe(mutateOnce(b, mutateOnce(b, base)));
  });

  it('survives 4,000 mutated descriptions', () => {
    const rng = makeRng(0x5d9f00d);
    const problems: string[] = [];
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 4000; i++) {
      const seed = pick(rng, CORPUS);
      let input: string | Buffer;
      if (i % 5 === 4) {
        input = mutateBytes(rng, Buffer.from(seed, 'utf8'));
      } else {
        let s = seed;
        for (let k = 1 + int(rng, 3); k > 0; k--) s = mutateOnce(rng, s);
        input = s;
      }
      const found = check(input);
      if (found.length > 0 && problems.length < 5) {
        problems.push(`${found.join('; ')} <- ${JSON.stringify(input.toString().slice(0, 300))}`);
      }
      if (parseSdp(input).ok) accepted++;
      else rejected++;
    }
    expect(problems).toEqual([]);
    // Both paths exercised, so the loop tests something either way.
    expect(accepted).toBeGreaterThan(400);
    expect(rejected).toBeGreaterThan(400);
  });

  it('accepts every unmutated fixture through the same checks', () => {
    for (const text of CORPUS) expect(check(text)).toEqual([]);
  });
});

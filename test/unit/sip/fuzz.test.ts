// A short, seeded pass of the in-process mutation fuzzer (test/fuzz/run.ts runs longer
// ones): parseMessage and frameStream must never throw, the parser's
// defensive catch must never be what answers, and every accepted message must
// survive serialize -> parse with the same Call-ID, CSeq, Via count and body.
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../fuzz/corpus.ts';
import { mutate } from '../../fuzz/mutate.ts';
import { checkInput, runFuzz } from '../../fuzz/parser.ts';
import { makeRng } from '../../lib/prng.ts';

describe('parser fuzzing', () => {
  const corpus = loadCorpus();

  it('has the torture messages and the everyday seeds in its corpus', () => {
    expect(corpus.length).toBe(61 + 3);
  });

  it('runs every unmutated seed without problems', () => {
    for (const seed of corpus) expect(checkInput(seed)).toBeUndefined();
  });

  it('is deterministic for a seed', () => {
    const a = makeRng(42);
    const b = makeRng(42);
    const x = mutate(corpus[0]!, a, corpus);
    const y = mutate(corpus[0]!, b, corpus);
    expect(Buffer.compare(x, y)).toBe(0);
  });

  it('survives 20,000 mutated messages', () => {
    const problems: string[] = [];
    const t0 = Date.now();
    const report = runFuzz({
      seed: 0x5eed,
      iterations: 20_000,
      onFailure: (input, problem) => {
        if (problems.length < 5) problems.push(`${problem} <- ${JSON.stringify(input.toString('latin1').slice(0, 300))}`);
      },
    }, corpus);
    expect(problems).toEqual([]);
    expect(report.failures).toBe(0);
    expect(report.iterations).toBe(20_000);
    // The mutations must not be so destructive that nothing parses any more.
    expect(report.accepted).toBeGreaterThan(1000);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});

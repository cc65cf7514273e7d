import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InbandDtmfDetector } from '../../../src/media/goertzel.ts';
import { DEFAULT_MOH_FILE, PROMPT_TEXTS, PromptSet, digitPromptNames } from '../../../src/media/prompts.ts';
import { readWav } from '../../../src/media/wav.ts';

const prompts = PromptSet.load();
const rmsDb = (p: Int16Array): number => 20 * Math.log10(Math.sqrt(p.reduce((a, s) => a + s * s, 0) / p.length) / 32767);

describe('shipped prompts', () => {
  it('has every named prompt as non-silent 8 kHz audio of a plausible length', () => {
    expect(prompts.names()).toEqual(Object.keys(PROMPT_TEXTS).sort());
    for (const [name, text] of Object.entries(PROMPT_TEXTS)) {
      const pcm = prompts.get(name);
      // espeak-ng at 150 words/min: roughly 50-120 ms per character.
      expect(pcm.length / 8000, name).toBeGreaterThan(text.length * 0.03);
      expect(pcm.length / 8000, name).toBeLessThan(text.length * 0.12 + 0.5);
      expect(rmsDb(pcm), name).toBeGreaterThan(-30);
      expect(Math.max(...pcm.map(Math.abs)), name).toBeLessThan(32000);
    }
  });

  it('files are 8 kHz mono µ-law', () => {
    const w = readWav(readFileSync(DEFAULT_MOH_FILE));
    expect(w).toMatchObject({ sampleRate: 8000, channels: 1, encoding: 'ulaw' });
    expect(w.pcm.length / 8000).toBeGreaterThan(20);
  });

  it('throws clearly on an unknown prompt; speaks numbers as digit prompts', () => {
    expect(() => prompts.get('vm-nonsense')).toThrow(/unknown prompt 'vm-nonsense'/);
    expect(digitPromptNames('10*#')).toEqual(['digit-1', 'digit-0', 'digit-star', 'digit-pound']);
    expect(() => digitPromptNames('1a')).toThrow(RangeError);
    const d = prompts.digits('1001');
    expect(d).toHaveLength(4);
    expect(d[0]).toBe(prompts.get('digit-1'));
    expect(d[1]).toBe(prompts.get('digit-0'));
  });

  it('no prompt and not the music on hold makes the in-band detector report a digit', () => {
    const det = new InbandDtmfDetector();
    let found = '';
    const all = [...Object.keys(PROMPT_TEXTS).map((n) => prompts.get(n)), readWav(readFileSync(DEFAULT_MOH_FILE)).pcm];
    for (const pcm of all) for (let i = 0; i < pcm.length; i += 160) found += det.feed(pcm, i, Math.min(160, pcm.length - i)) ?? '';
    expect(found).toBe('');
  });
});

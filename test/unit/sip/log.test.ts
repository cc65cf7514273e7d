import { describe, expect, it } from 'vitest';
import { OncePerInterval } from '../../../src/sip/log.ts';

describe('OncePerInterval', () => {
  it('passes a key once per interval and reports how many were suppressed meanwhile', () => {
    let now = 0;
    const once = new OncePerInterval(1000, () => now);
    expect(once.take('a')).toBe(0);
    expect(once.take('a')).toBe(-1);
    expect(once.take('a')).toBe(-1);
    expect(once.take('b')).toBe(0);
    now = 1000;
    expect(once.take('a')).toBe(2);
  });

  it('caps the events let through per interval across keys (spoofed-source floods)', () => {
    let now = 0;
    const once = new OncePerInterval(1000, () => now, 10_000, 5);
    let passed = 0;
    for (let i = 0; i < 1000; i++) if (once.take(`src-${i}`) >= 0) passed++;
    expect(passed).toBe(5);
    now = 1000;
    expect(once.take('src-999')).toBeGreaterThanOrEqual(0);
  });

  it('keeps its maps bounded under a flood of distinct keys', () => {
    const once = new OncePerInterval(60_000, () => 0, 100, 1_000_000);
    for (let i = 0; i < 10_000; i++) once.take(`k${i}`);
    const inner = once as unknown as { last: Map<string, number>; suppressed: Map<string, number> };
    expect(inner.last.size).toBeLessThanOrEqual(100);
    expect(inner.suppressed.size).toBeLessThanOrEqual(100);
  });
});

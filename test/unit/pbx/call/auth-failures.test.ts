import { describe, expect, it } from 'vitest';
import { AuthFailureGate } from '../../../../src/pbx/call/auth-failures.ts';
import type { Logger } from '../../../../src/lib/log.ts';

function gate(limits = { windowMs: 60_000, perWindow: 3 }) {
  let t = 1_000;
  const warnings: unknown[] = [];
  const log: Logger = { error() {}, info() {}, debug() {}, warn: (o: unknown) => void warnings.push(o) };
  const g = new AuthFailureGate(() => t, log, limits);
  return { g, warnings, advance: (ms: number) => void (t += ms) };
}

describe('AuthFailureGate: which refused credentials leave a call record', () => {
  it('admits one record per source and user name per window', () => {
    const { g, advance } = gate();
    expect(g.admit('192.0.2.1', '1001')).toBe(true);
    expect(g.admit('192.0.2.1', '1001')).toBe(false);
    expect(g.admit('192.0.2.1', '1002')).toBe(true);
    expect(g.admit('192.0.2.2', '1001')).toBe(true);
    advance(59_999);
    expect(g.admit('192.0.2.1', '1001')).toBe(false);
    advance(1);
    expect(g.admit('192.0.2.1', '1001')).toBe(true);
  });

  it('caps the records of a window across all sources, counts the rest and logs them once when the window ends', () => {
    const { g, warnings, advance } = gate();
    const admitted = Array.from({ length: 1000 }, (_, i) => g.admit(`198.51.100.${i % 250}`, `u${i}`)).filter(Boolean);
    expect(admitted).toHaveLength(3);
    expect(warnings).toEqual([]);
    advance(60_000);
    expect(g.admit('198.51.100.9', 'x')).toBe(true);
    expect(warnings).toEqual([expect.objectContaining({ suppressed: 997, recorded: 3 })]);
    advance(60_000);
    g.admit('198.51.100.9', 'x');
    expect(warnings).toHaveLength(1); // nothing suppressed in the last window: no log line
  });
});

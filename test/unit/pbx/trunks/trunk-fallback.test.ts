// Which trunk takes a call when the one its prefix chose is known down: its
// fallback, that one's while it is down too, never round a loop, never a
// disabled one.
import { describe, expect, it } from 'vitest';
import { TrunkTable, type TrunkEntry } from '../../../../src/pbx/trunks/trunk-table.ts';
import type { Trunk } from '../../../../src/store/types.ts';
import { silentLogger } from '../../../../src/lib/log.ts';

function entry(name: string, fallbackTrunk: string | null, enabled = true): TrunkEntry {
  const trunk = { name, fallbackTrunk, enabled, prefix: name, strip: 0, addPrefix: '' } as Trunk;
  return { trunk, addresses: [], dest: undefined };
}

function table(entries: TrunkEntry[]): TrunkTable {
  const t = new TrunkTable({} as never, silentLogger);
  (t as unknown as { entries: TrunkEntry[] }).entries = entries;
  return t;
}

describe('TrunkTable.withFallback', () => {
  const a = entry('a', 'b');
  const b = entry('b', 'c');
  const c = entry('c', 'a');
  const t = table([a, b, c, entry('d', 'off'), entry('off', null, false)]);

  it('keeps a trunk that is not down', () => {
    t.setDown([]);
    expect(t.withFallback(a).trunk.name).toBe('a');
  });

  it('follows fallbacks past trunks that are down', () => {
    t.setDown(['a']);
    expect(t.withFallback(a).trunk.name).toBe('b');
    t.setDown(['a', 'b']);
    expect(t.withFallback(a).trunk.name).toBe('c');
  });

  it('stops where a loop closes, on the last one tried', () => {
    t.setDown(['a', 'b', 'c']);
    expect(t.withFallback(a).trunk.name).toBe('c');
    expect(t.isDown('c')).toBe(true);
  });

  it('does not fall back to a disabled trunk', () => {
    t.setDown(['d']);
    expect(t.withFallback(t.list()[3]!).trunk.name).toBe('d');
  });
});

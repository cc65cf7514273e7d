import { describe, expect, it } from 'vitest';
import { ConnectionBudget } from '../../../src/sip/transport/budget.ts';
import type { LimitKind, Slot } from '../../../src/sip/transport/budget.ts';

function slot(budget: ConnectionBudget, remoteAddress: string, inbound = true): Slot & { evicted: boolean } {
  const s = {
    remoteAddress,
    inbound,
    evicted: false,
    evict: () => {
      s.evicted = true;
      budget.release(s);
    },
  };
  return s;
}

describe('ConnectionBudget', () => {
  it('evicts silent, then speaking and our outbound ones (oldest first), never trusted ones', () => {
    const hits: [LimitKind, string][] = [];
    const b = new ConnectionBudget({ maxConnections: 4, maxConnectionsPerSource: 10 }, (kind, _d, source) => void hits.push([kind, source]));
    const phone = slot(b, '10.0.0.1');
    const out = slot(b, '10.0.0.2', false);
    const speaker = slot(b, '10.0.0.3');
    const silent = slot(b, '10.0.0.4');
    for (const s of [phone, out, speaker, silent]) expect(b.admit(s)).toBe(true);
    b.spoke(phone);
    b.trust(phone);
    b.spoke(speaker);
    const n1 = slot(b, '10.0.0.5');
    expect(b.admit(n1)).toBe(true);
    expect([silent.evicted, out.evicted, speaker.evicted]).toEqual([true, false, false]);
    const n2 = slot(b, '10.0.0.6');
    expect(b.admit(n2)).toBe(true);
    expect(n1.evicted).toBe(true); // silent before speaking
    b.spoke(n2);
    expect(b.admit(slot(b, '10.0.0.7'))).toBe(true);
    expect(out.evicted).toBe(true); // the oldest of the speaking ones: ours, opened before the others spoke
    expect(phone.evicted).toBe(false);
    expect(b.count).toBe(4);
    expect(hits.map((h) => h[1])).toEqual(['10.0.0.4', '10.0.0.5', '10.0.0.2']);
    expect(b.hits.evicted).toBe(3);
  });

  it('holds inbound connections to the per-source cap, not outbound ones, and counts every refusal', () => {
    const b = new ConnectionBudget({ maxConnections: 100, maxConnectionsPerSource: 2 });
    const a = [slot(b, '192.0.2.1'), slot(b, '192.0.2.1'), slot(b, '192.0.2.1')];
    expect(a.map((s) => b.admit(s))).toEqual([true, true, false]);
    expect(b.admit(slot(b, '192.0.2.1', false))).toBe(true);
    b.release(a[0]!);
    b.release(a[0]!); // idempotent
    expect(b.admit(slot(b, '192.0.2.1'))).toBe(true);
    expect(b.count).toBe(3);
    expect(b.hits['per-source']).toBe(1);
  });

  it('refuses when every slot is trusted', () => {
    const b = new ConnectionBudget({ maxConnections: 1, maxConnectionsPerSource: 1 });
    const phone = slot(b, '10.0.0.1');
    b.admit(phone);
    b.trust(phone);
    expect(b.admit(slot(b, '10.0.0.2'))).toBe(false);
    expect(b.hits['budget-full']).toBe(1);
    expect(phone.evicted).toBe(false);
  });
});

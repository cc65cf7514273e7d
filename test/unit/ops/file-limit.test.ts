import { describe, expect, it } from 'vitest';
import { connectionCaps, openFileLimit } from '../../../src/ops/file-limit.ts';

describe('connectionCaps', () => {
  it('cuts SIP, per-source and HTTPS caps from the open-file limit, leaving a reserve', () => {
    expect(connectionCaps(1_024)).toEqual({ fileLimit: 1_024, sipConnections: 640, sipPerSource: 80, httpConnections: 32, reserve: 352 });
    const big = connectionCaps(65_536);
    expect(big).toMatchObject({ sipConnections: 48_032, sipPerSource: 6_004, httpConnections: 1_024 });
    for (const limit of [256, 1_024, 4_096, 65_536, 1_048_576]) {
      const c = connectionCaps(limit);
      expect(c.sipConnections + c.httpConnections + 96).toBeLessThan(limit);
      expect(c.sipPerSource).toBeLessThanOrEqual(c.sipConnections / 8);
    }
  });

  it('takes configured caps when they are lower, never above what the limit allows', () => {
    expect(connectionCaps(1_024, { maxConnections: 100 })).toMatchObject({ sipConnections: 100, sipPerSource: 12 });
    expect(connectionCaps(1_024, { maxConnections: 20_000, maxConnectionsPerSource: 1_024 })).toMatchObject({ sipConnections: 640, sipPerSource: 640 });
    expect(connectionCaps(1_024, { maxConnectionsPerSource: 5 })).toMatchObject({ sipConnections: 640, sipPerSource: 5 });
  });
});

describe('openFileLimit', () => {
  it("reads this process's limit, the soft one raised to the hard one", () => {
    const l = openFileLimit();
    expect(l.soft).toBeGreaterThan(0);
    expect(l.soft).toBe(l.hard);
  });
});

// The provisioning listener's timeouts in the config (team standard: every
// network-facing limit explicit and configurable).
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';

describe('provisioning timeouts config', () => {
  it('defaults to 10 s for the handshake and headers and 30 s for a whole request', () => {
    const p = configSchema.parse({}).provisioning;
    expect([p.headersTimeoutSec, p.requestTimeoutSec]).toEqual([10, 30]);
  });

  it('refuses zero, fractions, and a request timeout shorter than the headers one', () => {
    for (const bad of [{ headersTimeoutSec: 0 }, { requestTimeoutSec: 0 }, { headersTimeoutSec: 1.5 }, { headersTimeoutSec: 60, requestTimeoutSec: 30 }]) {
      expect(configSchema.safeParse({ provisioning: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(configSchema.parse({ provisioning: { headersTimeoutSec: 2, requestTimeoutSec: 2 } }).provisioning.requestTimeoutSec).toBe(2);
  });
});

// The gateway's PATCH bodies (src/model/gateway.ts): a key left out stays
// out, so a PATCH changes only what it names (zod's partial() would fill in
// every default and reset the rest: the settings back to call-server mode, a
// line's password cleared).
import { describe, expect, it } from 'vitest';
import { gatewaySettingsPatchSchema, linePatchSchema } from '../../../src/model/gateway.ts';

describe('gateway PATCH bodies', () => {
  it('settings: only the keys sent, still validated', () => {
    expect(gatewaySettingsPatchSchema.parse({ registerExpiresSec: 600 })).toEqual({ registerExpiresSec: 600 });
    expect(gatewaySettingsPatchSchema.parse({})).toEqual({});
    expect(gatewaySettingsPatchSchema.safeParse({ registerExpiresSec: 10 }).success).toBe(false);
    expect(gatewaySettingsPatchSchema.safeParse({ nope: 1 }).success).toBe(false);
  });

  it('line: no password, access code or flags unless sent; the IPEI still normalised', () => {
    expect(linePatchSchema.parse({ standbyText: 'Porter desk' })).toEqual({ standbyText: 'Porter desk' });
    expect(linePatchSchema.parse({ ipei: '050030733590' })).toEqual({ ipei: '05003 0733590' });
    expect(linePatchSchema.safeParse({ ipei: '12345' }).success).toBe(false);
    expect(linePatchSchema.safeParse({ extension: '4101' }).success).toBe(false);
  });
});

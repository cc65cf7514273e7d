import { describe, expect, it } from 'vitest';
import { planLine, type LinePlan } from '../../../src/gateway/line-plan.ts';
import { GATEWAY_DEFAULTS } from '../../../src/model/gateway.ts';
import type { LineWithSecret } from '../../../src/store/gateway-types.ts';

const settings = { ...GATEWAY_DEFAULTS, mode: 'gateway' as const, defaultDomain: 'upstream.example' };

function line(over: Partial<LineWithSecret> = {}): LineWithSecret {
  return {
    extension: '1001', userId: 1, upstreamUser: '41510', upstreamDomain: '', authUser: '', hasPassword: true, password: 'pw',
    displayName: '', ipei: null, accessCode: '', standbyText: '', disabled: false, handset: { model: '', firmware: '', baseStation: '' },
    userName: 'Jim Kander', createdAt: 0, updatedAt: 0, ...over,
  };
}

const plan = (over: Partial<LineWithSecret>) => planLine(line(over), settings, '3f1c0c1e-8a53-4b1e-9d7a-0e6c3b1f2a44') as LinePlan;

describe('line plan: the display name sent upstream', () => {
  it("is the line's own, else the local user's name, else none", () => {
    expect(plan({ displayName: 'Ward 3 Nurse' }).displayName).toBe('Ward 3 Nurse');
    expect(plan({}).displayName).toBe('Jim Kander');
    expect(plan({ userName: '' }).displayName).toBe('');
  });

  it("a change of the user's name changes the plan (the line registers again) only when the line has no name of its own", () => {
    expect(plan({}).key).not.toBe(plan({ userName: 'James Kander' }).key);
    expect(plan({ displayName: 'Ward 3' }).key).toBe(plan({ displayName: 'Ward 3', userName: 'James Kander' }).key);
  });
});

import { describe, expect, it } from 'vitest';
import { bestFailure, dispositionOf } from '../../../../src/pbx/call/outcome.ts';
import { parseSessionExpires } from '../../../../src/pbx/call/session-timer.ts';
import { parseRack } from '../../../../src/pbx/call/inbound-leg.ts';
import { escapeUser } from '../../../../src/pbx/routing/targets.ts';
import { TrunkTable } from '../../../../src/pbx/trunks/trunk-table.ts';
import type { Trunk } from '../../../../src/store/types.ts';

describe('which failure the caller hears', () => {
  it('prefers 6xx, then busy, then a specific 4xx, then 480/408, then 5xx', () => {
    expect(bestFailure([480, 603, 486]).status).toBe(603);
    expect(bestFailure([480, 486, 404]).status).toBe(486);
    expect(bestFailure([408, 404]).status).toBe(404);
    expect(bestFailure([500, 408]).status).toBe(408);
    expect(bestFailure([500]).status).toBe(500);
  });
  it('never passes on a phone challenge, a redirect or a phone 503', () => {
    expect(bestFailure([401]).status).toBe(480);
    expect(bestFailure([407, 302]).status).toBe(480);
    expect(bestFailure([503]).status).toBe(480);
    expect(bestFailure([]).status).toBe(480);
  });
  it('classifies call ends for records', () => {
    expect(dispositionOf({ answered: true, cancelled: true, timedOut: false, status: 200 })).toBe('answered');
    expect(dispositionOf({ answered: false, cancelled: true, timedOut: false, status: 487 })).toBe('cancelled');
    expect(dispositionOf({ answered: false, cancelled: false, timedOut: true, status: 480 })).toBe('no-answer');
    expect(dispositionOf({ answered: false, cancelled: false, timedOut: false, status: 600 })).toBe('busy');
    expect(dispositionOf({ answered: false, cancelled: false, timedOut: false, status: 404 })).toBe('rejected');
    expect(dispositionOf({ answered: false, cancelled: false, timedOut: false, status: 502 })).toBe('failed');
  });
});

describe('header values the B2BUA reads', () => {
  it('Session-Expires (RFC 4028)', () => {
    expect(parseSessionExpires('1800;refresher=uac')).toEqual({ seconds: 1800, refresher: 'uac' });
    expect(parseSessionExpires('90')).toEqual({ seconds: 90, refresher: undefined });
    expect(parseSessionExpires('0')).toBeUndefined();
    expect(parseSessionExpires('abc;refresher=uas')).toBeUndefined();
    expect(parseSessionExpires(undefined)).toBeUndefined();
  });
  it('RAck (RFC 3262)', () => {
    expect(parseRack('776656 1 INVITE')).toEqual({ rseq: 776656, cseq: 1, method: 'INVITE' });
    expect(parseRack('0 1 INVITE')).toBeUndefined();
    expect(parseRack('1 INVITE')).toBeUndefined();
    expect(parseRack('x 1 INVITE')).toBeUndefined();
  });
});

describe('numbers sent to trunks', () => {
  const trunk = (strip: number, addPrefix: string) => ({ strip, addPrefix }) as Trunk;
  it('strips, then prefixes', () => {
    expect(TrunkTable.dialString(trunk(1, ''), '90123456')).toBe('0123456');
    expect(TrunkTable.dialString(trunk(2, '+'), '0044207')).toBe('+44207');
    expect(TrunkTable.dialString(trunk(5, ''), '123')).toBe('');
  });
  it('escapes what a URI user part cannot hold', () => {
    expect(escapeUser('+44 20#7')).toBe('+44%2020%237');
    expect(escapeUser('*21*')).toBe('*21*');
  });
});

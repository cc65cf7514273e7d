import { describe, expect, it } from 'vitest';
import { USER_FEATURE_DEFAULTS } from '../../../src/model/user-features.ts';
import { matchShortCode, shortCodeAction, type ShortCode, type ShortCodeCaller } from '../../../src/store/index.ts';
import { DEFAULT_SHORT_CODES } from '../../../src/model/short-code.ts';

const table: ShortCode[] = DEFAULT_SHORT_CODES.map(([code, feature], i) => ({ id: i, code, feature, value: null, position: i, createdAt: 0, updatedAt: 0 }));
const caller: ShortCodeCaller = { ...USER_FEATURE_DEFAULTS, extension: '1001', callWaiting: true };
const act = (dialled: string, c: ShortCodeCaller = caller) => shortCodeAction(matchShortCode(table, dialled)!, c);

describe('shortCodeAction', () => {
  it('forward codes use the stored number, *07*N# sets it', () => {
    expect(act('*01')).toMatchObject({ kind: 'refused' });
    expect(act('*07*2000#')).toEqual({ kind: 'user', extension: '1001', patch: { forwardNumber: '2000', forwardUnconditional: '2000' } });
    const withNumber = { ...caller, forwardNumber: '2000' };
    expect(act('*03', withNumber)).toEqual({ kind: 'user', extension: '1001', patch: { forwardBusy: '2000' } });
    expect(act('*06', withNumber)).toEqual({ kind: 'user', extension: '1001', patch: { forwardNoAnswer: null } });
    expect(act('*00', withNumber)).toMatchObject({ patch: { forwardUnconditional: null, forwardBusy: null, forwardNoAnswer: null } });
    expect(act('*07*1001#')).toMatchObject({ kind: 'refused' });
  });

  it('dnd, exceptions, call waiting, follow me', () => {
    expect(act('*08')).toMatchObject({ patch: { dnd: true } });
    expect(act('*10*1002#')).toMatchObject({ patch: { dndExceptions: ['1002'] } });
    expect(act('*11*1002#', { ...caller, dndExceptions: ['1002', '1003'] })).toMatchObject({ patch: { dndExceptions: ['1003'] } });
    expect(act('*16')).toMatchObject({ patch: { callWaiting: false } });
    expect(act('*12*1005#')).toEqual({ kind: 'user', extension: '1005', patch: { followMe: '1001' } });
    expect(act('*13*1005#')).toEqual({ kind: 'user', extension: '1005', patch: { followMe: null } });
  });

  it('hunt group login and call features', () => {
    expect(act('*46*600#')).toEqual({ kind: 'hunt-login', group: '600', extension: '1001', loggedIn: false });
    expect(act('*37*12#')).toEqual({ kind: 'call', feature: 'park', param: '12' });
    expect(act('*17')).toEqual({ kind: 'call', feature: 'voicemail', param: null });
  });
});

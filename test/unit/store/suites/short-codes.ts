import { describe, expect, it } from 'vitest';
import { DEFAULT_SHORT_CODES } from '../../../../src/model/short-code.ts';
import { matchShortCode, type ShortCode, type Store } from '../../../../src/store/index.ts';
import { storeError } from '../helpers.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';

export function shortCodesSuite(engine: StoreEngine): void {
  const code = (c: string, feature: ShortCode['feature'], value: string | null = null): ShortCode =>
    ({ id: 0, code: c, feature, value, position: 0, createdAt: 0, updatedAt: 0 });

  describe(`matchShortCode (${engine.name})`, () => {
    const table = [code('*07*N#', 'forward-number'), code('*08', 'dnd-on'), code('*200', 'huntgroup-login', '600'), code('*2N', 'park')];

    it('matches literals, captures the digits of a letter, gives a fixed value', () => {
      expect(matchShortCode(table, '*07*2000#')).toMatchObject({ feature: 'forward-number', param: '2000' });
      expect(matchShortCode(table, '*08')).toMatchObject({ feature: 'dnd-on', param: null });
      expect(matchShortCode(table, '*200')).toMatchObject({ feature: 'huntgroup-login', param: '600' });
      expect(matchShortCode(table, '*201')).toMatchObject({ feature: 'park', param: '01' });
    });

    it('does not match partial, extended or non-digit strings', () => {
      for (const d of ['*07*#', '*07*12', '*07*1a#', '*081', '*0', '1001', '', '*07*2000##']) {
        expect(matchShortCode(table, d), d).toBeUndefined();
      }
    });

    it('takes the first match in table order', () => {
      expect(matchShortCode([code('*2N', 'park'), code('*200', 'huntgroup-login', '600')], '*200')?.feature).toBe('park');
    });
  });

  describe(`ShortCodeRepository (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
    });

    it('ships the default table in order', async () => {
      expect((await store.shortCodes.list()).map((c) => [c.code, c.feature])).toEqual(DEFAULT_SHORT_CODES.map(([c, f]) => [c, f]));
      expect((await store.shortCodes.list()).map((c) => c.position)).toEqual(DEFAULT_SHORT_CODES.map((_, i) => i));
      expect(await store.shortCodes.match('*45*600#')).toMatchObject({ feature: 'huntgroup-login', param: '600' });
    });

    it('adds at a position, moves, changes and removes codes, keeping positions dense', async () => {
      await store.shortCodes.add({ code: '*99', feature: 'voicemail', position: 0 });
      expect((await store.shortCodes.list())[0]!.code).toBe('*99');
      await store.shortCodes.update('*99', { position: 3 });
      expect((await store.shortCodes.list())[3]!.code).toBe('*99');
      expect(await store.shortCodes.set({ code: '*99', feature: 'huntgroup-login', value: '600' })).toMatchObject({ feature: 'huntgroup-login', value: '600', position: 3 });
      expect((await store.shortCodes.update('*99', { feature: 'voicemail' })).value).toBeNull();
      await store.shortCodes.remove('*00');
      expect((await store.shortCodes.list()).map((c) => c.position)).toEqual(DEFAULT_SHORT_CODES.map((_, i) => i));
    });

    it('recompiles match() after a change, also by another connection', async () => {
      expect(await store.shortCodes.match('*777')).toBeUndefined();
      const other = await t.open();
      await other.shortCodes.add({ code: '*777', feature: 'dnd-on' });
      expect((await store.shortCodes.match('*777'))?.feature).toBe('dnd-on');
    });

    it('refuses clashes, unknown features and parameter mismatches', async () => {
      await store.users.add({ extension: '1001', password: 'p' });
      await store.huntGroups.add({ number: '600', name: 'Ward' });
      const cases: [() => unknown, string, string][] = [
        [() => store.shortCodes.add({ code: '1001', feature: 'voicemail' }), 'conflict', 'code'],
        [() => store.shortCodes.add({ code: '1N', feature: 'park' }), 'conflict', 'code'],
        [() => store.shortCodes.add({ code: '60N', feature: 'park' }), 'conflict', 'code'],
        [() => store.shortCodes.add({ code: '*08', feature: 'dnd-on' }), 'duplicate', 'code'],
        [() => store.shortCodes.add({ code: '*98', feature: 'teleport' as never }), 'invalid', 'feature'],
        [() => store.shortCodes.add({ code: '*9X', feature: 'voicemail' }), 'invalid', 'code'],
        [() => store.shortCodes.add({ code: '*9N*N#', feature: 'park' }), 'invalid', 'code'],
        [() => store.shortCodes.add({ code: '*98N', feature: 'voicemail' }), 'invalid', 'code'],
        [() => store.shortCodes.add({ code: '*98', feature: 'park' }), 'invalid', 'code'],
        [() => store.shortCodes.add({ code: '*98', feature: 'voicemail', value: '1' }), 'invalid', 'value'],
        [() => store.users.add({ extension: '*08', password: 'p' }), 'conflict', 'extension'],
        [() => store.shortCodes.update('*55', { feature: 'dnd-on' }), 'not-found', 'code'],
      ];
      for (const [fn, c, field] of cases) {
        const e = (await storeError(fn));
        expect([e.code, e.field], e.message).toEqual([c, field]);
      }
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { Store, UserInput } from '../../../../src/store/index.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';
import { storeError } from '../helpers.ts';

export function userCallsSuite(engine: StoreEngine): void {
  describe(`user call settings (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
    });

    it('outboundCalls is off by default, settable on add and update, and survives reopen', async () => {
      expect((await store.users.add({ extension: '100', password: 'p' })).outboundCalls).toBe(false);
      expect((await store.users.add({ extension: '101', password: 'p', outboundCalls: true })).outboundCalls).toBe(true);
      expect((await store.users.update('100', { outboundCalls: true })).outboundCalls).toBe(true);
      expect((await store.users.update('101', { name: 'Kept' })).outboundCalls).toBe(true);
      expect((await store.users.update('101', { outboundCalls: false })).outboundCalls).toBe(false);
      const e = (await storeError(async () => await store.users.update('100', { outboundCalls: 'yes' as never })));
      expect([e.code, e.field]).toEqual(['invalid', 'outboundCalls']);
      await store.close();
      const again = await t.open();
      expect((await again.users.list()).map((u) => [u.extension, u.outboundCalls])).toEqual([['100', true], ['101', false]]);
    });

    it('codecs: known names only, case-insensitive, stored upper-case in order, no duplicates, at least one', async () => {
      const u = await store.users.add({ extension: '100', password: 'p', codecs: ['g722', 'Pcma', 'PCMU', 'g729'] });
      expect(u.codecs).toEqual(['G722', 'PCMA', 'PCMU', 'G729']);
      expect((await store.users.getByExtension('100'))!.codecs).toEqual(['G722', 'PCMA', 'PCMU', 'G729']);
      expect((await store.users.update('100', { codecs: null })).codecs).toBeNull();
      for (const codecs of [[], ['opus'], ['PCMU', 'pcmu'], ['PCMU', ''], [7], 'PCMU']) {
        const e = (await storeError(async () => await store.users.update('100', { codecs: codecs as never })));
        expect([JSON.stringify(codecs), e.code, e.field]).toEqual([JSON.stringify(codecs), 'invalid', 'codecs']);
      }
      expect((await store.users.getByExtension('100'))!.codecs).toBeNull();
    });

    it('maxCalls 1..100 and noAnswerTimeoutSec 5..600, or null', async () => {
      const ok: UserInput = { extension: '100', password: 'p', maxCalls: 100, noAnswerTimeoutSec: 600 };
      expect(await store.users.add(ok)).toMatchObject({ maxCalls: 100, noAnswerTimeoutSec: 600 });
      expect(await store.users.update('100', { maxCalls: 1, noAnswerTimeoutSec: 5 })).toMatchObject({ maxCalls: 1, noAnswerTimeoutSec: 5 });
      const cases: [Partial<UserInput>, string][] = [
        [{ maxCalls: 0 }, 'maxCalls'],
        [{ maxCalls: 101 }, 'maxCalls'],
        [{ maxCalls: 2.5 }, 'maxCalls'],
        [{ noAnswerTimeoutSec: 4 }, 'noAnswerTimeoutSec'],
        [{ noAnswerTimeoutSec: 601 }, 'noAnswerTimeoutSec'],
      ];
      for (const [patch, field] of cases) {
        const e = (await storeError(async () => await store.users.update('100', patch)));
        expect([JSON.stringify(patch), e.code, e.field]).toEqual([JSON.stringify(patch), 'invalid', field]);
      }
      expect(await store.users.update('100', { maxCalls: null, noAnswerTimeoutSec: null })).toMatchObject({ maxCalls: null, noAnswerTimeoutSec: null });
    });

    it('CSV import takes an optional outboundCalls column: true/false, yes/no, 1/0', async () => {
      await store.users.add({ extension: '105', password: 'p', outboundCalls: true });
      const csv = 'extension,password,outboundCalls\n100,p,true\n101,p,No\n102,p,1\n103,p,0\n104,p,YES\n105,,\n106,p,maybe\n107,p,\n';
      const results = await store.users.importCsv(csv);
      expect(results.map((r) => r.action)).toEqual(['added', 'added', 'added', 'added', 'added', 'updated', 'error', 'added']);
      expect(results[6]!.error).toMatch(/outboundCalls/);
      const flags = Object.fromEntries((await store.users.list()).map((u) => [u.extension, u.outboundCalls]));
      expect(flags).toEqual({ 100: true, 101: false, 102: true, 103: false, 104: true, 105: true, 107: false });
    });
  });
}
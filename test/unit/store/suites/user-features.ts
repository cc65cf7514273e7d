import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { storePerTest, type StoreEngine } from '../engines.ts';
import { storeError } from '../helpers.ts';

export function userFeaturesSuite(engine: StoreEngine): void {
  describe(`user features (${engine.name})`, () => {
    let store: Store;

    storePerTest(engine, (_db, s) => {
      store = s;
    });

    it('defaults every feature to off', async () => {
      const u = await store.users.add({ extension: '1001', password: 'p' });
      expect(u).toMatchObject({
        forwardUnconditional: null, forwardBusy: null, forwardNoAnswer: null, forwardNoAnswerSec: null, forwardNumber: null,
        dnd: false, dndExceptions: [], followMe: null, pickupGroup: null,
      });
    });

    it('stores every feature and reads it back', async () => {
      const u = await store.users.add({
        extension: '1001', password: 'p', forwardBusy: '2000', forwardNoAnswer: '+4930123', forwardNoAnswerSec: 25,
        dnd: true, dndExceptions: ['1002', '1003'], followMe: '1005', pickupGroup: 'ward-4',
      });
      expect(await store.users.getByExtension('1001')).toEqual(u);
      expect(u).toMatchObject({ forwardBusy: '2000', forwardNoAnswer: '+4930123', forwardNoAnswerSec: 25, dnd: true,
        dndExceptions: ['1002', '1003'], followMe: '1005', pickupGroup: 'ward-4' });
    });

    it('remembers the last number a forward was set to, and keeps it when the forward goes off', async () => {
      await store.users.add({ extension: '1001', password: 'p' });
      expect((await store.users.update('1001', { forwardBusy: '2000' })).forwardNumber).toBe('2000');
      expect((await store.users.update('1001', { forwardUnconditional: '3000', forwardNoAnswer: '4000' })).forwardNumber).toBe('3000');
      const off = await store.users.update('1001', { forwardUnconditional: null, forwardBusy: null });
      expect(off).toMatchObject({ forwardUnconditional: null, forwardBusy: null, forwardNoAnswer: '4000', forwardNumber: '3000' });
      expect((await store.users.update('1001', { forwardNoAnswer: '5000', forwardNumber: '6000' })).forwardNumber).toBe('6000');
    });

    it('refuses bad values naming the field', async () => {
      await store.users.add({ extension: '1001', password: 'p' });
      const cases: [Record<string, unknown>, string][] = [
        [{ forwardBusy: 'no spaces' }, 'forwardBusy'],
        [{ forwardNoAnswerSec: 4 }, 'forwardNoAnswerSec'],
        [{ forwardNoAnswerSec: 601 }, 'forwardNoAnswerSec'],
        [{ dnd: 'yes' }, 'dnd'],
        [{ dndExceptions: ['1002', '1002'] }, 'dndExceptions'],
        [{ dndExceptions: ['ok', 'not ok'] }, 'dndExceptions'],
        [{ pickupGroup: 'a b' }, 'pickupGroup'],
        [{ followMe: '1001' }, 'followMe'],
        [{ forwardUnconditional: '1001' }, 'forwardUnconditional'],
      ];
      for (const [patch, field] of cases) {
        const e = (await storeError(async () => await store.users.update('1001', patch)));
        expect(e.code, JSON.stringify(patch)).toBe('invalid');
        expect(e.field, JSON.stringify(patch)).toBe(field);
        expect(e.message.startsWith(`${field}: `)).toBe(true);
      }
    });
  });
}
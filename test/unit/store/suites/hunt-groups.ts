import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { storeError } from '../helpers.ts';
import { storePerTest, type StoreEngine } from '../engines.ts';

export function huntGroupsSuite(engine: StoreEngine): void {
  describe(`HuntGroupRepository (${engine.name})`, () => {
    let store: Store;
    let clock: number;

    storePerTest(engine, async (_db, s) => {
      store = s;
      clock = 1_700_000_000_000;
      for (const ext of ['1001', '1002', '1003']) await store.users.add({ extension: ext, password: 'p' });
    }, { now: () => clock });

    it('adds a group with defaults, members in order, all logged in', async () => {
      const g = await store.huntGroups.add({ number: '600', name: 'Ward', members: ['1002', '1001'] });
      expect(g).toMatchObject({
        number: '600', name: 'Ward', strategy: 'sequential', noAnswerSec: 15, overflow: null, lastMember: null,
        members: [{ extension: '1002', loggedIn: true }, { extension: '1001', loggedIn: true }], createdAt: clock,
      });
      expect(await store.huntGroups.get('600')).toEqual(g);
      expect(await store.huntGroups.list()).toEqual([g]);
    });

    it('keeps logged-in state across member changes and logs members in and out', async () => {
      await store.huntGroups.add({ number: '600', name: 'Ward', strategy: 'rotary', members: ['1001', '1002'] });
      const r0 = await store.huntGroups.revision();
      const out = await store.huntGroups.setMemberLoggedIn('600', '1002', false);
      expect(out.members).toEqual([{ extension: '1001', loggedIn: true }, { extension: '1002', loggedIn: false }]);
      expect(await store.huntGroups.revision()).toBeGreaterThan(r0);
      const g = await store.huntGroups.update('600', { members: ['1003', '1002'], noAnswerSec: 20, overflow: '601' });
      expect(g.members).toEqual([{ extension: '1003', loggedIn: true }, { extension: '1002', loggedIn: false }]);
      expect(g).toMatchObject({ noAnswerSec: 20, overflow: '601', strategy: 'rotary' });
      expect((await storeError(async () => await store.huntGroups.setMemberLoggedIn('600', '1001', true))).code).toBe('not-found');
      expect((await storeError(async () => await store.huntGroups.setMemberLoggedIn('699', '1001', true))).code).toBe('not-found');
    });

    it('persists the rotary position without moving the revision', async () => {
      await store.huntGroups.add({ number: '600', name: 'Ward', strategy: 'rotary', members: ['1001', '1002'] });
      const r0 = await store.huntGroups.revision();
      await store.huntGroups.setLastMember('600', '1002');
      expect((await store.huntGroups.get('600'))!.lastMember).toBe('1002');
      expect(await store.huntGroups.revision()).toBe(r0);
    });

    it('follows renumbered users and drops removed ones', async () => {
      await store.huntGroups.add({ number: '600', name: 'Ward', members: ['1001', '1002'] });
      await store.users.update('1001', { extension: '1101' });
      await store.users.remove('1002');
      expect((await store.huntGroups.get('600'))!.members.map((m) => m.extension)).toEqual(['1101']);
    });

    it('shares the numbering with users and short codes', async () => {
      await store.huntGroups.add({ number: '600', name: 'Ward' });
      const cases: [() => unknown, string, string][] = [
        [() => store.huntGroups.add({ number: '1001', name: 'x' }), 'conflict', 'number'],
        [() => store.huntGroups.add({ number: '600', name: 'x' }), 'duplicate', 'number'],
        [() => store.huntGroups.add({ number: '*17', name: 'x' }), 'conflict', 'number'],
        [() => store.users.add({ extension: '600', password: 'p' }), 'conflict', 'extension'],
        [() => store.users.update('1001', { extension: '600' }), 'conflict', 'extension'],
        [() => store.huntGroups.add({ number: '601', name: 'x', members: ['9999'] }), 'not-found', 'members'],
        [() => store.huntGroups.add({ number: '601', name: 'x', strategy: 'random' as never }), 'invalid', 'strategy'],
        [() => store.huntGroups.add({ number: '601', name: 'x', noAnswerSec: 2 }), 'invalid', 'noAnswerSec'],
        [() => store.huntGroups.add({ number: '601', name: 'x', members: ['1001', '1001'] }), 'invalid', 'members'],
        [() => store.huntGroups.update('600', { overflow: '600' }), 'invalid', 'overflow'],
      ];
      for (const [fn, code, field] of cases) {
        const e = (await storeError(fn));
        expect([e.code, e.field], e.message).toEqual([code, field]);
      }
    });

    it('renames and removes a group', async () => {
      await store.huntGroups.add({ number: '600', name: 'Ward', members: ['1001'] });
      expect((await store.huntGroups.update('600', { number: '610', name: 'Ward 2' })).members).toHaveLength(1);
      expect(await store.huntGroups.get('600')).toBeUndefined();
      expect((await store.huntGroups.remove('610')).name).toBe('Ward 2');
      expect(await store.huntGroups.list()).toEqual([]);
      expect((await storeError(async () => await store.huntGroups.remove('610'))).code).toBe('not-found');
    });
  });
}

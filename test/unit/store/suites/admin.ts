import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';
import { storeError } from '../helpers.ts';

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNo';

export function adminSuite(engine: StoreEngine): void {
  describe(`administrator accounts, sessions, audit, settings (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;
    let clock: number;

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
      clock = 1_000;
    }, { now: () => clock });

    it('keeps account names unique ignoring case, and moves passwordChangedAt with the hash', async () => {
      const a = await store.admin.accounts.add({ name: 'Alice', roles: ['admin'], passwordHash: HASH });
      expect(a).toMatchObject({ name: 'Alice', roles: ['admin'], mustChangePassword: true, enabled: true, passwordChangedAt: 1_000 });
      expect((await store.admin.accounts.get('ALICE'))?.id).toBe(a.id);
      expect((await store.admin.accounts.getById(a.id))?.name).toBe('Alice');
      expect((await storeError(() => store.admin.accounts.add({ name: 'alice', roles: ['operator'], passwordHash: HASH }))).code).toBe('duplicate');
      expect((await storeError(() => store.admin.accounts.add({ name: 'no spaces', roles: ['operator'], passwordHash: HASH }))).field).toBe('name');
      await store.admin.accounts.add({ name: 'bob', roles: ['operator', 'operator'], passwordHash: HASH });
      expect((await storeError(() => store.admin.accounts.update('bob', { name: 'ALICE' }))).code).toBe('duplicate');
      clock = 2_000;
      const b = await store.admin.accounts.update('BOB', { roles: ['security-admin'], passwordHash: `${HASH}x`, mustChangePassword: false });
      expect(b).toMatchObject({ name: 'bob', roles: ['security-admin'], mustChangePassword: false, passwordChangedAt: 2_000, updatedAt: 2_000 });
      clock = 3_000;
      expect((await store.admin.accounts.update('bob', { enabled: false })).passwordChangedAt).toBe(2_000);
      expect((await store.admin.accounts.list()).map((x) => x.name)).toEqual(['Alice', 'bob']);
      expect(await store.admin.accounts.count()).toBe(2);
      expect((await storeError(() => store.admin.accounts.remove('carol'))).code).toBe('not-found');
    });

    it('keeps sessions per account: touch, idle expiry, and removal with the account', async () => {
      const a = await store.admin.accounts.add({ name: 'alice', roles: ['admin'], passwordHash: HASH });
      const b = await store.admin.accounts.add({ name: 'bob', roles: ['admin'], passwordHash: HASH });
      const session = (idHash: string, adminId: number, lastSeenAt: number) =>
        ({ idHash, adminId, csrfToken: `csrf-${idHash}`, sourceIp: '192.0.2.7', createdAt: 100, lastSeenAt });
      await store.admin.sessions.create(session('s1', a.id, 100));
      await store.admin.sessions.create(session('s2', a.id, 100));
      await store.admin.sessions.create(session('s3', b.id, 100));
      await store.admin.sessions.touch('s1', 500);
      expect(await store.admin.sessions.get('s1')).toEqual(session('s1', a.id, 500));
      expect(await store.admin.sessions.removeIdle(200)).toBe(2);
      expect(await store.admin.sessions.get('s2')).toBeUndefined();
      await store.admin.sessions.create(session('s4', a.id, 600));
      expect(await store.admin.sessions.removeForAdmin(a.id)).toBe(2);
      await store.admin.sessions.create(session('s5', b.id, 600));
      await store.admin.accounts.remove('bob');
      expect(await store.admin.sessions.get('s5')).toBeUndefined();
      await store.admin.sessions.remove('none');
    });

    it('filters the audit log by actor (any case), target substring and time, newest first', async () => {
      const entry = (at: number, actor: string, target: string) =>
        ({ at, actor, sourceIp: null, action: 'PUT /api/x', target, before: { n: at }, after: null });
      for (const [at, actor, target] of [[1, 'alice', 'user:100'], [2, 'bob', 'user:101'], [3, 'Alice', 'trunk:pstn_1'], [4, 'alice', 'user:1%']] as const) {
        await store.admin.audit.append(entry(at, actor, target));
      }
      const targets = async (q: Parameters<Store['admin']['audit']['list']>[0]) => (await store.admin.audit.list(q)).map((e) => e.target);
      expect(await targets({ actor: 'ALICE' })).toEqual(['user:1%', 'trunk:pstn_1', 'user:100']);
      expect(await targets({ target: 'USER:10' })).toEqual(['user:101', 'user:100']);
      // LIKE wildcards in the filter are literal characters.
      expect(await targets({ target: '1%' })).toEqual(['user:1%']);
      expect(await targets({ target: 'n_1' })).toEqual(['trunk:pstn_1']);
      expect(await targets({ since: 3 })).toEqual(['user:1%', 'trunk:pstn_1']);
      expect(await store.admin.audit.count({ actor: 'alice', since: 2 })).toBe(2);
      expect((await store.admin.audit.list({ limit: 1 }))[0]).toMatchObject({ at: 4, before: { n: 4 }, after: null });
    });

    it('stores settings as JSON values by key; null removes one', async () => {
      await store.admin.settings.set({ 'sip.domain': 'example.org', 'media.security': 'enforced', 'calls.codecs': ['PCMU', 'G722'] });
      expect(await store.admin.settings.getAll()).toEqual({ 'calls.codecs': ['PCMU', 'G722'], 'media.security': 'enforced', 'sip.domain': 'example.org' });
      expect(await store.admin.settings.get('calls.codecs')).toEqual(['PCMU', 'G722']);
      expect(await store.admin.settings.get('nothing')).toBeUndefined();
      await store.admin.settings.set({ 'sip.domain': null, 'media.security': 'disabled' });
      expect(await store.admin.settings.getAll()).toEqual({ 'calls.codecs': ['PCMU', 'G722'], 'media.security': 'disabled' });
      const other = await t.open();
      expect(await other.admin.settings.get('media.security')).toBe('disabled');
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { TRUSTED_SOURCES_PER_SUBJECT } from '../../../../src/store/admin-types.ts';
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
      // A session a status page is watching is kept however idle.
      expect(await store.admin.sessions.removeIdle(200, ['s3', 'elsewhere'])).toBe(1);
      expect(await store.admin.sessions.get('s2')).toBeUndefined();
      expect(await store.admin.sessions.get('s3')).toBeDefined();
      expect(await store.admin.sessions.removeIdle(200)).toBe(1);
      expect(await store.admin.sessions.get('s3')).toBeUndefined();
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
      expect(await targets({ since: 2, until: 4 })).toEqual(['trunk:pstn_1', 'user:101']);
      expect(await store.admin.audit.count({ until: 2 })).toBe(1);
      expect((await store.admin.audit.list({ limit: 1 }))[0]).toMatchObject({ at: 4, before: { n: 4 }, after: null });
      await store.admin.audit.append({ ...entry(5, 'carol', 'admin:x'), action: 'DELETE /api/admins/:name' });
      expect(await targets({ action: 'delete' })).toEqual(['admin:x']);
      expect(await targets({ action: '%' })).toEqual([]);
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

    it('keeps trusted source addresses per kind and subject: refreshed, bounded, aged out, removable, seen by another store', async () => {
      const ts = store.admin.trustedSources;
      await ts.record([
        { kind: 'admin', subject: 'alice', address: '192.0.2.1', at: 100 },
        { kind: 'sip', subject: 'alice', address: '192.0.2.2', at: 100 },
        { kind: 'sip', subject: 'alice', address: '192.0.2.3', at: 200 },
      ]);
      // An older sighting does not move last_seen_at back; a newer one moves it on and keeps firstSeenAt.
      await ts.record([{ kind: 'sip', subject: 'alice', address: '192.0.2.2', at: 50 }]);
      await ts.record([{ kind: 'sip', subject: 'alice', address: '192.0.2.3', at: 300 }]);
      expect(await ts.list('sip', 'alice', 0)).toEqual([
        { kind: 'sip', subject: 'alice', address: '192.0.2.3', firstSeenAt: 200, lastSeenAt: 300 },
        { kind: 'sip', subject: 'alice', address: '192.0.2.2', firstSeenAt: 100, lastSeenAt: 100 },
      ]);
      expect(await ts.has('admin', 'alice', '192.0.2.1', 100)).toBe(true);
      expect(await ts.has('admin', 'alice', '192.0.2.1', 101)).toBe(false); // older than `since`
      expect(await ts.has('sip', 'alice', '192.0.2.1', 0)).toBe(false); // another kind
      expect(await ts.has('admin', 'bob', '192.0.2.1', 0)).toBe(false);
      expect((await ts.list('sip', 'alice', 150)).map((x) => x.address)).toEqual(['192.0.2.3']);
      await ts.record([{ kind: 'sip', subject: 'bob', address: '192.0.2.3', at: 250 }, { kind: 'sip', subject: 'carol', address: '192.0.2.3', at: 50 }]);
      expect(await ts.subjectsAt('sip', '192.0.2.3', 0, 10)).toEqual(['alice', 'bob', 'carol']);
      expect(await ts.subjectsAt('sip', '192.0.2.3', 100, 1)).toEqual(['alice']);
      expect(await ts.subjectsAt('admin', '192.0.2.3', 0, 10)).toEqual([]);
      await ts.remove('sip', 'bob');
      await ts.remove('sip', 'carol');

      // Bounded per subject: the longest unseen go first; other subjects keep theirs.
      await ts.record(Array.from({ length: TRUSTED_SOURCES_PER_SUBJECT }, (_, i) => ({ kind: 'sip' as const, subject: 'alice', address: `10.0.0.${i}`, at: 1_000 + i })));
      const kept = (await ts.list('sip', 'alice', 0)).map((x) => x.address);
      expect(kept).toHaveLength(TRUSTED_SOURCES_PER_SUBJECT);
      expect(kept).not.toContain('192.0.2.2');
      expect(kept).not.toContain('192.0.2.3');
      expect(kept[0]).toBe(`10.0.0.${TRUSTED_SOURCES_PER_SUBJECT - 1}`);
      expect(await ts.has('admin', 'alice', '192.0.2.1', 0)).toBe(true);

      expect((await storeError(() => ts.record([{ kind: 'x' as 'sip', subject: 'a', address: 'b', at: 1 }]))).field).toBe('kind');
      expect((await storeError(() => ts.record([{ kind: 'sip', subject: 'a', address: 'b'.repeat(65), at: 1 }]))).field).toBe('address');

      const other = await t.open();
      expect(await other.admin.trustedSources.has('sip', 'alice', '10.0.0.0', 0)).toBe(true);
      expect(await ts.remove('sip', 'alice', '10.0.0.0')).toBe(1);
      expect(await ts.prune(1_005)).toBe(5); // admin's 192.0.2.1 (100) and 10.0.0.1..4
      expect(await ts.has('admin', 'alice', '192.0.2.1', 0)).toBe(false);
      expect(await ts.remove('sip', 'alice')).toBe(TRUSTED_SOURCES_PER_SUBJECT - 5);
      expect(await ts.list('sip', 'alice', 0)).toEqual([]);
    });

    it('moves an account\'s trusted addresses with a rename and forgets them with the account', async () => {
      await store.admin.accounts.add({ name: 'Alice', roles: ['admin'], passwordHash: HASH });
      const ts = store.admin.trustedSources;
      await ts.record([
        { kind: 'admin', subject: 'alice', address: '192.0.2.1', at: 100 },
        { kind: 'sip', subject: 'alice', address: '192.0.2.2', at: 100 },
      ]);
      await store.admin.accounts.update('alice', { name: 'Alicia' });
      expect(await ts.has('admin', 'alicia', '192.0.2.1', 0)).toBe(true);
      expect(await ts.has('admin', 'alice', '192.0.2.1', 0)).toBe(false);
      await store.admin.accounts.remove('ALICIA');
      expect(await ts.has('admin', 'alicia', '192.0.2.1', 0)).toBe(false);
      expect(await ts.has('sip', 'alice', '192.0.2.2', 0)).toBe(true); // a SIP user of the same name is another subject
    });
  });
}

import { describe, expect, it } from 'vitest';
import { StoreError, type Store, type TrunkInput } from '../../../../src/store/index.ts';
import { storeError } from '../helpers.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';

export function trunksSuite(engine: StoreEngine): void {
  describe(`TrunkRepository (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;
    let clock: number;

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
      clock = 1_700_000_000_000;
    }, { now: () => clock });

    it('adds a trunk with defaults and reads it back', async () => {
      const tr = await store.trunks.add({ name: 'pstn', host: 'gw.example.com' });
      expect(tr).toMatchObject({
        name: 'pstn', host: 'gw.example.com', port: 5060, transport: 'udp', registerUser: null, registerPassword: null,
        outboundProxy: null, prefix: '', strip: 0, addPrefix: '', fallbackTrunk: null, probeIntervalSec: null, enabled: true, createdAt: clock, updatedAt: clock,
      });
      expect(tr.id).toBeGreaterThan(0);
      expect(await store.trunks.get('pstn')).toEqual(tr);
      expect(await store.trunks.get('other')).toBeUndefined();
    });

    it('defaults the port to 5061 for tls and stores every field', async () => {
      expect((await store.trunks.add({ name: 'secure', host: '192.0.2.10', transport: 'tls', prefix: '8' })).port).toBe(5061);
      const full = await store.trunks.add({
        name: 'itsp_1.a-b', host: '2001:db8::1', port: 5080, transport: 'tcp', registerUser: 'acct',
        registerPassword: 'Pa ss"word', outboundProxy: '[2001:db8::2]:5070', prefix: '0049*#+', strip: 32, addPrefix: '+49',
        enabled: false,
      });
      expect(await store.trunks.get('itsp_1.a-b')).toEqual(full);
      expect(full).toMatchObject({ port: 5080, transport: 'tcp', registerPassword: 'Pa ss"word', strip: 32, enabled: false });
      expect((await store.trunks.list()).map((x) => x.name)).toEqual(['itsp_1.a-b', 'secure']);
    });

    it('keeps a fallback trunk by name: it must exist and not be itself; renames follow it, removal clears it', async () => {
      await store.trunks.add({ name: 'backup', host: 'b.example', prefix: '8' });
      const main = await store.trunks.add({ name: 'main', host: 'm.example', prefix: '9', fallbackTrunk: 'backup' });
      expect(main.fallbackTrunk).toBe('backup');
      expect((await store.trunks.get('backup'))!.fallbackTrunk).toBeNull();
      expect(await storeError(() => store.trunks.add({ name: 'x', host: 'x.example', prefix: '7', fallbackTrunk: 'nosuch' })))
        .toMatchObject({ code: 'invalid', field: 'fallbackTrunk' });
      expect(await storeError(() => store.trunks.update('main', { fallbackTrunk: 'main' }))).toMatchObject({ code: 'invalid', field: 'fallbackTrunk' });
      await store.trunks.update('backup', { name: 'backup2' });
      expect((await store.trunks.get('main'))!.fallbackTrunk).toBe('backup2');
      await store.trunks.remove('backup2');
      expect((await store.trunks.get('main'))!.fallbackTrunk).toBeNull();
      expect((await store.trunks.update('main', { fallbackTrunk: null })).fallbackTrunk).toBeNull();
    });

    it('keeps a probe period per trunk: null for the default, 0 for none, else 5 to 3600 s', async () => {
      await store.trunks.add({ name: 'p', host: 'p.example', probeIntervalSec: 10 });
      expect((await store.trunks.get('p'))!.probeIntervalSec).toBe(10);
      expect((await store.trunks.update('p', { probeIntervalSec: 0 })).probeIntervalSec).toBe(0);
      expect((await store.trunks.update('p', { probeIntervalSec: null })).probeIntervalSec).toBeNull();
      for (const bad of [3, 3601, 1.5, -1]) {
        expect(await storeError(() => store.trunks.update('p', { probeIntervalSec: bad }))).toMatchObject({ code: 'invalid', field: 'probeIntervalSec' });
      }
    });

    it('accepts host names, IPv4 and IPv6 (brackets dropped)', async () => {
      const hosts = ['a', 'sip.example.com', 'x-1.example', '10.0.0.1', '::1', '[fe80::1]'];
      for (const [i, host] of hosts.entries()) await store.trunks.add({ name: `t${i}`, host, prefix: String(i) });
      expect((await store.trunks.list()).map((x) => x.host)).toEqual(['a', 'sip.example.com', 'x-1.example', '10.0.0.1', '::1', 'fe80::1']);
    });

    it('refuses every bad field with StoreError invalid naming it', async () => {
      const base: TrunkInput = { name: 'ok', host: 'h.example' };
      const cases: [Partial<TrunkInput> & Record<string, unknown>, string][] = [
        [{ name: '' }, 'name'],
        [{ name: 'a b' }, 'name'],
        [{ name: 'x'.repeat(65) }, 'name'],
        [{ name: 'a/b' }, 'name'],
        [{ host: '' }, 'host'],
        [{ host: 'gw example.com' }, 'host'],
        [{ host: '-bad.example' }, 'host'],
        [{ host: '999.1.1.1' }, 'host'],
        [{ host: '[10.0.0.1]' }, 'host'],
        [{ host: 'a..b' }, 'host'],
        [{ host: 42 as never }, 'host'],
        [{ port: 0 }, 'port'],
        [{ port: 65536 }, 'port'],
        [{ port: 50.5 }, 'port'],
        [{ transport: 'sctp' as never }, 'transport'],
        [{ registerUser: 'u' }, 'registerPassword'],
        [{ registerPassword: 'p' }, 'registerUser'],
        [{ registerUser: 'a:b', registerPassword: 'p' }, 'registerUser'],
        [{ registerUser: 'u', registerPassword: '' }, 'registerPassword'],
        [{ registerUser: 'u', registerPassword: 'a\nb' }, 'registerPassword'],
        [{ outboundProxy: 'proxy.example' }, 'outboundProxy'],
        [{ outboundProxy: 'proxy.example:0' }, 'outboundProxy'],
        [{ outboundProxy: 'proxy.example:70000' }, 'outboundProxy'],
        [{ outboundProxy: '::1:5060' }, 'outboundProxy'],
        [{ outboundProxy: 'bad host:5060' }, 'outboundProxy'],
        [{ prefix: '9a' }, 'prefix'],
        [{ prefix: ' 9' }, 'prefix'],
        [{ prefix: '1'.repeat(33) }, 'prefix'],
        [{ strip: -1 }, 'strip'],
        [{ strip: 33 }, 'strip'],
        [{ strip: 1.5 }, 'strip'],
        [{ addPrefix: '*1' }, 'addPrefix'],
        [{ addPrefix: '#' }, 'addPrefix'],
        [{ enabled: 'yes' as never }, 'enabled'],
      ];
      for (const [over, field] of cases) {
        const e = (await storeError(async () => await store.trunks.add({ ...base, ...over })));
        expect([JSON.stringify(over), e.code, e.field]).toEqual([JSON.stringify(over), 'invalid', field]);
        expect(e.message).toContain(field);
      }
      expect(await store.trunks.list()).toEqual([]);
    });

    it('refuses a duplicate name or prefix, including the empty prefix', async () => {
      await store.trunks.add({ name: 'a', host: 'h', prefix: '9' });
      await store.trunks.add({ name: 'b', host: 'h' });
      const name = (await storeError(async () => await store.trunks.add({ name: 'a', host: 'h', prefix: '8' })));
      expect([name.code, name.field]).toEqual(['duplicate', 'name']);
      const prefix = (await storeError(async () => await store.trunks.add({ name: 'c', host: 'h', prefix: '9' })));
      expect([prefix.code, prefix.field]).toEqual(['duplicate', 'prefix']);
      expect(prefix.message).toContain('a');
      const empty = (await storeError(async () => await store.trunks.add({ name: 'd', host: 'h' })));
      expect([empty.code, empty.field]).toEqual(['duplicate', 'prefix']);
      const moved = (await storeError(async () => await store.trunks.update('b', { prefix: '9' })));
      expect([moved.code, moved.field]).toEqual(['duplicate', 'prefix']);
      expect((await store.trunks.list()).map((x) => [x.name, x.prefix])).toEqual([['a', '9'], ['b', '']]);
    });

    it('updates fields, keeps the rest, renames, and validates the merged result', async () => {
      await store.trunks.add({ name: 'a', host: 'h', registerUser: 'u', registerPassword: 'p' });
      clock += 1000;
      const u = await store.trunks.update('a', { host: '192.0.2.1', strip: 2, enabled: false });
      expect(u).toMatchObject({ host: '192.0.2.1', strip: 2, enabled: false, registerUser: 'u', registerPassword: 'p', updatedAt: clock });
      expect(u.createdAt).toBe(clock - 1000);
      const half = (await storeError(async () => await store.trunks.update('a', { registerUser: null })));
      expect([half.code, half.field]).toEqual(['invalid', 'registerUser']);
      expect((await store.trunks.update('a', { registerUser: null, registerPassword: null })).registerUser).toBeNull();
      const renamed = await store.trunks.update('a', { name: 'b' });
      expect(renamed.id).toBe(u.id);
      expect(await store.trunks.get('a')).toBeUndefined();
      expect((await store.trunks.get('b'))?.host).toBe('192.0.2.1');
      const missing = (await storeError(async () => await store.trunks.update('zz', { strip: 1 })));
      expect([missing.code, missing.field]).toEqual(['not-found', 'name']);
    });

    it('removes a trunk and returns it; unknown names are not-found', async () => {
      const a = await store.trunks.add({ name: 'a', host: 'h' });
      expect(await store.trunks.remove('a')).toEqual(a);
      expect(await store.trunks.list()).toEqual([]);
      expect((await storeError(async () => await store.trunks.remove('a'))).code).toBe('not-found');
    });

    it('moves the revision on every trunk and DID write, seen by a second connection', async () => {
      const other = await t.open();
      const revs: number[] = [await store.trunks.revision()];
      const step = async (fn: () => unknown) => {
        await fn();
        revs.push(await other.trunks.revision());
      };
      await store.users.add({ extension: '100', password: 'p' });
      await step(async () => await store.trunks.add({ name: 'a', host: 'h' }));
      await step(async () => await store.trunks.update('a', { strip: 1 }));
      await step(async () => await store.trunks.addDid('+4930100', '100'));
      await step(async () => await store.trunks.removeDid('+4930100'));
      await step(async () => await store.trunks.remove('a'));
      for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThan(revs[i - 1]!);
      // A refused write changes nothing.
      await expect(store.trunks.add({ name: 'bad name', host: 'h' })).rejects.toThrow(StoreError);
      expect(await other.trunks.revision()).toBe(revs[revs.length - 1]);
    });
  });

  describe(`DIDs (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;

    storePerTest(engine, async (db, s) => {
      t = db;
      store = s;
      await store.users.add({ extension: '1001', password: 'p' });
    }, { now: () => 5 });

    it('adds, lists and removes DIDs', async () => {
      expect(await store.trunks.addDid('+493012345', '1001')).toEqual({ number: '+493012345', extension: '1001', createdAt: 5 });
      await store.trunks.addDid('555', '1001');
      expect((await store.trunks.listDids()).map((d) => d.number)).toEqual(['555', '+493012345']);
      expect(await store.trunks.removeDid('555')).toMatchObject({ number: '555', extension: '1001' });
      expect((await store.trunks.listDids()).map((d) => d.number)).toEqual(['+493012345']);
      const gone = (await storeError(async () => await store.trunks.removeDid('555')));
      expect([gone.code, gone.field]).toEqual(['not-found', 'number']);
    });

    it('refuses an unknown extension, a bad number and a duplicate', async () => {
      const unknown = (await storeError(async () => await store.trunks.addDid('555', '2002')));
      expect([unknown.code, unknown.field]).toEqual(['invalid', 'extension']);
      for (const n of ['', '+', '12a', '++1', '1'.repeat(33), ' 1']) {
        const e = (await storeError(async () => await store.trunks.addDid(n, '1001')));
        expect([n, e.code, e.field]).toEqual([n, 'invalid', 'number']);
      }
      await store.trunks.addDid('555', '1001');
      const dup = (await storeError(async () => await store.trunks.addDid('555', '1001')));
      expect([dup.code, dup.field]).toEqual(['duplicate', 'number']);
      expect(await store.trunks.listDids()).toHaveLength(1);
    });

    it('follows a renumbered user and goes with a removed one, moving the revision', async () => {
      await store.trunks.addDid('555', '1001');
      const r0 = await store.trunks.revision();
      await store.users.update('1001', { name: 'No renumbering' });
      expect(await store.trunks.revision()).toBe(r0);
      await store.users.update('1001', { extension: '1002' });
      expect((await store.trunks.listDids()).map((d) => d.extension)).toEqual(['1002']);
      const r1 = await store.trunks.revision();
      expect(r1).toBeGreaterThan(r0);
      await store.users.remove('1002');
      expect(await store.trunks.listDids()).toEqual([]);
      expect(await store.trunks.revision()).toBeGreaterThan(r1);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { GATEWAY_DEFAULTS, GATEWAY_PROFILES, MAX_PROXIES } from '../../../../src/model/gateway.ts';
import type { Store } from '../../../../src/store/index.ts';
import { storeError } from '../helpers.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';

export function gatewaySuite(engine: StoreEngine): void {
  describe(`GatewayRepository (${engine.name})`, () => {
    let store: Store;
    let db: TestDatabase;
    let clock: number;

    storePerTest(engine, async (d, s) => {
      db = d;
      store = s;
      clock = 1_700_000_000_000;
      for (const ext of ['1001', '1002', '1003']) await store.users.add({ extension: ext, password: 'p', name: `User ${ext}` });
    }, { now: () => clock });

    it('starts with every default; a patch is merged, re-validated and kept across opens', async () => {
      expect(await store.gateway.settings()).toEqual(GATEWAY_DEFAULTS);
      const s = await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: 'pbx.example.com', registerExpiresSec: 600 });
      expect(s).toEqual({ ...GATEWAY_DEFAULTS, mode: 'gateway', defaultDomain: 'pbx.example.com', registerExpiresSec: 600 });
      const s2 = await store.gateway.updateSettings({ sips: true });
      expect(s2).toMatchObject({ mode: 'gateway', registerExpiresSec: 600, sips: true });
      expect(await (await db.open()).gateway.settings()).toEqual(s2);
      expect(await storeError(() => store.gateway.updateSettings({ registerExpiresSec: 5 })))
        .toMatchObject({ code: 'invalid', field: 'registerExpiresSec' });
      expect(await storeError(() => store.gateway.updateSettings({ bogus: 1 } as never))).toMatchObject({ code: 'invalid', field: 'bogus' });
      expect(await storeError(() => store.gateway.updateSettings({ codecs: ['PCMU', 'PCMU'] }))).toMatchObject({ field: 'codecs' });
      expect(await store.gateway.settings()).toEqual(s2);
    });

    it('keeps at most MAX_PROXIES proxies with unique URIs, ordered by priority; removes by id or URI', async () => {
      const a = await store.gateway.addProxy({ uri: 'sip:10.0.0.2:5061;transport=tls', priority: 2, weight: 50 });
      const b = await store.gateway.addProxy({ uri: 'sip:10.0.0.1', priority: 1 });
      expect(b).toEqual({ id: b.id, uri: 'sip:10.0.0.1', priority: 1, weight: 100 });
      expect((await store.gateway.listProxies()).map((p) => p.uri)).toEqual(['sip:10.0.0.1', 'sip:10.0.0.2:5061;transport=tls']);
      expect(await storeError(() => store.gateway.addProxy({ uri: 'SIP:10.0.0.1' }))).toMatchObject({ code: 'invalid', field: 'uri' });
      expect(await storeError(() => store.gateway.addProxy({ uri: 'sip:user@10.0.0.9' }))).toMatchObject({ code: 'invalid', field: 'uri' });
      await store.gateway.addProxy({ uri: 'sip:10.0.0.3' });
      await store.gateway.addProxy({ uri: 'sips:pbx.example.com' });
      expect(MAX_PROXIES).toBe(4);
      const e = await storeError(() => store.gateway.addProxy({ uri: 'sip:10.0.0.5' }));
      expect(e).toMatchObject({ code: 'invalid', field: 'uri' });
      expect(e.message).toContain('at most 4 proxies');
      expect(await store.gateway.removeProxy(a.id)).toEqual(a);
      expect((await store.gateway.removeProxy('sip:10.0.0.1')).id).toBe(b.id);
      expect(await storeError(() => store.gateway.removeProxy('sip:10.0.0.1'))).toMatchObject({ code: 'not-found' });
      expect(await store.gateway.listProxies()).toHaveLength(2);
    });

    it('sets a line per user with defaults, password write-only, and replaces it keeping the password when none is given', async () => {
      const l = await store.gateway.setLine({ extension: '1001', upstreamUser: '41510', password: 's3cret', ipei: '050030733588' });
      expect(l).toEqual({
        extension: '1001', userId: l.userId, upstreamUser: '41510', upstreamDomain: '', authUser: '', hasPassword: true,
        displayName: '', ipei: '05003 0733588', accessCode: '', standbyText: '', disabled: false,
        handset: { model: '', firmware: '', baseStation: '' }, userName: 'User 1001', createdAt: clock, updatedAt: clock,
      });
      expect(JSON.stringify(await store.gateway.listLines())).not.toContain('s3cret');
      clock += 1000;
      const r = await store.gateway.setLine({ extension: '1001', upstreamUser: '41511', standbyText: 'Ward 3' });
      expect(r).toMatchObject({ upstreamUser: '41511', hasPassword: true, ipei: null, standbyText: 'Ward 3', createdAt: clock - 1000, updatedAt: clock });
      expect((await store.gateway.linesWithSecrets())[0]).toMatchObject({ extension: '1001', password: 's3cret' });
      expect((await store.gateway.setLine({ extension: '1001', upstreamUser: '41511', password: '' })).hasPassword).toBe(false);
      expect(await storeError(() => store.gateway.setLine({ extension: '1999', upstreamUser: 'x' }))).toMatchObject({ code: 'not-found', field: 'extension' });
      expect(await storeError(() => store.gateway.setLine({ extension: '1002', upstreamUser: 'a b' }))).toMatchObject({ code: 'invalid', field: 'upstreamUser' });
      expect(await storeError(() => store.gateway.setLine({ extension: '1002', upstreamUser: 'x', accessCode: '12a' }))).toMatchObject({ field: 'accessCode' });
    });

    it('refuses a malformed IPEI and an IPEI another line has', async () => {
      for (const bad of ['0500 0733588', '05003-0733588', '05003 07335881', 'abcde 1234567']) {
        expect(await storeError(() => store.gateway.setLine({ extension: '1001', upstreamUser: 'a', ipei: bad }))).toMatchObject({ code: 'invalid', field: 'ipei' });
      }
      await store.gateway.setLine({ extension: '1001', upstreamUser: 'a', ipei: '05003 0733588' });
      const e = await storeError(() => store.gateway.setLine({ extension: '1002', upstreamUser: 'b', ipei: '050030733588' }));
      expect(e).toMatchObject({ code: 'duplicate', field: 'ipei' });
      expect(e.message).toContain('1001');
      await store.gateway.setLine({ extension: '1002', upstreamUser: 'b' });
      expect(await storeError(() => store.gateway.updateLine('1002', { ipei: '05003 0733588' }))).toMatchObject({ code: 'duplicate', field: 'ipei' });
      // A line keeps its own IPEI when rewritten.
      expect((await store.gateway.updateLine('1001', { ipei: '05003 0733588', disabled: true })).disabled).toBe(true);
    });

    it("enforces the capacity profile's handset limit on new lines and on lowering the profile", async () => {
      const limit = GATEWAY_PROFILES['dect-200'].handsets;
      for (let i = 0; i < limit + 1; i++) await store.users.add({ extension: String(2000 + i), password: 'p' });
      await store.gateway.updateSettings({ profile: 'dect-200' });
      for (let i = 0; i < limit; i++) await store.gateway.setLine({ extension: String(2000 + i), upstreamUser: `u${i}` });
      const e = await storeError(() => store.gateway.setLine({ extension: String(2000 + limit), upstreamUser: 'over' }));
      expect(e).toMatchObject({ code: 'invalid' });
      expect(e.message).toContain(`dect-200 allows ${limit} gateway users`);
      // Replacing an existing line is not a new one.
      expect((await store.gateway.setLine({ extension: '2000', upstreamUser: 'again' })).upstreamUser).toBe('again');
      await store.gateway.updateSettings({ profile: 'dect-400' });
      await store.gateway.setLine({ extension: String(2000 + limit), upstreamUser: 'over' });
      const p = await storeError(() => store.gateway.updateSettings({ profile: 'dect-200' }));
      expect(p).toMatchObject({ code: 'invalid', field: 'profile' });
      expect(p.message).toContain(`dect-200 allows ${limit} gateway users (lines) and ${limit + 1} exist`);
      expect((await store.gateway.settings()).profile).toBe('dect-400');
    });

    it('patches a line, follows a renumbering of its user, goes with the user, and removes a line leaving the user', async () => {
      await store.gateway.setLine({ extension: '1001', upstreamUser: 'a', password: 'pw', authUser: 'auth-a' });
      clock += 5;
      const p = await store.gateway.updateLine('1001', { standbyText: 'Lobby', upstreamDomain: 'pbx.example.com' });
      expect(p).toMatchObject({ upstreamUser: 'a', authUser: 'auth-a', hasPassword: true, standbyText: 'Lobby', upstreamDomain: 'pbx.example.com', updatedAt: clock });
      expect(await storeError(() => store.gateway.updateLine('1001', { extension: '1002' } as never))).toMatchObject({ code: 'invalid' });
      expect(await storeError(() => store.gateway.updateLine('1002', { disabled: true }))).toMatchObject({ code: 'not-found' });
      await store.users.update('1001', { extension: '3001' });
      expect(await store.gateway.getLine('1001')).toBeUndefined();
      expect(await store.gateway.getLine('3001')).toMatchObject({ upstreamUser: 'a', standbyText: 'Lobby' });
      await store.gateway.setLine({ extension: '1002', upstreamUser: 'b' });
      await store.users.remove('1002');
      expect((await store.gateway.listLines()).map((l) => l.extension)).toEqual(['3001']);
      expect((await store.gateway.removeLine('3001')).upstreamUser).toBe('a');
      expect(await store.users.getByExtension('3001')).toBeDefined();
      expect(await store.gateway.listLines()).toEqual([]);
      expect(await storeError(() => store.gateway.removeLine('3001'))).toMatchObject({ code: 'not-found' });
    });

    it('records what the handset reports without moving updatedAt, cut to size', async () => {
      await store.gateway.setLine({ extension: '1001', upstreamUser: 'a' });
      clock += 1000;
      await store.gateway.recordHandset('1001', { model: 'Mitel 622d', firmware: `7.1\x00${'x'.repeat(100)}` });
      await store.gateway.recordHandset('1001', { baseStation: 'RFP-1' });
      const l = (await store.gateway.getLine('1001'))!;
      expect(l.handset).toEqual({ model: 'Mitel 622d', firmware: `7.1${'x'.repeat(61)}`, baseStation: 'RFP-1' });
      expect(l.updatedAt).toBe(clock - 1000);
    });

    it('keeps the upstream MWI per line and tells watchers which lines changed, and when the config changed', async () => {
      await store.gateway.setLine({ extension: '1001', upstreamUser: 'a' });
      await store.gateway.setLine({ extension: '1002', upstreamUser: 'b' });
      const seen: { config: boolean; mwi: readonly string[] }[] = [];
      // PostgreSQL's NOTIFY may run a check before poll() does: what matters is what was delivered since the last drain.
      const drain = () => {
        const d = seen.splice(0);
        return { config: d.some((c) => c.config), mwi: [...new Set(d.flatMap((c) => c.mwi))].sort() };
      };
      const w = store.gateway.watch((c) => { seen.push(c); }, { intervalMs: 0 });
      try {
        expect(await w.poll()).toBe(true);
        expect(drain()).toEqual({ config: true, mwi: [] });
        expect(await w.poll()).toBe(false);
        await store.gateway.setUpstreamMwi('1002', { waiting: true, newMessages: 2, oldMessages: 1, at: 5 });
        expect(await store.gateway.upstreamMwi('1002')).toEqual({ waiting: true, newMessages: 2, oldMessages: 1, at: 5 });
        expect(await store.gateway.upstreamMwi('1001')).toBeUndefined();
        // Another process (another store on the database) feeds the same watchers.
        const other = await db.open();
        await other.gateway.setUpstreamMwi('1001', { waiting: false, newMessages: 0, oldMessages: 0, at: 6 });
        await w.poll();
        expect(drain()).toEqual({ config: false, mwi: ['1001', '1002'] });
        await store.gateway.setUpstreamMwi('1002', { waiting: false, newMessages: -3, oldMessages: 0, at: 7 });
        await w.poll();
        expect(drain()).toEqual({ config: false, mwi: ['1002'] });
        expect((await store.gateway.upstreamMwi('1002'))!.newMessages).toBe(0);
        await store.gateway.recordHandset('1001', { model: 'x' });
        expect(await w.poll()).toBe(false);
        await other.gateway.addProxy({ uri: 'sip:10.0.0.1' });
        await w.poll();
        expect(drain()).toEqual({ config: true, mwi: [] });
        await store.users.update('1001', { name: 'Renamed' });
        await w.poll();
        expect(drain()).toEqual({ config: true, mwi: [] });
        expect((await store.gateway.getLine('1001'))!.userName).toBe('Renamed');
        await store.users.update('1003', { name: 'No line' });
        expect(await w.poll()).toBe(false);
        await store.gateway.updateSettings({ mwi: false });
        await w.poll();
        expect(drain()).toEqual({ config: true, mwi: [] });
        await store.gateway.removeLine('1002');
        await w.poll();
        expect(drain()).toEqual({ config: true, mwi: [] });
        expect(await store.gateway.upstreamMwi('1002')).toBeUndefined();
        expect(await storeError(() => store.gateway.setUpstreamMwi('1002', { waiting: true, newMessages: 1, oldMessages: 0, at: 8 })))
          .toMatchObject({ code: 'not-found' });
      } finally {
        w.stop();
      }
    });
  });
}

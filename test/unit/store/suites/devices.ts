import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { storeError } from '../helpers.ts';
import { storePerTest, type StoreEngine } from '../engines.ts';

export function devicesSuite(engine: StoreEngine): void {
  describe(`DeviceRepository (${engine.name})`, () => {
    let store: Store;
    let clock: number;

    storePerTest(engine, async (_db, s) => {
      store = s;
      clock = 1_700_000_000_000;
      for (const ext of ['1001', '1002', '1003']) await store.users.add({ extension: ext, password: 'p' });
    }, { now: () => clock });

    it('adds a device with its lines in order, normalised MAC, defaults, and fresh secrets kept out of the view', async () => {
      const { device, secrets } = await store.devices.add({ mac: '00:04:F2:AA:BB:CC', family: 'avaya-b179', extensions: ['1002', '1001'] });
      expect(device).toEqual({
        id: device.id, mac: '0004f2aabbcc', family: 'avaya-b179', model: null, extensions: ['1002', '1001'], label: '',
        enabled: true, options: {}, lastFetch: null, createdAt: clock, updatedAt: clock,
      });
      expect(JSON.stringify(device)).not.toContain(secrets.password);
      expect(JSON.stringify(device)).not.toContain(secrets.token);
      expect(secrets.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
      expect(secrets.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const other = await store.devices.add({ mac: '0004f2000001', family: 'avaya-b179', extensions: ['1003'] });
      expect(other.secrets.password).not.toBe(secrets.password);
      expect(other.secrets.token).not.toBe(secrets.token);
      expect(await store.devices.get('00-04-f2-aa-bb-cc')).toEqual(device);
      expect((await store.devices.list()).map((d) => d.mac)).toEqual(['0004f2000001', '0004f2aabbcc']);
      expect(await store.devices.withSecrets('0004f2aabbcc')).toEqual({ device, secrets });
      expect(await store.devices.byToken(secrets.token)).toEqual({ device, secrets });
      expect(await store.devices.byToken('x'.repeat(32))).toBeUndefined();
      expect(await store.devices.byToken("' OR 1=1 --")).toBeUndefined();
    });

    it('refuses a duplicate MAC, a line that is no user, a bad MAC or family, and unknown fields', async () => {
      await store.devices.add({ mac: '0004f2aabbcc', family: 'avaya-46xx', extensions: ['1001'] });
      expect(await storeError(() => store.devices.add({ mac: '00:04:f2:aa:bb:cc', family: 'avaya-46xx', extensions: ['1002'] })))
        .toMatchObject({ code: 'duplicate', field: 'mac' });
      expect(await storeError(() => store.devices.add({ mac: '0004f2000002', family: 'avaya-46xx', extensions: ['1001', '1999'] })))
        .toMatchObject({ code: 'not-found', field: 'extensions', message: 'extensions: no user with extension 1999' });
      expect((await storeError(() => store.devices.add({ mac: 'nope', family: 'avaya-46xx', extensions: ['1001'] }))).field).toBe('mac');
      expect((await storeError(() => store.devices.add({ mac: '0004f2000003', family: 'nokia' as never, extensions: ['1001'] }))).field).toBe('family');
      expect((await storeError(() => store.devices.add({ mac: '0004f2000004', family: 'avaya-46xx', extensions: ['1001', '1001'] }))).field).toBe('extensions');
      expect((await storeError(() => store.devices.update('0004f2aabbcc', { mac: 'x' } as never))).code).toBe('invalid');
      expect(await store.devices.list()).toHaveLength(1);
    });

    it('updates fields and lines, leaving what the patch omits; removes', async () => {
      await store.devices.add({ mac: '0004f2aabbcc', family: 'spectralink-84', extensions: ['1001'], options: { layout: 'flat' }, label: 'ward' });
      clock += 1000;
      const d = await store.devices.update('0004F2AABBCC', { extensions: ['1003', '1002'], enabled: false, model: '8441' });
      expect(d).toMatchObject({ extensions: ['1003', '1002'], enabled: false, model: '8441', label: 'ward', options: { layout: 'flat' }, updatedAt: clock });
      const d2 = await store.devices.update('0004f2aabbcc', { model: null, options: {} });
      expect(d2).toMatchObject({ model: null, options: {}, extensions: ['1003', '1002'] });
      expect(await storeError(() => store.devices.update('0004f2aabbcc', { extensions: ['1998'] }))).toMatchObject({ code: 'not-found' });
      expect((await store.devices.get('0004f2aabbcc'))!.extensions).toEqual(['1003', '1002']);
      expect((await store.devices.remove('0004f2aabbcc')).mac).toBe('0004f2aabbcc');
      expect(await store.devices.get('0004f2aabbcc')).toBeUndefined();
      expect((await storeError(() => store.devices.remove('0004f2aabbcc'))).code).toBe('not-found');
      expect((await storeError(() => store.devices.update('0004f2aabbcc', {}))).code).toBe('not-found');
      // The lines went with the device: the user can go now.
      await store.users.remove('1003');
    });

    it('refuses to remove a user that is a line, naming the device; follows a renumbered one', async () => {
      await store.devices.add({ mac: '0004f2aabbcc', family: 'avaya-b179', extensions: ['1001', '1002'] });
      expect(await storeError(() => store.users.remove('1002'))).toMatchObject({
        code: 'conflict', message: 'user 1002 is a line of device 0004f2aabbcc; remove it from the device first',
      });
      expect(await store.users.getByExtension('1002')).toBeDefined();
      await store.users.update('1001', { extension: '1101' });
      expect((await store.devices.get('0004f2aabbcc'))!.extensions).toEqual(['1101', '1002']);
      await store.users.remove('1003');
    });

    it('resets the secrets: the old token and password stop working', async () => {
      const { secrets } = await store.devices.add({ mac: '0004f2aabbcc', family: 'avaya-b179', extensions: ['1001'] });
      const fresh = await store.devices.resetSecrets('0004f2aabbcc');
      expect(fresh.password).not.toBe(secrets.password);
      expect(fresh.token).not.toBe(secrets.token);
      expect(await store.devices.byToken(secrets.token)).toBeUndefined();
      expect((await store.devices.byToken(fresh.token))!.device.mac).toBe('0004f2aabbcc');
      expect((await store.devices.withSecrets('0004f2aabbcc'))!.secrets).toEqual(fresh);
      expect((await storeError(() => store.devices.resetSecrets('0004f2000009'))).code).toBe('not-found');
    });

    it('records the last fetch without moving updatedAt, ignoring removed devices', async () => {
      const { device } = await store.devices.add({ mac: '0004f2aabbcc', family: 'avaya-b179', extensions: ['1001'] });
      clock += 5000;
      const fetch = { at: clock, file: 'b179.xml', status: 200, result: 'served', source: '127.0.0.1' };
      await store.devices.recordFetches(new Map([['0004f2aabbcc', fetch], ['0004f2000009', fetch]]));
      const d = (await store.devices.get('0004f2aabbcc'))!;
      expect(d.lastFetch).toEqual(fetch);
      expect(d.updatedAt).toBe(device.updatedAt);
      expect(await store.devices.get('0004f2000009')).toBeUndefined();
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { Store } from '../../../../src/store/index.ts';
import { storeError } from '../helpers.ts';
import { storePerTest, type StoreEngine } from '../engines.ts';

const WAV = new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3, 0, 0xff]);

export function appDataSuite(engine: StoreEngine): void {
  describe(`IVR menus, conference rooms, audio files (${engine.name})`, () => {
    let store: Store;
    let clock: number;

    storePerTest(engine, async (_db, s) => {
      store = s;
      clock = 1_700_000_000_000;
      await store.users.add({ extension: '1001', password: 'p' });
      await store.huntGroups.add({ number: '600', name: 'Ward' });
    }, { now: () => clock });

    it('sets a menu with defaults, replaces it, and moves the revision', async () => {
      const r0 = await store.ivrMenus.revision();
      const m = await store.ivrMenus.set({ number: '8100', name: 'Main', options: { 1: { type: 'extension', target: '1001' } } });
      expect(m).toEqual({
        number: '8100', name: 'Main', greeting: null, timeoutSec: 5, maxRetries: 3,
        options: { 1: { type: 'extension', target: '1001' } }, onTimeout: { type: 'repeat' }, onInvalid: { type: 'repeat' },
        operator: null, createdAt: clock, updatedAt: clock,
      });
      expect(await store.ivrMenus.revision()).toBeGreaterThan(r0);
      clock += 1000;
      const m2 = await store.ivrMenus.set({ number: '8100', name: 'Main 2', options: { '#': { type: 'hangup' } }, operator: '1001', maxRetries: 1 });
      expect(m2).toMatchObject({ name: 'Main 2', options: { '#': { type: 'hangup' } }, operator: '1001', maxRetries: 1, createdAt: clock - 1000, updatedAt: clock });
      expect(await store.ivrMenus.list()).toEqual([m2]);
      expect(await store.ivrMenus.get('8100')).toEqual(m2);
    });

    it('links menus, refuses loops without a key and removing a menu in use', async () => {
      await store.ivrMenus.set({ number: '8101', name: 'Sales' });
      await store.ivrMenus.set({ number: '8100', name: 'Main', options: { 2: { type: 'menu', target: '8101' } }, onTimeout: { type: 'menu', target: '8101' } });
      // A digit back to the main menu is the caller's choice.
      await store.ivrMenus.set({ number: '8101', name: 'Sales', options: { 9: { type: 'menu', target: '8100' } } });
      const loop = await storeError(() => store.ivrMenus.set({ number: '8101', name: 'Sales', onInvalid: { type: 'menu', target: '8100' } }));
      expect([loop.code, loop.field, loop.message]).toEqual(['invalid', 'onInvalid',
        'onInvalid: menus 8101 -> 8100 -> 8101 would loop without the caller pressing a key; use repeat, or a key']);
      const self = await storeError(() => store.ivrMenus.set({ number: '8102', name: 'Self', options: { 1: { type: 'menu', target: '8102' } } }));
      expect(self.message).toBe('options.1: menus 8102 -> 8102 would loop without the caller pressing a key; use repeat, or a key');
      const missing = await storeError(() => store.ivrMenus.set({ number: '8102', name: 'X', options: { 3: { type: 'menu', target: '8199' } } }));
      expect([missing.code, missing.field, missing.message]).toEqual(['not-found', 'options.3', 'options.3: no IVR menu 8199']);
      const inUse = await storeError(() => store.ivrMenus.remove('8101'));
      expect([inUse.code, inUse.message]).toEqual(['conflict', 'number: IVR menu 8100 (option 2) sends callers to menu 8101']);
      await store.ivrMenus.set({ number: '8100', name: 'Main' });
      await store.ivrMenus.remove('8101');
      expect((await store.ivrMenus.list()).map((m) => m.number)).toEqual(['8100']);
      expect((await storeError(() => store.ivrMenus.remove('8101'))).code).toBe('not-found');
    });

    it('shares the numbering with users, hunt groups, short codes and the voicemail number', async () => {
      await store.ivrMenus.set({ number: '8100', name: 'Main' });
      await store.conferenceRooms.add({ number: '8200' });
      const cases: [() => unknown, string, string, string][] = [
        [() => store.ivrMenus.set({ number: '1001', name: 'x' }), 'conflict', 'number', 'number: 1001 is the extension of a user'],
        [() => store.ivrMenus.set({ number: '600', name: 'x' }), 'conflict', 'number', 'number: 600 is the number of a hunt group'],
        [() => store.ivrMenus.set({ number: '8200', name: 'x' }), 'conflict', 'number', 'number: 8200 is the number of a conference room'],
        [() => store.ivrMenus.set({ number: '8000', name: 'x' }), 'conflict', 'number', 'number: 8000 is the voicemail number'],
        [() => store.ivrMenus.set({ number: '*17', name: 'x' }), 'conflict', 'number', 'number: *17 would be taken as short code *17'],
        [() => store.conferenceRooms.add({ number: '8100' }), 'conflict', 'number', 'number: 8100 is the number of an IVR menu'],
        [() => store.conferenceRooms.add({ number: '8200' }), 'duplicate', 'number', 'conference room 8200 already exists'],
        [() => store.conferenceRooms.add({ number: '1001' }), 'conflict', 'number', 'number: 1001 is the extension of a user'],
        [() => store.conferenceRooms.add({ number: '8000' }), 'conflict', 'number', 'number: 8000 is the voicemail number'],
        [() => store.users.add({ extension: '8100', password: 'p' }), 'conflict', 'extension', 'extension: 8100 is the number of an IVR menu'],
        [() => store.users.update('1001', { extension: '8200' }), 'conflict', 'extension', 'extension: 8200 is the number of a conference room'],
        [() => store.huntGroups.add({ number: '8100', name: 'x' }), 'conflict', 'number', 'number: 8100 is the number of an IVR menu'],
        [() => store.huntGroups.update('600', { number: '8200' }), 'conflict', 'number', 'number: 8200 is the number of a conference room'],
        [() => store.shortCodes.add({ code: '82N', feature: 'pickup-directed' }), 'conflict', 'code', 'code: 82N would catch calls to conference room 8200'],
        [() => store.shortCodes.add({ code: '81N', feature: 'pickup-directed' }), 'conflict', 'code', 'code: 81N would catch calls to IVR menu 8100'],
      ];
      for (const [fn, code, field, message] of cases) {
        const e = await storeError(fn);
        expect([e.code, e.field, e.message]).toEqual([code, field, message]);
      }
    });

    it('validates menus by the model', async () => {
      const cases: [unknown, string, string][] = [
        [{ number: '8100', name: '' }, 'name', 'name: must not be empty'],
        [{ number: '8100', name: 'x', options: { 5: { type: 'extension' } } }, 'options.5.target', 'options.5.target: is required'],
        [{ number: '8100', name: 'x', options: { A: { type: 'hangup' } } }, 'options.A', "options.A: must be a key of the phone: 0-9, '*' or '#'"],
        [{ number: '8100', name: 'x', options: { 1: { type: 'ring' } } }, 'options.1.type', 'options.1.type: must be extension, huntgroup, voicemail, menu, dial-by-extension, repeat or hangup'],
        [{ number: '8100', name: 'x', onTimeout: { type: 'dial-by-extension' } }, 'onTimeout.type', 'onTimeout.type: dial-by-extension needs a key from the caller; use it as an option'],
        [{ number: '8100', name: 'x', timeoutSec: 0 }, 'timeoutSec', 'timeoutSec: must be at least 1'],
        [{ number: '8100', name: 'x', greeting: 'nope' }, 'greeting', 'greeting: no audio file nope'],
      ];
      for (const [input, field, message] of cases) {
        const e = await storeError(() => store.ivrMenus.set(input as never));
        expect([e.field, e.message]).toEqual([field, message]);
      }
    });

    it('lets a trunk DID name an IVR menu; the DID goes with the menu', async () => {
      await store.ivrMenus.set({ number: '8100', name: 'Main' });
      const r0 = await store.trunks.revision();
      const did = await store.trunks.addDid('+4930100', '8100');
      expect(did).toEqual({ number: '+4930100', extension: '8100', createdAt: clock });
      await store.trunks.addDid('+4930200', '1001');
      expect(await store.trunks.revision()).toBeGreaterThan(r0);
      expect((await store.trunks.listDids()).map((d) => [d.number, d.extension])).toEqual([['+4930100', '8100'], ['+4930200', '1001']]);
      expect((await storeError(() => store.trunks.addDid('+4930100', '1001'))).code).toBe('duplicate');
      expect((await storeError(() => store.trunks.addDid('+4930200', '8100'))).code).toBe('duplicate');
      expect((await storeError(() => store.trunks.addDid('+4930300', '8199'))).message).toBe('extension: no user with extension 8199 and no IVR menu 8199');
      const r1 = await store.trunks.revision();
      await store.ivrMenus.remove('8100');
      expect(await store.trunks.revision()).toBeGreaterThan(r1);
      expect((await store.trunks.listDids()).map((d) => d.number)).toEqual(['+4930200']);
      await store.ivrMenus.set({ number: '8100', name: 'Main' });
      await store.trunks.addDid('+4930100', '8100');
      expect((await store.trunks.removeDid('+4930100')).extension).toBe('8100');
      expect((await store.trunks.listDids()).map((d) => d.number)).toEqual(['+4930200']);
    });

    it('adds, renumbers and removes conference rooms', async () => {
      const r = await store.conferenceRooms.add({ number: '8200', pin: '4711', name: 'Board' });
      expect(r).toEqual({ number: '8200', name: 'Board', pin: '4711', maxParticipants: 10, announceJoin: true, createdAt: clock, updatedAt: clock });
      const r0 = await store.conferenceRooms.revision();
      const u = await store.conferenceRooms.update('8200', { number: '8201', pin: null, maxParticipants: 50 });
      expect(u).toMatchObject({ number: '8201', pin: null, maxParticipants: 50, name: 'Board' });
      expect(await store.conferenceRooms.revision()).toBeGreaterThan(r0);
      expect((await storeError(() => store.conferenceRooms.update('8201', { maxParticipants: 51 }))).message).toBe('maxParticipants: must be at most 50');
      expect((await storeError(() => store.conferenceRooms.update('8201', { pin: '12a' }))).message).toBe('pin: must be 1-16 digits');
      expect(await store.conferenceRooms.list()).toEqual([u]);
      await store.conferenceRooms.remove('8201');
      expect(await store.conferenceRooms.get('8201')).toBeUndefined();
      expect((await storeError(() => store.conferenceRooms.remove('8201'))).code).toBe('not-found');
    });

    it('keeps audio bytes, refuses removing a file in use by a menu or the MoH setting', async () => {
      const r0 = await store.audioFiles.revision();
      const a = await store.audioFiles.put({ name: 'welcome', kind: 'prompt', wav: WAV, durationMs: 1500 });
      expect(a).toEqual({ name: 'welcome', kind: 'prompt', size: WAV.length, durationMs: 1500, createdAt: clock });
      expect(Buffer.from((await store.audioFiles.read('welcome'))!)).toEqual(Buffer.from(WAV));
      expect(await store.audioFiles.revision()).toBeGreaterThan(r0);
      await store.audioFiles.put({ name: 'music', kind: 'moh', wav: WAV.subarray(0, 4), durationMs: 10 });
      expect((await store.audioFiles.list()).map((f) => [f.name, f.size])).toEqual([['music', 4], ['welcome', WAV.length]]);

      await store.ivrMenus.set({ number: '8100', name: 'Main', greeting: 'welcome' });
      await store.ivrMenus.set({ number: '8101', name: 'Other', greeting: 'welcome' });
      expect((await storeError(() => store.audioFiles.remove('welcome'))).message).toBe('name: welcome is the greeting of IVR menu 8100, 8101');

      expect(await store.audioFiles.moh()).toBeNull();
      const r1 = await store.audioFiles.revision();
      await store.audioFiles.setMoh('music');
      expect(await store.audioFiles.moh()).toBe('music');
      expect(await store.audioFiles.revision()).toBeGreaterThan(r1);
      expect((await storeError(() => store.audioFiles.remove('music'))).message)
        .toBe('name: music is the music on hold (moh.file); choose another or reset it first');
      expect((await storeError(() => store.audioFiles.setMoh('nothing'))).code).toBe('not-found');
      await store.audioFiles.setMoh(null);
      expect((await store.audioFiles.remove('music')).name).toBe('music');
      expect(await store.audioFiles.read('music')).toBeUndefined();
      expect((await storeError(() => store.audioFiles.put({ name: 'a.wav', kind: 'moh', wav: WAV, durationMs: 1 }))).field).toBe('name');
      expect((await storeError(() => store.audioFiles.put({ name: 'a', kind: 'song' as never, wav: WAV, durationMs: 1 }))).message).toBe('kind: must be moh or prompt');
    });
  });
}

import { describe, expect, it } from 'vitest';
import { StoreError, type Store } from '../../../../src/store/index.ts';
import { IMPORT_CHUNK_ROWS } from '../../../../src/store/user-import.ts';
import { storePerTest, type StoreEngine } from '../engines.ts';

export function userImportSuite(engine: StoreEngine): void {
  describe(`UserRepository.importCsv (${engine.name})`, () => {
    let store: Store;

    storePerTest(engine, (_db, s) => {
      store = s;
    });

    it('adds and updates rows, quoted fields included, with BOM and CRLF', async () => {
      await store.users.add({ extension: '101', password: 'old', name: 'Bob' });
      const csv = '\ufeffExtension,Name,Password\r\n100,"Smith, Ann",s3cret\r\n101,,"pa""ss"\r\n\r\n102,Carl,x\r\n';
      const results = await store.users.importCsv(csv);
      expect(results).toEqual([
        { row: 2, extension: '100', action: 'added' },
        { row: 3, extension: '101', action: 'updated' },
        { row: 5, extension: '102', action: 'added' },
      ]);
      expect(await store.users.getByExtension('100')).toMatchObject({ name: 'Smith, Ann', password: 's3cret' });
      // An empty cell keeps the stored value.
      expect(await store.users.getByExtension('101')).toMatchObject({ name: 'Bob', password: 'pa"ss' });
    });

    it('applies the good rows and reports the bad ones, each bad row rolled back alone', async () => {
      await store.users.add({ extension: '300', password: 'p', authUser: 'taken' });
      const csv = [
        'extension,name,password,authUser',
        '100,A,pw,',
        '1 0 1,B,pw,',
        '102,C,,',
        '103,D,pw,taken',
        '104,E,pw,,extra',
        '105,F,pw,',
      ].join('\n');
      const seqBefore = await store.users.lastChangeSeq();
      const results = await store.users.importCsv(csv);
      expect(results.map((r) => [r.row, r.extension, r.action])).toEqual([
        [2, '100', 'added'],
        [3, '1 0 1', 'error'],
        [4, '102', 'error'],
        [5, '103', 'error'],
        [6, '104', 'error'],
        [7, '105', 'added'],
      ]);
      expect(results[1]!.error).toMatch(/extension/);
      expect(results[2]!.error).toMatch(/password/);
      expect(results[3]!.error).toMatch(/taken/);
      expect((await store.users.list()).map((u) => u.extension)).toEqual(['100', '105', '300']);
      // Only the applied rows reach the change log.
      expect((await store.users.pollChanges(seqBefore)).map((c) => c.extension)).toEqual(['100', '105']);
    });

    it('refuses an unusable header or file as a whole', async () => {
      for (const csv of ['', 'name,password\n1,2', 'extension,pasword\n1,2', 'extension,password,extension\n', 'extension,password\n"1,2']) {
        let err: unknown;
        try {
          await store.users.importCsv(csv);
        } catch (e) {
          err = e;
        }
        expect(err, csv).toBeInstanceOf(StoreError);
        expect((err as StoreError).field).toBe('csv');
      }
      expect(await store.users.count()).toBe(0);
    });

    it('applies a big file in chunks, reporting progress, and refuses one broken at its end before any row applies', async () => {
      const rows = Array.from({ length: IMPORT_CHUNK_ROWS * 2 + 7 }, (_, i) => `${5000 + i},pw-${i}`);
      const progress: [number, number][] = [];
      const results = await store.users.importCsv(`extension,password\n${rows.join('\n')}\n`, { onProgress: (d, t) => progress.push([d, t]) });
      const total = rows.length;
      expect(results).toHaveLength(total);
      expect(results.every((r) => r.action === 'added')).toBe(true);
      expect(results[total - 1]).toEqual({ row: total + 1, extension: String(5000 + total - 1), action: 'added' });
      expect(progress).toEqual([[0, total], [IMPORT_CHUNK_ROWS, total], [IMPORT_CHUNK_ROWS * 2, total], [total, total]]);
      expect(await store.users.count()).toBe(total);

      const broken = `extension,password\n${rows.map((r) => r.replace(/^5/, '7')).join('\n')}\n"7999,open`;
      let err: unknown;
      try {
        await store.users.importCsv(broken);
      } catch (e) {
        err = e;
      }
      expect((err as StoreError).field).toBe('csv');
      expect(await store.users.count()).toBe(total);
    });

    it('refuses spreadsheet formulas where a field cannot hold one, per row, and keeps them where it can', async () => {
      const csv = [
        'extension,fullName,password,pickupGroup,forwardBusy',
        '=1+1,A,pw,,',
        '101,"=cmd|\' /C calc\'!A0",+pw,,',
        '102,B,pw,@SUM(A1),',
        '103,C,pw,,-2000',
        "'=104,D,pw,,",
        '105,E,pw,,+4930123',
      ].join('\n');
      const results = await store.users.importCsv(csv);
      expect(results.map((r) => [r.row, r.action])).toEqual([[2, 'error'], [3, 'added'], [4, 'error'], [5, 'error'], [6, 'error'], [7, 'added']]);
      expect(results[0]!.error).toBe('extension: a spreadsheet formula is not allowed here (the cell starts with "=")');
      expect(results[2]!.error).toMatch(/^pickupGroup: a spreadsheet formula is not allowed here/);
      expect(results[3]!.error).toMatch(/^forwardBusy: a spreadsheet formula is not allowed here/);
      // An export's guard (a ' in front) is taken off before the check: still a formula.
      expect(results[4]!.error).toMatch(/^extension: a spreadsheet formula/);
      expect(await store.users.getByExtension('101')).toMatchObject({ name: "=cmd|' /C calc'!A0", password: '+pw' });
      expect((await store.users.getByExtension('105'))?.forwardBusy).toBe('+4930123');
      expect(await store.users.count()).toBe(2);
    });
  });

  describe(`Store.inBatches and rehearse (${engine.name})`, () => {
    let store: Store;

    storePerTest(engine, (_db, s) => {
      store = s;
    });

    it('commits each batch, rolls back one that throws, and the next one goes on', async () => {
      const seen = await store.inBatches(async (batch) => {
        await batch(async (w) => {
          await w.users.add({ extension: '100', password: 'p' });
          await w.users.add({ extension: '101', password: 'p' });
        });
        const failed = await batch(async (w) => {
          await w.users.add({ extension: '102', password: 'p' });
          throw new Error('disk on fire');
        }).catch((e: Error) => e.message);
        await batch(async (w) => w.users.add({ extension: '103', password: 'p' }));
        return failed;
      });
      expect(seen).toBe('disk on fire');
      expect((await store.users.list()).map((u) => u.extension)).toEqual(['100', '101', '103']);
    });

    it('reads the users a page at a time by id, whatever their extensions', async () => {
      for (const ext of ['300', '20', '1000', 'alice']) await store.users.add({ extension: ext, password: 'p' });
      const first = await store.users.afterId(0, 3);
      expect(first.map((u) => u.extension)).toEqual(['300', '20', '1000']);
      const rest = await store.users.afterId(first[2]!.id, 3);
      expect(rest.map((u) => u.extension)).toEqual(['alice']);
      expect(await store.users.afterId(rest[0]!.id, 3)).toEqual([]);
    });

    it('rehearses: the run sees its own writes, the store keeps none of them', async () => {
      await store.users.add({ extension: '100', password: 'p' });
      const inside = await store.rehearse(async (s) => {
        await s.users.add({ extension: '200', password: 'p' });
        await s.users.update('100', { name: 'Changed' });
        return (await s.users.list()).map((u) => `${u.extension}:${u.name}`);
      });
      expect(inside).toEqual(['100:Changed', '200:']);
      expect((await store.users.list()).map((u) => `${u.extension}:${u.name}`)).toEqual(['100:']);
      await store.users.add({ extension: '300', password: 'p' });
      expect(await store.users.count()).toBe(2);
    });
  });
}

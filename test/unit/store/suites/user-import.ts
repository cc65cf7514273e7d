import { describe, expect, it } from 'vitest';
import { StoreError, type Store } from '../../../../src/store/index.ts';
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

    it('applies the good rows and reports the bad ones, in one transaction', async () => {
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
  });
}

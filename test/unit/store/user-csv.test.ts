// The one CSV dialect: a file the API exports imports with `user import`
// (store.users.importCsv) and back, every field included.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toCsv } from '../../../src/api/user-io.ts';
import { userCsvRows, UserCsvError } from '../../../src/model/user-csv.ts';
import type { SqliteStore, User } from '../../../src/store/index.ts';
import { tempStores } from './helpers.ts';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of items) out.push(i);
  return out;
}

const strip = ({ id: _i, createdAt: _c, updatedAt: _u, ...rest }: User) => rest;

describe('user CSV round trip', () => {
  let t: ReturnType<typeof tempStores>;
  let a: SqliteStore;
  let b: SqliteStore;

  beforeEach(() => {
    t = tempStores();
    a = t.open();
    const other = tempStores();
    b = other.open();
    const done = t.cleanup;
    t.cleanup = async () => { await done(); await other.cleanup(); };
  });
  afterEach(() => t.cleanup());

  it('exports, imports into another store and exports the same file again', async () => {
    await a.users.add({ extension: '1002', password: 'p2' });
    await a.users.add({
      extension: '1001', password: '=1+2', name: '@Zoë "Z" Müller, Ward 4', authUser: 'zoe', voicemailCode: '1234',
      enabled: false, callWaiting: false, codecs: ['G722', 'PCMA'], maxCalls: 3, noAnswerTimeoutSec: 30, outboundCalls: true,
      voicemail: false, mwi: 'unsolicited',
      media: { security: 'enforced', directMedia: false },
      forwardUnconditional: '+4930123456', forwardBusy: '2000', forwardNoAnswer: '3000', forwardNoAnswerSec: 25,
      forwardNumber: '+5', dnd: true, dndExceptions: ['1002', '+49301'], followMe: '1002', pickupGroup: 'ward.4',
    });
    const file = toCsv(await a.users.list(), true);
    // Formulas are guarded: a spreadsheet shows these cells as text.
    expect(file).toContain("'=1+2");
    expect(file).toContain("'+4930123456");
    expect(file).toContain(`"'@Zoë ""Z"" Müller, Ward 4"`);
    const results = await b.users.importCsv(file);
    expect(results.map((r) => r.action)).toEqual(['added', 'added']);
    expect((await b.users.list()).map(strip)).toEqual((await a.users.list()).map(strip));
    expect(toCsv(await b.users.list(), true)).toBe(file);
  });

  it('an import restores feature and media state that was switched off, as exported', async () => {
    await a.users.add({ extension: '1001', password: 'p' });
    const file = toCsv(await a.users.list(), true);
    await a.users.update('1001', { dnd: true, forwardBusy: '2000', dndExceptions: ['9'], media: { dtmf: 'info' } });
    await a.users.importCsv(file);
    expect(await a.users.getByExtension('1001')).toMatchObject({ dnd: false, forwardBusy: null, dndExceptions: [], media: {}, forwardNumber: null });
  });

  it('reads ";" files, aliases, blank lines', async () => {
    const text = '\ufeffExtension;Display Name;Login Code;DND\r\n1001;"Smith; Ann";s3cret;yes\r\n\r\n1002;B;x;maybe\r\n';
    const rows = await collect(userCsvRows(text));
    expect(rows[0]).toEqual({ row: 2, extension: '1001', fields: { extension: '1001', name: 'Smith; Ann', password: 's3cret', dnd: true } });
    expect(rows[1]).toMatchObject({ row: 4, error: 'dnd: must be true or false' });
    await expect(collect(userCsvRows('extension,colour\n1,red'))).rejects.toThrow(UserCsvError);
    await expect(collect(userCsvRows('extension\n"open'))).rejects.toThrow(UserCsvError);
  });
});

// Issue 11 item 6 against a real server: spreadsheet formulas (OWASP CSV
// injection) are guarded on export and taken back on import, so an export
// re-imports to the same users; extensions cannot be formulas; an import
// refuses a formula, row by row, in a field that cannot hold one.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000);
afterAll(() => s.ts.stop());

const FORMULA_START = /^[=+\-@\t\r]/;

describe('CSV safety', () => {
  const risky = {
    extension: '8100', password: '=HYPERLINK("http://x")', name: "=cmd|' /C calc'!A0",
    forwardBusy: '+4930123', authUser: "'quoted", voicemailCode: '1234',
  };

  it('guards formula cells in the export and imports the export back to the same user', async () => {
    expect((await s.admin.post('/api/users', risky)).status).toBe(201);
    const before = (await s.admin.get('/api/users/8100')).json;
    const file = (await s.admin.get('/api/users/export?passwords=true')).text;
    const cells = (parse(file) as string[][]).flat();
    // No cell a spreadsheet would evaluate; the guarded ones carry a ' in front.
    expect(cells.filter((c) => FORMULA_START.test(c))).toEqual([]);
    expect(cells).toEqual(expect.arrayContaining(["'=cmd|' /C calc'!A0", '\'=HYPERLINK("http://x")', "'+4930123", "''quoted"]));

    expect((await s.admin.delete('/api/users/8100')).status).toBe(204);
    const back = await s.admin.request('POST', '/api/users/import', { raw: file, contentType: 'text/csv' });
    expect(back.status, back.text).toBe(200);
    expect(back.json.rows.find((r: { extension: string }) => r.extension === '8100')).toMatchObject({ action: 'add' });
    const after = (await s.admin.get('/api/users/8100')).json;
    const { id: _i, createdAt: _c, updatedAt: _u, ...same } = before;
    expect(after).toMatchObject(same);
    const secrets = (await s.admin.get('/api/users/export?format=json&passwords=true')).json.find((u: { extension: string }) => u.extension === '8100');
    expect(secrets).toMatchObject({ password: risky.password, voicemailCode: '1234', authUser: "'quoted", name: "=cmd|' /C calc'!A0" });
  });

  it('refuses an extension that starts like a formula, through the API and in an import row', async () => {
    for (const extension of ['=1+1', '+', '-100', '@100', '+=1']) {
      const r = await s.admin.post('/api/users', { extension, password: 'Str0ng-Secret' });
      expect(r.status, extension).toBe(400);
      expect(r.json.issues.map((i: { path: string }) => i.path), extension).toEqual(['extension']);
    }
    const file = [
      'extension,fullName,password,pickupGroup,maxCalls,media.dtmf,codecs',
      '=1+1,A,Str0ng-Secret,,,,',
      '8201,"=SUM(A1:A9)",Str0ng-Secret,,,,',
      '8202,B,Str0ng-Secret,=A1,,,',
      '8203,C,Str0ng-Secret,,+3,,',
      '8204,D,Str0ng-Secret,,,@info,',
      '8205,E,Str0ng-Secret,,,,-PCMU',
    ].join('\n');
    const r = await s.admin.request('POST', '/api/users/import?partial=true', { raw: file, contentType: 'text/csv' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.summary).toEqual({ add: 1, update: 0, error: 5 });
    expect(r.json.rows.map((x: { row: number; action: string; error?: string }) => [x.row, x.action, x.error?.split(':')[0]])).toEqual([
      [2, 'error', 'extension'], [3, 'add', undefined], [4, 'error', 'pickupGroup'], [5, 'error', 'maxCalls'],
      [6, 'error', 'media.dtmf'], [7, 'error', 'codecs'],
    ]);
    for (const x of r.json.rows.filter((y: { action: string }) => y.action === 'error')) expect(x.error).toMatch(/a spreadsheet formula is not allowed here/);
    expect((await s.admin.get('/api/users/8201')).json.name).toBe('=SUM(A1:A9)');
    expect((await s.admin.get('/api/users/8202')).status).toBe(404);
  });

  it('keeps JSON imports small: they are parsed in one piece', async () => {
    const big = JSON.stringify(Array.from({ length: 30_000 }, (_, i) => ({ extension: String(900000 + i), password: 'pw-pw-pw-pw' })));
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const r = await s.admin.request('POST', '/api/users/import', { raw: big, contentType: 'application/json' });
    expect(r.status, r.text.slice(0, 200)).toBe(413);
    expect(r.json.message).toMatch(/send bigger files as CSV/);
    expect((await s.admin.get('/api/users/900000')).status).toBe(404);
  });
});

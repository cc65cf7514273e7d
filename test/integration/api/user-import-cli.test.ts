// Issue 12 item 5 end to end: what the web UI exports (GET /api/users/export,
// CSV and JSON, with passwords) is what `switchboard user import` takes, into
// a fresh data directory, and the directory it builds exports the very same
// file; a dry run changes nothing; a duplicate extension and a weak password
// are refused naming the row, and nothing is imported then.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPieces } from '../../../src/api/user-io.ts';
import { openStoreAt } from '../../../src/store/open.ts';
import { tempDataDir } from '../lib/server.ts';
import { startWithApi, type ApiTestServer } from './client.ts';

const BIN = new URL('../../../bin/switchboard.mjs', import.meta.url).pathname;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The export the API would write for the users in a data directory. */
async function exportOf(dataDir: string, format: 'csv' | 'json'): Promise<string> {
  const store = await openStoreAt(undefined, dataDir);
  try {
    let out = '';
    for await (const piece of exportPieces(store.users, format, true)) out += piece;
    return out;
  } finally {
    await store.close();
  }
}

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
  const users = [
    { extension: '2001', password: 'Ward-4-Desk-Pw', name: 'Ward 4 Desk', voicemailCode: '4711', codecs: ['G722', 'PCMU'], maxCalls: 2 },
    { extension: '2002', password: 'Pharmacy-Pw-9', name: 'Pharmacy, "Main"', authUser: 'dect2002', enabled: false, outboundCalls: true },
    { extension: '2003', password: '=Formula-Pw-1', name: '@Night nurse', media: { security: 'enforced', dtmf: 'info' }, dnd: true, dndExceptions: ['2001'] },
    { extension: '2004', password: 'Porter-Phone-7', forwardBusy: '2001', forwardNoAnswer: '+4930123456', forwardNoAnswerSec: 20, pickupGroup: 'ward.4' },
  ];
  for (const u of users) {
    const r = await s.admin.post('/api/users', u);
    expect(r.status, r.text).toBe(201);
  }
}, 90_000);
afterAll(() => s.ts.stop());

describe('switchboard user import takes the web export', () => {
  for (const format of ['csv', 'json'] as const) {
    it(`${format}: a dry run changes nothing, the import rebuilds the users, and they export to the same file`, async () => {
      const exported = await s.admin.get(`/api/users/export?format=${format}&passwords=true`);
      expect(exported.status).toBe(200);
      const dir = tempDataDir();
      const file = path.join(dir, `users.${format}`);
      writeFileSync(file, exported.text);
      const target = tempDataDir();

      const dry = cli('user', 'import', file, '--dry-run', '--data-dir', target);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`row ${format === 'csv' ? 2 : 1} (2001): would add\n`);
      expect(dry.stdout).toMatch(/dry run: would add 4, update 0; 0 errors; nothing changed\n$/);
      expect(await exportOf(target, format)).toBe(format === 'csv' ? exported.text.split('\r\n')[0] + '\r\n' : '[]');

      const r = cli('user', 'import', file, '--data-dir', target);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('imported: 4 added, 0 updated, 0 errors\n');
      expect(await exportOf(target, format)).toBe(exported.text);

      // Again: every row an update that changes nothing.
      const again = cli('user', 'import', file, '--dry-run', '--data-dir', target);
      expect(again.stdout).toMatch(/would add 0, update 4; 0 errors/);
      expect(again.stdout).not.toMatch(/would update \S/);
    });
  }

  it('refuses a file with a duplicate extension or a weak password as a whole, naming the rows, through the CLI and the API', async () => {
    const dir = tempDataDir();
    const file = path.join(dir, 'dup.csv');
    writeFileSync(file, 'extension,name,password\n3001,A,Alpha-Desk-Pw\n3002,B,111111111\n3001,C,Charlie-Desk-Pw\n20a1,D,Delta-Desk-Pw\n');
    const r = cli('user', 'import', file, '--data-dir', dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('nothing imported: 3 of 4 rows have errors (fix them, or --partial to import the good rows)\n');
    expect(r.stderr).toContain('row 3 (3002): password: must not be one character or a short group repeated (like 1111 or 1212)\n');
    expect(r.stderr).toContain('row 4 (3001): extension 3001 is also on row 2: an extension may appear once in a file (rows 2 and 4)\n');
    expect(r.stderr).toContain('row 5 (20a1): extension: must be digits only, 2 to 15 of them\n');
    expect(JSON.parse(cli('user', 'list', '--json', '--data-dir', dir).stdout)).toEqual([]);

    const api = await s.admin.request('POST', '/api/users/import', { raw: 'extension,name,password\n3001,A,Alpha-Desk-Pw\n3001,C,Charlie-Desk-Pw\n', contentType: 'text/csv' });
    expect(api.json).toMatchObject({ applied: false, summary: { add: 1, update: 0, error: 1 } });
    expect(api.json.rows[1].error).toMatch(/rows 2 and 3/);
    expect((await s.admin.get('/api/users/3001')).status).toBe(404);
  });

  it('reads an export from before the one name: fullName is the display name, the old account name only where that is empty', async () => {
    const dir = tempDataDir();
    const file = path.join(dir, 'old.csv');
    writeFileSync(file, 'extension,name,fullName,authUser,password\n4001,4001,Ward 4 Desk,4001,Old-Export-Pw1\n4002,Alice,,4002,Old-Export-Pw2\n4003,4003,,4003,Old-Export-Pw3\n');
    expect(cli('user', 'import', file, '--data-dir', dir).stdout).toBe('imported: 3 added, 0 updated, 0 errors\n');
    const names = (JSON.parse(cli('user', 'list', '--json', '--data-dir', dir).stdout) as { extension: string; name: string }[])
      .map((u) => [u.extension, u.name]);
    expect(names).toEqual([['4001', 'Ward 4 Desk'], ['4002', 'Alice'], ['4003', '']]);
    // The API reads an old JSON export the same way.
    const old = [
      { extension: '4011', name: '4011', fullName: 'Old Json Desk', password: 'Old-Export-Pw4' },
      { extension: '4012', name: 'Bob', fullName: '', password: 'Old-Export-Pw5' },
    ];
    const r = await s.admin.post('/api/users/import', old);
    expect(r.json).toMatchObject({ applied: true, summary: { add: 2, error: 0 } });
    expect((await s.admin.get('/api/users/4011')).json.name).toBe('Old Json Desk');
    expect((await s.admin.get('/api/users/4012')).json.name).toBe('Bob');
  });
});

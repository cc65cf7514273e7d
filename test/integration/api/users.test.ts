// /api/users over HTTPS: CRUD, validation errors that name the field, lists,
// bulk actions, export without secrets, import with dry run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

const paths = (r: { json: { issues?: { path: string }[] } }) => (r.json.issues ?? []).map((i) => i.path);

describe('users CRUD', () => {
  it('adds, reads, changes and removes a user; the password is write-only', async () => {
    const add = await s.admin.post('/api/users', {
      extension: '1001', password: 'Ward-4-Secret', name: 'Ward 4', voicemailCode: '1234', codecs: ['PCMU', 'G722'], maxCalls: 2,
    });
    expect(add.status).toBe(201);
    expect(add.json).toMatchObject({ extension: '1001', name: 'Ward 4', authUser: '1001', hasVoicemailCode: true, codecs: ['PCMU', 'G722'], maxCalls: 2, enabled: true });
    expect(add.json).not.toHaveProperty('password');
    expect(add.json).not.toHaveProperty('voicemailCode');
    expect(add.text).not.toContain('Secret-1001');
    expect((await s.ts.server.store.users.getByExtension('1001'))!.password).toBe('Ward-4-Secret');

    const one = await s.admin.get('/api/users/1001');
    expect(one.status).toBe(200);
    expect(one.text).not.toContain('Ward-4-Secret');

    const patch = await s.admin.patch('/api/users/1001', { name: 'Ward 5', maxCalls: null, enabled: false, password: 'New-Secret' });
    expect(patch.status).toBe(200);
    expect(patch.json).toMatchObject({ name: 'Ward 5', maxCalls: null, enabled: false });
    expect((await s.ts.server.store.users.getByExtension('1001'))!.password).toBe('New-Secret');

    const renumber = await s.admin.patch('/api/users/1001', { extension: '1002' });
    expect(renumber.json).toMatchObject({ extension: '1002', authUser: '1002', notice: expect.stringMatching(/auth user followed it \(was 1001, now 1002\)/) });
    expect((await s.admin.patch('/api/users/1002', { authUser: 'ward4' })).json.notice).toBeUndefined();
    const kept = await s.admin.patch('/api/users/1002', { extension: '1003' });
    expect(kept.json).toMatchObject({ extension: '1003', authUser: 'ward4', notice: expect.stringMatching(/auth user stays ward4/) });
    expect((await s.admin.patch('/api/users/1003', { extension: '1002' })).status).toBe(200);
    expect((await s.admin.get('/api/users/1001')).status).toBe(404);

    expect((await s.admin.delete('/api/users/1002')).status).toBe(204);
    const gone = await s.admin.get('/api/users/1002');
    expect(gone.status).toBe(404);
    expect(gone.json.error).toBe('not-found');
    expect((await s.admin.delete('/api/users/1002')).status).toBe(404);
    expect((await s.admin.patch('/api/users/1002', { name: 'x' })).status).toBe(404);
  });

  it('names the field and the rule in validation errors', async () => {
    const r = await s.admin.post('/api/users', { extension: 'bad ext', password: '', maxCalls: 0, codecs: [], colour: 'red' });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('validation');
    expect(paths(r)).toEqual(expect.arrayContaining(['extension', 'password', 'maxCalls', 'codecs', 'colour']));
    const byPath = Object.fromEntries(r.json.issues.map((i: { path: string; message: string }) => [i.path, i.message]));
    expect(byPath.extension).toBe('must be digits only, 2 to 15 of them');
    expect(byPath.maxCalls).toMatch(/from 1 to 100/);
    expect(byPath.colour).toMatch(/unknown field/);
    expect(r.json.issues[0].in).toBe('body');

    expect(paths(await s.admin.post('/api/users', { password: 'Str0ng-Secret' }))).toEqual(['extension']);
    // Every problem at once, the rules' among the schema's.
    expect(paths(await s.admin.post('/api/users', { extension: '20a1', password: '1234', maxCalls: 0 })).sort()).toEqual(['extension', 'maxCalls', 'password', 'password']);
    expect(paths(await s.admin.post('/api/users', { extension: '1100', password: 'Str0ng-Secret', voicemailCode: '12a' }))).toEqual(['voicemailCode']);
    expect(paths(await s.admin.post('/api/users', { extension: '1100', password: 'Str0ng-Secret', enabled: 'yes' }))).toEqual(['enabled']);
    expect(paths(await s.admin.post('/api/users', { extension: '1100', password: 'Str0ng-Secret', codecs: ['PC MU'] }))).toEqual(['codecs.0']);
    expect((await s.admin.post('/api/users', [1, 2])).status).toBe(400);
    const notJson = await s.admin.request('POST', '/api/users', { raw: '{bad json', contentType: 'application/json' });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toBe('bad-request');
    const q = await s.admin.get('/api/users?limit=0&colour=red');
    expect(q.status).toBe(400);
    expect(q.json.issues).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'limit', in: 'query' }), expect.objectContaining({ path: 'colour', in: 'query' }),
    ]));
    const patch = await s.admin.patch('/api/users/4040', { noAnswerTimeoutSec: 99999 });
    expect(patch.status).toBe(400);
    expect(paths(patch)).toEqual(['noAnswerTimeoutSec']);
  });

  it('answers 409 naming the field for duplicates the store finds', async () => {
    expect((await s.admin.post('/api/users', { extension: '1200', password: 'Str0ng-Secret', authUser: 'shared' })).status).toBe(201);
    const dupExt = await s.admin.post('/api/users', { extension: '1200', password: 'Str0ng-Secret' });
    expect(dupExt.status).toBe(409);
    expect(paths(dupExt)).toEqual(['extension']);
    const dupAuth = await s.admin.post('/api/users', { extension: '1201', password: 'Str0ng-Secret', authUser: 'shared' });
    expect(dupAuth.status).toBe(409);
    expect(paths(dupAuth)).toEqual(['authUser']);
  });
});

describe('users list and bulk actions', () => {
  beforeAll(async () => {
    const names = ['Carol', 'alice', 'Bob', 'dave', 'Eve'];
    for (let i = 0; i < names.length; i++) {
      const r = await s.admin.post('/api/users', { extension: String(300 + i), password: `Str0ng-Pw-${i}`, name: names[i], enabled: i % 2 === 0 });
      expect(r.status).toBe(201);
    }
  }, 90_000);

  it('paginates with a total, searches, sorts and filters by enabled', async () => {
    const page = await s.admin.get('/api/users?search=30&limit=2&offset=1');
    expect(page.json).toMatchObject({ total: 5, offset: 1, limit: 2 });
    expect(page.json.items.map((u: { extension: string }) => u.extension)).toEqual(['301', '302']);
    const byName = await s.admin.get('/api/users?search=30&sort=name');
    expect(byName.json.items.map((u: { name: string }) => u.name)).toEqual(['alice', 'Bob', 'Carol', 'dave', 'Eve']);
    const desc = await s.admin.get('/api/users?search=30&sort=-extension&limit=2');
    expect(desc.json).toMatchObject({ total: 5 });
    expect(desc.json.items.map((u: { extension: string }) => u.extension)).toEqual(['304', '303']);
    const disabled = await s.admin.get('/api/users?search=30&enabled=false');
    expect(disabled.json.total).toBe(2);
    expect(disabled.json.items.every((u: { enabled: boolean }) => !u.enabled)).toBe(true);
    const found = await s.admin.get('/api/users?search=CAROL');
    expect(found.json.items.map((u: { extension: string }) => u.extension)).toEqual(['300']);
    expect((await s.admin.get('/api/users?sort=colour')).json.issues[0]).toMatchObject({ path: 'sort', in: 'query' });
    expect((await s.admin.get('/api/users?enabled=maybe')).json.issues[0]).toMatchObject({ path: 'enabled' });
  });

  it('enables, disables and deletes in bulk, reporting each extension', async () => {
    const off = await s.admin.post('/api/users/bulk', { action: 'disable', extensions: ['300', '302', '999'] });
    expect(off.status).toBe(200);
    expect(off.json.results).toEqual([
      { extension: '300', ok: true }, { extension: '302', ok: true }, { extension: '999', ok: false, error: expect.stringMatching(/no user/) },
    ]);
    expect((await s.ts.server.store.users.getByExtension('300'))!.enabled).toBe(false);
    await s.admin.post('/api/users/bulk', { action: 'enable', extensions: ['300'] });
    expect((await s.ts.server.store.users.getByExtension('300'))!.enabled).toBe(true);
    const del = await s.admin.post('/api/users/bulk', { action: 'delete', extensions: ['303', '304'] });
    expect(del.json.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    expect(await s.ts.server.store.users.getByExtension('304')).toBeUndefined();
    const bad = await s.admin.post('/api/users/bulk', { action: 'explode', extensions: [] });
    expect(paths(bad)).toEqual(expect.arrayContaining(['action', 'extensions']));
  });
});

describe('export and import', () => {
  const secrets = ['Exp-Secret-A', 'Exp-Secret-B', '987654'];
  beforeAll(async () => {
    expect((await s.admin.post('/api/users', { extension: '7001', password: secrets[0], name: 'Export, A', voicemailCode: secrets[2] })).status).toBe(201);
    expect((await s.admin.post('/api/users', { extension: '7002', password: secrets[1], name: 'Export "B"', codecs: ['G722', 'PCMU'] })).status).toBe(201);
  }, 90_000);

  it('exports CSV and JSON without login or voicemail codes by default', async () => {
    const csv = await s.admin.get('/api/users/export');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/users\.csv/);
    const header = csv.text.split('\r\n')[0]!;
    expect(header).toBe('extension,name,authUser,enabled,callWaiting,codecs,maxCalls,noAnswerTimeoutSec,outboundCalls,voicemail,mwi,' +
      'media.security,media.srtcp,media.directMedia,media.dtmf,media.capneg,media.transport,' +
      'forwardUnconditional,forwardBusy,forwardNoAnswer,forwardNoAnswerSec,forwardNumber,dnd,dndExceptions,followMe,pickupGroup');
    expect(csv.text).toContain('7001,"Export, A",7001,true');
    expect(csv.text).toContain('"Export ""B"""');
    const json = await s.admin.get('/api/users/export?format=json');
    expect(json.json.find((u: { extension: string }) => u.extension === '7002')).toEqual(expect.objectContaining({ codecs: ['G722', 'PCMU'] }));
    for (const r of [csv, json, await s.admin.get('/api/users/export?passwords=false')]) {
      for (const secret of secrets) expect(r.text).not.toContain(secret);
      expect(r.text).not.toMatch(/password|voicemailCode/i);
    }
  });

  it('exports secrets only when asked, and audits that', async () => {
    const r = await s.admin.get('/api/users/export?format=json&passwords=true');
    const a = r.json.find((u: { extension: string }) => u.extension === '7001');
    expect(a).toMatchObject({ password: secrets[0], voicemailCode: secrets[2] });
    const csv = await s.admin.get('/api/users/export?passwords=true');
    expect(csv.text.split('\r\n')[0]).toContain('password,voicemailCode');
    const audit = await s.admin.get('/api/audit?target=users');
    expect(audit.json.items[0].action).toMatch(/with passwords/);
  });

  it('dry-runs an import row by row without changing anything', async () => {
    const before = await s.ts.server.store.users.snapshot();
    const file = 'Extension,Full Name,Password,enabled\n7001,Renamed A,,false\n7100,New Person,New-Person-Pw,\n7101,No Password,,\nbad ext,X,pw,\n7102,Bad Flag,pw,perhaps\n7103,Weak,12345678,\n7100,Twice,Other-Person-Pw,\n';
    const r = await s.admin.request('POST', '/api/users/import?dryRun=true', { raw: file, contentType: 'text/csv' });
    expect(r.status).toBe(200);
    expect(r.json.dryRun).toBe(true);
    expect(r.json).toMatchObject({ applied: false, summary: { add: 1, update: 1, error: 5 } });
    expect(r.json.rows).toEqual([
      { row: 2, extension: '7001', action: 'update', changes: ['name', 'enabled'], media: {} },
      { row: 3, extension: '7100', action: 'add', media: {} },
      { row: 4, extension: '7101', action: 'error', error: expect.stringMatching(/^password: /) },
      { row: 5, extension: 'bad ext', action: 'error', error: expect.stringMatching(/^extension: /) },
      { row: 6, extension: '7102', action: 'error', error: expect.stringMatching(/^enabled: /) },
      { row: 7, extension: '7103', action: 'error', error: 'password: must not be a run of characters (like 1234, 4321 or abcd)' },
      { row: 8, extension: '7100', action: 'error', error: expect.stringMatching(/^extension 7100 is also on row 3.*\(rows 3 and 8\)/) },
    ]);
    const after = await s.ts.server.store.users.snapshot();
    expect(after.users).toEqual(before.users);
    expect(after.seq).toBe(before.seq); // not even the change log moved
    expect(await s.ts.server.store.users.getByExtension('7100')).toBeUndefined();
  });

  it('imports nothing from a file with a bad row unless asked to apply the good ones', async () => {
    const file = 'extension,fullName,password\n7001,Renamed A,\n7200,Imported,Imported-Pw-x\n7201,,\n';
    const before = await s.ts.server.store.users.snapshot();
    const refused = await s.admin.request('POST', '/api/users/import', { raw: file, contentType: 'text/csv' });
    expect(refused.json).toMatchObject({ dryRun: false, applied: false, summary: { add: 1, update: 1, error: 1 } });
    expect((await s.ts.server.store.users.snapshot()).users).toEqual(before.users);
    const r = await s.admin.request('POST', '/api/users/import?partial=true', { raw: file, contentType: 'text/csv' });
    expect(r.json).toMatchObject({ applied: true, summary: { add: 1, update: 1, error: 1 } });
    expect((await s.ts.server.store.users.getByExtension('7001'))!.name).toBe('Renamed A');
    expect((await s.ts.server.store.users.getByExtension('7001'))!.password).toBe(secrets[0]); // empty cell kept it
    expect((await s.ts.server.store.users.getByExtension('7200'))!.password).toBe('Imported-Pw-x');
    const audit = await s.admin.get('/api/audit?target=user:7200');
    expect(audit.json.items[0]).toMatchObject({ actor: 'admin', action: 'POST /api/users/import', after: expect.objectContaining({ password: '***' }) });
  });

  it('round-trips an export with passwords through a JSON import', async () => {
    const exported = (await s.admin.get('/api/users/export?format=json&passwords=true')).json as Array<Record<string, unknown>>;
    const del = await s.admin.post('/api/users/bulk', { action: 'delete', extensions: ['7001', '7002'] });
    expect(del.json.results.every((x: { ok: boolean }) => x.ok)).toBe(true);
    const rows = exported.filter((u) => u.extension === '7001' || u.extension === '7002');
    const r = await s.admin.post('/api/users/import', rows);
    expect(r.json.summary).toEqual({ add: 2, update: 0, error: 0 });
    expect(await s.ts.server.store.users.getByExtension('7002')).toMatchObject({ password: secrets[1], name: 'Export "B"', codecs: ['G722', 'PCMU'] });
    expect((await s.ts.server.store.users.getByExtension('7001'))!.voicemailCode).toBe(secrets[2]);
  });

  it('carries the media settings through export, dry run and import, CSV and JSON', async () => {
    const created = await s.admin.post('/api/users', {
      extension: '7400', password: 'Media-Secret-1', media: { security: 'enforced', srtcp: 'encrypted', directMedia: false, dtmf: 'info' },
    });
    expect(created.status, created.text).toBe(201);
    expect((await s.admin.post('/api/users', { extension: '7401', password: 'Media-Secret-2', media: { capneg: true } })).status).toBe(201);

    const json = (await s.admin.get('/api/users/export?format=json')).json as Array<Record<string, unknown>>;
    expect(json.find((u) => u.extension === '7400')!.media).toEqual({ security: 'enforced', srtcp: 'encrypted', directMedia: false, dtmf: 'info' });
    expect(json.find((u) => u.extension === '7401')!.media).toEqual({ capneg: true });
    const csv = (await s.admin.get('/api/users/export')).text;
    expect(csv).not.toContain('Media-Secret');
    const lines = csv.trim().split('\r\n');
    const head = lines[0]!.split(',');
    const cellsOf = (ext: string) => {
      const cells = lines.find((l) => l.startsWith(`${ext},`))!.split(',');
      return Object.fromEntries(head.map((h, i) => [h, cells[i]]));
    };
    expect(cellsOf('7400')).toMatchObject({
      'media.security': 'enforced', 'media.srtcp': 'encrypted', 'media.directMedia': 'false', 'media.dtmf': 'info', 'media.capneg': '', 'media.transport': '',
    });
    expect(cellsOf('7401')['media.capneg']).toBe('true');

    // Change both users, then bring the exported state back: CSV for 7400, JSON for 7401.
    await s.admin.patch('/api/users/7400', { media: { security: 'best-effort', transport: 'tls', directMedia: null } });
    await s.admin.patch('/api/users/7401', { media: { capneg: null, dtmf: 'info' } });
    const csvBack = [lines[0], lines.find((l) => l.startsWith('7400,'))].join('\r\n');
    const dry = await s.admin.request('POST', '/api/users/import?dryRun=true', { raw: csvBack, contentType: 'text/csv' });
    expect(dry.json.rows).toEqual([{
      row: 2, extension: '7400', action: 'update', changes: ['media.security', 'media.directMedia', 'media.transport'],
      media: { security: 'enforced', srtcp: 'encrypted', directMedia: false, dtmf: 'info' },
    }]);
    expect((await s.ts.server.store.users.getByExtension('7400'))!.media).toEqual({ security: 'best-effort', srtcp: 'encrypted', dtmf: 'info', transport: 'tls' });
    const real = await s.admin.request('POST', '/api/users/import', { raw: csvBack, contentType: 'text/csv' });
    expect(real.json.summary).toEqual({ add: 0, update: 1, error: 0 });
    expect((await s.ts.server.store.users.getByExtension('7400'))!.media).toEqual({ security: 'enforced', srtcp: 'encrypted', directMedia: false, dtmf: 'info' });
    expect((await s.ts.server.store.users.getByExtension('7400'))!.password).toBe('Media-Secret-1'); // no password column: kept

    // A JSON media object is the whole media settings: dtmf, left out, returns to the system.
    const jsonBack = await s.admin.post('/api/users/import', json.filter((u) => u.extension === '7401'));
    expect(jsonBack.json.rows[0]).toMatchObject({ action: 'update', changes: ['media.dtmf', 'media.capneg'], media: { capneg: true } });
    expect((await s.ts.server.store.users.getByExtension('7401'))!.media).toEqual({ capneg: true });

    // Bad media cells are reported per row, naming the column; "system" is the same as empty.
    const file = 'extension,password,media.security,media.directMedia\n7402,Media-Pw-One,enforced,system\n7403,Media-Pw-Two,always,\n7404,Media-Pw-Six,,maybe\n';
    const mixed = await s.admin.request('POST', '/api/users/import?dryRun=true', { raw: file, contentType: 'text/csv' });
    expect(mixed.json.rows).toEqual([
      { row: 2, extension: '7402', action: 'add', media: { security: 'enforced' } },
      { row: 3, extension: '7403', action: 'error', error: expect.stringMatching(/^media\.security: .*enforced/) },
      { row: 4, extension: '7404', action: 'error', error: expect.stringMatching(/^media\.directMedia: must be true or false/) },
    ]);
    expect(await s.ts.server.store.users.getByExtension('7402')).toBeUndefined();
  });

  it('rejects unusable files as a whole with a clear error', async () => {
    const unknownCol = await s.admin.request('POST', '/api/users/import', { raw: 'extension,colour\n1,red\n' });
    expect(unknownCol.status).toBe(400);
    expect(unknownCol.json.issues[0]).toMatchObject({ path: 'file', message: expect.stringMatching(/colour/) });
    const noExt = await s.admin.request('POST', '/api/users/import', { raw: 'name\nx\n' });
    expect(noExt.json.issues[0].message).toMatch(/extension/);
    const notArray = await s.admin.post('/api/users/import', { nope: true });
    expect(notArray.status).toBe(400);
    const jsonAsCsv = await s.admin.post('/api/users/import?format=csv', [{ extension: '1' }]);
    expect(jsonAsCsv.status).toBe(400);
    const badRow = await s.admin.post('/api/users/import?dryRun=true', [{ extension: '7300', password: 'x', colour: 'red' }, 'text']);
    expect(badRow.json.rows).toEqual([
      { row: 1, extension: '7300', action: 'error', error: expect.stringMatching(/colour/) },
      { row: 2, extension: '', action: 'error', error: 'must be an object' },
    ]);
  });
});

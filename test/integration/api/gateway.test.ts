// /api/gateway (issue 15): settings, proxies, lines, bulk enable/disable and
// the users-file import, on a real server and store; passwords never leave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_DEFAULTS } from '../../../src/model/gateway.ts';
import { accountWith, startWithApi, type ApiClient, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
let reader: ApiClient; // an operator: may read, may not change
beforeAll(async () => {
  s = await startWithApi();
  for (const ext of ['1001', '1002', '1003']) {
    const r = await s.admin.post('/api/users', { extension: ext, password: 'Pass-Word-xyz-42', name: `User ${ext}` });
    expect(r.status, r.text).toBe(201);
  }
  reader = await accountWith(s, 'viewer', ['operator']);
}, 90_000);
afterAll(async () => {
  await s.ts.stop();
});

const paths = (r: { json: { issues?: { path: string }[] } }) => (r.json.issues ?? []).map((i) => i.path).sort();

describe('/api/gateway', () => {
  it('reads and patches the settings (validated, audited, admin only, CSRF checked)', async () => {
    expect((await s.admin.get('/api/gateway/settings')).json).toEqual(GATEWAY_DEFAULTS);
    const p = await s.admin.patch('/api/gateway/settings', { mode: 'both', defaultDomain: 'pbx.example.com' });
    expect(p.status, p.text).toBe(200);
    expect(p.json).toMatchObject({ mode: 'both', defaultDomain: 'pbx.example.com', transport: 'tls' });
    const bad = await s.admin.patch('/api/gateway/settings', { registerExpiresSec: 1, transport: 'sctp' });
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['registerExpiresSec', 'transport']);
    expect((await reader.patch('/api/gateway/settings', { mode: 'gateway' })).status).toBe(403);
    expect((await s.admin.request('PATCH', '/api/gateway/settings', { body: { mode: 'gateway' }, csrf: false })).status).toBe(403);
    expect((await reader.get('/api/gateway/settings')).json.mode).toBe('both');
    const audit = await s.admin.get('/api/audit?target=gateway:settings');
    expect(audit.json.items[0]).toMatchObject({ action: 'PATCH /api/gateway/settings', after: { mode: 'both' } });
  });

  it('adds, lists and removes proxies; the fifth and a duplicate are refused', async () => {
    const ids: number[] = [];
    for (const [i, uri] of ['sip:192.0.2.1:5061;transport=tls', 'sip:192.0.2.2', 'sip:192.0.2.3', 'sips:pbx.example.com'].entries()) {
      const r = await s.admin.post('/api/gateway/proxies', { uri, priority: 4 - i, weight: 10 });
      expect(r.status, r.text).toBe(201);
      ids.push(r.json.id);
    }
    expect((await s.admin.get('/api/gateway/proxies')).json.items.map((p: { priority: number }) => p.priority)).toEqual([1, 2, 3, 4]);
    const fifth = await s.admin.post('/api/gateway/proxies', { uri: 'sip:192.0.2.5' });
    expect(fifth.status).toBe(400);
    expect(fifth.json.message).toContain('at most 4');
    expect(paths(await s.admin.post('/api/gateway/proxies', { uri: 'http://x' }))).toEqual(['uri']);
    expect((await s.admin.delete(`/api/gateway/proxies/${ids[0]}`)).status).toBe(204);
    expect((await s.admin.delete(`/api/gateway/proxies/${ids[0]}`)).status).toBe(404);
    const dup = await s.admin.post('/api/gateway/proxies', { uri: 'sip:192.0.2.2' });
    expect(dup.status).toBe(400);
    for (const id of ids.slice(1)) expect((await s.admin.delete(`/api/gateway/proxies/${id}`)).status).toBe(204);
  });

  it('puts, patches, lists and deletes lines; the password is write-only and kept on a PUT without one', async () => {
    const put = await s.admin.put('/api/gateway/lines/1001', { upstreamUser: '41510', password: 'Up-Secret-9', ipei: '050030733588', standbyText: 'Ward 3' });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ extension: '1001', upstreamUser: '41510', hasPassword: true, ipei: '05003 0733588', standbyText: 'Ward 3' });
    expect(put.text).not.toContain('Up-Secret-9');
    const again = await s.admin.put('/api/gateway/lines/1001', { upstreamUser: '41510', ipei: '05003 0733588' });
    expect(again.json).toMatchObject({ hasPassword: true, standbyText: '' });
    expect((await s.ts.server.store.gateway.linesWithSecrets())[0]!.password).toBe('Up-Secret-9');
    const dupIpei = await s.admin.put('/api/gateway/lines/1002', { upstreamUser: '41511', ipei: '05003 0733588' });
    expect(dupIpei.status).toBe(409);
    expect(paths(dupIpei)).toEqual(['ipei']);
    expect(paths(await s.admin.put('/api/gateway/lines/1002', { upstreamUser: '41511', ipei: '123' }))).toEqual(['ipei']);
    expect((await s.admin.put('/api/gateway/lines/1999', { upstreamUser: 'x' })).status).toBe(404);
    const patch = await s.admin.patch('/api/gateway/lines/1001', { accessCode: '1234', password: 'Other-Secret-2' });
    expect(patch.json).toMatchObject({ accessCode: '1234', hasPassword: true, upstreamUser: '41510' });
    const list = await reader.get('/api/gateway/lines');
    expect(list.json.items.map((l: { extension: string }) => l.extension)).toEqual(['1001']);
    const audit = await s.admin.get('/api/audit?target=gateway:line:1001');
    expect(audit.text).not.toContain('Up-Secret-9');
    expect(audit.text).not.toContain('Other-Secret-2');
    expect((await s.admin.delete('/api/gateway/lines/1001')).status).toBe(204);
    expect((await s.admin.delete('/api/gateway/lines/1001')).status).toBe(404);
    expect((await s.admin.get('/api/users/1001')).status).toBe(200);
  });

  it('refuses a line over the capacity profile and a profile below the lines there are', async () => {
    await s.admin.patch('/api/gateway/settings', { profile: 'dect-200' });
    const made: string[] = [];
    for (let i = 0; i < 12; i++) {
      const ext = String(3000 + i);
      expect((await s.admin.post('/api/users', { extension: ext, password: 'Pass-Word-xyz-42' })).status).toBe(201);
      const put = await s.admin.put(`/api/gateway/lines/${ext}`, { upstreamUser: `u${i}` });
      expect(put.status, put.text).toBe(200);
      made.push(ext);
    }
    const over = await s.admin.put('/api/gateway/lines/1003', { upstreamUser: 'over' });
    expect(over.status).toBe(400);
    expect(over.json.message).toContain('dect-200 allows 12 gateway users');
    await s.admin.patch('/api/gateway/settings', { profile: 'dect-400' });
    expect((await s.admin.put('/api/gateway/lines/1003', { upstreamUser: 'over' })).status).toBe(200);
    const lower = await s.admin.patch('/api/gateway/settings', { profile: 'dect-200' });
    expect(lower.status).toBe(400);
    expect(paths(lower)).toEqual(['profile']);

    // Bulk: a name without a line changes nothing; "all" reaches every line.
    const typo = await s.admin.post('/api/gateway/lines/bulk', { action: 'disable', extensions: ['3000', '1002'] });
    expect(typo.status).toBe(404);
    expect((await s.ts.server.store.gateway.getLine('3000'))!.disabled).toBe(false);
    const two = await s.admin.post('/api/gateway/lines/bulk', { action: 'disable', extensions: ['3000', '3001'] });
    expect(two.json.items.map((l: { disabled: boolean }) => l.disabled)).toEqual([true, true]);
    const all = await s.admin.post('/api/gateway/lines/bulk', { action: 'enable', extensions: 'all' });
    expect(all.json.items).toHaveLength(13);
    expect((await s.ts.server.store.gateway.listLines()).every((l) => !l.disabled)).toBe(true);
    for (const ext of [...made, '1003']) expect((await s.admin.delete(`/api/gateway/lines/${ext}`)).status).toBe(204);
  });

  it('exports lines in the users file and imports it back: stripped passwords kept, new lines without one disabled, formulas refused', async () => {
    await s.admin.put('/api/gateway/lines/1001', { upstreamUser: '41510', password: 'Kept-Secret-1', ipei: '05003 0733588', standbyText: 'Ward 3' });
    const file = await s.admin.get('/api/provisioning/gateway-users?format=csv&ext=1001,1002');
    expect(file.status, file.text).toBe(200);
    expect(file.text).not.toContain('Kept-Secret-1');
    expect(file.text).toContain('05003 0733588,,Ward 3,41510,');
    // Edited in a spreadsheet: a new line for 1002 (no password), a formula for 1003.
    const edited = `${file.text.replace('Ward 3', 'Ward 4').replace(/\r\n,,User 1002,1002,/, '\r\n,,User 1002,41512,')}` +
      ',,=HYPERLINK(1),41513,,,,,false,false,false,1003\r\n';
    const dry = await s.admin.request('POST', '/api/gateway/lines/import?dryRun=true', { raw: edited, contentType: 'text/csv' });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json, dry.text).toMatchObject({ dryRun: true, added: 1, updated: 1, errors: 1 });
    expect((await s.ts.server.store.gateway.getLine('1001'))!.standbyText).toBe('Ward 3');
    expect(await s.ts.server.store.gateway.getLine('1002')).toBeUndefined();
    const r = await s.admin.request('POST', '/api/gateway/lines/import', { raw: edited, contentType: 'text/csv' });
    expect(r.json.rows).toEqual([
      { row: 2, extension: '1001', action: 'updated', passwordKept: true },
      { row: 3, extension: '1002', action: 'added', needsPassword: true },
      { row: 4, extension: '41513', action: 'error', error: expect.stringContaining('spreadsheet formula') },
    ]);
    const secrets = await s.ts.server.store.gateway.linesWithSecrets();
    expect(secrets.map((l) => [l.extension, l.upstreamUser, l.password, l.disabled, l.standbyText])).toEqual([
      ['1001', '41510', 'Kept-Secret-1', false, 'Ward 4'], ['1002', '41512', '', true, 'User 1002'],
    ]);
    const unusable = await s.admin.request('POST', '/api/gateway/lines/import', { raw: 'colour\r\nred\r\n', contentType: 'text/csv' });
    expect(unusable.status).toBe(400);
    expect((await reader.request('POST', '/api/gateway/lines/import', { raw: edited, contentType: 'text/csv' })).status).toBe(403);

    // stripPasswordsOnExport off: the file carries them, and only for an admin.
    await s.admin.patch('/api/gateway/settings', { stripPasswordsOnExport: false });
    expect((await s.admin.get('/api/provisioning/gateway-users?ext=1001')).text).toContain('Kept-Secret-1');
    expect((await reader.get('/api/provisioning/gateway-users?ext=1001')).status).toBe(403);
    await s.admin.patch('/api/gateway/settings', { stripPasswordsOnExport: true });
  });
});

// /api/hunt-groups and /api/short-codes on the real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

describe('hunt groups', () => {
  it('adds, logs a member out, changes, refuses clashes and removes a group', async () => {
    for (const ext of ['5001', '5002']) expect((await s.admin.post('/api/users', { extension: ext, password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    const add = await s.admin.post('/api/hunt-groups', { number: '650', name: 'Ward', strategy: 'longest-idle', members: ['5001', '5002'] });
    expect(add.status, add.text).toBe(201);
    expect(add.json).toMatchObject({ number: '650', noAnswerSec: 15, overflow: null, members: [{ extension: '5001', loggedIn: true }, { extension: '5002', loggedIn: true }] });
    const out = await s.admin.put('/api/hunt-groups/650/members/5002', { loggedIn: false });
    expect(out.json.members[1]).toEqual({ extension: '5002', loggedIn: false });
    const patch = await s.admin.patch('/api/hunt-groups/650', { overflow: '5001', noAnswerSec: 30 });
    expect(patch.json).toMatchObject({ overflow: '5001', noAnswerSec: 30 });
    expect((await s.admin.get('/api/hunt-groups')).json.items).toHaveLength(1);

    const clash = await s.admin.post('/api/users', { extension: '650', password: 'Str0ng-Desk-Pw' });
    expect([clash.status, clash.json.error, clash.json.issues[0].path]).toEqual([409, 'conflict', 'extension']);
    const bad = await s.admin.post('/api/hunt-groups', { number: '651', name: 'x', strategy: 'random', noAnswerSec: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['noAnswerSec', 'strategy']);
    const user = await s.admin.get('/api/users/5001');
    expect(user.json).toMatchObject({ dnd: false, forwardUnconditional: null, dndExceptions: [] });

    expect((await s.admin.delete('/api/hunt-groups/650')).status).toBe(204);
    expect((await s.admin.get('/api/hunt-groups/650')).status).toBe(404);
  });
});

describe('short codes', () => {
  it('lists the defaults, adds, changes with an encoded pattern, refuses conflicts, removes', async () => {
    const list = await s.admin.get('/api/short-codes');
    expect(list.json.items.find((c: { code: string }) => c.code === '*07*N#')).toMatchObject({ feature: 'forward-number', value: null });
    const add = await s.admin.post('/api/short-codes', { code: '*88*N#', feature: 'park', position: 0 });
    expect(add.status, add.text).toBe(201);
    expect(add.json.position).toBe(0);
    const patch = await s.admin.patch(`/api/short-codes/${encodeURIComponent('*88*N#')}`, { feature: 'unpark' });
    expect(patch.json.feature).toBe('unpark');
    expect((await s.admin.post('/api/users', { extension: '5100', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    const clash = await s.admin.post('/api/short-codes', { code: '51N', feature: 'park' });
    expect([clash.status, clash.json.error]).toEqual([409, 'conflict']);
    const unknown = await s.admin.post('/api/short-codes', { code: '*98', feature: 'teleport' });
    expect(unknown.json.issues[0].path).toBe('feature');
    expect((await s.admin.delete(`/api/short-codes/${encodeURIComponent('*88*N#')}`)).status).toBe(204);
    expect((await s.admin.get('/api/openapi.json')).json.paths['/api/short-codes/{code}'].patch).toBeDefined();
  });
});

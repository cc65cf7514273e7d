// /api/trunks, /api/dids and /api/calls on the real store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

const paths = (r: { json: { issues?: { path: string }[] } }) => (r.json.issues ?? []).map((i) => i.path).sort();

describe('trunks', () => {
  it('adds, lists, reads, changes and removes a trunk; the registration password is write-only', async () => {
    const add = await s.admin.post('/api/trunks', {
      name: 'itsp', host: 'sip.example.net', transport: 'tls', registerUser: 'acct', registerPassword: 'Trunk-Secret-1', prefix: '0', strip: 1, addPrefix: '+49',
    });
    expect(add.status, add.text).toBe(201);
    expect(add.json).toMatchObject({ name: 'itsp', host: 'sip.example.net', port: 5061, transport: 'tls', registerUser: 'acct', hasRegisterPassword: true, prefix: '0', strip: 1, addPrefix: '+49', enabled: true });
    expect(add.text).not.toContain('Trunk-Secret-1');
    expect((await s.ts.server.store.trunks.get('itsp'))!.registerPassword).toBe('Trunk-Secret-1');

    const list = await s.admin.get('/api/trunks');
    expect(list.json.items.map((t: { name: string }) => t.name)).toEqual(['itsp']);
    expect(list.text).not.toContain('Trunk-Secret-1');
    expect((await s.admin.get('/api/trunks/itsp')).json.host).toBe('sip.example.net');

    const patch = await s.admin.patch('/api/trunks/itsp', { port: 5071, registerUser: null, registerPassword: null, enabled: false });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.json).toMatchObject({ port: 5071, registerUser: null, hasRegisterPassword: false, enabled: false });

    const audit = await s.admin.get('/api/audit?target=trunk:itsp');
    const created = audit.json.items.find((e: { action: string }) => e.action === 'POST /api/trunks');
    expect(created.after).toMatchObject({ name: 'itsp', registerPassword: '***' });
    expect(audit.text).not.toContain('Trunk-Secret-1');

    expect((await s.admin.delete('/api/trunks/itsp')).status).toBe(204);
    expect((await s.admin.get('/api/trunks/itsp')).status).toBe(404);
    expect((await s.admin.delete('/api/trunks/itsp')).status).toBe(404);
  });

  it('names fields in validation and conflict errors', async () => {
    const bad = await s.admin.post('/api/trunks', { name: 'has space', host: '', port: 0, transport: 'sctp' });
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['host', 'name', 'port', 'transport']);
    // The store's own rules come back the same way.
    const badHost = await s.admin.post('/api/trunks', { name: 'x', host: 'not a host' });
    expect(badHost.status).toBe(400);
    expect(paths(badHost)).toEqual(['host']);
    expect((await s.admin.post('/api/trunks', { name: 'a', host: '192.0.2.1', prefix: '9' })).status).toBe(201);
    const dupName = await s.admin.post('/api/trunks', { name: 'a', host: '192.0.2.2', prefix: '8' });
    expect(dupName.status).toBe(409);
    expect(paths(dupName)).toEqual(['name']);
    const dupPrefix = await s.admin.post('/api/trunks', { name: 'b', host: '192.0.2.2', prefix: '9' });
    expect(dupPrefix.status).toBe(409);
    expect(paths(dupPrefix)).toEqual(['prefix']);
    expect(paths(await s.admin.patch('/api/trunks/a', { strip: 99 }))).toEqual(['strip']);
    // A fallback trunk must exist and not be the trunk itself.
    const noFallback = await s.admin.patch('/api/trunks/a', { fallbackTrunk: 'nosuch' });
    expect(noFallback.status).toBe(400);
    expect(paths(noFallback)).toEqual(['fallbackTrunk']);
    expect(paths(await s.admin.patch('/api/trunks/a', { fallbackTrunk: 'a' }))).toEqual(['fallbackTrunk']);
    expect((await s.admin.post('/api/trunks', { name: 'c', host: '192.0.2.3', prefix: '7' })).status).toBe(201);
    const fallback = await s.admin.patch('/api/trunks/a', { fallbackTrunk: 'c' });
    expect(fallback.status, fallback.text).toBe(200);
    expect(fallback.json.fallbackTrunk).toBe('c');
  });
});

describe('DIDs', () => {
  it('routes inbound numbers to extensions', async () => {
    expect((await s.admin.post('/api/users', { extension: '8001', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    const add = await s.admin.post('/api/dids', { number: '+4930123', extension: '8001' });
    expect(add.status).toBe(201);
    expect(add.json).toMatchObject({ number: '+4930123', extension: '8001' });
    expect((await s.admin.get('/api/dids')).json.items).toEqual([expect.objectContaining({ number: '+4930123', extension: '8001' })]);
    expect(paths(await s.admin.post('/api/dids', { number: '12ab', extension: '8001' }))).toEqual(['number']);
    const noUser = await s.admin.post('/api/dids', { number: '555', extension: '9999' });
    expect(noUser.status).toBe(400);
    expect(paths(noUser)).toEqual(['extension']);
    expect((await s.admin.post('/api/dids', { number: '+4930123', extension: '8001' })).status).toBe(409);
    expect((await s.admin.delete(`/api/dids/${encodeURIComponent('+4930123')}`)).status).toBe(204);
    expect((await s.admin.get('/api/dids')).json.items).toEqual([]);
    expect((await s.admin.delete('/api/dids/555')).status).toBe(404);
  });
});

describe('call records', () => {
  it('lists CDRs newest first, with total and filters', async () => {
    const base = Date.now();
    const cdr = (i: number, caller: string, callee: string, answered: boolean) => ({
      callRef: `call-${i}`, direction: 'internal' as const, caller, callerName: '', callerExtension: caller, callee, calleeExtension: callee,
      trunk: null, startedAt: base + i * 1000, answeredAt: answered ? base + i * 1000 + 500 : null, endedAt: base + i * 1000 + 900,
      disposition: answered ? ('answered' as const) : ('no-answer' as const), status: answered ? 200 : 480, codec: answered ? 'PCMU' : null,
      legs: [{ target: `sip:${callee}@test.local`, status: answered ? 200 : 480, callId: `cid-${i}` }],
    });
    s.ts.server.store.cdrs.enqueue(cdr(1, '8001', '8002', true));
    s.ts.server.store.cdrs.enqueue(cdr(2, '8002', '8001', false));
    s.ts.server.store.cdrs.enqueue(cdr(3, '8003', '8004', true));
    const all = await s.admin.get('/api/calls');
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(3);
    expect(all.json.items.map((c: { callRef: string }) => c.callRef)).toEqual(['call-3', 'call-2', 'call-1']);
    expect(all.json.items[2]).toMatchObject({ codec: 'PCMU', legs: [{ callId: 'cid-1', status: 200 }] });
    const mine = await s.admin.get('/api/calls?extension=8001&limit=1');
    expect(mine.json).toMatchObject({ total: 2, limit: 1 });
    expect(mine.json.items).toHaveLength(1);
    const missed = await s.admin.get('/api/calls?extension=8001&kind=missed');
    expect(missed.json.items.map((c: { callRef: string }) => c.callRef)).toEqual(['call-2']);
    expect((await s.admin.get(`/api/calls?since=${base + 2500}`)).json.total).toBe(1);
    expect(paths(await s.admin.get('/api/calls?kind=lost&limit=5000'))).toEqual(['kind', 'limit']);
  });
});

// /api/trusted-peers (SPEC D-06): the config file's entries listed beside the
// stored ones; adding and removing needs the security role and is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWith, startWithApi, type ApiTestServer } from './client.ts';
import type { ApiClient } from './client.ts';

let s: ApiTestServer;
let configAdmin: ApiClient;

beforeAll(async () => {
  s = await startWithApi({ sip: { trustedPeers: ['cfg.example.test'] } });
  configAdmin = await accountWith(s, 'cfg', ['admin']);
}, 90_000);
afterAll(async () => {
  await s.ts.stop();
});

describe('/api/trusted-peers', { timeout: 60_000 }, () => {
  it('lists, adds (folded), refuses wildcards, removes stored entries only, and audits', async () => {
    expect((await s.admin.get('/api/trusted-peers')).json).toEqual({ items: [{ name: 'cfg.example.test', source: 'config' }] });
    const added = await s.admin.post('/api/trusted-peers', { name: 'GW.Example.Test' });
    expect(added.status, added.text).toBe(200);
    expect(added.json.items).toEqual([{ name: 'cfg.example.test', source: 'config' }, { name: 'gw.example.test', source: 'store' }]);
    const wildcard = await s.admin.post('/api/trusted-peers', { name: '*.example.test' });
    expect(wildcard.status).toBe(400);
    expect(wildcard.json.message).toMatch(/fully qualified/);
    expect((await s.admin.delete('/api/trusted-peers/cfg.example.test')).status).toBe(404);
    const removed = await s.admin.delete('/api/trusted-peers/gw.example.test');
    expect(removed.status).toBe(200);
    expect(removed.json.items).toEqual([{ name: 'cfg.example.test', source: 'config' }]);
    const audit = await s.admin.get('/api/audit');
    expect(JSON.stringify(audit.json)).toMatch(/trust server/);
    expect(JSON.stringify(audit.json)).toMatch(/untrust server/);
  });

  it('a configuration administrator may read but not change the list', async () => {
    expect((await configAdmin.get('/api/trusted-peers')).status).toBe(200);
    expect((await configAdmin.post('/api/trusted-peers', { name: 'x.example.test' })).status).toBe(403);
    expect((await configAdmin.delete('/api/trusted-peers/cfg.example.test')).status).toBe(403);
  });
});

// /api/devices and /api/provisioning/requests on the real store, beside a
// running provisioning server.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../lib/server.ts';
import { curl } from '../provisioning/lib.ts';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi({ provisioning: { listen: `127.0.0.1:${await freePort()}` } });
}, 90_000);
afterAll(async () => {
  await s.ts.stop();
});

it('adds a device with its secrets once, changes, renders, lists requests, resets and removes, audited without secrets', async () => {
  for (const ext of ['5001', '5002']) expect((await s.admin.post('/api/users', { extension: ext, password: 'Str0ng-Desk-Pw' })).status).toBe(201);
  const tooMany = await s.admin.post('/api/devices', { mac: '00:04:f2:00:00:01', family: 'avaya-b179', extensions: ['5001', '5002'] });
  expect([tooMany.status, tooMany.json.issues?.[0]?.path]).toEqual([400, 'extensions']);
  const noUser = await s.admin.post('/api/devices', { mac: '0004f2000001', family: 'avaya-b179', extensions: ['5999'] });
  expect(noUser.status).toBe(404);

  const add = await s.admin.post('/api/devices', { mac: '00:04:f2:00:00:01', family: 'avaya-b179', extensions: ['5001'], label: 'Lobby' });
  expect(add.status, add.text).toBe(201);
  expect(add.json.device).toMatchObject({ mac: '0004f2000001', family: 'avaya-b179', extensions: ['5001'], label: 'Lobby', enabled: true, lastFetch: null });
  const { user, password, tokenUrl } = add.json.provisioning as { user: string; password: string; tokenUrl: string };
  expect(user).toBe('0004f2000001');
  expect(tokenUrl).toMatch(/^https:\/\/.+\/d\/[A-Za-z0-9_-]{32}\/$/);
  expect((await s.admin.post('/api/devices', { mac: '0004f2000001', family: 'avaya-b179', extensions: ['5001'] })).status).toBe(409);

  const list = await s.admin.get('/api/devices');
  expect(list.json.items).toHaveLength(1);
  expect(list.text).not.toContain(password);
  expect(list.text).not.toContain(tokenUrl.split('/d/')[1]!.slice(0, -1));

  const render = await s.admin.get('/api/devices/0004f2000001/render');
  expect(render.json).toMatchObject({ files: expect.arrayContaining([expect.objectContaining({ name: 'avayab179.xml', credentials: true })]), refused: null });
  expect(render.text).not.toContain('Str0ng-Desk-Pw');

  // A fetch by the device shows in the request log and as its last fetch.
  const port = s.ts.server.provisioning!.https.port;
  expect((await curl('-k', '--digest', '-u', `${user}:${password}`, `https://127.0.0.1:${port}/avayab179.xml`)).status).toBe(200);
  expect((await curl('-k', `https://127.0.0.1:${port}/0004f2999999-app.log`)).status).toBe(401);
  const requests = await s.admin.get('/api/provisioning/requests');
  expect(requests.json.items[0]).toMatchObject({ mac: null, status: 401, file: '/0004f2999999-app.log' });
  expect(requests.json.items[1]).toMatchObject({ mac: '0004f2000001', status: 200, file: '/avayab179.xml', result: 'served' });
  await s.ts.server.provisioning!.flush();
  expect((await s.admin.get('/api/devices/0004f2000001')).json.lastFetch).toMatchObject({ status: 200, file: '/avayab179.xml' });

  const patch = await s.admin.patch('/api/devices/0004F2000001', { enabled: false, extensions: ['5002'] });
  expect(patch.json).toMatchObject({ enabled: false, extensions: ['5002'] });
  const reset = await s.admin.post('/api/devices/0004f2000001/secret', {});
  expect(reset.status).toBe(200);
  expect(reset.json.password).not.toBe(password);

  const audit = await s.admin.get('/api/audit?target=device:0004f2000001');
  expect(audit.json.items.length).toBeGreaterThanOrEqual(3);
  expect(audit.text).not.toContain(password);
  expect(audit.text).not.toContain(reset.json.password);

  expect((await s.admin.delete('/api/devices/0004f2000001')).status).toBe(204);
  expect((await s.admin.get('/api/devices/0004f2000001')).status).toBe(404);
});

import { afterAll, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
afterAll(async () => { await s?.ts.stop(); });
it('smoke', async () => {
  s = await startWithApi();
  const r = await s.admin.post('/api/users', { extension: '1001', password: 'x1' });
  console.log(r.status, r.text);
  console.log((await s.admin.get('/api/users')).text);
  console.log((await s.admin.get('/api/openapi.json')).text.slice(0, 3000));
  console.log((await s.client().get('/api/users')).text);
  console.log((await s.admin.post('/api/users', { extension: 'b d', password: '', foo: 1 })).text);
  expect(1).toBe(1);
});

// GET /api/gateway/lines/{extension}: one line as the list shows it, 404 for
// an unknown extension or a user without a line, readable by any role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWith, startWithApi, type ApiClient, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
let reader: ApiClient; // an operator: may read, may not change
beforeAll(async () => {
  s = await startWithApi();
  for (const ext of ['1001', '1002']) {
    const r = await s.admin.post('/api/users', { extension: ext, password: 'Pass-Word-xyz-42' });
    expect(r.status, r.text).toBe(201);
  }
  reader = await accountWith(s, 'viewer', ['operator']);
}, 90_000);
afterAll(async () => {
  await s.ts.stop();
});

describe('GET /api/gateway/lines/{extension}', () => {
  it('returns the line as the list item, without the password; 404 without a line or user; sign-in needed', async () => {
    const put = await s.admin.put('/api/gateway/lines/1001', { upstreamUser: '41510', password: 'Up-Secret-9', ipei: '050030733588', standbyText: 'Ward 3' });
    expect(put.status, put.text).toBe(200);

    const one = await reader.get('/api/gateway/lines/1001');
    expect(one.status, one.text).toBe(200);
    const list = await reader.get('/api/gateway/lines');
    expect(one.json).toEqual(list.json.items[0]);
    expect(one.json).toMatchObject({ extension: '1001', upstreamUser: '41510', hasPassword: true, ipei: '05003 0733588' });
    expect(one.text).not.toContain('Up-Secret-9');

    const noLine = await reader.get('/api/gateway/lines/1002');
    expect(noLine.status).toBe(404);
    expect(noLine.json.message).toContain('no gateway line for 1002');
    expect((await reader.get('/api/gateway/lines/1999')).status).toBe(404);
    expect((await reader.get('/api/gateway/lines/-x')).status).toBe(400);
    expect((await s.client().get('/api/gateway/lines/1001')).status).toBe(401);
  });

  it('is in the OpenAPI document with the list item schema', async () => {
    const doc = (await s.client().get('/api/openapi.json')).json;
    const op = doc.paths['/api/gateway/lines/{extension}'].get;
    expect(op.parameters[0]).toMatchObject({ name: 'extension', in: 'path', required: true });
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
    const item = doc.paths['/api/gateway/lines'].get.responses['200'].content['application/json'].schema.properties.items.items;
    expect(op.responses['200'].content['application/json'].schema).toEqual(item);
  });
});

// The gateway users file through the API (Appendix A #14, B.1): callForward
// is the user's unconditional forward, both ways; dectToDect and adminRights,
// which Switchboard does not hold, come back as warnings of the import.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
  for (const ext of ['1001', '1002']) {
    const r = await s.admin.post('/api/users', { extension: ext, password: 'Pass-Word-xyz-42', name: `User ${ext}` });
    expect(r.status, r.text).toBe(201);
  }
}, 90_000);
afterAll(async () => {
  await s.ts.stop();
});

const forwardOf = async (ext: string) => (await s.ts.server.store.users.getByExtension(ext))!.forwardUnconditional;

describe('gateway users file: call forward and the flags Switchboard does not hold', () => {
  it('exports the forward, imports it back as it was, and warns once per file for dectToDect and adminRights', async () => {
    await s.ts.server.store.users.update('1001', { forwardUnconditional: '+4930123' });
    expect((await s.admin.put('/api/gateway/lines/1001', { upstreamUser: '41510', password: 'Up-Secret-1' })).status).toBe(200);
    const file = await s.admin.get('/api/provisioning/gateway-users?format=csv&ext=1001');
    expect(file.status, file.text).toBe(200);
    expect(file.text).toContain(",'+4930123,"); // guarded against spreadsheets, unguarded on reading

    // The file imported back changes nothing; edited, the forward is gone. Another file gives 1002 a line and a forward.
    const same = await s.admin.request('POST', '/api/gateway/lines/import', { raw: file.text, contentType: 'text/csv' });
    expect(same.json, same.text).toMatchObject({ errors: 0, warnings: [] });
    expect((await s.admin.get('/api/provisioning/gateway-users?format=csv&ext=1001')).text).toBe(file.text);
    const edited = file.text.replace(",'+4930123,", ',,');
    const r = await s.admin.request('POST', '/api/gateway/lines/import', { raw: edited, contentType: 'text/csv' });
    expect(r.json, r.text).toMatchObject({ errors: 0, warnings: [] });
    const other = await s.admin.request('POST', '/api/gateway/lines/import', {
      raw: 'extension,username,authPassword,callForward\r\n1002,41511,Up-Secret-2,2000\r\n', contentType: 'text/csv',
    });
    expect(other.json, other.text).toMatchObject({ added: 1, errors: 0 });
    expect([await forwardOf('1001'), await forwardOf('1002')]).toEqual([null, '2000']);

    const flagged = 'extension,username,dectToDect,adminRights\r\n1001,41510,true,true\r\n1002,41511,true,false\r\n';
    const w = await s.admin.request('POST', '/api/gateway/lines/import?dryRun=true', { raw: flagged, contentType: 'text/csv' });
    expect(w.json.errors, w.text).toBe(0);
    expect(w.json.warnings).toEqual([
      expect.stringMatching(/^dectToDect is set for 2 record\(s\) \(1001, 1002\) and was not imported/),
      expect.stringMatching(/^adminRights is set for 1 record\(s\) \(1001\) and was not imported/),
    ]);
  });
});

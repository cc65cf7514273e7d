// B-14: a gateway user's handset registering here fills in its line's
// model and firmware from the User-Agent, as the lines API shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from '../api/client.ts';
import { TestClient } from '../lib/sip-client.ts';

let api: ApiTestServer;
let phone: TestClient | undefined;

beforeAll(async () => {
  api = await startWithApi({ sip: { domain: 'gw.test' } });
  await api.ts.server.store.users.add({ extension: '1001', password: 'Handset-1001-pw' });
  await api.ts.server.store.gateway.setLine({ extension: '1001', upstreamUser: '41510' });
  await api.ts.server.directory.poll();
}, 30_000);

afterAll(async () => {
  phone?.close();
  await api?.ts.stop();
});

interface LineJson { extension: string; handset: { model: string; firmware: string } }

describe('handset fields from the registration (B-14)', () => {
  it('a handset registering with a User-Agent shows its model and firmware on its line', async () => {
    phone = await new TestClient('udp', '127.0.0.1', api.ts.sipPort).open();
    const res = await phone.register('1001', 'Handset-1001-pw', { headers: [{ name: 'user-agent', value: 'Spectralink 7202 PCS20GA' }] });
    expect(res.status).toBe(200);
    // Recorded just after the binding (not awaited by the 200): poll the API, bounded.
    let line: LineJson | undefined;
    for (let i = 0; i < 100 && !line?.handset.model; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      const list = await api.admin.get('/api/gateway/lines');
      expect(list.status).toBe(200);
      line = (list.json.items as LineJson[]).find((l) => l.extension === '1001');
    }
    expect(line!.handset).toMatchObject({ model: 'Spectralink 7202', firmware: 'PCS20GA' });
  });
});

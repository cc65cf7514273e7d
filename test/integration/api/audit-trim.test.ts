// The audit log cannot grow forever: every entry the API writes trims it to
// http.auditMaxEntries (the newest kept), and a start trims it to a limit
// lowered in the config file.
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { ADMIN_PASSWORD, ApiClient, startWithApi } from './client.ts';

const running: TestServer[] = [];
afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
});

describe('audit log size', { timeout: 90_000 }, () => {
  it('keeps the newest http.auditMaxEntries entries as changes are audited, and at the next start', async () => {
    const s = await startWithApi({ http: { auditMaxEntries: 100 } });
    let first: TestServer | null = s.ts;
    try {
      const audit = s.ts.server.store.admin.audit;
      for (let i = 0; i < 150; i++) {
        await audit.append({ at: i, actor: 'old', sourceIp: null, action: `old ${i}`, target: `old:${i}`, before: null, after: null });
      }
      expect(await audit.count()).toBeGreaterThan(150);
      const put = await s.admin.put('/api/settings', { media: { dtmf: 'info' } });
      expect(put.status, put.text).toBe(200);
      expect(await audit.count()).toBe(100);
      const page = await s.admin.get('/api/audit?limit=1000');
      expect(page.json.total).toBe(100);
      expect(page.json.items[0]).toMatchObject({ action: 'PUT /api/settings', target: 'settings' });
      // The oldest survivors are the newest of the old ones: 99 of them, then the change.
      expect(page.json.items.at(-1).action).toBe('old 51');

      await s.ts.stop();
      first = null;
      const again = await startTestServer({ dataDir: s.ts.dataDir, http: true, config: { http: { auditMaxEntries: 100 } } });
      running.push(again);
      const c = new ApiClient(again.server.http!.url, again.server.certificates.caCertPem);
      expect((await c.login('admin', ADMIN_PASSWORD)).status).toBe(200); // a login is audited too
      expect(await again.server.store.admin.audit.count()).toBe(100);
      expect((await again.server.store.admin.audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'login', actor: 'admin' });
    } finally {
      await first?.stop();
    }
  });

  it('trims at start when the config file lowers the limit', async () => {
    const s = await startWithApi();
    const audit = s.ts.server.store.admin.audit;
    for (let i = 0; i < 300; i++) {
      await audit.append({ at: i, actor: 'old', sourceIp: null, action: `old ${i}`, target: `old:${i}`, before: null, after: null });
    }
    expect(await audit.count()).toBeGreaterThan(300);
    await s.ts.stop();
    const again = await startTestServer({ dataDir: s.ts.dataDir, http: true, config: { http: { auditMaxEntries: 120 } } });
    running.push(again);
    expect(await again.server.store.admin.audit.count()).toBe(120);
    expect((await again.server.store.admin.audit.list({ limit: 1 }))[0]!.action).toBe('old 299');
    expect(again.log.entries.some((e) => e.msg === 'audit log trimmed')).toBe(true);
  });
});

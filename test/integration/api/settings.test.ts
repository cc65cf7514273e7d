// /api/settings: validated by the config schema, stored in the database,
// applied at the next start; /api/password-policy: applied at once.
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { ADMIN_PASSWORD, ApiClient, accountWith, startWithApi } from './client.ts';

const running: TestServer[] = [];
afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
});

// Each test starts servers (keys, scrypt hashes): slow on a loaded machine, not a speed test.
const SLOW = { timeout: 90_000 };

describe('system settings', SLOW, () => {
  it('validates, stores, reports restartRequired, and applies at the next start', async () => {
    const s = await startWithApi({ registrar: { defaultExpiresSec: 600 } });
    const port = s.ts.sipPort;
    let first: TestServer | null = s.ts;
    try {
      const initial = await s.admin.get('/api/settings');
      expect(initial.status).toBe(200);
      expect(initial.json).toMatchObject({
        settings: { sip: { domain: 'test.local', udp: `127.0.0.1:${port}` }, registrar: { minExpiresSec: 60, maxExpiresSec: 7200, defaultExpiresSec: 600 } },
        overrides: {}, restartRequired: false,
      });
      expect(initial.json.running).toEqual(initial.json.settings);
      expect(initial.json.pinned).toEqual(['sip.udp', 'sip.tcp', 'sip.tls']);

      const bad = await s.admin.put('/api/settings', {
        sip: { udp: 'nonsense', domain: '' }, registrar: { minExpiresSec: 0 }, calls: {},
      });
      expect(bad.status).toBe(400);
      const issues = Object.fromEntries(bad.json.issues.map((i: { path: string; message: string }) => [i.path, i.message]));
      expect(issues['sip.udp']).toMatch(/HOST:PORT/);
      expect(issues['sip.domain']).toBeDefined();
      expect(issues['registrar.minExpiresSec']).toBe('must be at least 1');
      expect(issues.calls).toMatch(/unknown field/);
      const crossed = await s.admin.put('/api/settings', { registrar: { defaultExpiresSec: 30 } });
      expect(crossed.status).toBe(400);
      expect(crossed.json.issues).toEqual([expect.objectContaining({ path: 'registrar.defaultExpiresSec', message: expect.stringMatching(/between/) })]);
      expect((await s.admin.get('/api/settings')).json.overrides).toEqual({});

      const put = await s.admin.put('/api/settings', {
        sip: { domain: 'next.example', udp: '127.0.0.1:5999' }, registrar: { defaultExpiresSec: 1800, maxExpiresSec: 3600 },
      });
      expect(put.status).toBe(200);
      expect(put.json.restartRequired).toBe(true);
      expect(put.json.keys['sip.domain']).toEqual({ appliesAt: 'next-start', restartRequired: true });
      expect(put.json.keys['sip.udp']).toEqual({ appliesAt: 'next-start', restartRequired: false }); // pinned
      expect(put.json.keys['registrar.minExpiresSec']).toEqual({ appliesAt: 'next-start', restartRequired: false });
      expect(put.json.running.sip.domain).toBe('test.local');
      expect(put.json.settings.sip.domain).toBe('next.example');
      expect(put.json.settings.sip.udp).toBe(`127.0.0.1:${port}`); // pinned by the command line for this run
      expect(put.json.overrides).toEqual({
        'sip.domain': 'next.example', 'sip.udp': '127.0.0.1:5999', 'registrar.defaultExpiresSec': 1800, 'registrar.maxExpiresSec': 3600,
      });
      const removed = await s.admin.put('/api/settings', { registrar: { maxExpiresSec: null } });
      expect(removed.json.overrides).not.toHaveProperty('registrar.maxExpiresSec');
      expect(removed.json.settings.registrar.maxExpiresSec).toBe(7200);

      const audit = await s.admin.get('/api/audit?target=settings');
      expect(audit.json.items[0]).toMatchObject({
        actor: 'admin', action: 'PUT /api/settings',
        before: expect.objectContaining({ 'sip.domain': 'next.example' }),
        after: expect.not.objectContaining({ 'registrar.maxExpiresSec': 3600 }),
      });
      expect(s.ts.server.config.sip.domain).toBe('test.local'); // nothing moves under the running server

      await s.ts.stop();
      first = null;
      const again = await startTestServer({ dataDir: s.ts.dataDir, http: true, config: { registrar: { defaultExpiresSec: 600 } } });
      running.push(again);
      expect(again.server.config.sip.domain).toBe('next.example');
      expect(again.server.config.registrar.defaultExpiresSec).toBe(1800);
      expect(again.server.config.sip.udp.port).toBe(again.sipPort); // pinned listener kept
      const c = new ApiClient(again.server.http!.url, again.server.certificates.caCertPem);
      expect((await c.login('admin', ADMIN_PASSWORD)).status).toBe(200);
      const after = await c.get('/api/settings');
      expect(after.json.restartRequired).toBe(false);
      expect(after.json.running.sip.domain).toBe('next.example');
    } finally {
      await first?.stop();
    }
  });

  it('ignores a stored value that no longer validates, with a warning', async () => {
    const s = await startWithApi();
    const dataDir = s.ts.dataDir;
    (s.ts.server.store as unknown as { admin: { settings: { set(e: Record<string, unknown>): void } } })
      .admin.settings.set({ 'registrar.minExpiresSec': 'sixty' });
    await s.ts.stop();
    const again = await startTestServer({ dataDir });
    running.push(again);
    expect(again.server.config.registrar.minExpiresSec).toBe(60);
    expect(again.log.entries.some((e) => e.level === 'warn' && JSON.stringify(e.obj).includes('registrar.minExpiresSec'))).toBe(true);
  });
});

describe('password policy', SLOW, () => {
  it('applies a stricter policy at once, and expires passwords older than maxAgeDays', async () => {
    const s = await startWithApi();
    running.push(s.ts);
    const initial = await s.admin.get('/api/password-policy');
    expect(initial.json).toEqual({ minLength: 12, requireClasses: 3, maxAgeDays: 0 });
    const bad = await s.admin.put('/api/password-policy', { minLength: 4, requireClasses: 5, maxAgeDays: -1 });
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['maxAgeDays', 'minLength', 'requireClasses']);

    expect((await s.admin.put('/api/password-policy', { minLength: 16, requireClasses: 4, maxAgeDays: 30 })).status).toBe(200);
    const weak = await s.admin.post('/api/admins', { name: 'night', roles: ['operator'], password: 'Short-Pass-12' });
    expect(weak.status).toBe(400);
    expect(weak.json.issues[0]).toMatchObject({ path: 'password', message: expect.stringMatching(/at least 16/) });

    const ops = await accountWith(s, 'ops', ['operator']);
    expect((await ops.get('/api/users')).status).toBe(200);
    // Age the operator's password past 30 days: its next request must be a password change.
    const db = (s.ts.server.store as unknown as { db: import('better-sqlite3').Database }).db;
    db.prepare("UPDATE admin_accounts SET password_changed_at = password_changed_at - 31 * 86400000 WHERE name = 'ops'").run();
    const expired = await ops.get('/api/users');
    expect(expired.status).toBe(403);
    expect(expired.json.error).toBe('password-change-required');
    expect((await ops.get('/api/session')).json.mustChangePassword).toBe(true);
    const audit = await s.admin.get('/api/audit?target=password-policy');
    expect(audit.json.items[0]).toMatchObject({ before: { minLength: 12 }, after: { minLength: 16, maxAgeDays: 30 } });
  });
});

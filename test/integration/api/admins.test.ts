// /api/admins and /api/audit: accounts managed by the security administrator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

describe('administrator accounts', () => {
  it('creates an account with a generated one-time password, shown once, that must be changed', async () => {
    const add = await s.admin.post('/api/admins', { name: 'night', roles: ['operator'] });
    expect(add.status).toBe(201);
    expect(add.json).toMatchObject({ name: 'night', roles: ['operator'], mustChangePassword: true, enabled: true });
    expect(add.json.oneTimePassword).toMatch(/^[A-Za-z0-9-]{16,}$/);
    expect(add.json).not.toHaveProperty('passwordHash');
    const c = s.client();
    const login = await c.login('NIGHT', add.json.oneTimePassword); // names ignore case
    expect(login.status).toBe(200);
    expect(login.json.mustChangePassword).toBe(true);
    expect((await c.get('/api/users')).json.error).toBe('password-change-required');

    const list = await s.admin.get('/api/admins');
    expect(list.json.items.map((a: { name: string }) => a.name)).toEqual(['admin', 'night']);
    expect(list.text).not.toMatch(/scrypt|passwordHash/);
    expect((await s.admin.get('/api/admins/night')).json.roles).toEqual(['operator']);
    expect((await s.admin.get('/api/admins/nobody')).status).toBe(404);

    const audit = await s.admin.get('/api/audit?target=admin:night');
    const created = audit.json.items.find((e: { action: string }) => e.action === 'POST /api/admins');
    expect(created).toMatchObject({ actor: 'admin', after: expect.objectContaining({ name: 'night', roles: ['operator'] }) });
    expect(audit.text).not.toContain(add.json.oneTimePassword);
  });

  it('validates names, roles and passwords, and refuses duplicates', async () => {
    const bad = await s.admin.post('/api/admins', { name: 'no spaces', roles: ['root'], password: 'short' });
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['name', 'roles.0']);
    const noRoles = await s.admin.post('/api/admins', { name: 'x1', roles: [] });
    expect(noRoles.json.issues[0].path).toBe('roles');
    const weak = await s.admin.post('/api/admins', { name: 'x1', roles: ['operator'], password: 'short' });
    expect(weak.json.issues[0]).toMatchObject({ path: 'password', message: expect.stringMatching(/at least 12/) });
    const dup = await s.admin.post('/api/admins', { name: 'Admin', roles: ['operator'] });
    expect(dup.status).toBe(409);
  });

  it('resets a password or disables an account, ending its sessions', async () => {
    expect((await s.admin.post('/api/admins', { name: 'day', roles: ['operator'], password: 'Shift-Pass-One-1' })).status).toBe(201);
    const c = s.client();
    await c.loginChanging('day', 'Shift-Pass-One-1', 'Shift-Pass-Two-2');
    expect((await c.get('/api/users')).status).toBe(200);

    const reset = await s.admin.patch('/api/admins/day', { resetPassword: true });
    expect(reset.status).toBe(200);
    expect(reset.json.mustChangePassword).toBe(true);
    expect((await c.get('/api/users')).status).toBe(401);
    expect((await c.login('day', 'Shift-Pass-Two-2')).status).toBe(401);
    await c.loginChanging('day', reset.json.oneTimePassword, 'Shift-Pass-Three-3');

    const off = await s.admin.patch('/api/admins/day', { enabled: false });
    expect(off.json.enabled).toBe(false);
    expect((await c.get('/api/users')).status).toBe(401);
    expect((await new ApiClient(s.url, s.ca).login('day', 'Shift-Pass-Three-3')).status).toBe(401);

    const renamed = await s.admin.patch('/api/admins/day', { name: 'dayshift', roles: ['admin', 'operator'], enabled: true });
    expect(renamed.json).toMatchObject({ name: 'dayshift', roles: ['admin', 'operator'] });
    expect((await new ApiClient(s.url, s.ca).login('dayshift', 'Shift-Pass-Three-3')).status).toBe(200);
    expect((await s.admin.delete('/api/admins/dayshift')).status).toBe(204);
    expect((await s.admin.get('/api/admins/dayshift')).status).toBe(404);
  });

  it('keeps one enabled security administrator', async () => {
    for (const change of [{ roles: ['admin'] }, { enabled: false }]) {
      const r = await s.admin.patch('/api/admins/admin', change);
      expect(r.status).toBe(409);
      expect(r.json.error).toBe('last-security-admin');
    }
    expect((await s.admin.delete('/api/admins/admin')).status).toBe(409);
    expect((await s.admin.post('/api/admins', { name: 'sec2', roles: ['security-admin'], password: 'Second-Pass-77' })).status).toBe(201);
    const drop = await s.admin.patch('/api/admins/admin', { roles: ['admin'] });
    expect(drop.status).toBe(200);
    expect((await s.admin.get('/api/admins')).status).toBe(403); // the change applies to the own session at once
  });
});

describe('audit log', () => {
  it('lists entries newest first with filters; secrets appear as ***', async () => {
    const all = s.client();
    await all.login('sec2', 'Second-Pass-77');
    await all.post('/api/session/password', { currentPassword: 'Second-Pass-77', newPassword: 'Second-Pass-88' });
    await all.login('sec2', 'Second-Pass-88');
    const page = await all.get('/api/audit?limit=3');
    expect(page.status).toBe(200);
    expect(page.json.limit).toBe(3);
    expect(page.json.items).toHaveLength(3);
    expect(page.json.total).toBeGreaterThan(5);
    const ids = page.json.items.map((e: { id: number }) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(page.json.items[0]).toMatchObject({ actor: 'sec2', action: 'login', target: 'admin:sec2', sourceIp: '127.0.0.1' });
    const mine = await all.get('/api/audit?actor=sec2&limit=1000');
    expect(mine.json.items.every((e: { actor: string }) => e.actor === 'sec2')).toBe(true);
    expect(mine.json.items.map((e: { action: string }) => e.action)).toContain('change own password');
    const since = await all.get(`/api/audit?since=${Date.now() + 60_000}`);
    expect(since.json.total).toBe(0);
    const whole = await all.get('/api/audit?limit=1000');
    for (const secret of ['Second-Pass-77', 'Second-Pass-88', 'Shift-Pass-One-1', 'Shift-Pass-Three-3', 'scrypt$']) {
      expect(whole.text).not.toContain(secret);
    }
    const reset = whole.json.items.find((e: { action: string; target: string; after: { password?: string } | null }) => e.action === 'PATCH /api/admins/:name' && e.target === 'admin:day' && e.after?.password);
    expect(reset.after.password).toBe('***');
    expect((await all.get('/api/audit?limit=0')).json.issues[0]).toMatchObject({ path: 'limit', in: 'query' });
  });
});

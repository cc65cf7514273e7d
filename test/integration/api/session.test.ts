// Admin security over real HTTPS: the generated first password, the forced
// change, sessions and their cookie, CSRF, lockout, idle expiry, and HTTPS
// by default (SPEC 4.1, 4.6, 4.7, A-23, A-30).
import http from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/sqlite/database.ts';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { ADMIN_PASSWORD, ApiClient, startWithApi, type ApiTestServer } from './client.ts';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function withApi(config = {}): Promise<ApiTestServer> {
  const s = await startWithApi(config);
  servers.push(s.ts);
  return s;
}

// Tests that need nothing of their own share a server: starting one (keys, hashes) is the slow part.
let sharedServer: Promise<ApiTestServer> | undefined;
const shared = () => (sharedServer ??= withApi());

// Generous: each test starts real servers and hashes passwords with scrypt; slow on a loaded machine, not a speed test.
const SLOW = { timeout: 90_000 };

describe('first start', SLOW, () => {
  const running: TestServer[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it('creates admin with a random one-time password, stores only its scrypt hash and never logs it', async () => {
    const ts = await startTestServer({ http: true });
    running.push(ts);
    const pw = ts.server.takeInitialAdminPassword();
    expect(pw).toMatch(/^[A-Za-z0-9-]{16,}$/);
    expect(ts.server.takeInitialAdminPassword()).toBeNull(); // exposed once
    expect(JSON.stringify(ts.log.entries)).not.toContain(pw!);
    const row = (ts.server.store as unknown as { db: import('better-sqlite3').Database }).db
      .prepare('SELECT name, roles, password_hash, must_change_password FROM admin_accounts').all() as Array<Record<string, unknown>>;
    expect(row).toHaveLength(1);
    expect(row[0]).toMatchObject({ name: 'admin', must_change_password: 1 });
    expect(String(row[0]!.password_hash)).toMatch(/^scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(String(row[0]!.password_hash)).not.toContain(pw!);

    // A second start on the same data keeps the account and has nothing to show.
    const dataDir = ts.dataDir;
    await ts.stop();
    running.splice(0);
    const again = await startTestServer({ dataDir, http: true });
    running.push(again);
    expect(again.server.takeInitialAdminPassword()).toBeNull();
  });

  it('creates no account while the management server is off', async () => {
    const ts = await startTestServer();
    running.push(ts);
    expect(ts.server.http).toBeNull();
    expect(ts.server.takeInitialAdminPassword()).toBeNull();
    await ts.stop();
    running.splice(0);
    const store = openStore(ts.dataDir);
    try {
      expect(await store.admin.accounts.count()).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe('sessions', SLOW, () => {
  it('forces a password change before anything else, then ends the session (KI-28)', async () => {
    const ts = await startTestServer({ http: true });
    servers.push(ts);
    const c = new ApiClient(ts.server.http!.url, ts.server.certificates.caCertPem);
    const pw = ts.server.takeInitialAdminPassword()!;
    const login = await c.login('admin', pw);
    expect(login.status).toBe(200);
    expect(login.json).toMatchObject({ name: 'admin', roles: ['admin', 'security-admin'], mustChangePassword: true });

    for (const [method, path] of [['GET', '/api/users'], ['GET', '/api/settings'], ['POST', '/api/users'], ['GET', '/api/admins']] as const) {
      const r = await c.request(method, path, method === 'POST' ? { body: { extension: '1', password: 'x' } } : {});
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.json.error).toBe('password-change-required');
    }
    expect((await c.get('/api/session')).status).toBe(200);

    const weak = await c.post('/api/session/password', { currentPassword: pw, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.json.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['newPassword']));
    expect(weak.json.issues.map((i: { message: string }) => i.message).join(' ')).toMatch(/at least 12 characters/);
    const noMix = await c.post('/api/session/password', { currentPassword: pw, newPassword: 'alllowercaseletters' });
    expect(noMix.json.issues[0]).toMatchObject({ path: 'newPassword', message: expect.stringMatching(/at least 3 of/) });
    const hasName = await c.post('/api/session/password', { currentPassword: pw, newPassword: 'My-admin-Pass-99' });
    expect(hasName.json.issues[0]).toMatchObject({ path: 'newPassword', message: expect.stringMatching(/account name/) });
    const same = await c.post('/api/session/password', { currentPassword: pw, newPassword: pw });
    expect(same.json.issues.map((i: { message: string }) => i.message)).toContain('must differ from the current password');
    const wrong = await c.post('/api/session/password', { currentPassword: 'not-it', newPassword: ADMIN_PASSWORD });
    expect(wrong.status).toBe(400);
    expect(wrong.json.issues[0]).toMatchObject({ path: 'currentPassword' });

    const ok = await c.post('/api/session/password', { currentPassword: pw, newPassword: ADMIN_PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ ok: true, reloginRequired: true });
    expect(c.cookie).toBeNull(); // cleared
    c.cookie = /^sb_session=([^;]*)/.exec(c.setCookies.find((h) => h.startsWith('sb_session=') && !/1970/.test(h))!)![1]!;
    expect((await c.get('/api/session')).status).toBe(401); // the old cookie is dead server-side too

    expect((await c.login('admin', pw)).status).toBe(401);
    const relogin = await c.login('admin', ADMIN_PASSWORD);
    expect(relogin.json.mustChangePassword).toBe(false);
    expect((await c.get('/api/users')).status).toBe(200);
  });

  it('sets an HttpOnly, Secure, SameSite=Strict cookie and returns the CSRF token with the session', async () => {
    const s = await shared();
    const header = s.admin.setCookies.filter((h) => h.startsWith('sb_session=')).at(-1)!;
    expect(header).toMatch(/HttpOnly/i);
    expect(header).toMatch(/Secure/i);
    expect(header).toMatch(/SameSite=Strict/i);
    expect(header).toMatch(/Path=\//);
    expect(s.admin.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    const session = await s.admin.get('/api/session');
    expect(session.json).toMatchObject({ name: 'admin', csrfToken: s.admin.csrf, mustChangePassword: false, idleMinutes: 10 });
    // Stored hashed: the cookie value is nowhere in the database.
    const db = (s.ts.server.store as unknown as { db: import('better-sqlite3').Database }).db;
    const rows = db.prepare('SELECT id_hash FROM admin_sessions').all() as { id_hash: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id_hash)).not.toContain(s.admin.cookie);
  });

  it('refuses anonymous requests to /api with 401 and serves the public routes', async () => {
    const s = await shared();
    const anon = s.client();
    for (const path of ['/api/users', '/api/users/1001', '/api/settings', '/api/audit', '/api/session', '/api/nothing-here', '/api']) {
      const r = await anon.get(path);
      expect(r.status, path).toBe(401);
      expect(r.json.error).toBe('unauthenticated');
    }
    expect((await anon.post('/api/users', { extension: '1', password: 'x' })).status).toBe(401);
    expect((await anon.get('/api/openapi.json')).status).toBe(200);
    expect((await anon.get('/ca.pem')).status).toBe(200);
    // Logged in, an unknown route is a plain 404.
    expect((await s.admin.get('/api/nothing-here')).status).toBe(404);
  });

  it('refuses a change without the CSRF token, or with a wrong one', async () => {
    const s = await shared();
    const none = await s.admin.post('/api/users', { extension: '2001', password: 'Str0ng-Desk-Pw' }, { csrf: false });
    expect(none.status).toBe(403);
    expect(none.json.error).toBe('csrf');
    const wrong = await s.admin.post('/api/users', { extension: '2001', password: 'Str0ng-Desk-Pw' }, { csrf: false, headers: { 'x-csrf-token': 'x'.repeat(43) } });
    expect(wrong.status).toBe(403);
    expect((await s.admin.delete('/api/session', { csrf: false })).status).toBe(403);
    expect(await s.ts.server.store.users.getByExtension('2001')).toBeUndefined();
    // Another session's token does not fit this session.
    const other = s.client();
    await other.login('admin', ADMIN_PASSWORD);
    const swapped = await s.admin.post('/api/users', { extension: '2001', password: 'Str0ng-Desk-Pw' }, { csrf: false, headers: { 'x-csrf-token': other.csrf! } });
    expect(swapped.status).toBe(403);
    expect((await s.admin.post('/api/users', { extension: '2001', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
  });

  it('logs out', async () => {
    const s = await shared();
    const c = s.client();
    await c.login('admin', ADMIN_PASSWORD);
    const cookie = c.cookie;
    expect((await c.delete('/api/session')).status).toBe(204);
    expect(c.cookie).toBeNull();
    c.cookie = cookie;
    expect((await c.get('/api/session')).status).toBe(401);
    expect((await s.admin.get('/api/session')).status).toBe(200); // other sessions live on
  });
});

describe('brute force', SLOW, () => {
  // One server, in this order: the address counter (20) fills up across the three tests.
  let s: ApiTestServer;
  it('locks an account name after 5 failures, answering unknown names the same way', async () => {
    s = await withApi({ http: { lockout: { failures: 5, sourceFailures: 20 } } });
    const c = s.client();
    const unknown = await c.login('nobody', 'guess-0');
    const bad = await c.login('admin', 'guess-0');
    expect(bad.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(bad.json); // no hint which names exist
    for (let i = 1; i < 5; i++) {
      expect((await c.login('admin', `guess-${i}`)).status).toBe(401);
      expect((await c.login('nobody', `guess-${i}`)).status).toBe(401);
    }
    const locked = await c.login('admin', ADMIN_PASSWORD); // right password, still locked
    expect(locked.status).toBe(423);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    expect(locked.json.error).toBe('locked');
    expect((await c.login('nobody', 'x')).status).toBe(423); // unknown names lock alike
    // Sessions opened before the attack keep working.
    expect((await s.admin.get('/api/users')).status).toBe(200);
    const auditLog = await s.admin.get('/api/audit?target=admin:admin');
    expect(auditLog.json.items.map((e: { action: string }) => e.action)).toContain('login failed, locked for this address, account under attack: new addresses slowed down');
  });

  it('gives parallel guesses no way past the lockout', async () => {
    const c = s.client(); // 10 address failures so far
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => c.login('parallel', `guess-${i}`)));
    const statuses = all.map((r) => r.status);
    expect(statuses.filter((x) => x === 401)).toHaveLength(5);
    expect(statuses.filter((x) => x === 423)).toHaveLength(3);
  });

  it('blocks a source address that sprays many names (429 with Retry-After)', async () => {
    const c = s.client(); // 15 address failures so far
    for (let i = 0; i < 5; i++) expect((await c.login(`user${i}`, 'guess')).status).toBe(401);
    const blocked = await c.login('someone', 'anything');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json.error).toBe('rate-limited');
  });
});

describe('idle expiry (A-30)', SLOW, () => {
  it('ends a session after the configured inactivity', async () => {
    const s = await withApi({ http: { sessionIdleMinutes: 0.05 } }); // 3 s
    expect((await s.admin.get('/api/session')).json.idleMinutes).toBeCloseTo(0.05);
    await new Promise((r) => setTimeout(r, 3_500));
    const r = await s.admin.get('/api/users');
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('session-expired');
    expect((await s.admin.get('/api/users')).json.error).toBe('unauthenticated'); // and it is gone
  });
});

function plainGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('HTTPS by default', SLOW, () => {
  it('refuses plain HTTP: the TLS listener gives an http:// client no data', async () => {
    const s = await shared();
    expect(s.url).toMatch(/^https:/);
    const plainUrl = s.url.replace('https:', 'http:');
    await expect(plainGet(`${plainUrl}/api/openapi.json`)).rejects.toThrow();
    await expect(plainGet(`${plainUrl}/ca.pem`)).rejects.toThrow();
  });

  it('serves plain HTTP only when allowHttp is set, and then drops Secure from the cookie', async () => {
    const ts = await startTestServer({ http: true, config: { http: { allowHttp: true } } });
    servers.push(ts);
    expect(ts.server.http!.url).toMatch(/^http:/);
    const r = await plainGet(`${ts.server.http!.url}/api/openapi.json`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).openapi).toBe('3.1.0');
    const c = new ApiClient(ts.server.http!.url, null);
    expect((await c.login('admin', ts.server.takeInitialAdminPassword()!)).status).toBe(200);
    const header = c.setCookies.find((h) => h.startsWith('sb_session='))!;
    expect(header).toMatch(/HttpOnly/i);
    expect(header).not.toMatch(/Secure/i);
  });
});

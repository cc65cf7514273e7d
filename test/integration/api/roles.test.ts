// Every route against every role: admin configures, security-admin manages
// accounts, policy and audit and reads the rest, operator only reads. The
// sample requests are invalid or aim at missing objects, so an allowed one
// answers 400/404 without changing anything, and a refused one answers 403
// naming the role it needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWith, ApiClient, startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
let clients: Record<'admin' | 'security' | 'operator' | 'both', ApiClient>;

beforeAll(async () => {
  s = await startWithApi();
  clients = {
    both: s.admin,
    admin: await accountWith(s, 'cfg', ['admin']),
    security: await accountWith(s, 'sec', ['security-admin']),
    operator: await accountWith(s, 'ops', ['operator']),
  };
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

interface Sample {
  method: string;
  url: string;
  path: string;
  body?: unknown;
  raw?: string;
}

/** The routes this part of the API defines; other parts (status, alarms, web UI, metrics) test their own. */
const OURS = /^\/(ca\.pem|ca\.der|api\/(openapi\.json|session|users|trunks|dids|calls|calls\.csv|settings|password-policy|admins|audit)(\/|$))/;

const SAMPLES: Sample[] = [
  { method: 'GET', url: '/ca.pem', path: '/ca.pem' },
  { method: 'GET', url: '/ca.der', path: '/ca.der' },
  { method: 'GET', url: '/api/openapi.json', path: '/api/openapi.json' },
  { method: 'POST', url: '/api/session', path: '/api/session', body: {} },
  { method: 'GET', url: '/api/session', path: '/api/session' },
  { method: 'POST', url: '/api/session/password', path: '/api/session/password', body: {} },
  { method: 'GET', url: '/api/users', path: '/api/users' },
  { method: 'POST', url: '/api/users', path: '/api/users', body: {} },
  { method: 'GET', url: '/api/users/:ext', path: '/api/users/4040' },
  { method: 'PATCH', url: '/api/users/:ext', path: '/api/users/4040', body: { colour: 1 } },
  { method: 'DELETE', url: '/api/users/:ext', path: '/api/users/4040' },
  { method: 'GET', url: '/api/users/:ext/detail', path: '/api/users/4040/detail' },
  { method: 'POST', url: '/api/users/bulk', path: '/api/users/bulk', body: {} },
  { method: 'GET', url: '/api/users/export', path: '/api/users/export' },
  { method: 'POST', url: '/api/users/import', path: '/api/users/import', raw: 'colour\n' },
  { method: 'GET', url: '/api/users/import/jobs/:id', path: '/api/users/import/jobs/00000000-0000-4000-8000-000000000000' },
  { method: 'GET', url: '/api/users/:ext/voicemail', path: '/api/users/4040/voicemail' },
  { method: 'GET', url: '/api/users/:ext/voicemail/:id.wav', path: '/api/users/4040/voicemail/0123456789abcdef.wav' },
  { method: 'PATCH', url: '/api/users/:ext/voicemail/:id', path: '/api/users/4040/voicemail/0123456789abcdef', body: { folder: 'saved' } },
  { method: 'DELETE', url: '/api/users/:ext/voicemail/:id', path: '/api/users/4040/voicemail/0123456789abcdef' },
  { method: 'GET', url: '/api/users/:ext/voicemail/greeting.wav', path: '/api/users/4040/voicemail/greeting.wav' },
  { method: 'PUT', url: '/api/users/:ext/voicemail/greeting.wav', path: '/api/users/4040/voicemail/greeting.wav', body: {} },
  { method: 'DELETE', url: '/api/users/:ext/voicemail/greeting.wav', path: '/api/users/4040/voicemail/greeting.wav' },
  { method: 'GET', url: '/api/trunks', path: '/api/trunks' },
  { method: 'POST', url: '/api/trunks', path: '/api/trunks', body: {} },
  { method: 'GET', url: '/api/trunks/:name', path: '/api/trunks/none' },
  { method: 'PATCH', url: '/api/trunks/:name', path: '/api/trunks/none', body: { colour: 1 } },
  { method: 'DELETE', url: '/api/trunks/:name', path: '/api/trunks/none' },
  { method: 'GET', url: '/api/dids', path: '/api/dids' },
  { method: 'POST', url: '/api/dids', path: '/api/dids', body: {} },
  { method: 'DELETE', url: '/api/dids/:number', path: '/api/dids/4040' },
  { method: 'GET', url: '/api/calls', path: '/api/calls' },
  { method: 'GET', url: '/api/calls/:id', path: '/api/calls/1' },
  { method: 'GET', url: '/api/calls.csv', path: '/api/calls.csv' },
  { method: 'GET', url: '/api/settings', path: '/api/settings' },
  { method: 'PUT', url: '/api/settings', path: '/api/settings', body: { colour: 1 } },
  { method: 'GET', url: '/api/password-policy', path: '/api/password-policy' },
  { method: 'PUT', url: '/api/password-policy', path: '/api/password-policy', body: { minLength: 1 } },
  { method: 'GET', url: '/api/admins', path: '/api/admins' },
  { method: 'POST', url: '/api/admins', path: '/api/admins', body: {} },
  { method: 'GET', url: '/api/admins/:name', path: '/api/admins/none' },
  { method: 'PATCH', url: '/api/admins/:name', path: '/api/admins/none', body: { colour: 1 } },
  { method: 'DELETE', url: '/api/admins/:name', path: '/api/admins/none' },
  { method: 'GET', url: '/api/audit', path: '/api/audit' },
  // DELETE /api/session (logout) is exercised last, below.
];

function send(c: ApiClient, x: Sample) {
  return c.request(x.method, x.path, x.raw !== undefined ? { raw: x.raw } : x.body !== undefined ? { body: x.body } : {});
}

/** The role a route needs, from the route table itself. */
function accessOf(method: string, url: string): string {
  const def = s.ts.server.http!.documented.find((d) => d.method === method && d.url === url);
  expect(def, `${method} ${url} is documented`).toBeDefined();
  return def!.access;
}

describe('role restrictions', () => {
  it('the samples cover every route of this part of the API', () => {
    const documented = s.ts.server.http!.documented.map((d) => `${d.method} ${d.url}`).filter((r) => OURS.test(r.split(' ')[1]!)).sort();
    const sampled = [...SAMPLES.map((x) => `${x.method} ${x.url}`), 'DELETE /api/session'].sort();
    expect(sampled).toEqual(documented);
  });

  it('refuses every non-public route, of every part of the API, to anonymous clients before it runs', async () => {
    const guarded = s.ts.server.http!.documented.filter((d) => d.access !== 'public');
    expect(guarded.length).toBeGreaterThan(30);
    const anon = s.client();
    for (const d of guarded) {
      const r = await anon.request(d.method, d.url.replace(/:\w+|\*/g, 'x'), d.method === 'GET' ? {} : { body: {} });
      expect(r.status, `${d.method} ${d.url}`).toBe(401);
    }
  });

  for (const who of ['admin', 'security', 'operator', 'both'] as const) {
    it(`applies the rules to an account with ${who === 'both' ? 'admin and security-admin' : `role ${who}`}`, async () => {
      const roles = { admin: ['admin'], security: ['security-admin'], operator: ['operator'], both: ['admin', 'security-admin'] }[who];
      for (const x of SAMPLES) {
        const access = accessOf(x.method, x.url);
        const needed = access === 'write' ? 'admin' : access === 'security' ? 'security-admin' : null;
        const r = await send(clients[who], x);
        const label = `${who}: ${x.method} ${x.path} -> ${r.status} ${r.text.slice(0, 120)}`;
        if (needed && !roles.includes(needed)) {
          expect(r.status, label).toBe(403);
          expect(r.json, label).toMatchObject({ error: 'forbidden', role: needed });
        } else {
          expect([200, 204, 400, 404], label).toContain(r.status);
        }
      }
    });
  }

  it('lets only the admin role export passwords', async () => {
    for (const who of ['security', 'operator'] as const) {
      const r = await clients[who].get('/api/users/export?passwords=true');
      expect(r.status).toBe(403);
      expect(r.json.role).toBe('admin');
    }
    expect((await clients.admin.get('/api/users/export?passwords=true')).status).toBe(200);
  });

  it('keeps an operator from changing settings', async () => {
    const r = await clients.operator.put('/api/settings', { sip: { domain: 'evil.example' } });
    expect(r.status).toBe(403);
    expect(r.json.role).toBe('admin');
    expect((await clients.operator.get('/api/settings')).json.settings.sip.domain).toBe('test.local');
  });

  it('takes a role change at once, and lets every role log out', async () => {
    expect((await s.admin.patch('/api/admins/ops', { roles: ['admin'] })).status).toBe(200);
    expect((await clients.operator.post('/api/users', { extension: '5555', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    for (const who of ['admin', 'security', 'operator'] as const) {
      expect((await clients[who].delete('/api/session')).status).toBe(204);
      expect((await clients[who].get('/api/session')).status).toBe(401);
    }
  });
});

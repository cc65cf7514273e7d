// The live side of the management server over real HTTPS and WebSocket:
// status snapshot, the feed (snapshot first, then registrations, calls and
// alarms as they happen), per-user activity, /metrics with and without a
// token, /healthz and the web UI's page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPhone } from '../lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';
import { accountWith, openFeed, startWithApi, type ApiTestServer, type Feed } from './client.ts';

let s: ApiTestServer;
const phones: TestPhone[] = [];
const feeds: Feed[] = [];

async function phone(ext: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `Live-Pw-${Number(ext) * 7}`, server: { host: s.ts.host, port: s.ts.sipPort, domain: 'test.local' } });
  phones.push(p);
  return p;
}

beforeAll(async () => {
  s = await startWithApi();
}, 90_000);
afterAll(async () => {
  for (const f of feeds) f.ws.close();
  for (const p of phones) await p.stop();
  await s.ts.stop();
});

describe('status feed', () => {
  it('refuses anonymous clients, clients before the password change and foreign pages', async () => {
    expect((await s.client().get('/api/status')).status).toBe(401);
    expect((await openFeed(s, null)).refused).toBe(401);

    const created = await s.admin.post('/api/admins', { name: 'fresh', roles: ['operator'], password: 'Temp-Pass-123-first' });
    expect(created.status).toBe(201);
    const fresh = s.client();
    expect((await fresh.login('fresh', 'Temp-Pass-123-first')).json.mustChangePassword).toBe(true);
    expect((await openFeed(s, fresh)).refused).toBe(403);

    const foreign = await openFeed(s, s.admin, { origin: 'https://evil.example' });
    expect(foreign.refused).toBe(403);
  });

  it('sends a snapshot, then the registration, the call with its codec, its end, and alarms', async () => {
    for (const ext of ['2001', '2002']) {
      expect((await s.admin.post('/api/users', { extension: ext, password: `Live-Pw-${Number(ext) * 7}`, name: `Ward ${ext}` })).status).toBe(201);
    }
    await waitUntil(() => s.ts.server.directory.size >= 2, 5000);
    const operator = await accountWith(s, 'watcher', ['operator']);
    const feed = await openFeed(s, operator);
    feeds.push(feed);
    expect(feed.refused).toBeNull();
    await waitUntil(() => feed.messages.length > 0);
    expect(feed.messages[0]).toMatchObject({ type: 'snapshot', status: { extensions: [], calls: [] }, alarms: [] });

    const a = await phone('2001');
    const b = await phone('2002');
    expect((await a.register()).status).toBe(200);
    expect((await b.register()).status).toBe(200);
    const registered = (ext: string) => feed.messages.some((m) => m.type === 'extension' && m.extension.extension === ext && m.extension.registered);
    expect(await waitUntil(() => registered('2001') && registered('2002'), 5000)).toBe(true);
    const ev = feed.messages.find((m) => m.type === 'extension' && m.extension.extension === '2001');
    expect(ev.extension.contacts[0]).toMatchObject({ transport: 'udp', address: '127.0.0.1', port: a.local.port });

    const call = a.call('2002');
    expect((await call.final).status).toBe(200);
    const connected = () => feed.messages.find((m) => m.type === 'call' && m.call.state === 'connected');
    expect(await waitUntil(() => connected() !== undefined, 5000)).toBe(true);
    expect(connected()).toMatchObject({ ended: false, call: { caller: '2001', calleeExtension: '2002', codec: 'PCMU' } });
    expect(typeof connected().call.connectionType).toBe('string');

    const snap = await operator.get('/api/status');
    expect(snap.status).toBe(200);
    expect(snap.json.calls).toHaveLength(1);
    expect(snap.json.extensions.map((e: { extension: string; state: string }) => `${e.extension}:${e.state}`)).toEqual(['2001:connected', '2002:connected']);

    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect(await waitUntil(() => feed.messages.some((m) => m.type === 'call' && m.ended === true), 5000)).toBe(true);

    s.ts.server.alarms.raise({ id: 'test-alarm', kind: 'test', severity: 'major', text: 'something broke' });
    expect(await waitUntil(() => feed.messages.some((m) => m.type === 'alarm' && m.event === 'raised' && m.alarm.id === 'test-alarm'), 5000)).toBe(true);
    const alarms = await operator.get('/api/alarms');
    expect(alarms.json.items.map((x: { id: string }) => x.id)).toContain('test-alarm');
    s.ts.server.alarms.clear('test-alarm');
    expect(await waitUntil(() => feed.messages.some((m) => m.type === 'alarm' && m.event === 'cleared'), 5000)).toBe(true);

    const act = await operator.get('/api/status/users?extensions=2001,2002,9999');
    expect(act.status).toBe(200);
    const [x, y, z] = act.json.items;
    expect(x).toMatchObject({ extension: '2001', registered: true, transport: 'udp', address: `127.0.0.1:${a.local.port}`, state: 'idle' });
    expect(x.lastCallAt).toBeGreaterThan(0);
    expect(y.registered).toBe(true);
    expect(z).toMatchObject({ extension: '9999', registered: false, userAgent: null, lastCallAt: null });
    const bad = await operator.get('/api/status/users');
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0].path).toBe('extensions');
  });
});

describe('metrics, health and the page', () => {
  it('serves /metrics and /healthz without a session', async () => {
    const anon = s.client();
    const m = await anon.get('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.text).toMatch(/^# HELP /m);
    const h = await anon.get('/healthz');
    expect(h.status).toBe(200);
    expect(h.json.status).toBe('ok');
    expect(h.json.checks.listeners.ok).toBe(true);
  });

  it('serves the web UI page with a strict content security policy, and 404 for unknown assets', async () => {
    const page = await s.client().get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).toContain('Switchboard');
    const missing = await s.client().get('/assets/nope.js');
    expect(missing.status).toBe(404);
    expect((await s.client().get('/assets/../../package.json')).status).toBe(404);
  });

  it('asks for the bearer token when http.metricsToken is set', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const t = await startWithApi({ http: { metricsToken: token } });
    try {
      const anon = t.client();
      const none = await anon.get('/metrics');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect((await anon.get('/metrics', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const ok = await anon.get('/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.text).toMatch(/^# HELP /m);
      expect((await anon.get('/healthz')).status).toBe(200);
    } finally {
      await t.ts.stop();
    }
  }, 90_000);
});

describe('user media settings through the API', () => {
  it('sets, shows, clears and validates per-user media settings', async () => {
    const add = await s.admin.post('/api/users', { extension: '2101', password: 'Live-Pw-Media', media: { security: 'enforced', directMedia: false } });
    expect(add.status, add.text).toBe(201);
    expect(add.json.media).toEqual({ security: 'enforced', directMedia: false });
    const patch = await s.admin.patch('/api/users/2101', { media: { security: null, dtmf: 'info' } });
    expect(patch.status).toBe(200);
    expect(patch.json.media).toEqual({ directMedia: false, dtmf: 'info' });
    expect((await s.ts.server.store.users.getByExtension('2101'))!.media).toEqual({ directMedia: false, dtmf: 'info' });
    const bad = await s.admin.patch('/api/users/2101', { media: { security: 'sometimes', colour: 'red' } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['media.colour', 'media.security']);
  });
});

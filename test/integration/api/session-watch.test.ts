// A status page left open (issue 12 item 4): while its page says it is
// visible, a session outlives the idle timeout for watching the status — and
// for nothing else: it cannot edit or read other pages, its own reads do not
// renew it, and a hidden page, or a session with no page, ends as before.
// On the server's injected clock: 30 minutes pass in advance() calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lib/wait.ts';
import { passwordOf } from '../../interop/users.ts';
import { TestClient } from '../lib/sip-client.ts';
import { ADMIN_PASSWORD, openFeed, startWithApi, type ApiClient, type ApiTestServer, type Feed } from './client.ts';

const IDLE_MIN = 10;
let s: ApiTestServer;
const feeds: Feed[] = [];
const sip: TestClient[] = [];

beforeAll(async () => {
  s = await startWithApi({ http: { sessionIdleMinutes: IDLE_MIN } }, { manualTime: true });
  for (const ext of ['2101', '2102']) expect((await s.admin.post('/api/users', { extension: ext, password: passwordOf(ext, 'watch') })).status).toBe(201);
  await s.ts.server.directory.poll();
}, 90_000);
afterAll(async () => {
  for (const f of feeds) f.ws.close();
  for (const c of sip) c.close();
  await s.ts.stop();
});

async function login(): Promise<ApiClient> {
  const c = s.client();
  expect((await c.login('admin', ADMIN_PASSWORD)).status).toBe(200);
  return c;
}

async function feedOf(c: ApiClient): Promise<Feed> {
  const f = await openFeed(s, c);
  feeds.push(f);
  expect(f.refused).toBeNull();
  expect(await waitUntil(() => f.messages.some((m) => m.type === 'snapshot'), 10_000)).toBe(true);
  return f;
}

/** Sends a word on the feed and waits until the server has read it (its pong answers a later ping). */
async function say(f: Feed, word: 'watching' | 'hidden'): Promise<void> {
  const pongs = f.pongs;
  f.ws.send(word);
  f.ws.ping();
  expect(await waitUntil(() => f.pongs > pongs, 5_000)).toBe(true);
}

/** Moves the server's clock a minute at a time, the page saying "watching" each minute as a visible page does. */
async function watchFor(f: Feed, minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    await say(f, 'watching');
    await s.ts.advance(60_000);
  }
}

describe('a status page kept open', () => {
  it('stays live for 30 minutes while visible; reads only the status, edits nothing, and renews nothing', async () => {
    const c = await login();
    const f = await feedOf(c);
    await watchFor(f, 30);
    expect(f.closed).toBeNull();
    // Still live: a registration now reaches the feed.
    const phone = await new TestClient('udp', s.ts.host, s.ts.sipPort).open();
    sip.push(phone);
    expect((await phone.register('2101', passwordOf('2101', 'watch'), { expires: 3600 })).status).toBe(200);
    expect(await waitUntil(() => f.messages.some((m) => m.type === 'extension' && m.extension.extension === '2101' && m.extension.registered), 5_000)).toBe(true);

    expect((await c.get('/api/status')).status).toBe(200);
    expect((await c.get('/api/alarms')).status).toBe(200);
    // The status page's provisioning panel polls this: a 401 would send the watching page to the login.
    expect((await c.get('/api/provisioning/summary')).status).toBe(200);
    const session = await c.get('/api/session');
    expect(session.status).toBe(200);
    expect(session.json.watchOnly).toBe(true);
    // Not another page, not a change: those need a login.
    const users = await c.get('/api/users');
    expect(users.status).toBe(401);
    expect(users.json.error).toBe('session-expired');
    const edit = await c.patch('/api/users/2102', { name: 'Ward 4' });
    expect(edit.status).toBe(401);
    expect((await (await login()).get('/api/users/2102')).json.name).toBe('');

    // Another login's housekeeping (idle sessions removed) keeps the watched one.
    await login();
    expect((await c.get('/api/status')).status).toBe(200);

    // Hidden (the tab in the background): the session ends at the next check, feed and all.
    await say(f, 'hidden');
    await s.ts.advance(15_000);
    expect(await waitUntil(() => f.closed !== null, 5_000)).toBe(true);
    expect(f.closed!.code).toBe(4401);
    expect((await c.get('/api/status')).status).toBe(401);
  });

  it('does not keep a page that never says it is visible, nor a session without a page, nor one whose page only polls', async () => {
    const silent = await login();
    const f = await feedOf(silent);
    const editing = await login();
    expect((await editing.get('/api/users')).status).toBe(200);
    // A page's own polling (the status page's overload and bans panels) is not the administrator's activity.
    for (let i = 0; i < 4; i++) {
      await s.ts.advance(2 * 60_000);
      expect((await editing.get('/api/status', { headers: { 'x-switchboard-background': '1' } })).status).toBe(200);
    }
    await s.ts.advance((IDLE_MIN - 8) * 60_000 + 15_000);
    expect(await waitUntil(() => f.closed !== null, 5_000)).toBe(true);
    expect(f.closed!.code).toBe(4401);
    expect((await silent.get('/api/status')).json.error).toBe('session-expired');
    expect((await editing.get('/api/users')).json.error).toBe('session-expired');
  });

  it('lets an editing session that is active go on editing while its own status page watches', async () => {
    const c = await login();
    const f = await feedOf(c);
    for (let i = 0; i < 3; i++) {
      await say(f, 'watching');
      await s.ts.advance(5 * 60_000);
      // The administrator works in between: every request renews the session as before.
      const r = await c.patch('/api/users/2102', { name: `Ward ${i}` });
      expect(r.status).toBe(200);
    }
    expect((await c.get('/api/session')).json.watchOnly).toBe(false);
  });
});

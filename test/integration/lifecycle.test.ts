// What survives a restart, what expires, and what the server picks up from
// the store while it runs.
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from './lib/sip-client.ts';
import { startTestServer, tempDataDir } from './lib/server.ts';
import type { TestServer } from './lib/server.ts';
import { openStore } from '../../src/store/sqlite/database.ts';
import { waitUntil } from '../lib/wait.ts';

const running: TestServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of running.splice(0)) await s.stop();
});

async function start(dataDir: string, config = {}) {
  const ts = await startTestServer({ dataDir, config });
  running.push(ts);
  return ts;
}

async function client(ts: TestServer, transport: 'udp' | 'tcp' = 'udp') {
  const c = await new TestClient(transport, ts.host, ts.sipPort).open();
  clients.push(c);
  return c;
}

describe('restart', () => {
  it('keeps every user and every registration, and takes new REGISTERs at once', async () => {
    const dataDir = tempDataDir();
    const first = await start(dataDir);
    for (let i = 0; i < 50; i++) await first.server.store.users.add({ extension: String(3000 + i), password: `pw-${i}` });
    await first.server.directory.poll();
    const c = await client(first);
    for (let i = 0; i < 50; i++) expect((await c.register(String(3000 + i), `pw-${i}`)).status).toBe(200);
    const before = first.server.location.lookup('sip:3007@test.local')[0]!;
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await start(dataDir);
    expect(second.server.directory.size).toBe(50);
    expect(second.server.location.count).toBe(50);
    const after = second.server.location.lookup('sip:3007@test.local');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ contactUri: before.contactUri, callId: before.callId, cseq: before.cseq, expiresAt: before.expiresAt, sourcePort: before.sourcePort });
    // A phone refreshing with its old credentials gets a fresh challenge and registers again.
    const c2 = await client(second);
    expect((await c2.register('3007', 'pw-7')).status).toBe(200);
    expect(second.server.location.lookup('sip:3007@test.local')).toHaveLength(2);
  });

  it('drops, on start, registrations that expired while the server was down', async () => {
    const dataDir = tempDataDir();
    const first = await start(dataDir, { registrar: { minExpiresSec: 1 } });
    await first.server.store.users.add({ extension: '3100', password: 'pw' });
    await first.server.store.users.add({ extension: '3101', password: 'pw' });
    await first.server.directory.poll();
    const c = await client(first);
    expect((await c.register('3100', 'pw', { expires: 1 })).status).toBe(200);
    expect((await c.register('3101', 'pw', { expires: 600 })).status).toBe(200);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await new Promise((r) => setTimeout(r, 1100));
    const second = await start(dataDir);
    expect(second.server.location.lookup('sip:3100@test.local')).toHaveLength(0);
    expect(second.server.location.lookup('sip:3101@test.local')).toHaveLength(1);
    await second.stop();
    running.splice(running.indexOf(second), 1);
    const store = openStore(dataDir);
    try {
      expect((await store.registrations.loadAll()).map((b) => b.aor)).toEqual(['sip:3101@test.local']);
    } finally {
      await store.close();
    }
  });
});

describe('expiry', () => {
  it('hides an expired binding at once and the sweeper deletes it from the store', async () => {
    const dataDir = tempDataDir();
    const ts = await start(dataDir, { registrar: { minExpiresSec: 1 } });
    await ts.server.store.users.add({ extension: '3200', password: 'pw' });
    await ts.server.directory.poll();
    const c = await client(ts);
    expect((await c.register('3200', 'pw', { expires: 1 })).status).toBe(200);
    expect(ts.server.location.lookup('sip:3200@test.local')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(ts.server.location.lookup('sip:3200@test.local')).toHaveLength(0);
    expect(ts.server.location.sweep()).toBe(1);
    expect(ts.server.location.count).toBe(0);
    await ts.server.store.registrations.flush();
    expect(await ts.server.store.registrations.loadAll()).toHaveLength(0);
  });
});

describe('directory changes while running', () => {
  it('sees users added, changed and removed through another connection to the database', async () => {
    const dataDir = tempDataDir();
    const ts = await start(dataDir);
    const other = openStore(dataDir); // what the CLI does, in another process
    try {
      const c = await client(ts);
      expect((await c.register('3300', 'first')).status).toBe(401);
      await other.users.add({ extension: '3300', password: 'first' });
      expect(await waitUntil(() => ts.server.directory.byExtension('3300') !== undefined)).toBe(true);
      expect((await c.register('3300', 'first')).status).toBe(200);
      await other.users.update('3300', { password: 'second' });
      expect(await waitUntil(() => ts.server.directory.byExtension('3300')?.password === 'second')).toBe(true);
      expect((await c.register('3300', 'first')).status).toBe(401);
      expect((await c.register('3300', 'second')).status).toBe(200);
      expect(ts.server.location.lookup('sip:3300@test.local')).toHaveLength(1);
      await other.users.update('3300', { enabled: false });
      expect(await waitUntil(() => ts.server.directory.byExtension('3300')?.enabled === false)).toBe(true);
      // Disabling drops the registration at once, and the user cannot register again.
      expect(ts.server.location.lookup('sip:3300@test.local')).toHaveLength(0);
      expect((await c.register('3300', 'second')).status).toBe(401);
      await other.users.update('3300', { enabled: true });
      expect(await waitUntil(() => ts.server.directory.byExtension('3300')?.enabled === true)).toBe(true);
      expect((await c.register('3300', 'second')).status).toBe(200);
      await other.users.remove('3300');
      expect(await waitUntil(() => ts.server.directory.byExtension('3300') === undefined)).toBe(true);
      expect(ts.server.location.lookup('sip:3300@test.local')).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('configuration', () => {
  it('challenges with the configured realm instead of the domain, and authenticates against it', async () => {
    const ts = await start(tempDataDir(), { auth: { realm: 'ward-4' } });
    await ts.server.store.users.add({ extension: '3400', password: 'pw' });
    await ts.server.directory.poll();
    const c = await client(ts);
    const challenge = await c.request('REGISTER', { user: '3400' });
    expect(challenge.headers.find((h) => h.name === 'www-authenticate')?.value).toContain('realm="ward-4"');
    expect((await c.register('3400', 'pw')).status).toBe(200);
  });
});

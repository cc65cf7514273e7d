// Lockout as a weapon (issue 11, item 5), against a real server: anonymous
// wrong logins must not lock the administrator out, wrong digest answers from
// many addresses must not lock a phone out of its usual address (also after
// a restart), and every ban is listed and lifted through the API and the CLI.
// The "other machines" are other loopback addresses (127.0.0.0/8).
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, ADMIN_PASSWORD } from './client.ts';
import { startTestServer, tempDataDir, type TestServer } from '../lib/server.ts';
import { TestClient } from '../lib/sip-client.ts';
import { cli } from '../lib/cli.ts';
import type { ConfigInput } from '../../../src/config/schema.ts';

const SLOW = { timeout: 120_000 };
const OWNER = '127.0.0.1'; // where the administrator / the phone always connects from
const ATTACKER = '127.0.0.9';

let running: TestServer[] = [];
const sip: TestClient[] = [];
afterEach(async () => {
  for (const c of sip.splice(0)) c.close();
  for (const s of running.splice(0)) await s.stop();
});

async function start(dataDir: string, config: ConfigInput = {}): Promise<TestServer & { api: (from?: string) => ApiClient }> {
  const ts = await startTestServer({ dataDir, http: true, manualTime: true, config });
  running.push(ts);
  const url = ts.server.http!.url;
  return Object.assign(ts, { api: (from?: string) => new ApiClient(url, ts.server.certificates.caCertPem, from) });
}

async function stop(ts: TestServer): Promise<void> {
  running = running.filter((s) => s !== ts);
  await ts.stop();
}

describe('administrator login lockout', SLOW, () => {
  it('anonymous wrong logins lock only the attacker\'s address; the owner\'s address gets in, a new one is slowed, not locked, also after a restart', async () => {
    const dataDir = tempDataDir();
    let ts = await start(dataDir);
    const owner = ts.api(OWNER);
    await owner.loginChanging('admin', ts.server.takeInitialAdminPassword()!, ADMIN_PASSWORD);

    const attacker = ts.api(ATTACKER);
    for (let i = 0; i < 5; i++) expect((await attacker.login('admin', `guess-${i}`)).status).toBe(401);
    const locked = await attacker.login('admin', ADMIN_PASSWORD);
    expect(locked.status).toBe(423); // that address, that name: locked even with the right password

    // The address the owner logged in from before: in at once, as often as it likes.
    expect((await owner.login('admin', ADMIN_PASSWORD)).status).toBe(200);
    expect((await owner.login('admin', 'typo')).status).toBe(401);
    expect((await owner.login('admin', ADMIN_PASSWORD)).status).toBe(200);
    // A new address: its first try is checked; right after a failure it waits a few seconds (429), never 423.
    const laptop = ts.api('127.0.0.10');
    expect((await laptop.login('admin', 'typo')).status).toBe(401);
    const slowed = await laptop.login('admin', ADMIN_PASSWORD);
    expect(slowed.status).toBe(429);
    const wait = Number(slowed.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(10);
    await ts.advance(wait * 1000);
    expect((await laptop.login('admin', ADMIN_PASSWORD)).status).toBe(200);

    // The owner sees both and lifts the attacker's lock.
    const bans = (await owner.get('/api/bans')).json.items as Array<Record<string, unknown>>;
    expect(bans).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'admin', scope: 'pair', user: 'admin', ip: ATTACKER, effect: 'refused' }),
      expect.objectContaining({ kind: 'admin', scope: 'account', user: 'admin', effect: 'slowed' }),
    ]));
    const lift = await owner.delete(`/api/bans?kind=admin&scope=pair&user=admin&ip=${ATTACKER}`);
    expect(lift.status, lift.text).toBe(200);
    expect(lift.json).toEqual({ lifted: 1 });
    expect((await owner.delete(`/api/bans?kind=admin&scope=pair&user=admin&ip=${ATTACKER}`)).status).toBe(404);
    expect((await owner.delete('/api/bans?kind=admin&scope=pair&user=admin')).status).toBe(400); // a pair needs both
    expect((await attacker.login('admin', 'guess-5')).status).toBe(401); // checked again, not locked
    const audit = await owner.get('/api/audit?target=ban:admin');
    expect(audit.json.items.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([['lift ban', 'admin']]);

    // After a restart the limiter starts empty, but the owner's addresses come from the store.
    await stop(ts);
    ts = await start(dataDir);
    const attacker2 = ts.api(ATTACKER);
    for (let i = 0; i < 5; i++) {
      const r = await attacker2.login('admin', `again-${i}`);
      expect([401, 429]).toContain(r.status);
    }
    const owner2 = ts.api(OWNER);
    expect((await owner2.login('admin', 'typo')).status).toBe(401);
    expect((await owner2.login('admin', ADMIN_PASSWORD)).status).toBe(200); // known: not slowed
    const stranger = ts.api('127.0.0.11');
    expect((await stranger.login('admin', 'typo')).status).toBe(401);
    expect((await stranger.login('admin', ADMIN_PASSWORD)).status).toBe(429); // unknown: slowed
  });
});

describe('SIP lockout', SLOW, () => {
  const PHONE = '127.0.0.20';
  const attackers = ['127.0.0.31', '127.0.0.32', '127.0.0.33', '127.0.0.34', '127.0.0.35'];

  async function phone(ts: TestServer, from: string): Promise<TestClient> {
    const c = await new TestClient('udp', ts.host, ts.sipPort, {}, 0, from).open();
    sip.push(c);
    return c;
  }

  /** 20 wrong digest answers from 5 addresses (4 each: below the pair rule), enough for the user rule. */
  async function attack(ts: TestServer): Promise<void> {
    const clients = await Promise.all(attackers.map((a) => phone(ts, a)));
    for (let round = 0; round < 4; round++) {
      for (const c of clients) expect((await c.register('3001', `wrong-${round}`)).status).toBe(401);
    }
  }

  /** Waits (bounded) until the write-behind put the phone's address on the user's allow-list. */
  async function allowListed(ts: TestServer, address: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await ts.server.store.admin.trustedSources.has('sip', '3001', address, 0))) {
      if (Date.now() > deadline) throw new Error(`${address} never reached the allow-list`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('wrong digests from 5 addresses leave the phone\'s allow-listed address open, also after a restart; bans listed and lifted via API and CLI', async () => {
    const dataDir = tempDataDir();
    let ts = await start(dataDir);
    await ts.server.store.users.add({ extension: '3001', password: 'pw-3001-real' });
    await ts.server.directory.poll();
    const desk = await phone(ts, PHONE);
    expect((await desk.register('3001', 'pw-3001-real')).status).toBe(200);
    await allowListed(ts, PHONE);

    await attack(ts);
    expect((await desk.register('3001', 'pw-3001-real')).status).toBe(200);
    const hotel = await phone(ts, '127.0.0.40');
    expect((await hotel.register('3001', 'pw-3001-real')).status).toBe(403); // a new address is refused during the attack

    const admin = ts.api(OWNER);
    await admin.loginChanging('admin', ts.server.takeInitialAdminPassword()!, ADMIN_PASSWORD);
    const listed = (await admin.get('/api/bans')).json.items;
    expect(listed).toEqual([expect.objectContaining({ kind: 'sip', scope: 'user', user: '3001', effect: 'refused', renewals: 0 })]);
    expect(listed[0].attackSince).toBeGreaterThan(0);
    expect((await admin.delete('/api/bans?kind=sip&scope=user&user=3001')).json).toEqual({ lifted: 1 });
    expect((await hotel.register('3001', 'pw-3001-real')).status).toBe(200);

    // A restart forgets every ban and the in-memory trust; the allow-list is in the store.
    await stop(ts);
    ts = await start(dataDir);
    await attack(ts);
    const desk2 = await phone(ts, PHONE);
    expect((await desk2.register('3001', 'pw-3001-real')).status).toBe(200);
    const cafe = await phone(ts, '127.0.0.41');
    expect((await cafe.register('3001', 'pw-3001-real')).status).toBe(403);

    const listCli = await cli('bans', '--data-dir', ts.dataDir);
    expect(listCli.code, listCli.stderr).toBe(0);
    expect(listCli.stdout).toMatch(/^ban sip user user="3001" refused \d+s attack-since=\S+ renewals=0$/m);
    const json = await cli('bans', '--json', '--data-dir', ts.dataDir);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ kind: 'sip', scope: 'user', user: '3001' })]);
    const liftCli = await cli('bans', 'lift', 'sip', 'user', '--user', '3001', '--data-dir', ts.dataDir);
    expect(liftCli.code, liftCli.stderr).toBe(0);
    expect(liftCli.stdout.trim()).toBe('lifted 1');
    expect((await ts.server.store.admin.audit.list({ target: 'ban:sip:user:3001' })).map((e) => [e.actor, e.action])).toEqual([['-', 'lift ban (command line)'], ['admin', 'lift ban']]); // newest first: this one, the API's before the restart
    expect((await cli('bans', '--data-dir', ts.dataDir)).stdout.trim()).toBe('no bans');
    const again = await cli('bans', 'lift', 'sip', 'user', '--user', '3001', '--data-dir', ts.dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no such ban');
    expect((await cli('bans', 'lift', 'sip', 'pair', '--user', '3001', '--data-dir', ts.dataDir)).stderr).toContain('named by user and ip');
    expect((await cafe.register('3001', 'pw-3001-real')).status).toBe(200);
  });
});

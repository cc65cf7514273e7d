// Two Switchboard servers on one PostgreSQL database (issue 10 item 3): a user
// added through one node's store reaches the other's directory through the
// change notification (LISTEN/NOTIFY), and the other node's registrations
// reach this node's store feed. The directories poll PostgreSQL only every
// 5 s as a safety net, so a change seen within 2 s came by notification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { cli } from '../integration/lib/cli.ts';
import { waitUntil } from '../lib/wait.ts';
import { onCluster, postgresUrl, randomDatabaseName } from '../unit/store/engines.ts';

const NOTIFIED_WITHIN_MS = 2000;

describe('two servers on one PostgreSQL', () => {
  const database = randomDatabaseName('sb_nodes');
  let nodes: TestServer[] = [];
  const phones: TestPhone[] = [];

  beforeAll(async () => {
    await onCluster((c) => c.query(`CREATE DATABASE ${database}`));
    const config = { store: { url: postgresUrl(database) } };
    nodes = [await startTestServer({ config }), await startTestServer({ config })];
  });

  afterAll(async () => {
    for (const p of phones) await p.stop();
    for (const n of nodes) await n.stop();
    await onCluster((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  const phoneOn = async (node: TestServer, ext: string, password: string) => {
    const p = await TestPhone.start({ ext, password, server: { host: node.host, port: node.sipPort, domain: 'test.local' } });
    phones.push(p);
    return p;
  };

  it('a user added on node 1 registers on node 2, and node 1 mirrors the registration and its removal', async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    const stranger = await phoneOn(two, '500', 'pw-500');
    expect((await stranger.register()).status).not.toBe(200);

    const aorsSeenByOne: string[] = [];
    const watcher = one.server.store.registrations.watch((aors) => void aorsSeenByOne.push(...aors));
    try {
      await one.server.store.users.add({ extension: '500', password: 'pw-500' });
      expect(await waitUntil(() => two.server.directory.byExtension('500') !== undefined, NOTIFIED_WITHIN_MS)).toBe(true);

      const phone = await phoneOn(two, '500', 'pw-500');
      expect((await phone.register()).status).toBe(200);
      // Node 2 writes the binding behind the SIP path; its batch's NOTIFY wakes node 1's feed.
      expect(await waitUntil(() => aorsSeenByOne.includes('sip:500@test.local'), NOTIFIED_WITHIN_MS)).toBe(true);
      const stored = await one.server.store.registrations.loadAor('sip:500@test.local', Date.now());
      expect(stored.map((b) => [b.aor, b.transport])).toEqual([['sip:500@test.local', 'udp']]);
      // Node 1's location index mirrors it, marked as another node's.
      expect(await waitUntil(() => one.server.location.lookup('sip:500@test.local').length === 1, NOTIFIED_WITHIN_MS)).toBe(true);
      expect(one.server.location.lookup('sip:500@test.local')[0]).toMatchObject({ contactUri: stored[0]!.contactUri, remote: true });
      // Unregistering on node 2 takes it out of node 1's index too.
      expect((await phone.register(0)).status).toBe(200);
      expect(await waitUntil(() => one.server.location.lookup('sip:500@test.local').length === 0, NOTIFIED_WITHIN_MS)).toBe(true);
    } finally {
      watcher.stop();
    }
  });

  it('a user removed on node 2 stops authenticating on node 1', async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    await two.server.store.users.add({ extension: '501', password: 'pw-501' });
    expect(await waitUntil(() => one.server.directory.byExtension('501') !== undefined, NOTIFIED_WITHIN_MS)).toBe(true);
    expect((await (await phoneOn(one, '501', 'pw-501')).register()).status).toBe(200);
    await two.server.store.users.remove('501');
    expect(await waitUntil(() => one.server.directory.byExtension('501') === undefined, NOTIFIED_WITHIN_MS)).toBe(true);
    expect((await (await phoneOn(one, '501', 'pw-501')).register()).status).not.toBe(200);
  });

  it('the command line edits the shared database with --store, and the running nodes follow', async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    const url = postgresUrl(database);
    const added = await cli('user', 'add', '--ext', '502', '--password', 'Two-Nodes-Pw', '--store', url, '--data-dir', one.dataDir);
    expect(added.code, added.stderr).toBe(0);
    expect(await waitUntil(() => one.server.directory.byExtension('502') !== undefined && two.server.directory.byExtension('502') !== undefined,
      NOTIFIED_WITHIN_MS)).toBe(true);
    const listed = await cli('user', 'list', '--json', '--store', url);
    expect((JSON.parse(listed.stdout) as { extension: string }[]).map((u) => u.extension)).toContain('502');
    // A server that cannot be reached is a one-line error naming the URL without its password.
    const refused = await cli('user', 'list', '--store', 'postgres://root:s3cret@localhost/nope?host=/nonexistent');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('cannot open the store at postgres://root:***@localhost/nope');
    expect(refused.stderr).not.toContain('s3cret');
  });

  it('an IVR menu, a room and the music on hold set through one node reach both nodes\' routing tables by notification', async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    await one.server.store.ivrMenus.set({ number: '8100', name: 'Main', options: { 1: { type: 'hangup' } } });
    await two.server.store.conferenceRooms.add({ number: '8200', pin: '4711' });
    await one.server.store.audioFiles.put({ name: 'music', kind: 'moh', wav: new Uint8Array([1, 2, 3]), durationMs: 1 });
    await one.server.store.audioFiles.setMoh('music');
    const seen = (n: TestServer) => n.server.featureTables.ivrByNumber('8100')?.name === 'Main'
      && n.server.featureTables.roomByNumber('8200')?.pin === '4711' && n.server.featureTables.mohFile() === 'music';
    expect(await waitUntil(() => seen(one) && seen(two), NOTIFIED_WITHIN_MS)).toBe(true);
    await two.server.store.ivrMenus.remove('8100');
    expect(await waitUntil(() => one.server.featureTables.ivrByNumber('8100') === undefined, NOTIFIED_WITHIN_MS)).toBe(true);
  });
});

// MWI with two Switchboard nodes on one PostgreSQL database: a message left
// through node 1 (its store, as its voicemail application would) reaches a
// phone subscribed on node 2 through the mailbox feed's LISTEN/NOTIFY, and
// an unsolicited-mode phone registered on node 2 hears it from node 2 only.
// The feed polls PostgreSQL only every 5 s as a safety net, so a NOTIFY
// within 2 s came by notification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { parseMessageSummary } from '../../src/pbx/mwi/message-summary.ts';
import { waitUntil } from '../lib/wait.ts';
import { onCluster, postgresUrl, randomDatabaseName } from '../unit/store/engines.ts';

const NOTIFIED_WITHIN_MS = 2000;
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64)]);
const voice = (req: { body: Buffer } | undefined) => {
  const c = req && parseMessageSummary(req.body)?.counts.get('voice-message');
  return c ? `${c.new}/${c.old}` : undefined;
};

describe('MWI across two nodes on one PostgreSQL', () => {
  const database = randomDatabaseName('sb_mwi');
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

  const phoneOn = async (node: TestServer, ext: string) => {
    const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: node.host, port: node.sipPort, domain: 'test.local' } });
    phones.push(p);
    return p;
  };

  it('a deposit through node 1 lights the lamp of a phone subscribed on node 2; saving it turns it off', async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    await one.server.store.users.add({ extension: '600', password: 'pw-600' });
    expect(await waitUntil(() => two.server.directory.byExtension('600') !== undefined, NOTIFIED_WITHIN_MS)).toBe(true);
    const p = await phoneOn(two, '600');
    const s = await p.subscribe({ expires: 600 });
    expect(s.res.status).toBe(200);
    expect(await waitUntil(() => voice(p.notifiesOf(s.sub.callId)[0]) === '0/0')).toBe(true);
    const m = await one.server.store.voicemail.deposit('600', { caller: '601', callerName: '', receivedAt: Date.now(), durationMs: 1500 }, wav);
    expect(await waitUntil(() => voice(p.notifiesOf(s.sub.callId).at(-1)) === '1/0', NOTIFIED_WITHIN_MS)).toBe(true);
    await one.server.store.voicemail.setFolder('600', m.id, 'saved');
    expect(await waitUntil(() => voice(p.notifiesOf(s.sub.callId).at(-1)) === '0/1', NOTIFIED_WITHIN_MS)).toBe(true);
    expect(parseMessageSummary(p.notifiesOf(s.sub.callId).at(-1)!.body)!.waiting).toBe(false);
  });

  it('an unsolicited-mode phone registered on node 2 is told by node 2 alone', async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    await one.server.store.users.add({ extension: '602', password: 'pw-602', mwi: 'unsolicited' });
    expect(await waitUntil(() => two.server.directory.byExtension('602') !== undefined, NOTIFIED_WITHIN_MS)).toBe(true);
    const p = await phoneOn(two, '602');
    expect((await p.register()).status).toBe(200);
    expect(await waitUntil(() => voice(p.notifiesOf(undefined)[0]) === '0/0')).toBe(true);
    // Node 1 mirrors the binding (another node's): it sends nothing to it.
    expect(await waitUntil(() => one.server.location.lookup('sip:602@test.local').length === 1, NOTIFIED_WITHIN_MS)).toBe(true);
    await one.server.store.voicemail.deposit('602', { caller: '600', callerName: '', receivedAt: Date.now(), durationMs: 1500 }, wav);
    expect(await waitUntil(() => voice(p.notifiesOf(undefined).at(-1)) === '1/0', NOTIFIED_WITHIN_MS)).toBe(true);
    await one.server.store.voicemail.deposit('602', { caller: '600', callerName: '', receivedAt: Date.now(), durationMs: 1500 }, wav);
    expect(await waitUntil(() => voice(p.notifiesOf(undefined).at(-1)) === '2/0', NOTIFIED_WITHIN_MS)).toBe(true);
    // Registration and two deposits: three NOTIFYs, all from node 2 (one Call-ID).
    expect(p.notifiesOf(undefined).map(voice)).toEqual(['0/0', '1/0', '2/0']);
    expect(new Set(p.notifiesOf(undefined).map((n) => n.callId)).size).toBe(1);
  });
});

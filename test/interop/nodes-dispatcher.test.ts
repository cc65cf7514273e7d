// Three Switchboard nodes on one PostgreSQL behind Debian's Kamailio as a
// dispatcher (README "Several nodes"): the phones know only Kamailio's
// address. A call between two of them crosses whichever nodes Kamailio and
// the registrations chose; the node holding the callee is killed; the
// callee's next REGISTER goes through Kamailio to a node that answers, and
// the callee is reachable again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPhone } from '../integration/lib/phone.ts';
import { waitUntil } from '../lib/wait.ts';
import { freePort } from './process.ts';
import { sentBy, startNodeCluster } from './lib/node-cluster.ts';
import { passwordOf } from './users.ts';
import type { NodeCluster } from './lib/node-cluster.ts';
import { startDispatcher } from './lib/kamailio-dispatcher.ts';
import type { DispatcherHandle } from './lib/kamailio-dispatcher.ts';

const DOMAIN = 'dispatch.test';
const NAMES = ['north', 'south', 'west'];
const HOSTS = ['127.0.91.1', '127.0.91.2', '127.0.91.3'];
const KAMAILIO = '127.0.91.10';
const USERS = ['3101', '3102'].map((ext) => ({ ext, password: passwordOf(ext, 'ds') }));
const PATH = [{ name: 'supported', value: 'path' }];

let cluster: NodeCluster;
let kamailio: DispatcherHandle;
const phones: TestPhone[] = [];

async function phone(ext: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: USERS.find((u) => u.ext === ext)!.password, server: { host: KAMAILIO, port: kamailio.port, domain: DOMAIN } });
  phones.push(p);
  return p;
}

/** The node holding a phone's registration, as the shared database says. */
async function nodeOf(ext: string): Promise<string | undefined> {
  return (await cluster.rows<{ node: string }>('SELECT node FROM registrations WHERE aor = $1', [`sip:${ext}@${DOMAIN}`]))[0]?.node;
}

beforeAll(async () => {
  cluster = await startNodeCluster({ names: NAMES, hosts: HOSTS, domain: DOMAIN, users: USERS });
  kamailio = await startDispatcher({ host: KAMAILIO, port: await freePort(), nodes: HOSTS.map((h) => `${h}:${cluster.nodes[0]!.udpPort}`) });
}, 180_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await kamailio?.stop();
  await cluster?.stop();
});

describe('three nodes behind a Kamailio dispatcher', () => {
  it('phones register through Kamailio, call each other across nodes, and survive the death of the callee\'s node', async () => {
    const caller = await phone('3101');
    const callee = await phone('3102');
    expect((await caller.register(120, PATH)).status).toBe(200);
    expect((await callee.register(120, PATH)).status).toBe(200);
    expect(await waitUntil(async () => (await nodeOf('3102')) !== undefined, 5000, 100)).toBe(true);
    const first = (await nodeOf('3102'))!;
    expect(NAMES).toContain(first);
    // Every node knows where the callee is before the call.
    for (let i = 0; i < 3; i++) {
      expect(await waitUntil(async () => (await cluster.status(i)).extensions.find((e) => e.extension === '3102')?.contacts[0]?.node === first, 5000, 100)).toBe(true);
    }

    const call = caller.call('3102');
    const rang = await callee.waitIncoming(1, 10_000);
    // It reached the phone back through Kamailio (the Path of its registration).
    expect(sentBy(rang.invite)).toContain(KAMAILIO);
    expect((await call.final).status).toBe(200);
    expect((await callee.inDialog(rang.dialog!, 'BYE')).status).toBe(200);
    expect(await waitUntil(() => caller.requests.some((r) => r.method === 'BYE'), 5000)).toBe(true);
    // The record is written once the call has ended on both sides (after the caller's answer to the BYE).
    const answered = () => cluster.rows('SELECT 1 FROM cdrs WHERE caller = $1 AND callee = $2 AND disposition = $3', ['3101', '3102', 'answered']);
    expect(await waitUntil(async () => (await answered()).length === 1, 10_000, 100)).toBe(true);

    // The callee's node dies.
    const dead = NAMES.indexOf(first);
    await cluster.nodes[dead]!.kill();
    // Its next registration goes to a node that answers (Kamailio fails over or has marked the dead one).
    expect((await callee.register(120, PATH)).status).toBe(200);
    expect(await waitUntil(async () => { const n = await nodeOf('3102'); return n !== undefined && n !== first; }, 5000, 100)).toBe(true);
    const now = (await nodeOf('3102'))!;
    const live = [0, 1, 2].filter((i) => i !== dead);
    for (const i of live) {
      expect(await waitUntil(async () => (await cluster.status(i)).extensions.find((e) => e.extension === '3102')?.contacts[0]?.node === now, 5000, 100)).toBe(true);
    }

    const again = caller.call('3102');
    const rangAgain = await callee.waitIncoming(2, 15_000);
    expect(sentBy(rangAgain.invite)).toContain(KAMAILIO);
    expect((await again.final).status).toBe(200);
    expect((await caller.inDialog(again.dialog!, 'BYE')).status).toBe(200);
    // Its record, from a live node, beside the first one.
    expect(await waitUntil(async () => (await answered()).length === 2, 10_000, 200)).toBe(true);
  });
});

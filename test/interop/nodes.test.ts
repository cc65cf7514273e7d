// Three Switchboard nodes, each its own process on its own loopback address,
// sharing one PostgreSQL database and linked by SIP over TLS (issue 10 item 3,
// SPEC ). A phone registered on one node is called from a phone on
// another: the call crosses the link to the node holding the callee's flow.
// Then a node is killed (SIGKILL, as a crash): the others see its link go
// down, its phone re-registers on another node (as a phone behind DNS SRV or a
// dispatcher would) and is reachable again, and nothing the dead node had
// written is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPhone } from '../integration/lib/phone.ts';
import { waitUntil } from '../lib/wait.ts';
import type { TransportName } from '../../src/sip/message.ts';
import type { StatusSnapshot } from '../../src/pbx/status/status.ts';
import { sentBy, startNodeCluster } from './lib/node-cluster.ts';
import { passwordOf } from './users.ts';
import type { NodeCluster } from './lib/node-cluster.ts';

const DOMAIN = 'nodes.test';
const NAMES = ['alpha', 'bravo', 'charlie'] as const;
const HOSTS = ['127.0.90.1', '127.0.90.2', '127.0.90.3'];
const USERS = ['3001', '3002', '3003', '3004'].map((ext) => ({ ext, password: passwordOf(ext, 'nodes') }));

let cluster: NodeCluster;
const phones: TestPhone[] = [];
const status = (i: number) => cluster.status(i);
const rows = <T = unknown>(sql: string, params?: unknown[]) => cluster.rows<T>(sql, params);

async function phoneAt(node: number, ext: string, transport: TransportName = 'udp', contactUser?: null): Promise<TestPhone> {
  const user = USERS.find((u) => u.ext === ext)!;
  const p = await TestPhone.start({ ext, password: user.password, transport, contactUser, server: { host: HOSTS[node]!, port: cluster.nodes[node]!.udpPort, domain: DOMAIN } });
  phones.push(p);
  return p;
}

beforeAll(async () => {
  // alpha runs two workers: a call it routes may start on either, and the link's answers find their worker.
  cluster = await startNodeCluster({ names: NAMES, hosts: HOSTS, domain: DOMAIN, users: USERS, workers: [2, 1, 1] });
}, 180_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await cluster?.stop();
});

describe('three nodes on one PostgreSQL, linked over TLS', () => {
  it('every node sees both links up and names the node at the other end', async () => {
    for (let i = 0; i < 3; i++) {
      const expected = NAMES.filter((_, j) => j !== i).sort();
      let peers: StatusSnapshot['peers'] = [];
      const ok = await waitUntil(async () => {
        peers = (await status(i)).peers ?? [];
        return peers.filter((p) => p.state === 'up').length === 2;
      }, 15_000, 250);
      expect(ok, `${NAMES[i]} sees ${JSON.stringify(peers)}\n${cluster.nodes[i]!.output()}`).toBe(true);
      expect(peers.map((p) => p.node).sort()).toEqual(expected);
      for (const p of peers) expect(p.uri).toContain(';transport=tls');
    }
  });

  it('a call from a phone on alpha reaches a TCP phone on bravo through the link, and is recorded once', async () => {
    const caller = await phoneAt(0, '3001');
    // Its Contact has no user part (sip:host:port;transport=tcp): the link's request names the user in To.
    const callee = await phoneAt(1, '3002', 'tcp', null);
    expect((await caller.register()).status).toBe(200);
    expect((await callee.register()).status).toBe(200);
    // alpha learns of bravo's registration through the store's feed.
    expect(await waitUntil(async () => {
      const r = await rows<{ node: string }>('SELECT node FROM registrations WHERE aor = $1', [`sip:3002@${DOMAIN}`]);
      return r.length === 1 && r[0]!.node === 'bravo';
    }, 5000, 100)).toBe(true);

    const call = caller.call('3002');
    const incoming = await callee.waitIncoming(1, 10_000);
    // bravo, which holds the phone's TCP connection, delivered it; alpha's request went to bravo over the link.
    expect(sentBy(incoming.invite)).toContain(`TCP ${HOSTS[1]}:`);
    const res = await call.final;
    expect(res.status).toBe(200);
    expect(call.dialog).toBeDefined();
    // While the call lasts, alpha holds it (caller side) and bravo holds the delivery.
    const [a, b] = [await status(0), await status(1)];
    expect(a.calls.map((c) => [c.caller, c.callee])).toEqual([['3001', '3002']]);
    expect(b.calls.map((c) => [c.caller, c.callee])).toEqual([['3001', '3002']]);
    expect((await callee.inDialog(incoming.dialog!, 'BYE')).status).toBe(200);
    expect(await waitUntil(() => caller.requests.some((r) => r.method === 'BYE'), 5000)).toBe(true);

    // One record of the call in the shared database: alpha's, which routed it.
    expect(await waitUntil(async () => (await rows('SELECT 1 FROM cdrs WHERE caller = $1 AND callee = $2', ['3001', '3002'])).length >= 1, 10_000, 200)).toBe(true);
    const cdrs = await rows<{ disposition: string }>('SELECT disposition FROM cdrs WHERE caller = $1 AND callee = $2', ['3001', '3002']);
    expect(cdrs.map((c) => c.disposition)).toEqual(['answered']);
  });

  it('a node killed mid-run: its link goes down, its phone re-registers on another node and is called there; nothing stored is lost', async () => {
    const caller = await phoneAt(0, '3001'); // calls only: its INVITEs answer the digest challenge
    const moving = await phoneAt(2, '3003');
    const stays = await phoneAt(2, '3004');
    expect((await moving.register(120)).status).toBe(200);
    expect((await stays.register(120)).status).toBe(200);
    // A call between two of charlie's phones: charlie routes it and writes its record.
    const local = stays.call('3003');
    const rang = await moving.waitIncoming(1, 10_000);
    expect(sentBy(rang.invite)).toContain(`UDP ${HOSTS[2]}:`);
    expect((await local.final).status).toBe(200);
    expect((await moving.inDialog(rang.dialog!, 'BYE')).status).toBe(200);
    // charlie's registrations and record reach the database before the crash.
    expect(await waitUntil(async () => (await rows('SELECT 1 FROM registrations WHERE node = $1', ['charlie'])).length === 2, 10_000, 100)).toBe(true);
    expect(await waitUntil(async () => (await rows('SELECT 1 FROM cdrs WHERE caller = $1 AND callee = $2', ['3004', '3003'])).length === 1, 10_000, 100)).toBe(true);
    const linkToCharlie = async (n: number) => (await status(n)).peers?.find((p) => p.uri.includes(HOSTS[2]!));
    for (const n of [0, 1]) expect(await waitUntil(async () => (await linkToCharlie(n))?.state === 'up', 15_000, 250)).toBe(true);
    const usersBefore = await rows<{ extension: string }>('SELECT extension FROM users ORDER BY extension');

    await cluster.nodes[2]!.kill();
    // alpha and bravo see the link to charlie go down within a few keepalives.
    for (const n of [0, 1]) {
      expect(await waitUntil(async () => (await linkToCharlie(n))?.state === 'down', 10_000, 250)).toBe(true);
    }
    // Until its phone re-registers, a call to it finds no usable contact: refused at once, not after 32 s.
    const meanwhile = await caller.call('3003').final;
    expect(meanwhile.status).toBe(480);

    // The phone's next registration goes to bravo (its next server).
    moving.useServer({ host: HOSTS[1]!, port: cluster.nodes[1]!.udpPort, domain: DOMAIN });
    expect((await moving.register(120)).status).toBe(200);
    // bravo writes it behind the SIP path; alpha follows the store's feed and then routes to bravo.
    expect(await waitUntil(async () => (await status(0)).extensions.find((e) => e.extension === '3003')?.contacts[0]?.node === 'bravo', 5000, 100)).toBe(true);
    const again = caller.call('3003');
    const rangAgain = await moving.waitIncoming(2, 10_000);
    expect(sentBy(rangAgain.invite)).toContain(`UDP ${HOSTS[1]}:`);
    expect((await again.final).status).toBe(200);
    expect((await caller.inDialog(again.dialog!, 'BYE')).status).toBe(200);

    // What charlie had stored is all there: users, its other phone's registration, its call record.
    expect(await rows('SELECT extension FROM users ORDER BY extension')).toEqual(usersBefore);
    expect(await rows('SELECT 1 FROM registrations WHERE node = $1 AND aor = $2', ['charlie', `sip:3004@${DOMAIN}`])).toHaveLength(1);
    expect(await rows('SELECT 1 FROM cdrs WHERE caller = $1 AND callee = $2', ['3004', '3003'])).toHaveLength(1);
    expect(await waitUntil(async () => (await rows<{ node: string }>('SELECT node FROM registrations WHERE aor = $1', [`sip:3003@${DOMAIN}`]))[0]?.node === 'bravo', 5000, 100)).toBe(true);
  });
});

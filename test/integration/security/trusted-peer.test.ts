// SPEC D-06: a trusted server over mutual TLS registers our users without a
// digest; anything else (an unlisted name, an untrusted CA, no certificate)
// is a phone like any other.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate } from '../../../src/security/ca.ts';
import type { IssuedCertificate } from '../../../src/security/ca.ts';
import { certificatePaths } from '../../../src/security/cert-files.ts';
import { addTrustedPeer, removeTrustedPeer } from '../../../src/security/trusted-peers.ts';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestClient } from '../lib/sip-client.ts';
import { cli } from '../lib/cli.ts';

const clients: TestClient[] = [];

async function tlsClient(ts: TestServer, id?: IssuedCertificate): Promise<TestClient> {
  const ca = readFileSync(certificatePaths(ts.dataDir).caCert, 'utf8');
  // The server's name is not what this is about: its chain is checked, its name is not.
  const c = await new TestClient('tls', ts.host, ts.tlsPort, {
    ca: [ca], checkServerIdentity: () => undefined, ...(id ? { key: id.keyPem, cert: id.certPem } : {}),
  }).open();
  clients.push(c);
  return c;
}

/** A certificate for `names` issued by the server's own CA (as `switchboard cert issue` would). */
async function fromOurCa(ts: TestServer, names: string[]): Promise<IssuedCertificate> {
  const p = certificatePaths(ts.dataDir);
  const ca = { certPem: readFileSync(p.caCert, 'utf8'), keyPem: readFileSync(p.caKey, 'utf8') };
  return issueCertificate(ca, { commonName: names[0]!, dns: names, days: 5, usage: 'client' });
}

function trustedLogs(ts: TestServer): object[] {
  return ts.log.entries.filter((e) => e.msg?.startsWith('trusted server connected')).map((e) => e.obj);
}

afterAll(() => {
  for (const c of clients) c.close();
});

describe('trusted peer listed in the config', () => {
  let ts: TestServer;
  let gw: IssuedCertificate;
  beforeAll(async () => {
    ts = await startTestServer({ config: { sip: { trustedPeers: ['GW.example.test'] } } });
    for (const ext of ['1001', '1002', '1003']) await ts.server.store.users.add({ extension: ext, password: `pw-${ext}-secret` });
    await ts.server.store.users.add({ extension: '1004', password: 'pw-1004-secret', enabled: false });
    await ts.server.directory.poll();
    gw = await fromOurCa(ts, ['gw.example.test']);
  });
  afterAll(() => ts.stop());

  it('registers a user with no challenge, and logs the peer once per connection', async () => {
    const c = await tlsClient(ts, gw);
    const first = await c.request('REGISTER', { user: '1001' });
    expect(first.status).toBe(200);
    expect(c.received.some((r) => r.status === 401)).toBe(false);
    expect(ts.server.location.lookup('sip:1001@test.local').length).toBe(1);
    expect((await c.request('REGISTER', { user: '1002' })).status).toBe(200);
    expect(trustedLogs(ts)).toEqual([expect.objectContaining({ peer: 'gw.example.test', address: '127.0.0.1', port: c.localPort })]);
  });

  it('a user we do not have is challenged like any request; a disabled one is refused', async () => {
    const c = await tlsClient(ts, gw);
    expect((await c.request('REGISTER', { user: '9999' })).status).toBe(401);
    expect((await c.request('REGISTER', { user: '1004' })).status).toBe(403);
  });

  it('challenges a certificate from our CA that names another server', async () => {
    const c = await tlsClient(ts, await fromOurCa(ts, ['other.example.test']));
    expect((await c.request('REGISTER', { user: '1003' })).status).toBe(401);
  });

  it('challenges the right name from a CA we do not trust', async () => {
    const stranger = await createRootCa();
    const c = await tlsClient(ts, await issueCertificate(stranger, { commonName: 'gw.example.test', dns: ['gw.example.test'], days: 5, usage: 'client' }));
    expect((await c.request('REGISTER', { user: '1003' })).status).toBe(401);
  });

  it('a phone without a client certificate still connects and registers with its password', async () => {
    const c = await tlsClient(ts);
    const res = await c.register('1003', 'pw-1003-secret');
    expect(res.status).toBe(200);
    expect(c.received.filter((r) => r.status === 401).length).toBe(1);
  });
});

describe('trusted peers added while running', () => {
  let ts: TestServer;
  let gw: IssuedCertificate;
  beforeAll(async () => {
    ts = await startTestServer();
    await ts.server.store.users.add({ extension: '2001', password: 'pw-2001-secret' });
    await ts.server.directory.poll();
    gw = await fromOurCa(ts, ['gw.example.test']);
  });
  afterAll(() => ts.stop());

  /** REGISTERs over a new connection until the answer is `status`; the server polls the store every 50 ms. */
  async function untilStatus(status: number): Promise<number> {
    let last = 0;
    for (let i = 0; i < 40 && last !== status; i++) {
      const c = await tlsClient(ts, gw);
      last = (await c.request('REGISTER', { user: '2001' })).status;
      c.close();
    }
    return last;
  }

  it('with no list, no certificate is asked for: the peer gets a challenge', async () => {
    expect(await untilStatus(401)).toBe(401);
  });

  it('the CLI adds a peer: a new connection of it is trusted; removing it ends that', async () => {
    const added = await cli('trusted-peer', 'add', 'gw.example.test', '--data-dir', ts.dataDir);
    expect(added.code, added.stderr).toBe(0);
    const listed = await cli('trusted-peer', 'list', '--json', '--data-dir', ts.dataDir);
    expect(JSON.parse(listed.stdout)).toEqual(['gw.example.test']);
    expect(await untilStatus(200)).toBe(200);
    expect(await removeTrustedPeer(ts.server.store.admin.settings, 'gw.example.test')).toBe(true);
    expect(await untilStatus(401)).toBe(401);
    // And back through the repository the API uses.
    await addTrustedPeer(ts.server.store.admin.settings, 'gw.example.test');
    expect(await untilStatus(200)).toBe(200);
  });

  it('the CLI refuses a wildcard', async () => {
    const r = await cli('trusted-peer', 'add', '*.example.test', '--data-dir', ts.dataDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fully qualified/);
  });
});

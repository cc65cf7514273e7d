// A trusted server (SPEC D-06) in a server of two workers: its requests that
// the worker holding its TLS connection hands to the other one (here INVITEs
// whose Replaces names a dialog tag of the other worker, placement.ts) are
// authenticated there by its certificate as well, and that worker logs the
// peer once per connection too, not once per forwarded request.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { passwordOf } from '../../interop/users.ts';
import { issueCertificate } from '../../../src/security/ca.ts';
import { certificatePaths } from '../../../src/security/cert-files.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import { TestClient } from '../lib/sip-client.ts';
import { until } from '../lib/until.ts';

const USERS = ['1001', '1002'].map((ext) => ({ ext, password: passwordOf(ext) }));
const LOGGED = 'trusted server connected over mutual TLS';

let sb: SwitchboardHandle;
let printed = '';
const clients: TestClient[] = [];

beforeAll(async () => {
  sb = await startSwitchboard({
    workers: 2, users: USERS, readyTimeoutMs: 60_000, config: { sip: { trustedPeers: ['gw.example.test'] } },
    onOutput: (chunk) => { printed += chunk; },
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await sb?.stop();
});

/** A TLS connection presenting a certificate for gw.example.test from the server's own CA. */
async function trustedClient(): Promise<TestClient> {
  const p = certificatePaths(sb.dataDir);
  const ca = { certPem: readFileSync(p.caCert, 'utf8'), keyPem: readFileSync(p.caKey, 'utf8') };
  const id = await issueCertificate(ca, { commonName: 'gw.example.test', dns: ['gw.example.test'], days: 5, usage: 'client' });
  const c = await new TestClient('tls', sb.host, sb.tlsPort, { ca: [ca.certPem], checkServerIdentity: () => undefined, key: id.keyPem, cert: id.certPem }).open();
  clients.push(c);
  return c;
}

/** The log lines naming the trusted peer of the connection from `port`, so far; from one worker when given. */
const loggedFor = (port: number, worker?: number): string[] => printed.split('\n').filter((l) =>
  l.includes(LOGGED) && l.includes(`"port":${port},`) && (worker === undefined || l.includes(`"worker":${worker},`)));

/**
 * An INVITE from the trusted peer for 1001 whose Replaces names a dialog tag of `worker`: placement.ts hands it to that
 * worker whichever holds the connection, which authenticates it by the certificate (no 407) and, finding no such
 * dialog, routes it as a new call to 1002 (not registered: 480).
 */
async function inviteTo(c: TestClient, worker: number, i: number): Promise<void> {
  const host = `${sb.host}:${sb.tlsPort}`;
  const res = await c.request('INVITE', {
    user: '1001', uri: `sip:1002@${host}`, to: `sip:1002@${host}`, callId: `replaces-${c.localPort}-${i}@example.test`,
    headers: [{ name: 'replaces', value: `gone-${i}@example.test;to-tag=${worker}.tag${i};from-tag=peer${i}` }],
  });
  expect(res.status, `INVITE ${i}`).toBe(480);
  expect(ownerOfId(tagOf(res.to)), `INVITE ${i} answered by worker ${worker}`).toBe(worker);
}

describe('a trusted server with two workers', () => {
  it('is logged once per connection by the worker it forwards requests to, not once per request', async () => {
    const c = await trustedClient();
    // The worker holding the connection answers the REGISTER itself (its tag names it), with no challenge.
    const reg = await c.request('REGISTER', { user: '1001' });
    expect(reg.status).toBe(200);
    const holder = ownerOfId(tagOf(reg.to));
    expect([1, 2]).toContain(holder);
    const other = 3 - holder;
    for (let i = 0; i < 4; i++) await inviteTo(c, other, i);

    // A second connection's INVITE to the same worker: once its line is out, every line that worker wrote for the
    // first connection is too (one worker's log is in order).
    const marker = await trustedClient();
    await inviteTo(marker, other, 0);
    await until(() => loggedFor(marker.localPort, other).length === 1 && loggedFor(c.localPort, holder).length === 1, 'the log lines', 10_000);
    // Once by the holder (the REGISTER), once by the other worker (the first forwarded INVITE).
    expect(loggedFor(c.localPort, other), sb.output()).toHaveLength(1);
    expect(loggedFor(c.localPort)).toHaveLength(2);
  }, 30_000);
});

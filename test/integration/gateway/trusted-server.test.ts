// D-06 / B-19 end to end: a gateway Switchboard in trusted-server mode
// registers lines that have no password to an upstream Switchboard that lists
// the gateway's certificate name as a trusted peer, over mutual TLS with no
// challenge. Without that entry the upstream challenges and the line says why.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { main } from '../../../src/cli/main.ts';
import { addTrustedCas } from '../../../src/security/trust-store.ts';
import { addTrustedPeer, removeTrustedPeer } from '../../../src/security/trusted-peers.ts';
import { certificateNames } from '../../../src/sip/transport/tls-peer.ts';
import { startTestServer, tempDataDir, type TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { addLines, startUpstream, stopAll, type PairLine } from './pair.ts';

/** How long (real time) to wait for what the servers reach on their own polls and handshakes. */
const WAIT_MS = 15_000;

let upstream: TestServer;
let gw: TestServer;
let gwName: string;

/** Runs the real CLI in this process, its output swallowed; its exit code. */
async function cli(...args: string[]): Promise<number> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await main(args);
  } finally {
    process.stdout.write = write;
  }
}

const status = () => gw.server.gateway.lines!.lineStatus('1001');

/** The name a gateway's identity proves: what the upstream's administrator lists. */
function identityName(server: TestServer): string {
  const id = server.server.certificates.telephony ?? server.server.certificates;
  const x = new X509Certificate(id.certPem);
  const names = certificateNames({ subjectaltname: x.subjectAltName ?? '', subject: { CN: /CN=([^\n]+)/.exec(x.subject)?.[1] } as never });
  const name = names.find((n) => n.includes('.')) ?? names[0];
  expect(name).toBeDefined();
  return name!;
}

/** The upstream saw its trusted-peer list change to one that `has` accepts. */
const peersChanged = (up: TestServer, has: (peers: string[]) => boolean) =>
  up.log.entries.some((e) => e.msg === 'trusted peers changed' && has((e.obj as { trustedPeers: string[] }).trustedPeers));

/** A line with no password (trusted-server mode needs only the user name, B-19); its upstream account has one. */
const trustedLine = (extension: string, upstreamUser: string): PairLine =>
  ({ extension, upstreamUser, password: '', account: { password: `Up-${upstreamUser}-secret-never-used` } });

/** A gateway whose data directory trusts the upstream's CA from its first start, and whose CA the upstream then trusts. */
async function startTrustingGateway(up: TestServer, domain: string, manualTime = false): Promise<TestServer> {
  const gwDir = tempDataDir();
  await addTrustedCas(gwDir, Buffer.from(up.server.certificates.caCertPem));
  const started = await startTestServer({ dataDir: gwDir, manualTime, config: { sip: { domain } } });
  const caFile = join(tempDataDir(), 'gateway-ca.pem');
  await writeFile(caFile, started.server.certificates.caCertPem);
  expect(await cli('cert', 'trust', 'add', caFile, '--data-dir', up.dataDir)).toBe(0);
  return started;
}

/** Gives the gateway its trusted-server line over TLS to `up`, whose domain is `upstreamDomain`. */
function addTrustedLine(gateway: TestServer, up: TestServer, line: PairLine, upstreamDomain: string): Promise<void> {
  return addLines(gateway, {
    port: up.tlsPort, transport: 'tls', lines: [line], settings: { defaultDomain: upstreamDomain, trustedServer: true, registerExpiresSec: 120 },
  });
}

const LINE = trustedLine('1001', '41510');

beforeAll(async () => {
  upstream = await startUpstream([LINE]);
  gw = await startTrustingGateway(upstream, 'gw.test');
  gwName = identityName(gw);
  await addTrustedPeer(upstream.server.store.admin.settings, gwName);
  // Its TLS listener asks for client certificates once it has seen the entry; a connection made before stays unverified.
  await until(() => peersChanged(upstream, (p) => p.includes(gwName)), 'the upstream to list the peer', WAIT_MS);
  await addTrustedLine(gw, upstream, LINE, 'upstream.test');
}, 60_000);

afterAll(() => stopAll(gw, upstream));

describe('gateway in trusted-server mode towards a Switchboard upstream', () => {
  it('registers a line with no password over mutual TLS, never challenged', async () => {
    await until(() => status()?.registration === 'registered', () => `line 1001 registered (now ${JSON.stringify(status())})`, WAIT_MS);
    expect(upstream.server.location.isRegistered('sip:41510@upstream.test')).toBe(true);
    expect(status()!.failure).toBeNull();
    expect(upstream.log.entries.filter((e) => e.msg?.startsWith('trusted server connected'))).toEqual([
      expect.objectContaining({ obj: expect.objectContaining({ peer: gwName }) }),
    ]);
    // No refusal recorded upstream for the user (a 401 round would be a challenge, not a refusal: the
    // gateway has no credentials to answer one with, so it would have failed instead of registering).
    expect(gw.log.entries.filter((e) => e.msg?.includes('gateway line 1001 not registered'))).toEqual([]);
  });

  it('without the trusted-peer entry the upstream challenges and the line says it has no password', async () => {
    expect(await removeTrustedPeer(upstream.server.store.admin.settings, gwName)).toBe(true);
    // The upstream polls its store (every 50 ms here); registrations after it saw the change are challenged.
    await until(() => peersChanged(upstream, (p) => p.length === 0), 'the upstream to drop the peer', WAIT_MS);
    gw.server.gateway.lines!.reregister(['1001']);
    await until(() => status()?.failure !== null && status()?.failure !== undefined, 'line 1001 failed', WAIT_MS);
    // gw-lines' reason for a challenge answered with no password (FailureCode has no separate code for it).
    expect(status()!.failure).toMatchObject({ code: 'rejected', status: 401 });
    expect(status()!.failure!.text).toMatch(/asks for a password and the line has none.*trusted server upstream/);
  });
});

// The upstream asks for client certificates only on handshakes after it lists a
// trusted peer: a gateway connected before that must reconnect to be known.
describe('gateway in trusted-server mode listed upstream after it connected', () => {
  let up2: TestServer;
  let gw2: TestServer;
  const status2 = () => gw2.server.gateway.lines!.lineStatus('2001');

  beforeAll(async () => {
    const line = trustedLine('2001', '41520');
    up2 = await startUpstream([line], { sip: { domain: 'upstream2.test' } });
    gw2 = await startTrustingGateway(up2, 'gw2.test', true);
    await addTrustedLine(gw2, up2, line, 'upstream2.test');
  }, 60_000);

  afterAll(() => stopAll(gw2, up2));

  it('registers on its next attempt once listed, on a new connection, without a restart', async () => {
    // Not listed yet: challenged on the connection it opened (no client certificate asked for).
    await until(() => status2()?.failure?.status === 401, () => `line 2001 challenged (now ${JSON.stringify(status2())})`, WAIT_MS);
    const name = identityName(gw2);
    await addTrustedPeer(up2.server.store.admin.settings, name);
    await until(() => peersChanged(up2, (p) => p.includes(name)), 'the upstream to list the peer', WAIT_MS);
    // The next attempt (5 s of backoff on the gateway's clock) is challenged on the old connection,
    // closes it and registers at once on a new handshake that presents the certificate.
    await gw2.advance(5_001);
    const reconnected = () => gw2.log.entries.filter((e) => e.msg?.startsWith('gateway line: challenged in trusted-server mode')).length;
    await until(() => reconnected() === 1, 'the line to close its old connection', WAIT_MS);
    // Its retry is due at once (a 0 ms timer: the gateway's clock moves only by advance()).
    await gw2.advance(1);
    await until(() => status2()?.registration === 'registered', () => `line 2001 registered (now ${JSON.stringify(status2())})`, WAIT_MS);
    expect(up2.server.location.isRegistered('sip:41520@upstream2.test')).toBe(true);
    expect(reconnected()).toBe(1);
    expect(up2.log.entries.filter((e) => e.msg?.startsWith('trusted server connected'))).toEqual([
      expect.objectContaining({ obj: expect.objectContaining({ peer: name }) }),
    ]);
  });
});

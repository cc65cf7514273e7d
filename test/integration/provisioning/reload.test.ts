// Hot reload (issue 14): a new identity reaches the provisioning listener's
// new handshakes, while a keep-alive connection made before the swap goes on
// with the old one.
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ provisioning: true });
});
afterAll(() => ts?.stop());

interface Fetched { status: number; fingerprint: string; reused: boolean; socket: unknown }

function get(agent: https.Agent, port: number, ca: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/ca.pem', agent, ca }, (res) => {
      // Read now: at the end the socket goes back to the agent.
      const socket = res.socket as import('node:tls').TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, reused: req.reusedSocket, socket }));
    });
    req.on('error', reject);
  });
}

it('the identity swap reaches new handshakes and leaves an established keep-alive connection open', async () => {
  const port = ts.server.provisioning!.https.port;
  const ca = ts.server.certificates.caCertPem;
  const before = new X509Certificate(ts.server.certificates.certPem).fingerprint256;
  const kept = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await get(kept, port, ca);
    expect(first).toMatchObject({ status: 200, fingerprint: before, reused: false });

    // A missing identity is issued anew at the reload (SIGHUP's path).
    await rm(ts.server.certificates.paths.cert);
    const report = await ts.server.reload(ts.server.config);
    expect(report.fingerprint).not.toBe(before);

    const again = await get(kept, port, ca);
    expect(again).toMatchObject({ status: 200, fingerprint: before, reused: true });
    expect(again.socket).toBe(first.socket);

    const fresh = new https.Agent({ keepAlive: false });
    const next = await get(fresh, port, ca);
    expect(next.status).toBe(200);
    expect(next.fingerprint).toBe(report.fingerprint);
    fresh.destroy();
  } finally {
    kept.destroy();
  }
});

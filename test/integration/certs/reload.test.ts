// Hot apply (issue 14 item 1): `switchboard cert apply` asks the running
// server over its control socket for the same reload as SIGHUP; every
// listener presenting the identity (SIP TLS, HTTPS management) takes the new
// one for new handshakes, established connections keep theirs, and the
// command prints what each listener presented before and presents now.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { cli } from '../lib/cli.ts';
import { optionsOver, tlsConnect } from '../../interop/lib/tls-probe.ts';
import { freePort, startSwitchboard } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { ApiClient } from '../api/client.ts';

const servers: TestServer[] = [];
const spawned: SwitchboardHandle[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const s of spawned) await s.stop();
});

const fingerprint = (s: tls.TLSSocket): string => s.getPeerCertificate().fingerprint256;

/** Fingerprint the HTTPS listener presents to a new handshake. */
async function httpsFingerprint(port: number): Promise<string> {
  const s = await tlsConnect(port);
  try {
    return fingerprint(s);
  } finally {
    s.destroy();
  }
}

/** The identity is removed from the data directory, so the next reload issues a new one. */
function dropIdentity(dataDir: string): void {
  rmSync(join(dataDir, 'certs', 'server.crt'));
  rmSync(join(dataDir, 'certs', 'server.key'));
}

describe('switchboard cert apply', () => {
  it('swaps SIP TLS and HTTPS on a running server, keeps the established connection, and says what changed', async () => {
    const ts = await startTestServer({ http: true });
    servers.push(ts);
    const httpPort = ts.server.http!.address().port;
    const old = ts.server.certificates.fingerprintSha256;
    const established = await tlsConnect(ts.tlsPort);
    expect(fingerprint(established)).toBe(old);
    expect(await httpsFingerprint(httpPort)).toBe(old);

    dropIdentity(ts.dataDir);
    const r = await cli('cert', 'apply', '--data-dir', ts.dataDir);
    expect(r.code, r.stderr).toBe(0);
    const now = ts.server.certificates.fingerprintSha256;
    expect(now).not.toBe(old);
    expect(r.stdout).toContain(`applied: SIP TLS and HTTPS management now present ${now} (was ${old})`);
    expect(r.stdout).toContain('the server issued a new identity while reloading (missing)');

    // The old connection goes on with the certificate it began with; new handshakes see the new one.
    expect(await optionsOver(established, ts.tlsPort, 2)).toBe('SIP/2.0 200 OK');
    expect(fingerprint(established)).toBe(old);
    const fresh = await tlsConnect(ts.tlsPort);
    expect(fingerprint(fresh)).toBe(now);
    expect(await optionsOver(fresh, ts.tlsPort, 3)).toBe('SIP/2.0 200 OK');
    fresh.destroy();
    established.destroy();
    expect(await httpsFingerprint(httpPort)).toBe(now);

    // Nothing changed since: said so, nothing issued.
    const again = await cli('cert', 'apply', '--data-dir', ts.dataDir);
    expect(again.stdout).toContain(`applied: SIP TLS and HTTPS management now present ${now} (unchanged)`);
    expect(again.stdout).not.toContain('issued a new identity');
  });

  it('with no server running says the change applies at the next start', async () => {
    const ts = await startTestServer();
    await ts.stop();
    const r = await cli('cert', 'apply', '--data-dir', ts.dataDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('no server running: applies at the next start');
  });

  it('in a server of two workers, reloads every worker and reports each listener once (from the command line and from the API)', async () => {
    const httpPort = await freePort();
    const sb = await startSwitchboard({ workers: 2, http: `127.0.0.1:${httpPort}`, readyTimeoutMs: 60_000 });
    spawned.push(sb);
    const established = await tlsConnect(sb.tlsPort);
    const old = fingerprint(established);
    dropIdentity(sb.dataDir);
    const r = await cli('cert', 'apply', '--data-dir', sb.dataDir);
    expect(r.code, `${r.stderr}\n${sb.output()}`).toBe(0);
    const line = /^applied: SIP TLS and HTTPS management now present (\S+) \(was (\S+)\)$/m.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    expect(line![2]).toBe(old);
    // Both workers took it: whichever the kernel hands a new connection to presents the new identity.
    for (let i = 0; i < 6; i++) {
      const s = await tlsConnect(sb.tlsPort);
      expect(fingerprint(s)).toBe(line![1]);
      s.destroy();
    }
    expect(await httpsFingerprint(httpPort)).toBe(line![1]);
    expect(await optionsOver(established, sb.tlsPort, 2)).toBe('SIP/2.0 200 OK');
    established.destroy();

    // Through the API (served by worker 1, which asks the supervisor to reload every worker).
    const api = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(sb.dataDir, 'certs', 'ca.crt'), 'utf8'));
    await api.loginChanging('admin', /^Initial admin password: (\S+)$/m.exec(sb.output())![1]!, 'Cluster-Cert-Pass-9');
    const issued = await api.post('/api/certificates/identities/main/issue', { commonName: 'cluster.test', san: { dns: ['localhost'], ips: ['127.0.0.1'], uris: [] } });
    expect(issued.status, issued.text).toBe(201);
    const fresh = issued.json.identity.certificate.fingerprintSha256 as string;
    expect(issued.json.applied.listeners.map((l: { name: string; after: string }) => [l.name, l.after])).toEqual([['SIP TLS', fresh], ['HTTPS management', fresh]]);
    for (let i = 0; i < 6; i++) {
      const s = await tlsConnect(sb.tlsPort);
      expect(fingerprint(s)).toBe(fresh);
      s.destroy();
    }
  }, 90_000);
});

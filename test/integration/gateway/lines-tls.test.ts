// An upstream over TLS whose certificate comes from a CA the gateway does
// not trust (B-32, EC-04): the line says 'tls-trust' naming the issuer; once
// that CA is trusted (`switchboard cert trust add`, which reloads the running
// server) the line registers without anything else done.
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { tempDataDir, type TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { startPair, stopAll } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;

const status = () => gw.server.gateway.lines!.lineStatus('1001');

beforeAll(async () => {
  ({ upstream, gw } = await startPair({
    manualTime: true, transport: 'tls', lines: [{ extension: '1001', upstreamUser: '41510' }], settings: { registerExpiresSec: 120 },
  }));
}, 30_000);

afterAll(() => stopAll(gw, upstream));

describe('gateway line over TLS to an upstream with an untrusted CA', () => {
  it('says tls-trust naming the issuer, in the status and the log', async () => {
    await until(() => status()?.failure?.code === 'tls-trust' && status()!.failure!.text.includes('issued by "'), 'tls-trust with the issuer', 8000);
    const issuerCn = /CN=([^\n]+)/.exec(new X509Certificate(upstream.server.certificates.caCertPem).subject)![1]!;
    expect(status()!.failure!.text).toContain(issuerCn);
    expect(status()!.registration).toBe('failed');
    expect(upstream.server.location.isRegistered('sip:41510@upstream.test')).toBe(false);
    const logged = gw.log.entries.filter((e) => e.msg?.includes('gateway line 1001 not registered') && e.msg.includes(issuerCn));
    expect(logged.length).toBe(1);
  });

  it('registers once that CA is trusted (cert trust add)', async () => {
    const file = join(tempDataDir(), 'upstream-ca.pem');
    await writeFile(file, upstream.server.certificates.caCertPem);
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['cert', 'trust', 'add', file, '--data-dir', gw.dataDir]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    await until(() => status()?.registration === 'registered', '1001 registered over TLS', 8000);
    expect(status()!.registeredVia).toBe(`tls:127.0.0.1:${upstream.tlsPort}`);
    expect(upstream.server.location.isRegistered('sip:41510@upstream.test')).toBe(true);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCertificates, type CertificateSet } from '../../../src/security/certs.ts';
import { tlsClientOptions, tlsServerOptions } from '../../../src/security/tls-policy.ts';
import type { RegisterFailure } from '../../../src/sip/ua/register-client.ts';
import { describeFailure, retryDelayMs, WRONG_PASSWORD_RETRY_MS } from '../../../src/gateway/failure-reasons.ts';
import { fetchPeerIssuer } from '../../../src/gateway/peer-issuer.ts';

let root: string;
/** The gateway's own set, and an upstream with a CA of its own. */
let ours: CertificateSet;
let upstream: CertificateSet;
let server: tls.Server;
let port: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sb-gwfail-'));
  ours = await ensureCertificates(join(root, 'gw'), { hostName: 'gw.example.test', ipAddresses: ['127.0.0.1'], sipDomain: 'gw.example.test' });
  upstream = await ensureCertificates(join(root, 'up'), { hostName: 'pbx.upstream.test', ipAddresses: ['127.0.0.1'], sipDomain: 'upstream.test' });
  server = tls.createServer(tlsServerOptions(upstream, { legacyTls: false }), (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(root, { recursive: true, force: true });
});

/** A real client handshake's error against the upstream server. */
function connectError(opts: tls.ConnectionOptions): Promise<Error> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
      s.destroy();
      reject(new Error('handshake unexpectedly succeeded'));
    });
    s.once('error', resolve);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

const transport = (error: Error): RegisterFailure => ({ kind: 'transport', status: 0, reason: error.message, hop: undefined, error, credentialsRefused: false });
// The register client's reason for a response is the whole status line ("401 Unauthorized").
const response = (status: number, reason: string, credentialsRefused: boolean): RegisterFailure =>
  ({ kind: 'response', status, reason: `${status} ${reason}`, hop: undefined, credentialsRefused });

describe('failure reasons (B-32, EC-04)', () => {
  it('refused credentials and 403 are a wrong password, with the slow retry said (D-08)', () => {
    const f = describeFailure(response(401, 'Unauthorized', true), { dialled: 'udp:192.0.2.1:5060', authUser: '41510', legacyTls: false });
    expect(f.code).toBe('wrong-password');
    expect(f.status).toBe(401);
    expect(f.text).toContain('auth user 41510');
    expect(f.text).toContain('every 5 minutes');
    expect(f.text).toContain('(401 Unauthorized)');
    expect(f.text).not.toContain('401 401');
    expect(describeFailure(response(403, 'Forbidden', false), { legacyTls: false }).code).toBe('wrong-password');
    expect(retryDelayMs('wrong-password', 1)).toBe(WRONG_PASSWORD_RETRY_MS);
  });

  it('a challenge without credentials (trusted-server mode) is not a wrong password', () => {
    const f = describeFailure(response(401, 'Unauthorized', false), { legacyTls: false });
    expect(f.code).toBe('rejected');
    expect(f.text).toContain('trusted server');
  });

  it('404 is an unknown user; other statuses are rejections with the status', () => {
    expect(describeFailure(response(404, 'Not Found', false), { legacyTls: false }).code).toBe('not-found');
    const r = describeFailure(response(503, 'Service Unavailable', false), { dialled: 'tls:pbx:5061', legacyTls: false });
    expect(r).toMatchObject({ code: 'rejected', status: 503 });
    expect(r.text).toContain('(503 Service Unavailable)');
  });

  it('timeouts list every proxy tried; no hop names DNS when the resolver said so', () => {
    const f = describeFailure({ kind: 'timeout', status: 0, reason: 'timeout', hop: undefined, credentialsRefused: false },
      { tried: ['udp:127.0.0.2:5060', 'udp:127.0.0.3:5060'], legacyTls: false });
    expect(f.code).toBe('no-answer');
    expect(f.text).toContain('udp:127.0.0.2:5060, udp:127.0.0.3:5060');
    const d = describeFailure({ kind: 'no-hop', status: 0, reason: '', hop: undefined, credentialsRefused: false },
      { dnsError: 'no DNS record for pbx.invalid', legacyTls: false });
    expect(d).toMatchObject({ code: 'dns' });
    expect(d.text).toContain('pbx.invalid');
  });

  it('a real refused connection', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await new Promise<Error>((resolve) => net.connect(p, '127.0.0.1').once('error', resolve));
    const f = describeFailure(transport(err), { dialled: `tcp:127.0.0.1:${p}`, legacyTls: false });
    expect(f.code).toBe('refused');
    expect(f.text).toContain('ECONNREFUSED');
  });

  it('a real untrusted CA names the issuer read from the upstream', async () => {
    const err = await connectError(tlsClientOptions(ours, { legacyTls: false, rejectUnauthorized: true, servername: 'pbx.upstream.test' }));
    const issuer = await fetchPeerIssuer('127.0.0.1', port, 'pbx.upstream.test');
    expect(issuer).toBeDefined();
    expect(issuer).toContain(new X509(upstream.caCertPem).subjectCn);
    const f = describeFailure(transport(err), { dialled: `tls:pbx.upstream.test:${port}`, host: 'pbx.upstream.test', issuer, legacyTls: false });
    expect(f.code).toBe('tls-trust');
    expect(f.text).toContain(issuer!);
    expect(f.text).toContain('cert trust add');
  });

  it('a real name mismatch names what was dialled (an IP literal is checked against IP SANs, EC-11)', async () => {
    const trusting = { legacyTls: false, rejectUnauthorized: true, extraCas: [upstream.caCertPem] };
    const byName = await connectError(tlsClientOptions(ours, { ...trusting, servername: 'other.upstream.test' }));
    const f = describeFailure(transport(byName), { dialled: `tls:other.upstream.test:${port}`, host: 'other.upstream.test', legacyTls: false });
    expect(f.code).toBe('tls-name');
    expect(f.text).toContain('does not name other.upstream.test, the name dialled');
    const byIp = await connectError({ ...tlsClientOptions(ours, { ...trusting, servername: '127.0.0.9' }), host: '127.0.0.1' });
    const g = describeFailure(transport(byIp), { host: '127.0.0.9', legacyTls: false });
    expect(g.code).toBe('tls-name');
    expect(g.text).toContain('127.0.0.9, the IP address dialled');
  });

  it('a real version mismatch mentions the legacy switch when it is off (EC-03)', async () => {
    const err = await connectError({ ...tlsClientOptions(ours, { legacyTls: true, rejectUnauthorized: false }), minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
    const f = describeFailure(transport(err), { dialled: 'tls:x:1', legacyTls: false });
    expect(f.code).toBe('tls-version');
    expect(f.text).toContain('legacy TLS switch');
    expect(describeFailure(transport(err), { legacyTls: true }).text).not.toContain('legacy TLS switch');
  });

  it('expired certificates are a clock problem (EC-12)', () => {
    const err = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    const f = describeFailure(transport(err), { dialled: 'tls:x:1', legacyTls: false });
    expect(f.code).toBe('clock');
    expect(f.text).toMatch(/^clock problem/);
  });

  it('backoff doubles from 5 s and stays bounded', () => {
    expect([1, 2, 3].map((n) => retryDelayMs('no-answer', n))).toEqual([5_000, 10_000, 20_000]);
    expect(retryDelayMs('refused', 50)).toBe(5 * 60_000);
  });
});

class X509 {
  readonly subjectCn: string;
  constructor(pem: string) {
    const c = new X509Certificate(pem);
    this.subjectCn = /CN=([^\n]+)/.exec(c.subject)?.[1] ?? '';
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../../src/security/ca.ts';
import { ensureCertificates, type CertificateSet } from '../../../src/security/certs.ts';
import {
  DEFAULT_CIPHERS,
  LEGACY_CIPHERS,
  classifyTlsError,
  describeTlsError,
  formatClientHello,
  parseClientHello,
  tlsClientOptions,
  tlsServerOptions,
  type ClientHelloSummary,
} from '../../../src/security/tls-policy.ts';

const HOST = 'pbx.example.test';
const DAY = 86_400_000;

let root: string;
let certs: CertificateSet;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sb-tls-'));
  certs = await ensureCertificates(join(root, 'data'), { hostName: HOST, ipAddresses: ['192.0.2.10'], sipDomain: 'example.test' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface ClientResult {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  error?: NodeJS.ErrnoException;
  peer?: tls.DetailedPeerCertificate;
}
interface ServerResult {
  error?: NodeJS.ErrnoException;
  peerCertificate?: tls.PeerCertificate;
  protocol?: string | null;
}

/** One handshake over loopback; both sides' outcome, bounded to 5 s. */
async function handshake(
  serverOpts: tls.TlsOptions,
  clientOpts: tls.ConnectionOptions,
  host = '127.0.0.1',
): Promise<{ client: ClientResult; server: ServerResult }> {
  const server = tls.createServer(serverOpts);
  const serverDone = new Promise<ServerResult>((resolve) => {
    server.on('secureConnection', (s) => {
      resolve({ peerCertificate: s.getPeerCertificate(), protocol: s.getProtocol() });
      s.end();
    });
    server.on('tlsClientError', (error) => resolve({ error }));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as net.AddressInfo).port;
  const client = await new Promise<ClientResult>((resolve) => {
    const s = tls.connect({ host, port, ...clientOpts }, () => {
      resolve({ ok: true, protocol: s.getProtocol(), cipher: s.getCipher().name, peer: s.getPeerCertificate(true) });
      s.end();
    });
    s.on('error', (error) => resolve({ ok: false, error }));
    s.setTimeout(5000, () => s.destroy(new Error('client timeout')));
  });
  const timeout = new Promise<ServerResult>((r) => setTimeout(() => r({}), 2000).unref());
  const srv = await Promise.race([serverDone, timeout]);
  await new Promise((r) => server.close(r));
  return { client, server: srv };
}

const tls11Only: tls.ConnectionOptions = {
  minVersion: 'TLSv1.1',
  maxVersion: 'TLSv1.1',
  ciphers: LEGACY_CIPHERS,
  rejectUnauthorized: false,
};

describe('server and client options', () => {
  it('default policy is TLS 1.2+ with AEAD suites, no client certificate request', () => {
    const o = tlsServerOptions(certs, { legacyTls: false });
    expect(o.minVersion).toBe('TLSv1.2');
    expect(o.ciphers).toBe(DEFAULT_CIPHERS);
    expect(o.ciphers).not.toMatch(/SECLEVEL|-SHA:|-SHA$|CBC/);
    expect(o.requestCert).toBe(false);
    expect(o.cert).toBe(certs.certPem);
    const legacy = tlsServerOptions(certs, { legacyTls: true, offerChain: true });
    expect(legacy.minVersion).toBe('TLSv1');
    expect(legacy.ciphers).toMatch(/^TLS_AES_128_GCM_SHA256:.*:AES128-SHA:.*@SECLEVEL=0$/);
    expect(legacy.cert).toBe(certs.certPem + certs.caCertPem);
    // Modern suites keep the front of the list when legacy is on.
    expect(legacy.ciphers!.startsWith(DEFAULT_CIPHERS)).toBe(true);
  });
});

describe('handshakes with the internal CA (client trusts only ca.crt)', () => {
  it('by host name, with SNI', async () => {
    const r = await handshake(
      tlsServerOptions(certs, { legacyTls: false }),
      tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: HOST }),
    );
    expect(r.client.error).toBeUndefined();
    expect(r.client.ok).toBe(true);
    expect(r.client.protocol).toBe('TLSv1.3');
    expect(r.client.peer?.fingerprint256).toBe(certs.fingerprintSha256);
  });

  it('by IP address (127.0.0.1 and ::1), matching IP SANs', async () => {
    const client = tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true });
    const v4 = await handshake(tlsServerOptions(certs, { legacyTls: false }), client, '127.0.0.1');
    expect(v4.client.error).toBeUndefined();
    const v6 = await handshake(tlsServerOptions(certs, { legacyTls: false }), client, '::1');
    expect(v6.client.error).toBeUndefined();
    // An explicit IP servername is checked against IP SANs, and not sent as SNI.
    const explicit = tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: '192.0.2.10' });
    expect(explicit.servername).toBeUndefined();
    expect((await handshake(tlsServerOptions(certs, { legacyTls: false }), explicit)).client.ok).toBe(true);
  });

  it('fails on a name the certificate does not carry, and on an untrusted CA', async () => {
    const wrongName = await handshake(
      tlsServerOptions(certs, { legacyTls: false }),
      tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: 'other.example.test' }),
    );
    expect(wrongName.client.ok).toBe(false);
    expect(classifyTlsError(wrongName.client.error).category).toBe('hostname');
    expect(describeTlsError(wrongName.client.error)).toContain('other.example.test');

    const untrusted = await handshake(tlsServerOptions(certs, { legacyTls: false }), { servername: HOST });
    expect(untrusted.client.ok).toBe(false);
    const info = classifyTlsError(untrusted.client.error);
    expect(info.category).toBe('trust');
    expect(info.clockProblem).toBe(false);
  });

  it('does not request a client certificate even when the client has one (A-18)', async () => {
    const r = await handshake(
      tlsServerOptions(certs, { legacyTls: false }),
      tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: HOST, presentIdentity: true }),
    );
    expect(r.client.ok).toBe(true);
    expect(r.server.error).toBeUndefined();
    expect(r.server.peerCertificate).toEqual({});
  });

  it('sends the CA after the identity when offerChain is on', async () => {
    const noTrust: tls.ConnectionOptions = { rejectUnauthorized: false, servername: HOST };
    const withChain = await handshake(tlsServerOptions(certs, { legacyTls: false, offerChain: true }), noTrust);
    const without = await handshake(tlsServerOptions(certs, { legacyTls: false }), noTrust);
    expect(withChain.client.peer?.issuerCertificate?.fingerprint256).toBe(certs.caFingerprintSha256);
    expect(without.client.peer?.issuerCertificate?.fingerprint256).not.toBe(certs.caFingerprintSha256);
  });
});

describe('legacy TLS switch (EC-03)', () => {
  it('default server refuses a TLS 1.1-only client and says why', async () => {
    const r = await handshake(tlsServerOptions(certs, { legacyTls: false }), tls11Only);
    expect(r.client.ok).toBe(false);
    expect(classifyTlsError(r.client.error).category).toBe('version');
    const info = classifyTlsError(r.server.error, { legacyTls: false });
    expect(info.category).toBe('version');
    expect(info.message).toMatch(/below our minimum.*legacy TLS is off/);
    expect(info.message).not.toMatch(/\n/);
  });

  it('legacy server accepts TLS 1.1 and TLS 1.0 clients', async () => {
    const r11 = await handshake(tlsServerOptions(certs, { legacyTls: true }), tls11Only);
    expect(r11.client.error).toBeUndefined();
    expect(r11.client.protocol).toBe('TLSv1.1');
    const r10 = await handshake(tlsServerOptions(certs, { legacyTls: true }), {
      ...tls11Only,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1',
    });
    expect(r10.client.protocol).toBe('TLSv1');
  });

  it('legacy on still negotiates TLS 1.3 / AEAD with a modern peer, in both roles', async () => {
    const asServer = await handshake(
      tlsServerOptions(certs, { legacyTls: true }),
      tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: HOST }),
    );
    expect(asServer.client.protocol).toBe('TLSv1.3');
    // A TLS-1.2-only peer that offers CBC suites too still gets an AEAD suite from us.
    const tls12Peer: tls.TlsOptions = {
      ...tlsServerOptions(certs, { legacyTls: true }),
      maxVersion: 'TLSv1.2',
      honorCipherOrder: false,
    };
    const asClient = await handshake(
      tls12Peer,
      tlsClientOptions(certs, { legacyTls: true, rejectUnauthorized: true, servername: HOST }),
    );
    expect(asClient.client.protocol).toBe('TLSv1.2');
    expect(asClient.client.cipher).toMatch(/GCM|CHACHA20/);
  });

  it('client: default refuses a peer that needs TLS 1.1, legacy reaches it', async () => {
    const oldPeer: tls.TlsOptions = { ...tlsServerOptions(certs, { legacyTls: true }), maxVersion: 'TLSv1.1' };
    const strict = await handshake(oldPeer, tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: HOST }));
    expect(strict.client.ok).toBe(false);
    expect(classifyTlsError(strict.client.error).category).toBe('version');
    const legacy = await handshake(oldPeer, tlsClientOptions(certs, { legacyTls: true, rejectUnauthorized: true, servername: HOST }));
    expect(legacy.client.error).toBeUndefined();
    expect(legacy.client.protocol).toBe('TLSv1.1');
  });

  it('reports a cipher mismatch (TLS 1.2 client offering only CBC/static-RSA)', async () => {
    const r = await handshake(tlsServerOptions(certs, { legacyTls: false }), {
      maxVersion: 'TLSv1.2',
      ciphers: 'AES128-SHA:AES256-SHA',
      rejectUnauthorized: false,
    });
    expect(r.client.ok).toBe(false);
    expect(classifyTlsError(r.server.error).category).toBe('cipher');
    expect(describeTlsError(r.server.error)).toMatch(/no cipher suite in common/);
  });
});

describe('clock problems (EC-12)', () => {
  it('an expired or not-yet-valid server certificate is reported as a clock problem', async () => {
    const ca = { certPem: certs.caCertPem, keyPem: certs.caKeyPem };
    const expired = await issueCertificate(ca, { commonName: HOST, dns: [HOST], days: 1, now: new Date(Date.now() - 10 * DAY) });
    const future = await issueCertificate(ca, { commonName: HOST, dns: [HOST], days: 30, now: new Date(Date.now() + 10 * DAY), keys: expired.keys });
    const client = tlsClientOptions(certs, { legacyTls: false, rejectUnauthorized: true, servername: HOST });
    for (const [cert, code] of [[expired, 'CERT_HAS_EXPIRED'], [future, 'CERT_NOT_YET_VALID']] as const) {
      const r = await handshake(tlsServerOptions({ ...certs, certPem: cert.certPem, keyPem: cert.keyPem }, { legacyTls: false }), client);
      expect(r.client.error?.code).toBe(code);
      const info = classifyTlsError(r.client.error);
      expect(info).toMatchObject({ category: 'clock', clockProblem: true });
      expect(info.message).toMatch(/clock/);
    }
  });
});

describe('ClientHello capture for rejected handshakes', () => {
  /** The listener pattern a transport can use: read the first bytes, put them back, then start TLS. */
  async function captureRejected(clientOpts: tls.ConnectionOptions): Promise<{ hello: ClientHelloSummary | null; line: string }> {
    const secureContext = tls.createSecureContext(tlsServerOptions(certs, { legacyTls: false }));
    let done!: (v: { hello: ClientHelloSummary | null; line: string }) => void;
    const result = new Promise<{ hello: ClientHelloSummary | null; line: string }>((r) => (done = r));
    const server = net.createServer((sock) => {
      sock.once('data', (chunk) => {
        const hello = parseClientHello(chunk);
        // Paused first: a flowing socket would re-emit the unshifted bytes
        // to nobody before TLSSocket takes over.
        sock.pause();
        sock.unshift(chunk);
        const t = new tls.TLSSocket(sock, { isServer: true, secureContext, requestCert: false });
        t.on('error', (err) => {
          done({ hello, line: describeTlsError(err, { clientHello: hello, legacyTls: false }) });
          sock.destroy();
        });
        t.on('secure', () => {
          done({ hello, line: 'accepted' });
          t.end();
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...clientOpts });
    c.on('error', () => {});
    const timer = setTimeout(() => done({ hello: null, line: 'timeout' }), 3000);
    const out = await result;
    clearTimeout(timer);
    c.destroy();
    await new Promise((r) => server.close(r));
    return out;
  }

  it('logs the version and suites of a TLS 1.1 client', async () => {
    const { hello, line } = await captureRejected({ ...tls11Only, servername: 'old-phone.example.test' });
    expect(hello).not.toBeNull();
    expect(hello!.clientVersion).toBe(0x0302);
    expect(hello!.supportedVersions).toEqual([]);
    expect(hello!.truncated).toBe(false);
    expect(hello!.serverName).toBe('old-phone.example.test');
    expect(line).toMatch(/below our minimum/);
    expect(line).toMatch(/client offered up to TLS 1\.1, suites .*AES128-SHA/);
  });

  it('reads supported_versions from a TLS 1.3 ClientHello', async () => {
    const { hello, line } = await captureRejected({ rejectUnauthorized: false, servername: HOST });
    expect(line).toBe('accepted');
    expect(hello!.supportedVersions).toContain(0x0304);
    expect(formatClientHello(hello!)).toMatch(/^TLS 1\.2–TLS 1\.3, suites TLS_AES_256_GCM_SHA384/);
  });
});

describe('parseClientHello and describeTlsError robustness', () => {
  it('returns null for non-TLS bytes and flags a cut-off hello', async () => {
    expect(parseClientHello(Buffer.from('OPTIONS sip:pbx SIP/2.0\r\n'))).toBeNull();
    expect(parseClientHello(Buffer.alloc(3))).toBeNull();
    // A real hello captured through the same path, then cut in half.
    const full = await new Promise<Buffer>((resolve) => {
      const server = net.createServer((s) => s.once('data', (d) => { resolve(d); s.destroy(); server.close(); }));
      server.listen(0, '127.0.0.1', () => {
        const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: HOST });
        c.on('error', () => {});
      });
    });
    const whole = parseClientHello(full)!;
    expect(whole.truncated).toBe(false);
    expect(whole.serverName).toBe(HOST);
    const half = parseClientHello(full.subarray(0, full.length >> 1))!;
    expect(half.truncated).toBe(true);
    expect(half.clientVersion).toBe(whole.clientVersion);
  });

  it('never throws on random input', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(11 + (rnd() % 200));
      for (let j = 0; j < b.length; j++) b[j] = rnd();
      b[0] = 0x16;
      b[5] = 0x01;
      const h = parseClientHello(b);
      if (h) {
        parsed++;
        expect(() => formatClientHello(h)).not.toThrow();
        for (const c of h.serverName ?? '') expect(c.charCodeAt(0)).toBeGreaterThan(0x20);
      }
    }
    expect(parsed).toBe(3000);
  });

  it('describes odd errors in one line without throwing', () => {
    expect(describeTlsError(undefined)).toBe('TLS handshake failed');
    expect(describeTlsError(new Error('line one\nline two'))).toBe('line one');
    expect(describeTlsError({ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'x' })).toMatch(/plaintext on a TLS port/);
    expect(classifyTlsError('ECONNRESET').category).toBe('network');
  });
});

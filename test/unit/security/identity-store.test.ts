import { X509Certificate as NodeX509 } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { sipTlsOptions } from '../../../src/server-config.ts';
import { managementTls } from '../../../src/api/management.ts';
import { splitCertificates } from '../../../src/security/cert-info.ts';
import { CertificateStoreError, ensureCertificates, type CertificateSet, type EnsureCertificatesOptions } from '../../../src/security/certs.ts';
import {
  IdentityImportError, identityPaths, importIdentity, issueIdentity, readIdentity, removeTelephonyIdentity, setOfferChain,
  type IdentityImportProblem, type IdentityImportSource,
} from '../../../src/security/identity-store.ts';
import { addTrustedCas } from '../../../src/security/trust-store.ts';
import { makeCert, makeRoot, type MadeCert } from './openssl-pki.ts';

const base: EnsureCertificatesOptions = { hostName: 'pbx.example.test', ipAddresses: ['192.0.2.10'], sipDomain: 'example.test' };
const moved: EnsureCertificatesOptions = { hostName: 'new.example.test', ipAddresses: ['198.51.100.77'], sipDomain: 'other.test' };

let pki: string;
let dataDir: string;
let root: MadeCert;
let inter: MadeCert;
let leaf: MadeCert;
const bad: Record<string, MadeCert> = {};

const fp = (pem: string): string => new NodeX509(pem).fingerprint256;
const pemOf = (m: MadeCert): string => new NodeX509(m.certPem).toString();

beforeAll(async () => {
  pki = await mkdtemp(join(tmpdir(), 'sb-identity-pki-'));
  root = await makeRoot(pki, 'Corp Root');
  inter = await makeCert(pki, 'Corp Issuing', root, { ca: true });
  leaf = await makeCert(pki, 'imported.example.test', inter, { san: 'DNS:imported.example.test,IP:127.0.0.1' });
  bad.sha1Leaf = await makeCert(pki, 'sha1-leaf', inter, { hash: 'sha1' });
  bad.sha1Inter = await makeCert(pki, 'SHA1 Issuing', root, { ca: true, hash: 'sha1' });
  bad.underSha1Inter = await makeCert(pki, 'under-sha1-inter', bad.sha1Inter);
  bad.sha1Root = await makeRoot(pki, 'Old SHA1 Root', { hash: 'sha1' });
  bad.underSha1Root = await makeCert(pki, 'under-sha1-root', bad.sha1Root);
  bad.weak = await makeCert(pki, 'weak', inter, { key: { rsa: 1024 } });
  bad.ec = await makeCert(pki, 'ec-leaf', inter, { key: { ec: 'prime256v1' } });
  bad.otherRoot = await makeRoot(pki, 'Unrelated Root');
});

beforeEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = await mkdtemp(join(tmpdir(), 'sb-identity-'));
});

afterAll(async () => {
  await rm(pki, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

async function expectImportProblem(src: IdentityImportSource, problem: IdentityImportProblem, message: RegExp, now?: Date): Promise<void> {
  const err = await importIdentity(dataDir, 'main', src, now).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(IdentityImportError);
  expect((err as IdentityImportError).problem).toBe(problem);
  expect((err as Error).message).toMatch(message);
}

/** The certificate and chain a TLS client receives from these options, verified against `ca` only. */
async function handshake(options: tls.TlsOptions, ca: string, servername: string): Promise<{ fingerprint: string; error: string | null }> {
  const server = tls.createServer(options, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port, ca, servername, rejectUnauthorized: false }, () => {
        const fingerprint = sock.getPeerX509Certificate()!.fingerprint256;
        const error = sock.authorizationError ? String(sock.authorizationError) : null;
        sock.destroy();
        resolve({ fingerprint, error });
      });
      sock.on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('issueIdentity', () => {
  it('issues from the internal CA with every subject field and the given names, kept across starts with other names', async () => {
    const first = await ensureCertificates(dataDir, base);
    const now = new Date();
    const got = await issueIdentity(dataDir, 'main', {
      commonName: 'pbx.example.test',
      subject: { organization: 'Example Ltd', organizationalUnit: 'Telecoms', country: 'GB', state: 'Kent', locality: 'Dover' },
      san: { dns: ['pbx.example.test'], ips: ['192.0.2.10', '192.0.2.11'], uris: ['sip:example.test'] },
      days: 400,
      now,
    });
    expect(got).toMatchObject({ role: 'main', source: 'issued', offerChain: false, updatedAt: now.toISOString() });
    expect(got.certificate.subject).toBe('CN=pbx.example.test, OU=Telecoms, O=Example Ltd, L=Dover, ST=Kent, C=GB');
    expect(got.certificate.subjectAltNames).toEqual(['DNS:pbx.example.test', 'IP:192.0.2.10', 'IP:192.0.2.11', 'URI:sip:example.test']);
    expect(got.certificate).toMatchObject({ signatureHash: 'sha256', keyType: 'rsa', keyBits: 2048, selfSigned: false });
    expect(got.chain.map((c) => c.fingerprintSha256)).toEqual([first.caFingerprintSha256]);
    expect((await stat(identityPaths(dataDir, 'main').key)).mode & 0o777).toBe(0o600);

    // The bug this fixes: a start whose names differ used to replace the identity.
    const later = await ensureCertificates(dataDir, moved);
    expect(later).toMatchObject({ identityRenewed: false, identityReason: null, identitySource: 'issued' });
    expect(later.fingerprintSha256).toBe(got.certificate.fingerprintSha256);
    expect(later.chainPems.map(fp)).toEqual([first.caFingerprintSha256]);
  });

  it('an automatic identity is still re-issued when the names change (today\'s behaviour)', async () => {
    const first = await ensureCertificates(dataDir, base);
    const later = await ensureCertificates(dataDir, moved);
    expect(later).toMatchObject({ identityRenewed: true, identityReason: 'san-changed', identitySource: 'auto' });
    expect(later.fingerprintSha256).not.toBe(first.fingerprintSha256);
  });

  it('refuses before the first start (no CA yet)', async () => {
    await expect(issueIdentity(dataDir, 'main', { commonName: 'x', san: { dns: ['x'], ips: [], uris: [] } })).rejects.toThrow(/no internal CA/);
  });
});

describe('importIdentity: PEM key + chain', () => {
  it('puts an out-of-order chain leaf-first, stores it as imported, keeps it across starts, and offers the chain when asked', async () => {
    await ensureCertificates(dataDir, base);
    const got = await importIdentity(dataDir, 'main', { keyPem: leaf.keyPem, chainPem: root.certPem + leaf.certPem + inter.certPem });
    expect(got.source).toBe('imported');
    expect(got.certificate.fingerprintSha256).toBe(fp(leaf.certPem));
    expect(got.chain.map((c) => c.fingerprintSha256)).toEqual([fp(inter.certPem), fp(root.certPem)]);
    expect(await readFile(identityPaths(dataDir, 'main').chain, 'utf8')).toBe(pemOf(inter) + pemOf(root));
    expect((await stat(identityPaths(dataDir, 'main').key)).mode & 0o777).toBe(0o600);

    const set = await ensureCertificates(dataDir, moved);
    expect(set).toMatchObject({ identityRenewed: false, identitySource: 'imported', offerChain: false });
    expect(set.fingerprintSha256).toBe(fp(leaf.certPem));
    const config = configSchema.parse({});
    // Without the intermediate, a client that has only the root cannot build the path.
    const without = await handshake(sipTlsOptions(config, set).tlsServerOptions, root.certPem, 'imported.example.test');
    expect(without.fingerprint).toBe(fp(leaf.certPem));
    expect(without.error).toMatch(/^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/);

    expect((await setOfferChain(dataDir, 'main', true)).offerChain).toBe(true);
    const withChain = await ensureCertificates(dataDir, moved);
    expect(withChain.offerChain).toBe(true);
    expect(await handshake(sipTlsOptions(config, withChain).tlsServerOptions, root.certPem, 'imported.example.test'))
      .toEqual({ fingerprint: fp(leaf.certPem), error: null });
    // A later import keeps the chain offer the administrator chose.
    expect((await importIdentity(dataDir, 'main', { keyPem: leaf.keyPem, chainPem: leaf.certPem + inter.certPem })).offerChain).toBe(true);
  });

  it('accepts an EC P-256 key, and a SHA-1 self-signed root at the end of the chain (its signature is never checked)', async () => {
    expect((await importIdentity(dataDir, 'main', { keyPem: bad.ec!.keyPem, chainPem: bad.ec!.certPem + inter.certPem })).certificate.keyType).toBe('ec');
    const got = await importIdentity(dataDir, 'telephony', { keyPem: bad.underSha1Root!.keyPem, chainPem: bad.underSha1Root!.certPem + bad.sha1Root!.certPem });
    expect(got.chain.map((c) => c.signatureHash)).toEqual(['sha1']);
  });

  it('refuses a key that matches no certificate, and writes nothing', async () => {
    const before = await ensureCertificates(dataDir, base);
    await expectImportProblem({ keyPem: bad.weak!.keyPem, chainPem: leaf.certPem + inter.certPem }, 'key-mismatch', /does not match any certificate/);
    expect((await ensureCertificates(dataDir, base)).fingerprintSha256).toBe(before.fingerprintSha256);
    expect((await readIdentity(dataDir, 'main'))!.source).toBe('auto');
  });

  it('refuses SHA-1 in the leaf or an intermediate', async () => {
    await expectImportProblem({ keyPem: bad.sha1Leaf!.keyPem, chainPem: bad.sha1Leaf!.certPem + inter.certPem }, 'sha1', /"sha1-leaf" is signed with SHA1/);
    await expectImportProblem(
      { keyPem: bad.underSha1Inter!.keyPem, chainPem: bad.underSha1Inter!.certPem + bad.sha1Inter!.certPem + root.certPem },
      'sha1', /chain certificate "SHA1 Issuing" is signed with SHA1/,
    );
  });

  it('refuses an RSA key under 2048 bits', async () => {
    await expectImportProblem({ keyPem: bad.weak!.keyPem, chainPem: bad.weak!.certPem }, 'weak-key', /RSA 1024-bit key; RSA 2048\+ or EC P-256\+ is required/);
  });

  it('refuses an expired certificate and one not valid yet, naming the clock', async () => {
    const src = { keyPem: leaf.keyPem, chainPem: leaf.certPem + inter.certPem };
    const notAfter = new NodeX509(leaf.certPem).validToDate;
    await expectImportProblem(src, 'expired', /expired at .*it has expired, or the clock is ahead/, new Date(notAfter.getTime() + 1000));
    await expectImportProblem(src, 'not-yet-valid', /is not valid yet: the clock \(2019-01-01T00:00:00Z\) is before .*set the time \(NTP\)/, new Date('2019-01-01T00:00:00Z'));
  });

  it('refuses a certificate that is not part of the chain, and unreadable input', async () => {
    await expectImportProblem({ keyPem: leaf.keyPem, chainPem: leaf.certPem + inter.certPem + bad.otherRoot!.certPem }, 'broken-chain', /not part of this certificate's chain: Unrelated Root/);
    await expectImportProblem({ keyPem: 'not a key', chainPem: leaf.certPem }, 'unreadable', /not a private key/);
    await expectImportProblem({ keyPem: leaf.keyPem, chainPem: 'nothing here' }, 'unreadable', /no certificate in the chain/);
  });
});

describe('importIdentity: PKCS#12', () => {
  const fixture = new URL('../../fixtures/security/identity.p12', import.meta.url);

  it('imports the committed fixture with its password; a wrong password says so', async () => {
    const p12 = await readFile(fixture);
    await expectImportProblem({ p12, password: 'nope' }, 'unreadable', /^wrong password/);
    const got = await importIdentity(dataDir, 'main', { p12, password: 'fixture' });
    expect(got.certificate.subject).toBe('O=Switchboard test fixture, CN=fixture.example.test');
    expect(got.chain.map((c) => c.subject)).toEqual(['O=Switchboard test fixture, CN=Fixture Root']);
  });
});

describe('telephony identity (A-17)', () => {
  it('SIP/TLS presents it when present, HTTPS keeps the main one; removing it falls back to the main one', async () => {
    await ensureCertificates(dataDir, base);
    await importIdentity(dataDir, 'telephony', { keyPem: leaf.keyPem, chainPem: leaf.certPem + inter.certPem });
    const set = await ensureCertificates(dataDir, base);
    expect(set.telephony).toMatchObject({ source: 'imported', fingerprintSha256: fp(leaf.certPem), offerChain: false });
    expect(set.identitySource).toBe('auto');
    const config = configSchema.parse({});
    expect((await handshake(sipTlsOptions(config, set).tlsServerOptions, root.certPem, 'imported.example.test')).fingerprint).toBe(fp(leaf.certPem));

    expect(await removeTelephonyIdentity(dataDir)).toBe(true);
    expect(await removeTelephonyIdentity(dataDir)).toBe(false);
    expect(await readIdentity(dataDir, 'telephony')).toBeNull();
    const after = await ensureCertificates(dataDir, base);
    expect(after.telephony).toBeNull();
    expect((await handshake(sipTlsOptions(config, after).tlsServerOptions, after.caCertPem, 'pbx.example.test')))
      .toEqual({ fingerprint: after.fingerprintSha256, error: null });
  });

  it('a broken telephony identity is a warning and SIP/TLS uses the main one; a broken main one stops start-up', async () => {
    await ensureCertificates(dataDir, base);
    await importIdentity(dataDir, 'telephony', { keyPem: leaf.keyPem, chainPem: leaf.certPem });
    await unlink(identityPaths(dataDir, 'telephony').key);
    const set = await ensureCertificates(dataDir, base);
    expect(set.telephony).toBeNull();
    expect(set.warnings.join('\n')).toMatch(/telephony identity \(imported\): .*telephony\.key is missing; import the identity again; SIP\/TLS uses the main identity meanwhile/);

    await importIdentity(dataDir, 'main', { keyPem: leaf.keyPem, chainPem: leaf.certPem });
    await unlink(identityPaths(dataDir, 'main').key);
    await expect(ensureCertificates(dataDir, base)).rejects.toThrow(CertificateStoreError);
    await expect(ensureCertificates(dataDir, base)).rejects.toThrow(/main identity \(imported\).*server\.meta\.json to go back to an automatic identity/);
  });

  it('setOfferChain on a missing telephony identity is refused', async () => {
    await expect(setOfferChain(dataDir, 'telephony', true)).rejects.toThrow(/there is no telephony identity/);
  });
});

describe('ensureCertificates extras', () => {
  it('the chain offer of an automatic identity sends our CA after it, on SIP/TLS and HTTPS, and survives a re-issue', async () => {
    const first = await ensureCertificates(dataDir, base);
    expect(first.offerChain).toBe(false);
    expect((await setOfferChain(dataDir, 'main', true)).source).toBe('auto');
    const set = await ensureCertificates(dataDir, moved);
    expect(set).toMatchObject({ offerChain: true, identitySource: 'auto', identityReason: 'san-changed' });
    expect(set.chainPems.map(fp)).toEqual([set.caFingerprintSha256]);
    const sent = String(managementTls(set).cert);
    expect(splitCertificates(sent).map(fp)).toEqual([set.fingerprintSha256, set.caFingerprintSha256]);
    expect(splitCertificates(String(sipTlsOptions(configSchema.parse({}), set).tlsServerOptions.cert)).length).toBe(2);
  });


  it('warns (does not replace) an imported identity close to expiry, and loads the trusted CAs', async () => {
    await ensureCertificates(dataDir, base);
    await importIdentity(dataDir, 'main', { keyPem: leaf.keyPem, chainPem: leaf.certPem + inter.certPem });
    await addTrustedCas(dataDir, Buffer.from(bad.otherRoot!.certPem));
    const notAfter = new NodeX509(leaf.certPem).validToDate;
    const set: CertificateSet = await ensureCertificates(dataDir, { ...base, now: new Date(notAfter.getTime() - 3 * 86_400_000) });
    expect(set.fingerprintSha256).toBe(fp(leaf.certPem));
    expect(set.identityRenewed).toBe(false);
    expect(set.warnings).toContain(`main identity (imported) expires at ${notAfter.toISOString()}: renew it`);
    expect(set.trustedCaPems.map(fp)).toEqual([fp(bad.otherRoot!.certPem)]);
  });
});

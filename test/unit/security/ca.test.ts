import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto';
import { chmod, cp, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../../src/security/ca.ts';
import {
  CertificateStoreError,
  certificatePaths,
  ensureCertificates,
  exportCa,
  missingSanEntries,
  requiredIdentityNames,
  type CertificateSet,
  type EnsureCertificatesOptions,
} from '../../../src/security/certs.ts';

// RSA generation dominates run time, so one data directory is created here
// and later tests mutate it in order (vitest runs a file's tests in sequence).
const DAY = 86_400_000;
const base: EnsureCertificatesOptions = {
  hostName: 'pbx.example.test',
  ipAddresses: ['192.0.2.10', '2001:db8::10'],
  sipDomain: 'example.test',
};

let root: string;
let dataDir: string;
let first: CertificateSet;
let startedAt: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sb-ca-'));
  dataDir = join(root, 'data');
  startedAt = Date.now();
  first = await ensureCertificates(dataDir, base);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function sanOf(cert: x509.X509Certificate): { dns: string[]; ip: string[]; url: string[] } {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const out = { dns: [] as string[], ip: [] as string[], url: [] as string[] };
  for (const n of ext?.names.items ?? []) {
    if (n.type === 'dns' || n.type === 'ip' || n.type === 'url') out[n.type].push(n.value);
  }
  return out;
}

async function rsaBits(cert: x509.X509Certificate): Promise<number> {
  const key = await cert.publicKey.export();
  return (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
}

describe('first start', () => {
  it('creates the CA and identity and says so', () => {
    expect(first.caCreated).toBe(true);
    expect(first.identityRenewed).toBe(true);
    expect(first.identityReason).toBe('created');
    expect(first.warnings).toEqual([]);
    expect(first.fingerprintSha256).toBe(new NodeX509(first.certPem).fingerprint256);
    expect(first.caFingerprintSha256).toBe(new NodeX509(first.caCertPem).fingerprint256);
  });

  it('writes the four PEM files with private keys at mode 0600', async () => {
    const p = certificatePaths(dataDir);
    expect(await readFile(p.caCert, 'utf8')).toBe(first.caCertPem);
    expect(await readFile(p.caKey, 'utf8')).toBe(first.caKeyPem);
    expect(await readFile(p.cert, 'utf8')).toBe(first.certPem);
    expect(await readFile(p.key, 'utf8')).toBe(first.keyPem);
    expect((await stat(p.caKey)).mode & 0o777).toBe(0o600);
    expect((await stat(p.key)).mode & 0o777).toBe(0o600);
    expect((await stat(p.dir)).mode & 0o077).toBe(0);
    expect(first.caKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('root CA: subject, CA flags, key usage, SHA-256/RSA-2048, 20 years', async () => {
    const ca = new x509.X509Certificate(first.caCertPem);
    expect(ca.subject).toMatch(/^CN=Switchboard Root CA [0-9A-F]{8}, O=Switchboard$/);
    expect(ca.issuer).toBe(ca.subject);
    const bc = ca.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(true);
    expect(bc?.critical).toBe(true);
    const ku = ca.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(ku?.critical).toBe(true);
    expect(ca.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(await rsaBits(ca)).toBe(2048);
    expect(await ca.verify({ signatureOnly: true })).toBe(true);
    const years = (ca.notAfter.getTime() - startedAt) / (365.25 * DAY);
    expect(years).toBeGreaterThan(19.99);
    expect(years).toBeLessThan(20.01);
    expect(ca.notBefore.getTime()).toBeLessThanOrEqual(startedAt);
  });

  it('identity: CN, every SAN, EKU, SHA-256/RSA-2048, 2555 days, signed by the CA', async () => {
    const id = new x509.X509Certificate(first.certPem);
    const ca = new x509.X509Certificate(first.caCertPem);
    expect(id.subject).toBe('CN=pbx.example.test, O=Switchboard');
    expect(id.issuer).toBe(ca.subject);
    const san = sanOf(id);
    expect(san.dns.sort()).toEqual(['example.test', 'localhost', 'pbx.example.test']);
    expect(san.url).toEqual(['sip:example.test']);
    // IPv6 text form is the library's; compare as addresses through Node.
    const node = new NodeX509(first.certPem);
    for (const ip of ['127.0.0.1', '::1', '192.0.2.10', '2001:db8::10']) expect(node.checkIP(ip)).toBe(ip);
    expect(node.checkIP('192.0.2.11')).toBeUndefined();
    expect(san.ip).toHaveLength(4);
    const eku = id.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    expect(id.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(id.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(await rsaBits(id)).toBe(2048);
    expect(await id.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    const days = (id.notAfter.getTime() - startedAt) / DAY;
    expect(days).toBeGreaterThan(2554.99);
    expect(days).toBeLessThan(2555.01);
    expect(first.notAfter.getTime()).toBe(id.notAfter.getTime());
  });
});

describe('later starts', () => {
  it('loads the same CA and identity without regenerating', async () => {
    const again = await ensureCertificates(dataDir, { ...base, ipAddresses: ['2001:db8::10', '192.0.2.10'] });
    expect(again.caCreated).toBe(false);
    expect(again.identityRenewed).toBe(false);
    expect(again.identityReason).toBeNull();
    expect(again.fingerprintSha256).toBe(first.fingerprintSha256);
    expect(again.caFingerprintSha256).toBe(first.caFingerprintSha256);
    expect(again.keyPem).toBe(first.keyPem);
    expect(again.caDer.equals(new NodeX509(first.caCertPem).raw)).toBe(true);
  });

  it('re-tightens a key file that became world-readable', async () => {
    const p = certificatePaths(dataDir);
    await chmod(p.caKey, 0o644);
    await chmod(p.key, 0o640);
    const again = await ensureCertificates(dataDir, base);
    expect(again.identityRenewed).toBe(false);
    expect((await stat(p.caKey)).mode & 0o777).toBe(0o600);
    expect((await stat(p.key)).mode & 0o777).toBe(0o600);
  });

  it('keeps a certificate whose notBefore lies ahead of a wrong clock, and warns about the clock', async () => {
    const again = await ensureCertificates(dataDir, { ...base, now: new Date(Date.UTC(2020, 0, 1)) });
    expect(again.identityRenewed).toBe(false);
    expect(again.fingerprintSha256).toBe(first.fingerprintSha256);
    expect(again.warnings.length).toBeGreaterThanOrEqual(3); // unset clock, CA, identity
    for (const w of again.warnings) expect(w).toMatch(/clock/);
  });

  it('re-issues only the identity when the addresses change, keeping the CA', async () => {
    const opts = { ...base, ipAddresses: ['192.0.2.99'] };
    const renewed = await ensureCertificates(dataDir, opts);
    expect(renewed.identityRenewed).toBe(true);
    expect(renewed.identityReason).toBe('san-changed');
    expect(renewed.caCreated).toBe(false);
    expect(renewed.caFingerprintSha256).toBe(first.caFingerprintSha256);
    expect(renewed.caKeyPem).toBe(first.caKeyPem);
    expect(renewed.fingerprintSha256).not.toBe(first.fingerprintSha256);
    expect(missingSanEntries(renewed.certPem, requiredIdentityNames(opts))).toEqual([]);
    expect(new NodeX509(renewed.certPem).checkIP('192.0.2.99')).toBe('192.0.2.99');
    expect((await stat(certificatePaths(dataDir).key)).mode & 0o777).toBe(0o600);
    // …and the new one now loads as-is.
    const loaded = await ensureCertificates(dataDir, opts);
    expect(loaded.identityRenewed).toBe(false);
    expect(loaded.fingerprintSha256).toBe(renewed.fingerprintSha256);
  });

  it('re-issues when the host name or SIP domain changes', async () => {
    const opts = { ...base, ipAddresses: ['192.0.2.99'], hostName: 'sb2.example.test', sipDomain: 'corp.test' };
    expect(missingSanEntries(await readFile(certificatePaths(dataDir).cert), requiredIdentityNames(opts))).toEqual([
      'DNS:sb2.example.test',
      'DNS:corp.test',
      'URI:sip:corp.test',
    ]);
    const renewed = await ensureCertificates(dataDir, opts);
    expect(renewed.identityReason).toBe('san-changed');
    expect(new x509.X509Certificate(renewed.certPem).subject).toBe('CN=sb2.example.test, O=Switchboard');
    expect(renewed.caFingerprintSha256).toBe(first.caFingerprintSha256);
  });

  it('re-issues an expired identity, and one that has lost its key pair', async () => {
    const opts = { ...base, ipAddresses: ['192.0.2.99'], hostName: 'sb2.example.test', sipDomain: 'corp.test' };
    const later = new Date(Date.now() + 2556 * DAY);
    const expired = await ensureCertificates(dataDir, { ...opts, now: later });
    expect(expired.identityReason).toBe('expired');
    expect(expired.notAfter.getTime()).toBeGreaterThan(later.getTime());
    expect(expired.caFingerprintSha256).toBe(first.caFingerprintSha256);

    // The expiring margin, using the certificate just issued for `later`.
    const nearEnd = new Date(expired.notAfter.getTime() - 10 * DAY);
    const expiring = await ensureCertificates(dataDir, { ...opts, now: nearEnd, renewBeforeDays: 30 });
    expect(expiring.identityReason).toBe('expiring');

    const p = certificatePaths(dataDir);
    await writeFile(p.key, first.caKeyPem, { mode: 0o600 });
    const repaired = await ensureCertificates(dataDir, opts);
    expect(repaired.identityReason).toBe('key-mismatch');
    expect(new NodeX509(repaired.certPem).checkPrivateKey(createPrivateKey(repaired.keyPem))).toBe(true);
  });

  it('refuses to replace half a CA', async () => {
    const copy = join(root, 'half');
    await cp(dataDir, copy, { recursive: true });
    await unlink(certificatePaths(copy).caKey);
    await expect(ensureCertificates(copy, base)).rejects.toBeInstanceOf(CertificateStoreError);
    await expect(ensureCertificates(copy, base)).rejects.toThrow(/ca\.key/);
  });
});

describe('exportCa', () => {
  it('DER parses back to the same certificate, PEM equals ca.crt', async () => {
    const der = await exportCa(dataDir, 'der');
    expect(der[0]).toBe(0x30); // DER SEQUENCE, not text
    expect(der.equals(first.caDer)).toBe(true);
    const parsed = new NodeX509(der);
    expect(parsed.fingerprint256).toBe(first.caFingerprintSha256);
    expect(parsed.subject).toBe(new NodeX509(first.caCertPem).subject);
    const pem = await exportCa(dataDir, 'pem');
    expect(pem.toString('utf8').trim()).toBe(first.caCertPem.trim());
  });

  it('rejects when no CA exists yet', async () => {
    await expect(exportCa(join(root, 'nothing-here'), 'pem')).rejects.toBeInstanceOf(CertificateStoreError);
  });
});

describe('issueCertificate', () => {
  it('issues a client-only certificate with a reused key pair', async () => {
    const ca = { certPem: first.caCertPem, keyPem: first.caKeyPem };
    const a = await issueCertificate(ca, { commonName: 'handset-1', dns: ['h1.example.test'], days: 30, usage: 'client' });
    const b = await issueCertificate(ca, { commonName: 'handset-1', days: 365, usage: 'client', keys: a.keys });
    expect(b.keyPem).toBe(a.keyPem);
    expect(b.fingerprintSha256).not.toBe(a.fingerprintSha256);
    const cert = new x509.X509Certificate(a.certPem);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(sanOf(cert).dns).toEqual(['h1.example.test']);
    expect(Math.round((a.notAfter.getTime() - a.notBefore.getTime()) / DAY * 24)).toBe(30 * 24 + 1); // +1 h back-dating
    expect(new NodeX509(a.certDer).checkIssued(new NodeX509(ca.certPem))).toBe(true);
    // Serial numbers are random and positive.
    expect(cert.serialNumber).not.toBe(new x509.X509Certificate(b.certPem).serialNumber);
    expect(parseInt(cert.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
  });

  it('rejects bad names, addresses, validity and a mismatched CA key', async () => {
    const ca = { certPem: first.caCertPem, keyPem: first.caKeyPem };
    await expect(issueCertificate(ca, { commonName: 'x', ips: ['300.1.1.1'], days: 1 })).rejects.toThrow(TypeError);
    await expect(issueCertificate(ca, { commonName: 'x', dns: ['a b'], days: 1 })).rejects.toThrow(TypeError);
    await expect(issueCertificate(ca, { commonName: 'x', days: 0 })).rejects.toThrow(RangeError);
    await expect(issueCertificate(ca, { commonName: 'x', days: 1, keyBits: 1024 })).rejects.toThrow(RangeError);
    const wrong = { certPem: first.caCertPem, keyPem: first.keyPem };
    await expect(issueCertificate(wrong, { commonName: 'x', days: 1 })).rejects.toThrow(/does not match/);
  });
});

describe('requiredIdentityNames', () => {
  it('puts IP host names and domains into IP SANs, deduplicates, adds loopback', () => {
    const needs = requiredIdentityNames({
      hostName: '10.0.0.5',
      ipAddresses: ['10.0.0.5', '127.0.0.1'],
      sipDomain: '10.0.0.5',
      extraDnsNames: ['10.0.0.5'],
    });
    expect(needs).toEqual({ dns: ['localhost', '10.0.0.5'], ips: ['10.0.0.5', '127.0.0.1', '::1'], uris: ['sip:10.0.0.5'] });
  });
});

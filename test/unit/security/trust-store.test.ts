import { X509Certificate as NodeX509 } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeCertificate, splitCertificates } from '../../../src/security/cert-info.ts';
import {
  addTrustedCas, exportTrustedCa, listTrustedCas, removeTrustedCa, trustedCaPems, trustedDir, TrustStoreError,
} from '../../../src/security/trust-store.ts';
import { makeCert, makeRoot, makeSelfSignedLeaf, type MadeCert } from './openssl-pki.ts';

let pki: string;
let dataDir: string;
let rootA: MadeCert;
let rootB: MadeCert;
let inter: MadeCert;
let leaf: MadeCert;
let selfLeaf: MadeCert;

const bare = (pem: string): string => new NodeX509(pem).fingerprint256.replace(/:/g, '');
const der = (pem: string): Buffer => new NodeX509(pem).raw;

beforeAll(async () => {
  pki = await mkdtemp(join(tmpdir(), 'sb-trust-pki-'));
  rootA = await makeRoot(pki, 'Root A');
  rootB = await makeRoot(pki, 'Root B', { key: { ec: 'secp384r1' } });
  inter = await makeCert(pki, 'Issuing CA', rootA, { ca: true });
  leaf = await makeCert(pki, 'server', inter, { san: 'DNS:sip.example.test' });
  selfLeaf = await makeSelfSignedLeaf(pki, 'selfleaf', 'gw.example.test', 'DNS:gw.example.test');
});

beforeEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = await mkdtemp(join(tmpdir(), 'sb-trust-'));
});

afterAll(async () => {
  await rm(pki, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

describe('addTrustedCas formats (B-18)', () => {
  it('PEM bundle with several CAs: one file per CA, named by fingerprint, label from the CN', async () => {
    const added = await addTrustedCas(dataDir, Buffer.from(`junk before\n${rootA.certPem}\n${inter.certPem}`));
    expect(added.map((a) => a.fingerprint)).toEqual([bare(rootA.certPem), bare(inter.certPem)]);
    expect(added.map((a) => a.label)).toEqual(['Root A', 'Issuing CA']);
    expect((await readdir(trustedDir(dataDir))).sort()).toEqual([`${bare(inter.certPem)}.pem`, `${bare(rootA.certPem)}.pem`].sort());
    expect((await listTrustedCas(dataDir)).map((e) => e.label)).toEqual(['Issuing CA', 'Root A']);
  });

  it('DER, and .cer in either encoding (binary DER, base64 without armour)', async () => {
    await addTrustedCas(dataDir, der(rootA.certPem), 'binary');
    await addTrustedCas(dataDir, Buffer.from(der(rootB.certPem).toString('base64').replace(/(.{64})/g, '$1\r\n')), 'b64');
    await addTrustedCas(dataDir, Buffer.from(inter.certPem.replace(/\n/g, '\r\n')), 'crlf pem');
    const list = await listTrustedCas(dataDir);
    expect(list.map((e) => [e.label, e.fingerprint])).toEqual([
      ['b64', bare(rootB.certPem)], ['binary', bare(rootA.certPem)], ['crlf pem', bare(inter.certPem)],
    ]);
    expect(list[0]!.certificate.keyType).toBe('ec');
    expect(await trustedCaPems(dataDir)).toEqual(list.map((e) => e.pem));
  });

  it('refuses a server certificate (not a CA) and writes nothing, even beside a good CA', async () => {
    await expect(addTrustedCas(dataDir, Buffer.from(rootA.certPem + leaf.certPem))).rejects.toThrow(/not a CA certificate: server/);
    expect(await listTrustedCas(dataDir)).toEqual([]);
  });

  it('accepts a self-signed end-entity certificate (a peer that is its own root)', async () => {
    const [e] = await addTrustedCas(dataDir, Buffer.from(selfLeaf.certPem));
    expect(e!.certificate.selfSigned).toBe(true);
    expect(e!.certificate.isCa).toBe(false);
  });

  it('refuses garbage and an empty file with TrustStoreError', async () => {
    await expect(addTrustedCas(dataDir, Buffer.from('hello world'))).rejects.toBeInstanceOf(TrustStoreError);
    await expect(addTrustedCas(dataDir, Buffer.from([0x30, 0x82, 0xff]))).rejects.toThrow(/no CA certificate in this file/);
    await expect(addTrustedCas(dataDir, Buffer.alloc(0))).rejects.toThrow(/no CA certificate in this file/);
  });

  it('a label is one line, trimmed and bounded; re-adding keeps the label unless a new one is given', async () => {
    await addTrustedCas(dataDir, Buffer.from(rootA.certPem), '  Partner\nroot\u0000 ' + 'x'.repeat(300));
    const [e] = await listTrustedCas(dataDir);
    expect(e!.label).toMatch(/^Partner root x+$/);
    expect(e!.label.length).toBe(128);
    await addTrustedCas(dataDir, Buffer.from(rootA.certPem));
    expect((await listTrustedCas(dataDir))[0]!.label).toBe(e!.label);
    await addTrustedCas(dataDir, Buffer.from(rootA.certPem), 'Renamed');
    expect((await listTrustedCas(dataDir)).map((x) => x.label)).toEqual(['Renamed']);
  });
});

describe('remove and export', () => {
  beforeEach(async () => {
    await addTrustedCas(dataDir, Buffer.from(rootA.certPem + rootB.certPem));
  });

  it('exports PEM and DER that parse back to the same certificate, by colon fingerprint or prefix', async () => {
    const pem = await exportTrustedCa(dataDir, new NodeX509(rootA.certPem).fingerprint256, 'pem');
    expect(splitCertificates(pem)).toEqual([new NodeX509(rootA.certPem).toString()]);
    const d = await exportTrustedCa(dataDir, bare(rootB.certPem).slice(0, 12).toLowerCase(), 'der');
    expect(describeCertificate(d).fingerprintSha256).toBe(new NodeX509(rootB.certPem).fingerprint256);
  });

  it('removes by prefix; unknown, too short or non-hex prefixes are refused', async () => {
    await expect(removeTrustedCa(dataDir, 'zz')).rejects.toThrow(/at least 4 hex digits/);
    await expect(removeTrustedCa(dataDir, '123')).rejects.toThrow(/at least 4 hex digits/);
    const unknown = ['0000', 'FFFF'].find((p) => !bare(rootA.certPem).startsWith(p) && !bare(rootB.certPem).startsWith(p))!;
    await expect(removeTrustedCa(dataDir, unknown)).rejects.toThrow(/no trusted CA has a fingerprint starting/);
    const gone = await removeTrustedCa(dataDir, bare(rootA.certPem).slice(0, 8));
    expect(gone.label).toBe('Root A');
    expect((await listTrustedCas(dataDir)).map((e) => e.label)).toEqual(['Root B']);
  });

  it('a stored file is the label line then the PEM, which openssl reads as a certificate', async () => {
    const text = await readFile(join(trustedDir(dataDir), `${bare(rootB.certPem)}.pem`), 'utf8');
    expect(text.split('\n')[0]).toBe('Label: Root B');
    expect(new NodeX509(text.slice(text.indexOf('-----BEGIN'))).fingerprint256).toBe(new NodeX509(rootB.certPem).fingerprint256);
  });
});

describe('describeCertificate', () => {
  it('summarises subject, SANs, key, hash, CA and self-signed flags', () => {
    const s = describeCertificate(leaf.certPem);
    expect(s.subject).toBe('O=Test PKI, CN=server');
    expect(s.issuer).toBe('O=Test PKI, CN=Issuing CA');
    expect(s.subjectAltNames).toEqual(['DNS:sip.example.test']);
    expect(s).toMatchObject({ isCa: false, selfSigned: false, keyType: 'rsa', keyBits: 2048, signatureHash: 'sha256' });
    expect(describeCertificate(rootB.certPem)).toMatchObject({ isCa: true, selfSigned: true, keyType: 'ec', keyBits: 384 });
    expect(s.notAfter.getTime()).toBeGreaterThan(s.notBefore.getTime());
  });
});

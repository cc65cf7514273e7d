import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_P12_ITERATIONS, Pkcs12Error, readPkcs12 } from '../../../src/security/pkcs12.ts';
import { makeCert, makeP12, makeRoot, type MadeCert } from './openssl-pki.ts';

const FIXTURE = new URL('../../fixtures/security/identity.p12', import.meta.url);

let dir: string;
let root: MadeCert;
let inter: MadeCert;
let leaf: MadeCert;
let ecLeaf: MadeCert;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-p12-'));
  root = await makeRoot(dir, 'root');
  inter = await makeCert(dir, 'inter', root, { ca: true });
  leaf = await makeCert(dir, 'leaf', inter, { san: 'DNS:pbx.example.test' });
  ecLeaf = await makeCert(dir, 'ecleaf', inter, { key: { ec: 'prime256v1' }, san: 'DNS:pbx.example.test' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fp(pem: string): string {
  return new NodeX509(pem).fingerprint256;
}

function expectProblem(fn: () => unknown, problem: Pkcs12Error['problem'], message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Pkcs12Error);
    expect((err as Pkcs12Error).problem).toBe(problem);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a Pkcs12Error');
}

describe('readPkcs12', () => {
  it('reads the committed fixture: key, the leaf that matches it, and its root', async () => {
    const got = readPkcs12(await readFile(FIXTURE), 'fixture');
    expect(fp(got.certPem)).toBe('6B:3C:2B:02:1C:3A:17:B5:47:14:2B:5F:81:E1:3B:A4:B1:5D:72:6F:DE:57:D6:62:60:E5:80:1E:AF:C4:2D:F9');
    expect(got.chainPems.map(fp)).toEqual(['75:B2:BF:1A:2A:2B:EA:B4:27:69:BD:BD:CE:E1:17:76:8E:60:AE:48:BC:C3:1C:59:90:A5:C4:D5:98:41:6F:EC']);
    expect(new NodeX509(got.certPem).checkPrivateKey(createPrivateKey(got.keyPem))).toBe(true);
    expect(got.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('reads openssl 3 default (AES-256/PBKDF2) with the chain', async () => {
    const got = readPkcs12(await makeP12(dir, 'modern', leaf, [inter, root], { password: 's3cret' }), 's3cret');
    expect(fp(got.certPem)).toBe(fp(leaf.certPem));
    expect(got.chainPems.map(fp).sort()).toEqual([fp(inter.certPem), fp(root.certPem)].sort());
    expect(new NodeX509(got.certPem).checkPrivateKey(createPrivateKey(got.keyPem))).toBe(true);
  });

  it('reads -legacy (3DES/RC2)', async () => {
    const got = readPkcs12(await makeP12(dir, 'legacy', leaf, [inter], { password: 'old', legacy: true }), 'old');
    expect(fp(got.certPem)).toBe(fp(leaf.certPem));
    expect(got.chainPems.map(fp)).toEqual([fp(inter.certPem)]);
  });

  it('reads a file without password (-passout pass:), with the password left out or empty', async () => {
    const der = await makeP12(dir, 'nopass', leaf, [], { password: '' });
    expect(fp(readPkcs12(der).certPem)).toBe(fp(leaf.certPem));
    expect(fp(readPkcs12(der, '').certPem)).toBe(fp(leaf.certPem));
  });

  it('reads an EC P-256 identity', async () => {
    const got = readPkcs12(await makeP12(dir, 'ec', ecLeaf, [inter], { password: 'ec' }), 'ec');
    expect(fp(got.certPem)).toBe(fp(ecLeaf.certPem));
    expect(createPrivateKey(got.keyPem).asymmetricKeyType).toBe('ec');
  });

  it('says "wrong password" for a wrong or missing password, both encodings', async () => {
    const modern = await makeP12(dir, 'modern2', leaf, [], { password: 'right' });
    const legacy = await makeP12(dir, 'legacy2', leaf, [], { password: 'right', legacy: true });
    expectProblem(() => readPkcs12(modern, 'wrong'), 'wrong-password', /^wrong password/);
    expectProblem(() => readPkcs12(legacy, 'wrong'), 'wrong-password', /^wrong password/);
    expectProblem(() => readPkcs12(modern), 'wrong-password', /wrong password: this PKCS#12 file needs one/);
  });

  it('refuses a file without a private key', async () => {
    const der = await makeP12(dir, 'nokey', leaf, [], { password: 'x', noKey: true });
    expectProblem(() => readPkcs12(der, 'x'), 'no-key', /no private key/);
  });

  it('refuses a file whose key matches none of its certificates (made with node-forge: openssl refuses to)', () => {
    const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(root.keyPem), [forge.pki.certificateFromPem(leaf.certPem)], 'x', { algorithm: '3des' });
    const der = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
    expectProblem(() => readPkcs12(der, 'x'), 'no-matching-certificate', /no certificate in this PKCS#12 file matches its private key/);
  });

  it('refuses a file asking for more key-derivation iterations than the event loop can afford, before deriving', async () => {
    const der = await makeP12(dir, 'costly', leaf, [], { password: 'x', iter: MAX_P12_ITERATIONS + 1 });
    expectProblem(() => readPkcs12(der, 'x'), 'too-many-iterations', new RegExp(`asks for ${MAX_P12_ITERATIONS + 1} key-derivation iterations`));
  });

  it('refuses what is not PKCS#12: PEM text, random bytes, an empty or a huge buffer', () => {
    expectProblem(() => readPkcs12(Buffer.from(leaf.certPem), 'x'), 'not-pkcs12', /not a PKCS#12 file/);
    expectProblem(() => readPkcs12(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x03]), 'x'), 'not-pkcs12', /not a PKCS#12 file/);
    expectProblem(() => readPkcs12(Buffer.alloc(0)), 'not-pkcs12', /0 bytes/);
    expectProblem(() => readPkcs12(Buffer.alloc(300_000, 0x30)), 'not-pkcs12', /300000 bytes/);
  });

  it('damaged files (the fixture with bytes changed or cut) only ever give a Pkcs12Error', async () => {
    const good = await readFile(FIXTURE);
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, xor, cut) => {
        const bad = cut ? good.subarray(0, at) : Buffer.from(good);
        if (!cut) bad[at] = bad[at]! ^ xor;
        try {
          readPkcs12(bad, 'fixture');
        } catch (err) {
          expect(err).toBeInstanceOf(Pkcs12Error);
        }
      }),
      { numRuns: 60, seed: 14 },
    );
  });
});

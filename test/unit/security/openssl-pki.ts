// Test PKI made with the real openssl CLI (as administrators make theirs):
// roots, intermediates and leaves with chosen hash, key and SANs, and PKCS#12
// files in openssl 3's default and -legacy encodings.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MadeCert {
  name: string;
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

export interface CertSpec {
  /** Default RSA 2048. */
  key?: { rsa: number } | { ec: 'prime256v1' | 'secp384r1' };
  /** Default sha256. */
  hash?: 'sha256' | 'sha1';
  /** "DNS:a,IP:b" for a leaf. */
  san?: string;
  days?: number;
}

export async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd, timeout: 20_000 });
}

async function newKey(dir: string, name: string, spec: CertSpec): Promise<string> {
  const file = join(dir, `${name}.key`);
  const key = spec.key ?? { rsa: 2048 };
  if ('rsa' in key) await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${key.rsa}`, '-out', file], dir);
  else await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${key.ec}`, '-out', file], dir);
  return file;
}

async function made(dir: string, name: string): Promise<MadeCert> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { name, certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}

/** A self-signed root CA. */
export async function makeRoot(dir: string, name: string, spec: CertSpec = {}): Promise<MadeCert> {
  const keyFile = await newKey(dir, name, spec);
  await openssl([
    'req', '-x509', '-new', '-key', keyFile, '-out', `${name}.crt`, '-days', String(spec.days ?? 365), `-${spec.hash ?? 'sha256'}`,
    '-subj', `/O=Test PKI/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ], dir);
  return made(dir, name);
}

/** A certificate signed by `issuer`: an intermediate CA when `ca`, else a TLS leaf. */
export async function makeCert(dir: string, name: string, issuer: MadeCert, spec: CertSpec & { ca?: boolean } = {}): Promise<MadeCert> {
  const keyFile = await newKey(dir, name, spec);
  await openssl(['req', '-new', '-key', keyFile, '-out', `${name}.csr`, '-subj', `/O=Test PKI/CN=${name}`], dir);
  const ext = spec.ca
    ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
    : `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n${spec.san ? `subjectAltName=${spec.san}\n` : ''}`;
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl([
    'x509', '-req', '-in', `${name}.csr`, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-set_serial', String(Date.now()),
    '-days', String(spec.days ?? 365), `-${spec.hash ?? 'sha256'}`, '-extfile', `${name}.ext`, '-out', `${name}.crt`,
  ], dir);
  return made(dir, name);
}

/** A PKCS#12 of `leaf` (with its key unless `noKey`) and `chain`; openssl 3 defaults (AES-256, PBKDF2) unless `legacy`. */
export async function makeP12(
  dir: string, name: string, leaf: MadeCert, chain: readonly MadeCert[], o: { password: string; legacy?: boolean; noKey?: boolean; iter?: number },
): Promise<Buffer> {
  const bundle = join(dir, `${name}-chain.pem`);
  await writeFile(bundle, chain.map((c) => c.certPem).join(''));
  const args = ['pkcs12', '-export', '-in', leaf.certFile, '-out', `${name}.p12`, '-passout', `pass:${o.password}`];
  if (chain.length > 0) args.push('-certfile', bundle);
  if (o.noKey) args.push('-nokeys');
  else args.push('-inkey', leaf.keyFile);
  if (o.legacy) args.push('-legacy');
  if (o.iter) args.push('-iter', String(o.iter));
  await openssl(args, dir);
  return readFile(join(dir, `${name}.p12`));
}

/** A self-signed end-entity certificate (not a CA), as a device or a careless admin makes one. */
export async function makeSelfSignedLeaf(dir: string, name: string, cn: string, san: string): Promise<MadeCert> {
  const keyFile = await newKey(dir, name, {});
  await openssl([
    'req', '-x509', '-new', '-key', keyFile, '-out', `${name}.crt`, '-days', '365', '-sha256', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=CA:FALSE', '-addext', `subjectAltName=${san}`,
  ], dir);
  return made(dir, name);
}

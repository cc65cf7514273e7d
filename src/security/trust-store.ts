// Trusted CAs besides our own root (SPEC §4.3, B-18): kept one PEM per CA in
// <dataDir>/certs/trusted/<fingerprint>.pem, used for outbound TLS and mutual
// TLS peers. Accepts PEM (one or several), DER and ".cer" in either encoding.
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { bareFingerprint, commonNameOf, describeCertificate, isSelfSigned, splitCertificates, CertificateParseError, type CertificateSummary } from './cert-info.ts';
import { certificatePaths, readIfExists, writeAtomic } from './cert-files.ts';

export interface TrustedCa {
  /** Upper-case hex without colons; also the file name. */
  fingerprint: string;
  /** The administrator's label; defaults to the subject's CN. */
  label: string;
  certificate: CertificateSummary;
  pem: string;
}

export class TrustStoreError extends Error {
  override name = 'TrustStoreError';
}

/** A CA list is small; more than this in one upload is a mistake (or an attack on the disk). */
const MAX_CAS_PER_ADD = 200;
const MAX_LABEL = 128;
/** The label rides in the file as text before the PEM block, which OpenSSL and Node ignore. */
const LABEL_PREFIX = 'Label: ';

export function trustedDir(dataDir: string): string {
  return join(certificatePaths(dataDir).dir, 'trusted');
}

function cleanLabel(label: string | undefined, cert: NodeX509): string {
  const text = (label ?? '').replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_LABEL);
  return text.length > 0 ? text : commonNameOf(cert).slice(0, MAX_LABEL);
}

function entry(cert: NodeX509, label: string): TrustedCa {
  return { fingerprint: bareFingerprint(cert), label, certificate: describeCertificate(cert), pem: cert.toString() };
}

function parseFile(text: string): TrustedCa | null {
  const firstLine = text.slice(0, text.indexOf('\n'));
  try {
    const [pem] = splitCertificates(text);
    const cert = new NodeX509(pem!);
    const label = firstLine.startsWith(LABEL_PREFIX) ? firstLine.slice(LABEL_PREFIX.length).trim() : commonNameOf(cert);
    return entry(cert, label);
  } catch {
    return null;
  }
}

/**
 * Adds every certificate in `data`. Refuses (TrustStoreError, nothing
 * written) a certificate that is neither a CA nor a self-signed root.
 * Adding one already present updates its label when one is given.
 */
export async function addTrustedCas(dataDir: string, data: Buffer, label?: string): Promise<TrustedCa[]> {
  let pems: string[];
  try {
    pems = splitCertificates(data);
  } catch (err) {
    if (err instanceof CertificateParseError) throw new TrustStoreError(`no CA certificate in this file: ${err.message}`);
    throw err;
  }
  if (pems.length > MAX_CAS_PER_ADD) throw new TrustStoreError(`${pems.length} certificates in one file; at most ${MAX_CAS_PER_ADD}`);
  const certs = pems.map((p) => new NodeX509(p));
  const notCa = certs.filter((c) => !c.ca && !isSelfSigned(c));
  if (notCa.length > 0) {
    throw new TrustStoreError(
      `not a CA certificate: ${notCa.map(commonNameOf).join('; ')} (a server's own certificate is not trusted as a CA; import its issuer)`,
    );
  }
  const dir = trustedDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const added: TrustedCa[] = [];
  for (const cert of certs) {
    const file = join(dir, `${bareFingerprint(cert)}.pem`);
    const existing = label === undefined ? await readIfExists(file) : null;
    const kept = existing !== null ? parseFile(existing)?.label : undefined;
    const e = entry(cert, kept ?? cleanLabel(label, cert));
    await writeAtomic(file, `${LABEL_PREFIX}${e.label}\n${e.pem}`, 0o644);
    added.push(e);
  }
  return added;
}

/** Sorted by label; unreadable files are skipped. */
export async function listTrustedCas(dataDir: string): Promise<TrustedCa[]> {
  const dir = trustedDir(dataDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: TrustedCa[] = [];
  for (const name of names) {
    if (!name.endsWith('.pem')) continue;
    const text = await readIfExists(join(dir, name));
    const e = text === null ? null : parseFile(text);
    if (e) out.push(e);
  }
  return out.sort((a, b) => a.label.localeCompare(b.label) || a.fingerprint.localeCompare(b.fingerprint));
}

/** The PEMs alone, for tls `ca` options. */
export async function trustedCaPems(dataDir: string): Promise<string[]> {
  return (await listTrustedCas(dataDir)).map((e) => e.pem);
}

async function findOne(dataDir: string, fingerprintOrPrefix: string): Promise<TrustedCa> {
  const prefix = fingerprintOrPrefix.replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{4,64}$/.test(prefix)) throw new TrustStoreError('give at least 4 hex digits of the SHA-256 fingerprint');
  const hits = (await listTrustedCas(dataDir)).filter((e) => e.fingerprint.startsWith(prefix));
  if (hits.length === 0) throw new TrustStoreError(`no trusted CA has a fingerprint starting ${prefix}`);
  if (hits.length > 1) throw new TrustStoreError(`${hits.length} trusted CAs have a fingerprint starting ${prefix}; give more digits`);
  return hits[0]!;
}

/** Removes the one CA whose fingerprint starts with the prefix (colons and case ignored); TrustStoreError if none or several. */
export async function removeTrustedCa(dataDir: string, fingerprintOrPrefix: string): Promise<TrustedCa> {
  const e = await findOne(dataDir, fingerprintOrPrefix);
  await unlink(join(trustedDir(dataDir), `${e.fingerprint}.pem`));
  return e;
}

export async function exportTrustedCa(dataDir: string, fingerprintOrPrefix: string, format: 'pem' | 'der'): Promise<Buffer> {
  const e = await findOne(dataDir, fingerprintOrPrefix);
  return format === 'der' ? new NodeX509(e.pem).raw : Buffer.from(e.pem, 'utf8');
}

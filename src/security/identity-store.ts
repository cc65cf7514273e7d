// The server's identity certificates in <dataDir>/certs (SPEC §4.2, §4.3,
// the main identity (server.crt/.key, server-chain.pem) and an
// optional telephony identity for SIP/TLS (telephony.crt/.key/-chain.pem),
// each with a metadata file saying where it came from. Issued from the
// internal CA, or imported (PKCS#12, or PEM key + chain) after checks.
import { createPrivateKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { issueCertificate } from './ca.ts';
import { describeCertificate, isSelfSigned, keyStrength, signatureHashOf, splitCertificates, commonNameOf, type CertificateSummary } from './cert-info.ts';
import { clockProblem, expiryLevel } from './cert-checks.ts';
import {
  certificatePaths, DEFAULT_IDENTITY_DAYS, identityPaths, readIdentityMeta, readIfExists, tightenKeyMode, writeAtomic, writeIdentityMeta,
  type IdentityMeta, type IdentityRole, type IdentitySource, type TlsIdentityMaterial,
} from './cert-files.ts';
import { readPkcs12, Pkcs12Error } from './pkcs12.ts';

export { identityPaths, type IdentityMeta, type IdentityPaths, type IdentityRole, type IdentitySource } from './cert-files.ts';

export interface IdentitySummary extends IdentityMeta {
  role: IdentityRole;
  certificate: CertificateSummary;
  /** The chain after the leaf, leaf-side first. */
  chain: CertificateSummary[];
}

export interface SubjectFields {
  organization?: string;
  organizationalUnit?: string;
  country?: string;
  state?: string;
  locality?: string;
}

export interface SanLists {
  dns: string[];
  ips: string[];
  uris: string[];
}

export interface IssueIdentityOptions {
  commonName: string;
  subject?: SubjectFields;
  san: SanLists;
  /** Default DEFAULT_IDENTITY_DAYS (cert-files.ts). */
  days?: number;
  now?: Date;
}

export type IdentityImportSource = { p12: Buffer; password?: string } | { keyPem: string; chainPem: string };

export type IdentityImportProblem =
  | 'unreadable' // not a key, not certificates, not PKCS#12 (with the PKCS#12 reason)
  | 'key-mismatch' // no certificate in the chain matches the key
  | 'broken-chain' // a certificate that does not continue the chain from the leaf
  | 'weak-key' // RSA < 2048 bits, EC below P-256, or another key type
  | 'sha1' // a SHA-1 (or MD5) signature in the leaf or an intermediate
  | 'expired' // the leaf or an intermediate is past notAfter
  | 'not-yet-valid'; // notBefore after now (with the clock wording)

export class IdentityImportError extends Error {
  override name = 'IdentityImportError';
  constructor(readonly problem: IdentityImportProblem, message: string) {
    super(message);
  }
}

export class IdentityStoreError extends Error {
  override name = 'IdentityStoreError';
}

/** SPEC §4.2: SHA-256/RSA-2048 or stronger; SHA-1 and 1024-bit keys break B179 and one-X Android. */
const MIN_RSA_BITS = 2048;
const MIN_EC_BITS = 256;
const WEAK_HASHES = new Set(['sha1', 'md5']);

const ROLE_NAME: Record<IdentityRole, string> = { main: 'main identity', telephony: 'telephony identity' };

function summary(role: IdentityRole, meta: IdentityMeta, certPem: string, chainPems: readonly string[]): IdentitySummary {
  return { role, ...meta, certificate: describeCertificate(certPem), chain: chainPems.map((p) => describeCertificate(p)) };
}

/** Writes chain, key, certificate, then metadata, each by rename; the metadata last so a crash leaves the old source. */
async function store(dataDir: string, role: IdentityRole, m: { keyPem: string; certPem: string; chainPems: readonly string[] }, meta: IdentityMeta): Promise<IdentitySummary> {
  const p = identityPaths(dataDir, role);
  await mkdir(certificatePaths(dataDir).dir, { recursive: true, mode: 0o700 });
  await writeAtomic(p.chain, m.chainPems.join(''), 0o644);
  await writeAtomic(p.key, m.keyPem, 0o600);
  await writeAtomic(p.cert, m.certPem, 0o644);
  await writeIdentityMeta(p, meta);
  return summary(role, meta, m.certPem, m.chainPems);
}

/** Issues a new identity from the internal CA (SHA-256, RSA-2048) and stores it as source 'issued'. */
export async function issueIdentity(dataDir: string, role: IdentityRole, o: IssueIdentityOptions): Promise<IdentitySummary> {
  const paths = certificatePaths(dataDir);
  const [caCertPem, caKeyPem] = await Promise.all([readIfExists(paths.caCert), readIfExists(paths.caKey)]);
  if (caCertPem === null || caKeyPem === null) throw new IdentityStoreError(`no internal CA in ${paths.dir}; start the server once to create it`);
  const now = o.now ?? new Date();
  const issued = await issueCertificate({ certPem: caCertPem, keyPem: caKeyPem }, {
    commonName: o.commonName,
    dns: o.san.dns,
    ips: o.san.ips,
    uris: o.san.uris,
    days: o.days ?? DEFAULT_IDENTITY_DAYS,
    now,
    usage: 'both',
    ...o.subject,
  });
  const previous = await readIdentityMeta(identityPaths(dataDir, role));
  const caPem = new NodeX509(caCertPem).toString();
  return store(dataDir, role, { keyPem: issued.keyPem, certPem: issued.certPem, chainPems: [caPem] }, {
    source: 'issued', offerChain: previous.offerChain, updatedAt: now.toISOString(),
  });
}

function readKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new IdentityImportError('unreadable', `not a private key in PEM (or it is encrypted): ${(err as Error).message}`);
  }
}

/** The material out of either source: the key, the leaf that matches it, the other certificates as given. */
function material(src: IdentityImportSource): { key: KeyObject; leaf: NodeX509; others: NodeX509[] } {
  if ('p12' in src) {
    try {
      const c = readPkcs12(src.p12, src.password);
      return { key: readKey(c.keyPem), leaf: new NodeX509(c.certPem), others: c.chainPems.map((p) => new NodeX509(p)) };
    } catch (err) {
      if (err instanceof Pkcs12Error) {
        throw new IdentityImportError(err.problem === 'no-matching-certificate' ? 'key-mismatch' : 'unreadable', err.message);
      }
      throw err;
    }
  }
  const key = readKey(src.keyPem);
  let certs: NodeX509[];
  try {
    certs = splitCertificates(src.chainPem).map((p) => new NodeX509(p));
  } catch (err) {
    throw new IdentityImportError('unreadable', `no certificate in the chain: ${(err as Error).message}`);
  }
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) throw new IdentityImportError('key-mismatch', 'the private key does not match any certificate given (the leaf certificate must be the one issued for this key)');
  return { key, leaf, others: certs.filter((c) => c !== leaf) };
}

/** Leaf first, then each certificate's issuer, whatever order they came in; refuses one that does not continue the chain. */
function orderChain(leaf: NodeX509, others: NodeX509[]): NodeX509[] {
  const rest = others.filter((c, i) => others.findIndex((d) => d.fingerprint256 === c.fingerprint256) === i && c.fingerprint256 !== leaf.fingerprint256);
  const chain: NodeX509[] = [];
  let at = leaf;
  while (rest.length > 0 && !isSelfSigned(at)) {
    const i = rest.findIndex((c) => at.checkIssued(c) && at.verify(c.publicKey));
    if (i < 0) break;
    at = rest.splice(i, 1)[0]!;
    chain.push(at);
  }
  if (rest.length > 0) {
    throw new IdentityImportError('broken-chain', `not part of this certificate's chain: ${rest.map(commonNameOf).join('; ')} (give the leaf, its intermediates and optionally the root)`);
  }
  return chain;
}

function checkCertificate(cert: NodeX509, what: string, now: Date, isRoot: boolean): void {
  const { keyType, keyBits } = keyStrength(cert);
  const strongEnough = (keyType === 'rsa' && keyBits >= MIN_RSA_BITS) || (keyType === 'ec' && keyBits >= MIN_EC_BITS);
  if (!strongEnough) {
    throw new IdentityImportError('weak-key', `${what} has a ${keyType.toUpperCase()} ${keyBits}-bit key; RSA 2048+ or EC P-256+ is required (SPEC §4.2)`);
  }
  // A root's own signature is never checked by peers (they trust the root itself), so only the others must not be SHA-1.
  const hash = signatureHashOf(cert);
  if (!isRoot && WEAK_HASHES.has(hash)) {
    throw new IdentityImportError('sha1', `${what} is signed with ${hash.toUpperCase()}, which B179 and one-X Android refuse; have it re-issued with SHA-256`);
  }
  const notBefore = cert.validFromDate;
  const notAfter = cert.validToDate;
  if (now.getTime() > notAfter.getTime()) {
    throw new IdentityImportError('expired', `${what} expired at ${notAfter.toISOString()} (${clockProblem({ notBefore, notAfter }, now)})`);
  }
  if (now.getTime() < notBefore.getTime()) {
    throw new IdentityImportError('not-yet-valid', `${what} is not valid yet: ${clockProblem({ notBefore, notAfter }, now)}`);
  }
}

/**
 * Checks and stores an administrator's identity as source 'imported': the
 * chain is put leaf-first (reordered when given out of order); throws
 * IdentityImportError naming the problem; nothing is written on failure.
 */
export async function importIdentity(dataDir: string, role: IdentityRole, src: IdentityImportSource, now = new Date()): Promise<IdentitySummary> {
  const { key, leaf, others } = material(src);
  const chain = orderChain(leaf, others);
  checkCertificate(leaf, `the certificate "${commonNameOf(leaf)}"`, now, false);
  for (const c of chain) checkCertificate(c, `the chain certificate "${commonNameOf(c)}"`, now, isSelfSigned(c));
  const previous = await readIdentityMeta(identityPaths(dataDir, role));
  return store(dataDir, role, {
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: leaf.toString(),
    chainPems: chain.map((c) => c.toString()),
  }, { source: 'imported', offerChain: previous.offerChain, updatedAt: now.toISOString() });
}

/**
 * The chain to offer after the identity: the chain file, or for an identity
 * made at start (which has none of its own), our CA.
 */
async function readChain(dataDir: string, role: IdentityRole, source: IdentitySource): Promise<string[]> {
  const text = source === 'auto' ? null : await readIfExists(identityPaths(dataDir, role).chain);
  if (text !== null) return text.trim() === '' ? [] : splitCertificates(text);
  const ca = await readIfExists(certificatePaths(dataDir).caCert);
  return ca === null ? [] : [new NodeX509(ca).toString()];
}

/**
 * An identity as TLS needs it, with warnings for expiry and clock problems;
 * null when there is none. Throws IdentityStoreError when it is half there
 * or its key does not match (operator action: re-import, or remove it).
 */
export async function loadIdentityMaterial(dataDir: string, role: IdentityRole, now: Date, warnings: string[]): Promise<TlsIdentityMaterial | null> {
  const p = identityPaths(dataDir, role);
  const [certPem, keyPem, meta] = await Promise.all([readIfExists(p.cert), readIfExists(p.key), readIdentityMeta(p)]);
  if (certPem === null && keyPem === null) return null;
  const name = `${ROLE_NAME[role]} (${meta.source})`;
  if (certPem === null || keyPem === null) {
    throw new IdentityStoreError(`${name}: ${certPem === null ? p.cert : p.key} is missing; import the identity again`);
  }
  let cert: NodeX509;
  try {
    cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error(`${p.key} does not match ${p.cert}`);
  } catch (err) {
    throw new IdentityStoreError(`${name} is unusable: ${(err as Error).message}; import the identity again`);
  }
  await tightenKeyMode(p.key);
  const validity = { notBefore: cert.validFromDate, notAfter: cert.validToDate };
  const clock = clockProblem(validity, now);
  if (clock !== null) warnings.push(`${name}: ${clock}`);
  else if (expiryLevel(validity.notAfter, now) !== 'ok') warnings.push(`${name} expires at ${validity.notAfter.toISOString()}: renew it`);
  return {
    certPem, keyPem, chainPems: await readChain(dataDir, role, meta.source), offerChain: meta.offerChain, source: meta.source,
    fingerprintSha256: cert.fingerprint256, notAfter: validity.notAfter,
  };
}

/** The stored identity, or null (telephony absent; main before the first start). */
export async function readIdentity(dataDir: string, role: IdentityRole): Promise<IdentitySummary | null> {
  const p = identityPaths(dataDir, role);
  const certPem = await readIfExists(p.cert);
  if (certPem === null) return null;
  const meta = await readIdentityMeta(p);
  const chain = await readChain(dataDir, role, meta.source);
  return summary(role, meta, certPem, chain);
}

export async function setOfferChain(dataDir: string, role: IdentityRole, on: boolean, now = new Date()): Promise<IdentitySummary> {
  const p = identityPaths(dataDir, role);
  const certPem = await readIfExists(p.cert);
  if (certPem === null) throw new IdentityStoreError(`there is no ${ROLE_NAME[role]}`);
  const meta: IdentityMeta = { ...(await readIdentityMeta(p)), offerChain: on, updatedAt: now.toISOString() };
  await writeIdentityMeta(p, meta);
  return summary(role, meta, certPem, await readChain(dataDir, role, meta.source));
}

/** Removes the telephony identity; SIP/TLS then uses the main one. True when there was one. */
export async function removeTelephonyIdentity(dataDir: string): Promise<boolean> {
  const p = identityPaths(dataDir, 'telephony');
  let had = false;
  // The certificate first: without it the rest is ignored, so a crash half-way leaves no half identity in use.
  for (const path of [p.cert, p.key, p.chain, p.meta]) {
    try {
      await unlink(path);
      if (path === p.cert) had = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return had;
}

function addUnique(list: string[], v: string): void {
  if (!list.includes(v)) list.push(v);
}

/**
 * The §4.3 guideline names: DNS FQDN, IP.1 LAN1, IP.2 LAN2 or else the public
 * address, URI sip:domain; with E129s, the LAN addresses also as DNS entries
 * (Appendix A #25). CN is the FQDN.
 */
export function proposedSans(o: { fqdn: string; domain: string; lan: readonly string[]; public?: string; e129?: boolean }): SanLists {
  const out: SanLists = { dns: [], ips: [], uris: [] };
  if (isIP(o.fqdn) !== 0) addUnique(out.ips, o.fqdn);
  else addUnique(out.dns, o.fqdn.toLowerCase());
  for (const ip of o.lan) addUnique(out.ips, ip);
  // The table's 11xx and one-X Android rows name the public address as well (IP.3) when remote clients reach it.
  if (o.public) addUnique(out.ips, o.public);
  if (o.e129) for (const ip of o.lan) addUnique(out.dns, ip);
  out.uris.push(`sip:${o.domain}`);
  return out;
}

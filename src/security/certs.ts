// On-disk certificate set under <dataDir>/certs (SPEC §4.3, A-17): the
// internal root CA and the SIP/TLS + HTTPS identity it signs, or the one the
// administrator put in its place, plus the telephony identity and trusted
// CAs. Runs at start-up and from the CLI; all I/O is async.
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createRootCa, issueCertificate, type CaMaterial } from './ca.ts';
import { subjectAltNames } from './cert-info.ts';
import {
  certificatePaths, DEFAULT_IDENTITY_DAYS, readIfExists, tightenKeyMode, writeAtomic,
  identityPaths, readIdentityMeta, type CertificatePaths, type IdentitySource, type TlsIdentityMaterial,
} from './cert-files.ts';
import { IdentityStoreError, loadIdentityMaterial } from './identity-store.ts';
import { trustedCaPems } from './trust-store.ts';

export { certificatePaths, DEFAULT_IDENTITY_DAYS, type CertificatePaths, type TlsIdentityMaterial } from './cert-files.ts';

/** Renew this long before notAfter so a restart never serves a certificate that expires mid-run. */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
/** A clock before this instant was certainly never set (EC-12, B-23). */
const CLOCK_SANITY_FLOOR = Date.UTC(2024, 0, 1);

export interface EnsureCertificatesOptions {
  /** FQDN of this server: identity CN and a DNS SAN. May be an IP (EC-11), then it becomes an IP SAN. */
  hostName: string;
  /** LAN1, LAN2, public address… each becomes an IP SAN; 127.0.0.1 and ::1 are always added. */
  ipAddresses: readonly string[];
  /** SIP domain: URI SAN `sip:<domain>`, plus a DNS (or IP) SAN so peers that dial the domain match too. */
  sipDomain: string;
  /**
   * Extra DNS SAN entries, e.g. the LAN IP written as a DNS name for E129
   * phones (SPEC §4.3 table, issue note 25). Provisioning decides when.
   */
  extraDnsNames?: readonly string[];
  now?: Date;
  /** Identity validity (default 2555 days). */
  identityDays?: number;
  /** Renew when fewer than this many days remain (default 30). */
  renewBeforeDays?: number;
}

export type IdentityReason =
  | 'created' // the CA was just created (first start)
  | 'missing'
  | 'unreadable'
  | 'expired'
  | 'expiring'
  | 'san-changed'
  | 'key-mismatch'
  | 'not-issued-by-ca';

export interface CertificateSet {
  caCertPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
  caDer: Buffer;
  /** True when a new identity was written by this call (including first start). */
  identityRenewed: boolean;
  /** Why, when identityRenewed; null otherwise. Worth a log line either way. */
  identityReason: IdentityReason | null;
  caCreated: boolean;
  /** Identity certificate fingerprint, "AB:CD:…" (SHA-256). */
  fingerprintSha256: string;
  caFingerprintSha256: string;
  notAfter: Date;
  /** Clock or validity oddities that do not stop start-up but should be logged (EC-12). */
  warnings: string[];
  paths: CertificatePaths;
  /** Where the main identity came from; only 'auto' is ever re-issued at start. */
  identitySource: IdentitySource;
  /** Certificates after the identity, leaf-side first (intermediates; the CA for our own). */
  chainPems: string[];
  /** A-17 "Offer ID Certificate Chain" for the main identity. */
  offerChain: boolean;
  /** the telephony identity, which SIP/TLS presents when present. */
  telephony: TlsIdentityMaterial | null;
  /** The administrator's trusted CAs (B-18), PEM, for outbound and mutual TLS. */
  trustedCaPems: string[];
}

/** The names an identity must carry; see `requiredIdentityNames`. */
export interface SanNeeds {
  dns: string[];
  ips: string[];
  uris: string[];
}

function pushUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

export function requiredIdentityNames(opts: EnsureCertificatesOptions): SanNeeds {
  const needs: SanNeeds = { dns: [], ips: [], uris: [] };
  const addHost = (h: string): void => {
    if (isIP(h) !== 0) pushUnique(needs.ips, h);
    else pushUnique(needs.dns, h.toLowerCase());
  };
  addHost(opts.hostName);
  pushUnique(needs.dns, 'localhost');
  addHost(opts.sipDomain);
  for (const d of opts.extraDnsNames ?? []) pushUnique(needs.dns, d.toLowerCase());
  for (const ip of opts.ipAddresses) pushUnique(needs.ips, ip);
  pushUnique(needs.ips, '127.0.0.1');
  pushUnique(needs.ips, '::1');
  needs.uris.push(`sip:${opts.sipDomain}`);
  return needs;
}

/** The DNS and URI entries (IPs are compared as addresses by checkIP). */
function sanEntries(cert: NodeX509): { dns: Set<string>; uris: Set<string> } {
  const dns = new Set<string>();
  const uris = new Set<string>();
  for (const part of subjectAltNames(cert)) {
    if (part.startsWith('DNS:')) dns.add(part.slice(4).toLowerCase());
    else if (part.startsWith('URI:')) uris.add(part.slice(4));
  }
  return { dns, uris };
}

/**
 * Which required names the certificate lacks, as "DNS:x" / "IP:x" / "URI:x".
 * DNS compares exactly (a wildcard does not count as covering a name here),
 * IPs compare as addresses (so "::1" and "0:0:…:1" match). Empty = covered.
 * Reusable for the A-29 per-device-family check.
 */
export function missingSanEntries(certPem: string | Buffer, needs: SanNeeds): string[] {
  const cert = new NodeX509(certPem);
  const have = sanEntries(cert);
  const missing: string[] = [];
  for (const d of needs.dns) if (!have.dns.has(d.toLowerCase())) missing.push(`DNS:${d}`);
  for (const ip of needs.ips) if (cert.checkIP(ip) === undefined) missing.push(`IP:${ip}`);
  for (const u of needs.uris) if (!have.uris.has(u)) missing.push(`URI:${u}`);
  return missing;
}

export class CertificateStoreError extends Error {
  override name = 'CertificateStoreError';
}

function fmtDate(d: Date): string {
  return d.toISOString();
}

interface LoadedCa {
  material: CaMaterial;
  cert: NodeX509;
}

async function loadOrCreateCa(
  paths: CertificatePaths,
  now: Date,
  warnings: string[],
): Promise<{ ca: LoadedCa; created: boolean }> {
  const [certPem, keyPem] = await Promise.all([readIfExists(paths.caCert), readIfExists(paths.caKey)]);
  if (certPem === null && keyPem === null) {
    const ca = await createRootCa({ now });
    await writeAtomic(paths.caKey, ca.keyPem, 0o600);
    await writeAtomic(paths.caCert, ca.certPem, 0o644);
    return { ca: { material: ca, cert: new NodeX509(ca.certPem) }, created: true };
  }
  // Half a CA is never silently replaced: phones trust the old root, and a new
  // one would strand every provisioned device.
  if (certPem === null || keyPem === null) {
    throw new CertificateStoreError(
      `${certPem === null ? paths.caCert : paths.caKey} is missing but its pair exists; ` +
        'restore it, or remove both to create a new root CA (every device must then be given the new ca.crt)',
    );
  }
  let cert: NodeX509;
  try {
    cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('ca.key does not match ca.crt');
  } catch (err) {
    throw new CertificateStoreError(`internal CA in ${paths.dir} is unusable: ${(err as Error).message}`);
  }
  await tightenKeyMode(paths.caKey);
  const notAfter = new Date(cert.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    throw new CertificateStoreError(
      `internal root CA expired at ${fmtDate(notAfter)} (clock now ${fmtDate(now)}); if the clock is right, ` +
        'remove ca.crt and ca.key to create a new root and redistribute it; otherwise fix the clock (NTP)',
    );
  }
  const notBefore = new Date(cert.validFrom);
  if (notBefore.getTime() > now.getTime()) {
    warnings.push(`root CA is not valid until ${fmtDate(notBefore)} but the clock says ${fmtDate(now)}: check the system clock (NTP)`);
  }
  return { ca: { material: { certPem, keyPem }, cert }, created: false };
}

/** Why the identity on disk must be replaced, or null when it can stay. */
function identityProblem(
  certPem: string | null,
  keyPem: string | null,
  ca: LoadedCa,
  needs: SanNeeds,
  now: Date,
  renewBeforeMs: number,
  warnings: string[],
): IdentityReason | null {
  if (certPem === null || keyPem === null) return 'missing';
  let cert: NodeX509;
  try {
    cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'key-mismatch';
  } catch {
    return 'unreadable';
  }
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return 'not-issued-by-ca';
  const notAfter = Date.parse(cert.validTo);
  if (notAfter <= now.getTime()) return 'expired';
  if (notAfter - now.getTime() <= renewBeforeMs) return 'expiring';
  if (missingSanEntries(certPem, needs).length > 0) return 'san-changed';
  // A future notBefore on a certificate we issued earlier means the clock went
  // backwards; re-issuing would bake the wrong time in, so keep it and warn.
  const notBefore = Date.parse(cert.validFrom);
  if (notBefore > now.getTime()) {
    warnings.push(
      `identity certificate is not valid until ${new Date(notBefore).toISOString()} but the clock says ${now.toISOString()}: check the system clock (NTP)`,
    );
  }
  return null;
}

/**
 * Loads <dataDir>/certs, creating the root CA and identity on first start and
 * re-issuing only the identity when it is missing, unreadable, expired or
 * expiring, no longer covers the configured names, or was not signed by the
 * CA on disk. The CA itself is never replaced once it exists, nor is an
 * identity the administrator issued or imported (its metadata says so); that
 * one, the telephony identity and the trusted CAs are only loaded.
 *
 * Throws CertificateStoreError when the CA is half-present, unreadable or
 * expired, or the administrator's main identity is broken (operator action
 * needed), and fs errors other than ENOENT.
 */
export async function ensureCertificates(dataDir: string, opts: EnsureCertificatesOptions): Promise<CertificateSet> {
  const now = opts.now ?? new Date();
  const warnings: string[] = [];
  if (now.getTime() < CLOCK_SANITY_FLOOR) {
    warnings.push(`system clock reads ${now.toISOString()}, which looks unset: certificate checks will fail; configure NTP`);
  }
  const paths = certificatePaths(dataDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });

  const { ca, created: caCreated } = await loadOrCreateCa(paths, now, warnings);
  const meta = await readIdentityMeta(identityPaths(dataDir, 'main'));
  let main: TlsIdentityMaterial;
  let reason: IdentityReason | null = null;
  if (meta.source === 'auto') {
    ({ main, reason } = await ensureAutoIdentity(paths, ca, caCreated, meta.offerChain, opts, now, warnings));
  } else {
    // The administrator's identity (issued or imported) is never replaced here, whatever names the config now wants.
    main = await adminIdentity(dataDir, now, warnings);
    if (meta.source === 'issued' && !new NodeX509(main.certPem).checkIssued(ca.cert)) {
      warnings.push('main identity (issued) was issued by an earlier internal CA: issue it again so devices that trust ca.crt accept it');
    }
  }
  let telephony: TlsIdentityMaterial | null = null;
  try {
    telephony = await loadIdentityMaterial(dataDir, 'telephony', now, warnings);
  } catch (err) {
    if (!(err instanceof IdentityStoreError)) throw err;
    warnings.push(`${err.message}; SIP/TLS uses the main identity meanwhile`);
  }

  return {
    caCertPem: ca.material.certPem,
    caKeyPem: ca.material.keyPem,
    certPem: main.certPem,
    keyPem: main.keyPem,
    caDer: ca.cert.raw,
    identityRenewed: reason !== null,
    identityReason: reason,
    caCreated,
    fingerprintSha256: main.fingerprintSha256,
    caFingerprintSha256: ca.cert.fingerprint256,
    notAfter: main.notAfter,
    warnings,
    paths,
    identitySource: main.source,
    chainPems: main.chainPems,
    offerChain: main.offerChain,
    telephony,
    trustedCaPems: await trustedCaPems(dataDir),
  };
}

/** An issued or imported identity; a broken one stops start-up rather than being replaced. */
async function adminIdentity(dataDir: string, now: Date, warnings: string[]): Promise<TlsIdentityMaterial> {
  const p = identityPaths(dataDir, 'main');
  try {
    const m = await loadIdentityMaterial(dataDir, 'main', now, warnings);
    if (m !== null) return m;
  } catch (err) {
    if (err instanceof IdentityStoreError) throw new CertificateStoreError(`${err.message}, or remove ${p.meta} to go back to an automatic identity`);
    throw err;
  }
  throw new CertificateStoreError(`${p.meta} names an administrator's identity but ${p.cert} and ${p.key} are missing; import it again, or remove ${p.meta}`);
}

/** Today's behaviour for the identity made at start: re-issued when missing, expiring, or its names changed. */
async function ensureAutoIdentity(
  paths: CertificatePaths, ca: LoadedCa, caCreated: boolean, offerChain: boolean, opts: EnsureCertificatesOptions, now: Date, warnings: string[],
): Promise<{ main: TlsIdentityMaterial; reason: IdentityReason | null }> {
  const needs = requiredIdentityNames(opts);
  const renewBeforeMs = (opts.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS) * DAY_MS;
  let [certPem, keyPem] = await Promise.all([readIfExists(paths.cert), readIfExists(paths.key)]);
  const reason: IdentityReason | null = caCreated
    ? 'created'
    : identityProblem(certPem, keyPem, ca, needs, now, renewBeforeMs, warnings);
  if (reason !== null) {
    const issued = await issueCertificate(ca.material, {
      commonName: opts.hostName,
      dns: needs.dns,
      ips: needs.ips,
      uris: needs.uris,
      days: opts.identityDays ?? DEFAULT_IDENTITY_DAYS,
      now,
      usage: 'both',
    });
    certPem = issued.certPem;
    keyPem = issued.keyPem;
    await writeAtomic(paths.key, keyPem, 0o600);
    await writeAtomic(paths.cert, certPem, 0o644);
  } else {
    await tightenKeyMode(paths.key);
  }
  const identity = new NodeX509(certPem!);
  return {
    main: {
      // Our own identity's chain is the CA that signed it.
      certPem: certPem!, keyPem: keyPem!, chainPems: [ca.cert.toString()], offerChain, source: 'auto',
      fingerprintSha256: identity.fingerprint256, notAfter: identity.validToDate,
    },
    reason,
  };
}

/**
 * The root CA for distribution to phones (`switchboard cert export-ca [--der]`).
 * PEM for most devices; DER for one-X Android (SPEC §4.3). Throws
 * CertificateStoreError when there is no CA yet.
 */
export async function exportCa(dataDir: string, format: 'pem' | 'der'): Promise<Buffer> {
  const { caCert } = certificatePaths(dataDir);
  const pem = await readIfExists(caCert);
  if (pem === null) throw new CertificateStoreError(`no CA certificate at ${caCert}; start the server once to create it`);
  const cert = new NodeX509(pem);
  return format === 'der' ? cert.raw : Buffer.from(cert.toString(), 'utf8');
}

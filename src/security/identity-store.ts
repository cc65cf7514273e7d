// The server's identity certificates in <dataDir>/certs (SPEC §4.2, §4.3,
// the main identity (server.crt/.key, server-chain.pem) and an
// optional telephony identity for SIP/TLS (telephony.crt/.key/-chain.pem),
// each with a metadata file saying where it came from. Issued from the
// internal CA, or imported (PKCS#12, or PEM key + chain) after checks.
import type { CertificateSummary } from './cert-info.ts';

export type IdentityRole = 'main' | 'telephony';
/** 'auto': made at start and re-made when the names change; 'issued'/'imported': the administrator's, never replaced at start. */
export type IdentitySource = 'auto' | 'issued' | 'imported';

export interface IdentityMeta {
  source: IdentitySource;
  /** A-17 "Offer ID Certificate Chain": send the intermediates in handshakes. */
  offerChain: boolean;
  /** ISO time of the last change. */
  updatedAt: string;
}

export interface IdentityPaths {
  cert: string;
  key: string;
  /** Intermediates (and for our own issued identity, the CA), leaf excluded. */
  chain: string;
  meta: string;
}

export function identityPaths(dataDir: string, role: IdentityRole): IdentityPaths {
  void dataDir; void role;
  throw new Error('not yet');
}

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
  /** Default DEFAULT_IDENTITY_DAYS (certs.ts). */
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

/** Issues a new identity from the internal CA (SHA-256, RSA-2048) and stores it as source 'issued'. */
export async function issueIdentity(dataDir: string, role: IdentityRole, o: IssueIdentityOptions): Promise<IdentitySummary> {
  void dataDir; void role; void o;
  throw new Error('not yet');
}

/**
 * Checks and stores an administrator's identity as source 'imported': the
 * chain is put leaf-first (reordered when given out of order); throws
 * IdentityImportError naming the problem; nothing is written on failure.
 */
export async function importIdentity(dataDir: string, role: IdentityRole, src: IdentityImportSource, now?: Date): Promise<IdentitySummary> {
  void dataDir; void role; void src; void now;
  throw new Error('not yet');
}

/** The stored identity, or null (telephony absent; main before the first start). */
export async function readIdentity(dataDir: string, role: IdentityRole): Promise<IdentitySummary | null> {
  void dataDir; void role;
  throw new Error('not yet');
}

export async function setOfferChain(dataDir: string, role: IdentityRole, on: boolean): Promise<IdentitySummary> {
  void dataDir; void role; void on;
  throw new Error('not yet');
}

/** Removes the telephony identity; SIP/TLS then uses the main one. True when there was one. */
export async function removeTelephonyIdentity(dataDir: string): Promise<boolean> {
  void dataDir;
  throw new Error('not yet');
}

/**
 * The §4.3 guideline names: DNS FQDN, IP.1 LAN1, IP.2 LAN2 or else the public
 * address, URI sip:domain; with E129s, the LAN addresses also as DNS entries
 * (Appendix A #25). CN is the FQDN.
 */
export function proposedSans(o: { fqdn: string; domain: string; lan: readonly string[]; public?: string; e129?: boolean }): SanLists {
  void o;
  throw new Error('not yet');
}

// Trusted CAs besides our own root (SPEC §4.3, B-18): kept one PEM per CA in
// <dataDir>/certs/trusted/<fingerprint>.pem, used for outbound TLS and mutual
// TLS peers. Accepts PEM (one or several), DER and ".cer" in either encoding.
import type { CertificateSummary } from './cert-info.ts';

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

export function trustedDir(dataDir: string): string {
  void dataDir;
  throw new Error('not yet');
}

/**
 * Adds every certificate in `data`. Refuses (TrustStoreError, nothing
 * written) a certificate that is neither a CA nor a self-signed root.
 * Adding one already present updates its label when one is given.
 */
export async function addTrustedCas(dataDir: string, data: Buffer, label?: string): Promise<TrustedCa[]> {
  void dataDir; void data; void label;
  throw new Error('not yet');
}

/** Removes the one CA whose fingerprint starts with the prefix (colons and case ignored); TrustStoreError if none or several. */
export async function removeTrustedCa(dataDir: string, fingerprintOrPrefix: string): Promise<TrustedCa> {
  void dataDir; void fingerprintOrPrefix;
  throw new Error('not yet');
}

/** Sorted by label; unreadable files are skipped. */
export async function listTrustedCas(dataDir: string): Promise<TrustedCa[]> {
  void dataDir;
  throw new Error('not yet');
}

export async function exportTrustedCa(dataDir: string, fingerprintOrPrefix: string, format: 'pem' | 'der'): Promise<Buffer> {
  void dataDir; void fingerprintOrPrefix; void format;
  throw new Error('not yet');
}

// Reading certificates for display and checks (SPEC §4.2, §4.3, A-17): one
// summary shape for the API, the CLI and the identity/trust stores, and the
// PEM/DER splitting they all need.
import { X509Certificate as NodeX509 } from 'node:crypto';

export interface CertificateSummary {
  /** "CN=x, O=y" (Node's order, one line). */
  subject: string;
  issuer: string;
  /** "DNS:x", "IP:y", "URI:z" (Node's "IP Address:" shortened). */
  subjectAltNames: string[];
  /** Upper-case hex, as Node reports it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** "AB:CD:…" (SHA-256 of the DER). */
  fingerprintSha256: string;
  /** Issuer equals subject and the signature verifies with its own key. */
  selfSigned: boolean;
  isCa: boolean;
  keyType: 'rsa' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'other';
  /** RSA modulus bits, or the EC curve size (256 for P-256). */
  keyBits: number;
  /** The hash of the signature algorithm: 'sha256', 'sha1', 'md5'… ('unknown' when not recognised). */
  signatureHash: string;
}

export class CertificateParseError extends Error {
  override name = 'CertificateParseError';
}

/** Summary of one certificate (PEM or DER). Throws CertificateParseError on anything else. */
export function describeCertificate(pem: string | Buffer): CertificateSummary {
  void pem;
  throw new Error('not yet');
}

/**
 * The certificates in a PEM bundle, DER or base64-DER (".cer" in either
 * encoding), each as PEM, in the order given. Throws CertificateParseError
 * when nothing in `data` is a certificate.
 */
export function splitCertificates(data: Buffer | string): string[] {
  void data;
  throw new Error('not yet');
}

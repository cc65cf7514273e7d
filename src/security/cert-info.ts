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
  /** RSA modulus bits, or the EC curve size (256 for P-256); 0 when unknown. */
  keyBits: number;
  /** The hash of the signature algorithm: 'sha256', 'sha1', 'md5'… ('unknown' when not recognised). */
  signatureHash: string;
}

export class CertificateParseError extends Error {
  override name = 'CertificateParseError';
}

/** Signature algorithm OID -> its hash (RFC 4055, RFC 5758, RFC 8410). */
const SIGNATURE_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10040.4.3': 'sha1', // dsa-with-sha1
  '1.2.840.10045.4.1': 'sha1', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': 'sha512', // Ed25519 hashes with SHA-512 internally
  '1.3.101.113': 'shake256', // Ed448
};

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256, secp224r1: 224, prime192v1: 192 };

/** Parses PEM or DER; throws CertificateParseError. */
export function parseCertificate(data: string | Buffer): NodeX509 {
  try {
    return new NodeX509(data);
  } catch (err) {
    throw new CertificateParseError(`not an X.509 certificate (${(err as Error).message})`);
  }
}

export function isSelfSigned(cert: NodeX509): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/** Hash of the certificate's signature ('unknown' when the algorithm is not in the table, e.g. RSA-PSS). */
export function signatureHashOf(cert: NodeX509): string {
  return SIGNATURE_HASH[cert.signatureAlgorithmOid] ?? 'unknown';
}

/** The key's type and strength ("bits": RSA modulus, EC curve size). */
export function keyStrength(cert: NodeX509): { keyType: CertificateSummary['keyType']; keyBits: number } {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { keyType: 'rsa', keyBits: details.modulusLength ?? 0 };
    case 'ec':
      return { keyType: 'ec', keyBits: CURVE_BITS[details.namedCurve ?? ''] ?? 0 };
    case 'ed25519':
      return { keyType: 'ed25519', keyBits: 256 };
    case 'ed448':
      return { keyType: 'ed448', keyBits: 448 };
    case 'dsa':
      return { keyType: 'dsa', keyBits: details.modulusLength ?? 0 };
    default:
      return { keyType: 'other', keyBits: 0 };
  }
}

/** Node's one-per-line DN as "C=x, O=y, CN=z". */
function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/**
 * Node's subjectAltName text as "DNS:x", "IP:y", "URI:z". Node quotes a value
 * holding ", " (JSON string), so splitting on ", " only misreads such a
 * value, which no name we compare with can contain.
 */
export function subjectAltNames(cert: NodeX509): string[] {
  const text = cert.subjectAltName;
  if (!text) return [];
  return text.split(', ').map((e) => (e.startsWith('IP Address:') ? `IP:${e.slice(11)}` : e));
}

/** Summary of one certificate (PEM or DER). Throws CertificateParseError on anything else. */
export function describeCertificate(pem: string | Buffer | NodeX509): CertificateSummary {
  const cert = pem instanceof NodeX509 ? pem : parseCertificate(pem);
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    subjectAltNames: subjectAltNames(cert),
    serialNumber: cert.serialNumber,
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    fingerprintSha256: cert.fingerprint256,
    selfSigned: isSelfSigned(cert),
    isCa: cert.ca,
    ...keyStrength(cert),
    signatureHash: signatureHashOf(cert),
  };
}

/** The CN of a DN as Node prints it, or the whole DN when there is none. */
export function commonNameOf(cert: NodeX509): string {
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return oneLine(cert.subject);
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * The certificates in a PEM bundle, DER or base64-DER (".cer" in either
 * encoding), each as PEM, in the order given. Throws CertificateParseError
 * when nothing in `data` is a certificate.
 */
export function splitCertificates(data: Buffer | string): string[] {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const blocks = text.match(PEM_BLOCK);
  if (blocks) return blocks.map((b) => parseCertificate(b).toString());
  let der: Buffer;
  if (typeof data === 'string' || BASE64_TEXT.test(text)) der = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  else der = data;
  if (der.length === 0) throw new CertificateParseError('no certificate found (expected PEM, DER or base64)');
  return [parseCertificate(der).toString()];
}

/** Upper-case hex SHA-256 fingerprint without colons (file names, prefixes). */
export function bareFingerprint(cert: NodeX509): string {
  return cert.fingerprint256.replace(/:/g, '');
}

// Internal certificate authority: key generation, the root CA and the
// certificates it signs (SPEC §4.2, §4.3, A-17). Everything here is pure
// (no file I/O); certs.ts keeps the result on disk.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';

// The library's default provider lookup is lazy and global; pinning Node's
// WebCrypto makes the choice explicit and identical in every process.
x509.cryptoProvider.set(globalThis.crypto);

const subtle = globalThis.crypto.subtle;

/** SPEC §4.2: SHA-256 with RSA only; SHA-1 or 1024-bit keys break B179 and one-X Android. */
const SIGNING_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const MIN_RSA_BITS = 2048;
const DAY_MS = 86_400_000;

/**
 * Devices whose clock lags the server by a little would reject a certificate
 * whose notBefore is "now"; an hour of back-dating absorbs ordinary drift.
 */
const BACKDATE_MS = 3_600_000;

/** A CA able to sign: its certificate and private key, both PEM. */
export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

export interface RootCaOptions {
  /** Clock for notBefore/notAfter; defaults to the current time. */
  now?: Date;
  /** Validity in years (default 20). */
  years?: number;
  /** RSA modulus length (default 2048, minimum 2048). */
  keyBits?: number;
}

export interface IssueOptions {
  commonName: string;
  dns?: readonly string[];
  ips?: readonly string[];
  /** URI SAN entries, e.g. `sip:example.com` (RFC 5922 §7.1). */
  uris?: readonly string[];
  /** Validity in days, counted from `now`. */
  days: number;
  now?: Date;
  /** RSA modulus length (default 2048, minimum 2048). */
  keyBits?: number;
  /** Extended key usage; default both, so the identity also serves mutual TLS (D-06). */
  usage?: 'server' | 'client' | 'both';
  /** Organisation (O=) of the subject; default "Switchboard". */
  organization?: string;
  /** The other subject DN fields (all filled in for peers that show them, SPEC §4.3). */
  organizationalUnit?: string;
  /** Two letters (ISO 3166). */
  country?: string;
  state?: string;
  locality?: string;
  /**
   * Reuse an existing key pair instead of generating one (RSA generation is
   * the slow part; tests and re-issues with the same key use this).
   */
  keys?: CryptoKeyPair;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  certDer: Buffer;
  /** Upper-case, colon-separated, as Node's X509Certificate.fingerprint256. */
  fingerprintSha256: string;
  notBefore: Date;
  notAfter: Date;
  keys: CryptoKeyPair;
}

export async function generateRsaKeys(bits = MIN_RSA_BITS): Promise<CryptoKeyPair> {
  if (!Number.isInteger(bits) || bits < MIN_RSA_BITS) {
    throw new RangeError(`RSA key size must be an integer >= ${MIN_RSA_BITS}, got ${bits}`);
  }
  return subtle.generateKey(
    { ...SIGNING_ALGORITHM, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  );
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * Accepts PKCS#8 and PKCS#1 ("RSA PRIVATE KEY") PEM, because an admin may drop
 * in a key produced by `openssl genrsa`.
 */
async function importSigningKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', der, SIGNING_ALGORITHM, false, ['sign']);
}

/**
 * RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable. 16 random
 * bytes with the top bit cleared (and never a leading zero octet, which
 * DER would strip) gives 127 bits of entropy.
 */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

function toPem(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}

function issuedFrom(cert: x509.X509Certificate, keyPem: string, keys: CryptoKeyPair): IssuedCertificate {
  const certDer = Buffer.from(cert.rawData);
  return {
    certPem: toPem(cert),
    keyPem,
    certDer,
    fingerprintSha256: new NodeX509(certDer).fingerprint256,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    keys,
  };
}

/** Short random suffix so two installations' roots never share a subject. */
function shortId(): string {
  return randomBytes(4).toString('hex').toUpperCase();
}

/**
 * Creates a self-signed root: "CN=Switchboard Root CA <id>, O=Switchboard",
 * basicConstraints CA:true (critical), keyUsage keyCertSign+cRLSign (critical).
 */
export async function createRootCa(opts: RootCaOptions = {}): Promise<CaMaterial & IssuedCertificate> {
  const now = opts.now ?? new Date();
  const years = opts.years ?? 20;
  const keys = await generateRsaKeys(opts.keyBits ?? MIN_RSA_BITS);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`Switchboard Root CA ${shortId()}`] }, { O: ['Switchboard'] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = await privateKeyToPem(keys.privateKey);
  return issuedFrom(cert, keyPem, keys);
}

function checkSanInputs(opts: IssueOptions): void {
  if (opts.commonName.length === 0) throw new TypeError('commonName must not be empty');
  for (const ip of opts.ips ?? []) {
    if (isIP(ip) === 0) throw new TypeError(`not an IP address: ${ip}`);
  }
  for (const name of opts.dns ?? []) {
    if (name.length === 0 || name.length > 253 || /[\s,/]/.test(name)) {
      throw new TypeError(`not a DNS name: ${JSON.stringify(name)}`);
    }
  }
  if (!(opts.days > 0)) throw new RangeError(`days must be positive, got ${opts.days}`);
  if (opts.country !== undefined && !/^[A-Z]{2}$/.test(opts.country)) throw new TypeError(`country must be two capital letters, got ${JSON.stringify(opts.country)}`);
}

/** CN first, as before the other fields existed (so existing subjects stay byte-identical); empty fields left out. */
function subjectName(opts: IssueOptions): x509.JsonName {
  const name: x509.JsonName = [{ CN: [opts.commonName] }];
  if (opts.organizationalUnit) name.push({ OU: [opts.organizationalUnit] });
  name.push({ O: [opts.organization ?? 'Switchboard'] });
  if (opts.locality) name.push({ L: [opts.locality] });
  if (opts.state) name.push({ ST: [opts.state] });
  if (opts.country) name.push({ C: [opts.country] });
  return name;
}

const EKU: Record<NonNullable<IssueOptions['usage']>, string[]> = {
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
  both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
};

/**
 * Issues an end-entity certificate signed by `ca`. Throws TypeError/RangeError
 * on malformed names, IPs or validity (configuration input, not network input),
 * and if the CA key does not belong to the CA certificate.
 */
export async function issueCertificate(ca: CaMaterial, opts: IssueOptions): Promise<IssuedCertificate> {
  checkSanInputs(opts);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caNode = new NodeX509(ca.certPem);
  if (!caNode.checkPrivateKey(createPrivateKey(ca.keyPem))) {
    throw new Error('CA private key does not match the CA certificate');
  }
  const signingKey = await importSigningKey(ca.keyPem);
  const keys = opts.keys ?? (await generateRsaKeys(opts.keyBits ?? MIN_RSA_BITS));
  const now = opts.now ?? new Date();

  const san: x509.JsonGeneralNames = [];
  for (const d of opts.dns ?? []) san.push({ type: 'dns', value: d });
  for (const ip of opts.ips ?? []) san.push({ type: 'ip', value: ip });
  for (const u of opts.uris ?? []) san.push({ type: 'url', value: u });

  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // keyEncipherment is what TLS 1.0/1.1 and TLS 1.2 RSA key exchange need
    // (legacy peers, EC-03); digitalSignature covers (EC)DHE.
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(EKU[opts.usage ?? 'both'], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    aki,
  ];
  if (san.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(san, false));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(opts),
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + opts.days * DAY_MS),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return issuedFrom(cert, await privateKeyToPem(keys.privateKey), keys);
}

// What `switchboard cert show`, GET /api/certificates, the Certificates page
// and the certificate alarms all read (SPEC §4.3, A-17, A-28, A-29, EC-12,
// B-23): the identity each listener presents, the internal root, the trusted
// CAs, the client families checked, and the warnings: SAN gaps and refused
// self-signed identities per family, expiry levels, a clock outside a
// certificate's validity. Built from the data directory, so the command line
// and the running server say the same.
import { readFile } from 'node:fs/promises';
import type { DeviceFamily } from '../model/device.ts';
import type { CertView, CertWarning, IdentityView, TrustedCaView } from '../model/certificates.ts';
import { describeCertificate } from './cert-info.ts';
import type { CertificateSummary } from './cert-info.ts';
import { clockProblem, expiryLevel } from './cert-checks.ts';
import type { ExpiryLevel } from './cert-checks.ts';
import { certificatePaths } from './certs.ts';
import { checkIdentityForFamilies, clientFamiliesOfDevices, CLIENT_FAMILIES } from './client-families.ts';
import type { ClientFamily, SiteAddresses } from './client-families.ts';
import { readSelectedFamilies } from './client-family-selection.ts';
import { identityPaths, readIdentity } from './identity-store.ts';
import type { IdentityRole } from './identity-store.ts';
import { listTrustedCas } from './trust-store.ts';

export function certView(s: CertificateSummary): CertView {
  return {
    subject: s.subject, issuer: s.issuer, subjectAltNames: s.subjectAltNames, serialNumber: s.serialNumber,
    validFrom: s.notBefore.getTime(), validTo: s.notAfter.getTime(), fingerprintSha256: s.fingerprintSha256,
    isCa: s.isCa, selfSigned: s.selfSigned, keyType: s.keyType, keyBits: s.keyBits, signatureHash: s.signatureHash,
  };
}

export interface CertificateOverview {
  ca: CertView;
  identities: IdentityView[];
  trusted: TrustedCaView[];
  clientFamilies: {
    /** The administrator's selection. */
    selected: ClientFamily[];
    /** The families of provisioned devices. */
    devices: ClientFamily[];
  };
  site: SiteAddresses;
  warnings: CertWarning[];
}

export interface OverviewInput {
  dataDir: string;
  site: SiteAddresses;
  now: Date;
  /** The provisioned devices (A-29: their families are checked besides the selected ones). */
  devices?: { list(): Promise<readonly { family: DeviceFamily }[]> };
}

const ROLE_NAME: Record<IdentityRole | 'ca', string> = { main: 'main identity', telephony: 'telephony identity', ca: 'internal root CA' };

const EXPIRY_WORDS: Record<Exclude<ExpiryLevel, 'ok'>, string> = {
  days30: 'expires within 30 days', days7: 'expires within 7 days', days1: 'expires within a day', expired: 'has expired',
};

/** The time checks of one certificate: expiry level and a clock outside its validity. */
function timeWarnings(subject: IdentityRole | 'ca', c: CertificateSummary, now: Date): CertWarning[] {
  const out: CertWarning[] = [];
  const clock = clockProblem(c, now);
  // A clock outside the validity is said as a clock problem first (EC-12): "expired" may only be a wrong clock.
  if (clock !== null) out.push({ kind: 'clock', subject, text: `${ROLE_NAME[subject]}: ${clock}` });
  const level = expiryLevel(c.notAfter, now);
  if (level !== 'ok') {
    out.push({ kind: 'expiry', subject, level, text: `${ROLE_NAME[subject]} ${EXPIRY_WORDS[level]} (${c.notAfter.toISOString()}), SHA-256 ${c.fingerprintSha256}` });
  }
  return out;
}

export async function certificateOverview(input: OverviewInput): Promise<CertificateOverview> {
  const { dataDir, site, now } = input;
  const [main, telephony, trusted, selected, caPem] = await Promise.all([
    readIdentity(dataDir, 'main'), readIdentity(dataDir, 'telephony'), listTrustedCas(dataDir), readSelectedFamilies(dataDir),
    readFile(certificatePaths(dataDir).caCert, 'utf8'),
  ]);
  const ca = describeCertificate(caPem);
  const devices = clientFamiliesOfDevices([...new Set((await input.devices?.list() ?? []).map((d) => d.family))]);
  const checked = CLIENT_FAMILIES.filter((f) => selected.includes(f) || devices.includes(f));
  const identities: IdentityView[] = [];
  const warnings: CertWarning[] = [];
  for (const id of [main, telephony]) {
    if (id === null) continue;
    const presentedBy = id.role === 'telephony' ? ['SIP TLS'] : telephony === null ? ['SIP TLS', 'HTTPS'] : ['HTTPS'];
    identities.push({
      role: id.role, source: id.source, offerChain: id.offerChain, updatedAt: id.updatedAt, presentedBy,
      certificate: certView(id.certificate), chain: id.chain.map(certView), expiry: expiryLevel(id.certificate.notAfter, now),
    });
    warnings.push(...timeWarnings(id.role, id.certificate, now));
    const pem = await readFile(identityPaths(dataDir, id.role).cert, 'utf8');
    for (const check of checkIdentityForFamilies(pem, checked, site)) {
      if (check.message === null) continue;
      warnings.push({ kind: check.missing.length > 0 ? 'san' : 'self-signed', subject: id.role, family: check.family, text: `${ROLE_NAME[id.role]}: ${check.message}` });
    }
  }
  warnings.push(...timeWarnings('ca', ca, now));
  return {
    ca: certView(ca),
    identities,
    trusted: trusted.map((t) => ({ fingerprint: t.fingerprint, label: t.label, certificate: certView(t.certificate) })),
    clientFamilies: { selected, devices },
    site,
    warnings,
  };
}

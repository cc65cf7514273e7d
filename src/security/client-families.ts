// The per-client certificate table of SPEC §4.3 as data, and the checks it
// drives: A-29 (does the identity carry every SAN the provisioned families
// need) and A-28 (families that refuse a self-signed identity).
import { X509Certificate as NodeX509 } from 'node:crypto';
import type { DeviceFamily } from '../model/device.ts';
import { commonNameOf, isSelfSigned } from './cert-info.ts';
import { missingSanEntries, type SanNeeds } from './certs.ts';

export const CLIENT_FAMILIES = [
  'avaya-11xx-12xx',
  'avaya-e129',
  'avaya-b179',
  'communicator-ipad',
  'communicator-windows',
  'onex-ios',
  'onex-android',
  'radvision-xt',
  'radvision-iview',
  'gateway',
  'lync-registrar',
] as const;
export type ClientFamily = (typeof CLIENT_FAMILIES)[number];

/** The site's addresses, as the §4.3 table names them. */
export interface SiteAddresses {
  /** The call server's FQDN. */
  fqdn: string;
  /** The SIP domain. */
  domain: string;
  /** LAN1, LAN2 (when used). */
  lan: readonly string[];
  /** The public address, when remote clients reach the server through it. */
  public?: string;
}

export interface ClientFamilyProfile {
  family: ClientFamily;
  /** For messages: "Avaya 11xx/12xx SIP phones". */
  label: string;
  /** Whether it validates the chain: always, only once a root is installed on it, or never. */
  chainValidation: 'yes' | 'if-root-installed' | 'no';
  /** Whether it checks the server's name: DNS and IP, IP SANs only, or not at all. */
  hostnameCheck: 'yes' | 'ip-only' | 'no';
  /** false: refuses an identity that is itself self-signed. null: the table does not say. */
  acceptsSelfSigned: boolean | null;
  /** The subject CN must be the FQDN too (the Lync-like registrar's trusted-pool match). */
  needsCommonName: boolean;
  /** The SAN entries it needs for these addresses (empty when it checks no name). */
  needs(addrs: SiteAddresses): SanNeeds;
}

const none = (): SanNeeds => ({ dns: [], ips: [], uris: [] });
/** LAN1, LAN2 and (when remote clients use it) the public address, as IP entries. */
const lanAndPublicIps = (a: SiteAddresses): string[] => [...a.lan, ...(a.public ? [a.public] : [])];

/**
 * SPEC §4.3 "Per-client validation behaviour", one entry per row. Where the
 * table says "(remote)" or "(if used)", the entry is needed when the site has
 * that address (a public address means remote clients).
 */
export const CLIENT_FAMILY_PROFILES: Readonly<Record<ClientFamily, ClientFamilyProfile>> = {
  'avaya-11xx-12xx': {
    family: 'avaya-11xx-12xx', label: 'Avaya 11xx/12xx SIP phones', chainValidation: 'yes', hostnameCheck: 'ip-only',
    acceptsSelfSigned: false, needsCommonName: false,
    needs: (a) => ({ dns: [], ips: lanAndPublicIps(a), uris: [] }),
  },
  'avaya-e129': {
    family: 'avaya-e129', label: 'Avaya E129 phones', chainValidation: 'no', hostnameCheck: 'yes',
    acceptsSelfSigned: true, needsCommonName: false,
    // Appendix A #25: the LAN address as a DNS entry (the phone compares its server address as a name).
    needs: (a) => ({ dns: [...(a.public ? [a.fqdn] : []), ...a.lan], ips: [], uris: [] }),
  },
  'avaya-b179': {
    family: 'avaya-b179', label: 'Avaya B179 conference phones', chainValidation: 'if-root-installed', hostnameCheck: 'no',
    acceptsSelfSigned: true, needsCommonName: false, needs: none,
  },
  'communicator-ipad': {
    family: 'communicator-ipad', label: 'Communicator for iPad', chainValidation: 'yes', hostnameCheck: 'no',
    acceptsSelfSigned: true, needsCommonName: false, needs: none,
  },
  'communicator-windows': {
    family: 'communicator-windows', label: 'Communicator for Windows', chainValidation: 'yes', hostnameCheck: 'no',
    acceptsSelfSigned: true, needsCommonName: false, needs: none,
  },
  'onex-ios': {
    family: 'onex-ios', label: 'one-X Mobile for iOS', chainValidation: 'yes', hostnameCheck: 'no',
    acceptsSelfSigned: true, needsCommonName: false, needs: none,
  },
  'onex-android': {
    family: 'onex-android', label: 'one-X Mobile for Android', chainValidation: 'yes', hostnameCheck: 'yes',
    acceptsSelfSigned: true, needsCommonName: false,
    needs: (a) => ({ dns: [a.fqdn], ips: lanAndPublicIps(a), uris: [] }),
  },
  'radvision-xt': {
    family: 'radvision-xt', label: 'Radvision XT 4000/5000', chainValidation: 'yes', hostnameCheck: 'yes',
    acceptsSelfSigned: false, needsCommonName: false,
    needs: (a) => ({ dns: [a.fqdn], ips: [...a.lan], uris: [] }),
  },
  'radvision-iview': {
    family: 'radvision-iview', label: 'Radvision iView MCU', chainValidation: 'yes', hostnameCheck: 'no',
    acceptsSelfSigned: null, needsCommonName: false, needs: none,
  },
  gateway: {
    family: 'gateway', label: 'SIP gateway', chainValidation: 'yes', hostnameCheck: 'yes',
    acceptsSelfSigned: null, needsCommonName: false, needs: none,
  },
  'lync-registrar': {
    family: 'lync-registrar', label: 'Lync-like registrar', chainValidation: 'yes', hostnameCheck: 'yes',
    acceptsSelfSigned: null, needsCommonName: true,
    needs: (a) => ({ dns: [a.fqdn], ips: [], uris: [] }),
  },
};

/** The client family each provisioned device family belongs to (null: not in the §4.3 table). */
export const DEVICE_CLIENT_FAMILY: Readonly<Record<DeviceFamily, ClientFamily | null>> = {
  'avaya-46xx': null,
  'avaya-11xx': 'avaya-11xx-12xx',
  'avaya-b179': 'avaya-b179',
  'avaya-e129': 'avaya-e129',
  'spectralink-84': null,
  'yealink-dect': null,
  'gigaset-dect': null,
  'snom-dect': null,
};

export interface FamilyCheck {
  family: ClientFamily;
  /** "DNS:x" / "IP:y" / "URI:z" (and "CN:x" where the CN must match) the identity lacks for this family. */
  missing: string[];
  /** The family refuses self-signed identities and this one is self-signed. */
  selfSignedRefused: boolean;
  /** One sentence naming the family and what is wrong; null when fine. */
  message: string | null;
}

function messageFor(p: ClientFamilyProfile, missing: string[], selfSignedRefused: boolean): string | null {
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`the identity lacks ${missing.join(', ')}`);
  if (selfSignedRefused) parts.push('they refuse a self-signed identity (issue one from the internal CA or import one from your CA)');
  return parts.length === 0 ? null : `${p.label}: ${parts.join('; and ')}`;
}

/** One row per family (in the order given, duplicates removed). */
export function checkIdentityForFamilies(certPem: string, families: Iterable<ClientFamily>, addrs: SiteAddresses): FamilyCheck[] {
  const cert = new NodeX509(certPem);
  const selfSigned = isSelfSigned(cert);
  const out: FamilyCheck[] = [];
  for (const family of new Set(families)) {
    const p = CLIENT_FAMILY_PROFILES[family];
    const missing = missingSanEntries(certPem, p.needs(addrs));
    if (p.needsCommonName && commonNameOf(cert).toLowerCase() !== addrs.fqdn.toLowerCase()) missing.push(`CN:${addrs.fqdn}`);
    const selfSignedRefused = selfSigned && p.acceptsSelfSigned === false;
    out.push({ family, missing, selfSignedRefused, message: messageFor(p, missing, selfSignedRefused) });
  }
  return out;
}

/** The distinct client families of these device families, in table order. */
export function clientFamiliesOfDevices(families: Iterable<DeviceFamily>): ClientFamily[] {
  const wanted = new Set<ClientFamily>();
  for (const f of families) {
    const c = DEVICE_CLIENT_FAMILY[f];
    if (c) wanted.add(c);
  }
  return CLIENT_FAMILIES.filter((c) => wanted.has(c));
}

// The per-client certificate table of SPEC §4.3 as data, and the checks it
// drives: A-29 (does the identity carry every SAN the provisioned families
// need) and A-28 (families that refuse a self-signed identity).
import type { DeviceFamily } from '../model/device.ts';
import type { SanNeeds } from './certs.ts';

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
  /** The SAN entries it needs for these addresses (empty when it checks no name). */
  needs(addrs: SiteAddresses): SanNeeds;
}

export const CLIENT_FAMILY_PROFILES: Readonly<Record<ClientFamily, ClientFamilyProfile>> = undefined as never;

/** The client family each provisioned device family belongs to (null: not in the §4.3 table). */
export const DEVICE_CLIENT_FAMILY: Readonly<Record<DeviceFamily, ClientFamily | null>> = undefined as never;

export interface FamilyCheck {
  family: ClientFamily;
  /** "DNS:x" / "IP:y" / "URI:z" the identity lacks for this family. */
  missing: string[];
  /** The family refuses self-signed identities and this one is self-signed. */
  selfSignedRefused: boolean;
  /** One sentence naming the family and what is wrong; null when fine. */
  message: string | null;
}

/** One row per family (in the order given, duplicates removed). */
export function checkIdentityForFamilies(certPem: string, families: Iterable<ClientFamily>, addrs: SiteAddresses): FamilyCheck[] {
  void certPem; void families; void addrs;
  throw new Error('not yet');
}

/** The distinct client families of these device families, in table order. */
export function clientFamiliesOfDevices(families: Iterable<DeviceFamily>): ClientFamily[] {
  void families;
  throw new Error('not yet');
}

// What the Certificates API answers (src/api/routes/certificates.ts), as the
// page reads it. Times are epoch ms; keys never reach the page.

export interface Cert {
  subject: string;
  issuer: string;
  subjectAltNames: string[];
  serialNumber: string;
  validFrom: number;
  validTo: number;
  fingerprintSha256: string;
  isCa: boolean;
  selfSigned: boolean;
  keyType: string;
  keyBits: number;
  signatureHash: string;
}

export type Role = 'main' | 'telephony';

export interface Identity {
  role: Role;
  source: 'auto' | 'issued' | 'imported';
  offerChain: boolean;
  updatedAt: string;
  presentedBy: string[];
  certificate: Cert;
  chain: Cert[];
  expiry: string;
}

export interface TrustedCa {
  fingerprint: string;
  label: string;
  certificate: Cert;
}

export interface CertWarning {
  kind: 'san' | 'self-signed' | 'expiry' | 'clock';
  subject: Role | 'ca';
  family?: string;
  text: string;
}

export interface Overview {
  ca: Cert;
  identity: Cert;
  identities: Identity[];
  trusted: TrustedCa[];
  clientFamilies: { selected: string[]; devices: string[] };
  warnings: CertWarning[];
}

export interface Applied {
  listeners: { name: string; before: string; after: string }[];
  renewed: string | null;
}

/** "SIP TLS and HTTPS management now present AB:…": what a change did, for the notice after it. */
export function appliedText(a: Applied): string {
  const changed = a.listeners.filter((l) => l.before !== l.after);
  if (changed.length === 0) return 'Applied: the listeners present the same certificates as before.';
  return `Applied at once: ${changed.map((l) => `${l.name} now presents ${l.after.slice(0, 23)}…`).join('; ')}. Established calls and connections continue.`;
}

/** The bytes of a chosen file as base64 (PKCS#12 and DER uploads travel in JSON). */
export async function fileBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

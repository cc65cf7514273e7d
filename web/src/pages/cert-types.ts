// The Certificates page's view of the API (src/api/routes/certificates.ts): the
// model's types (src/model/certificates.ts) and the helpers the page's parts share.

import type { Applied, CertView, CertWarning, IdentityView, TrustedCaView } from '../../../src/model/certificates.ts';

export type { Applied, CertWarning };
export type Cert = CertView;
export type Identity = IdentityView;
export type TrustedCa = TrustedCaView;
export type Role = IdentityView['role'];

export interface Overview {
  ca: Cert;
  identity: Cert;
  identities: Identity[];
  trusted: TrustedCa[];
  clientFamilies: { selected: string[]; devices: string[] };
  warnings: CertWarning[];
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

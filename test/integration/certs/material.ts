// Certificate material for the certificate tests, made here rather than by
// the server: identities signed by the server's own CA or by a CA of the
// test's, as PEM and as PKCS#12 (node-forge writes it, as a CA's tool would).
import forge from 'node-forge';
import { createRootCa, issueCertificate } from '../../../src/security/ca.ts';
import type { CaMaterial } from '../../../src/security/ca.ts';

export interface MadeIdentity {
  certPem: string;
  keyPem: string;
  fingerprint: string;
  /** The CA that signed it. */
  caPem: string;
}

/** An identity for 127.0.0.1 and localhost (the tests connect there), signed by `ca` (default: a new CA of the test's). */
export async function makeIdentity(o: { ca?: CaMaterial; cn?: string; extraDns?: string[]; days?: number } = {}): Promise<MadeIdentity> {
  const ca = o.ca ?? (await createRootCa());
  const id = await issueCertificate(ca, {
    commonName: o.cn ?? 'made.test.local', dns: ['localhost', ...(o.extraDns ?? [])], ips: ['127.0.0.1'], uris: ['sip:test.local'], days: o.days ?? 90,
  });
  return { certPem: id.certPem, keyPem: id.keyPem, fingerprint: id.fingerprintSha256, caPem: ca.certPem };
}

/** The identity, its key and its CA as a PKCS#12 file (3DES, as many CAs still export). */
export function toP12(id: MadeIdentity, password: string): Buffer {
  const key = forge.pki.privateKeyFromPem(id.keyPem);
  const certs = [forge.pki.certificateFromPem(id.certPem), forge.pki.certificateFromPem(id.caPem)];
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des', friendlyName: 'switchboard test' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

// A fixed site for generator tests: every address, port and certificate is a
// constant, so generated files are byte-for-byte stable.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineAccount, ProvisioningSite, RootCertificate } from '../../../src/provisioning/types.ts';

const pem = readFileSync(join(import.meta.dirname, '../../fixtures/provisioning/root-ca.pem'), 'utf8');
const cert = new X509Certificate(pem);

export const TEST_ROOT: RootCertificate = { subject: cert.subject.replace(/\n/g, ', '), pem, der: cert.raw };

/** The AN set-up: TLS on, SRTP best effort with 80 then 32, encrypted SRTCP. */
export function testSite(over: Partial<ProvisioningSite> = {}): ProvisioningSite {
  return {
    domain: 'example.com',
    fqdn: 'pbx.example.com',
    lanAddress: '192.168.2.4',
    publicAddress: '203.0.113.7',
    sipPorts: { udp: 5060, tcp: 5060, tls: 5061 },
    provisioningPorts: { https: 7443 },
    media: { security: 'best-effort', srtcp: 'encrypted', suites: ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'], capneg: true },
    rootCa: TEST_ROOT,
    identitySelfSigned: false,
    qos: { rtpDscp: 46, controlDscp: 40 },
    ...over,
  };
}

export function testLines(n = 1, first = 1001): LineAccount[] {
  return Array.from({ length: n }, (_, i) => ({
    extension: String(first + i),
    authUser: String(first + i),
    password: `Secret-${first + i}-pw`,
    displayName: `Handset ${i + 1}`,
  }));
}

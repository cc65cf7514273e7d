// The site phones are told about, from the running config, the live media
// settings and the identity in use.
import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../../src/config/schema.ts';
import { buildSite, configuredProvisioningPorts, configuredSipPorts, tokenUrl, type SiteIdentity } from '../../../src/provisioning/site.ts';
import { ensureCertificates, type CertificateSet } from '../../../src/security/certs.ts';

const selfSignedPem = readFileSync(join(import.meta.dirname, '../../fixtures/provisioning/root-ca.pem'), 'utf8');

function site(input: ConfigInput, identity: SiteIdentity) {
  const config = configSchema.parse(input);
  return buildSite({
    config, media: () => config.media, certificates: () => identity, hostname: () => 'pbx-host',
    sipPorts: () => configuredSipPorts(config), provisioningPorts: () => configuredProvisioningPorts(config),
  });
}

describe('buildSite', () => {
  let certs: CertificateSet;
  beforeAll(async () => {
    certs = await ensureCertificates(mkdtempSync(join(tmpdir(), 'sb-site-')), { hostName: 'pbx.example.com', ipAddresses: ['192.0.2.10'], sipDomain: 'example.com' });
  });

  it('takes domain, addresses, ports, media and QoS from the config; the root from the identity', () => {
    const s = site({
      sip: { domain: 'example.com', udp: '0', tcp: '192.0.2.10:5060', tls: '192.0.2.10:5061' },
      media: { security: 'enforced', srtcp: 'unencrypted', suites: ['AES_CM_128_HMAC_SHA1_80'] },
      provisioning: { listen: '0.0.0.0:8443', publicAddress: '203.0.113.7', qos: { rtpDscp: 34 } },
    }, certs);
    expect(s).toMatchObject({
      domain: 'example.com', fqdn: 'pbx-host', lanAddress: '192.0.2.10', publicAddress: '203.0.113.7',
      sipPorts: { tcp: 5060, tls: 5061 }, provisioningPorts: { https: 8443 },
      media: { security: 'enforced', srtcp: 'unencrypted', suites: ['AES_CM_128_HMAC_SHA1_80'] },
      identitySelfSigned: false, qos: { rtpDscp: 34, controlDscp: 40 },
    });
    expect(s.sipPorts.udp).toBeUndefined();
    expect(s.provisioningPorts.http).toBeUndefined();
    expect(s.rootCa.pem).toBe(certs.caCertPem);
    expect(s.rootCa.der.equals(certs.caDer)).toBe(true);
    expect(s.rootCa.subject).toContain('CN=');
    expect(s.telephonyRootCa).toBeUndefined();
    expect(s.remoteWorker).toBeUndefined();
  });

  it('prefers the configured LAN address and FQDN, then the advertised address', () => {
    expect(site({ sip: { advertisedAddress: '198.51.100.2' } }, certs).lanAddress).toBe('198.51.100.2');
    const s = site({ sip: { advertisedAddress: '198.51.100.2' }, provisioning: { lanAddress: '10.1.1.1', fqdn: 'pbx.example.com' } }, certs);
    expect([s.lanAddress, s.fqdn]).toEqual(['10.1.1.1', 'pbx.example.com']);
  });

  it('reads the remote-worker SBC in either spelling of SPEC §5.9 (Appendix A #35) and names the HTTP port only with bootstrap on', () => {
    const s = site({
      provisioning: { remoteWorker: { RW_SBC_REG_IP: '203.0.113.9', RW_SBC_PROV: '10.0.0.9', RW_SBC_TLS: 5061, udp: 5060 }, http: { listen: '0.0.0.0:8080', bootstrap: true } },
    }, certs);
    expect(s.remoteWorker).toEqual({ reg: '203.0.113.9', prov: '10.0.0.9', tls: 5061, udp: 5060 });
    expect(s.provisioningPorts).toEqual({ https: 7443, http: 8080 });
    expect(configSchema.safeParse({ provisioning: { remoteWorker: { reg: 'a', prov: 'b' } } }).success).toBe(false);
    expect(configSchema.safeParse({ provisioning: { http: { listen: '0.0.0.0:8080' } } }).success).toBe(false);
  });

  it('says when the identity is self-signed, and names a telephony root that differs (C-04)', () => {
    const s = site({}, { certPem: selfSignedPem, caCertPem: selfSignedPem, chainPems: [], telephony: null });
    expect(s.identitySelfSigned).toBe(true);
    const t = site({}, { ...certs, telephony: { certPem: selfSignedPem, keyPem: '', chainPems: [selfSignedPem], offerChain: false, source: 'imported', fingerprintSha256: '', notAfter: new Date() } });
    expect(t.rootCa.pem).toBe(certs.caCertPem);
    expect(t.telephonyRootCa?.pem).toBe(selfSignedPem);
  });

  it('writes token URLs on the LAN address and the HTTPS port, IPv6 in brackets', () => {
    const s = site({ provisioning: { lanAddress: 'fd00::5' } }, certs);
    expect(tokenUrl(s, 'abc')).toBe('https://[fd00::5]:7443/d/abc/');
  });
});

import { describe, expect, it } from 'vitest';
import { avayaB179, B179_FILE } from '../../../src/provisioning/families/avaya-b179.ts';
import { generatorFor } from '../../../src/provisioning/families/index.ts';
import { ProvisioningRefusal, type ProvisioningSite, type RenderInput, type RequestFacts } from '../../../src/provisioning/types.ts';
import { expectGolden } from './golden.ts';
import { testLines, testSite } from './site.ts';

const device = { mac: '0004f2b17901', family: 'avaya-b179' as const, model: 'B179', options: {} };

function render(site: ProvisioningSite, request?: RequestFacts): string {
  const input: RenderInput = { site, device, lines: testLines(1, 8001), ...(request ? { request } : {}) };
  const result = avayaB179.render(input);
  expect(result.files.map((f) => [f.name, f.credentials])).toEqual([[B179_FILE, true], ['avaya-0004f2b17901.xml', true]]);
  expect(result.files[1]!.body).toBe(result.files[0]!.body);
  return result.files[0]!.body as string;
}

const LAN: RequestFacts = { source: '192.168.2.50', secure: true, local: true };
const REMOTE: RequestFacts = { source: '198.51.100.20', secure: true, local: false };

describe('Avaya B179 (C-06, A-20, A-15)', () => {
  it('is registered in the family registry', () => {
    expect(generatorFor('avaya-b179')).toBe(avayaB179);
  });

  it('writes the C-06 TLS/SRTP block over TLS, pinned to the LAN address for a LAN request (golden)', () => {
    const xml = render(testSite(), LAN);
    expectGolden('avaya-b179/tls-lan.xml', xml);
    for (const element of ['<tls_transport>1<', '<tls_port>5061<', '<tls_verify_server>1<', '<sips_transport>0<', '<use_srtp>1<', '<use_srtpc>false<', '<srtp_secure_signaling>0<']) {
      expect(xml).toContain(element);
    }
    expect(xml).toContain('<file_server_address>https://192.168.2.4:7443/<');
  });

  it('pins the public address for a request from outside the local networks (A-15 scenarios 3 and 5)', () => {
    const xml = render(testSite(), REMOTE);
    expectGolden('avaya-b179/tls-remote.xml', xml);
    expect(xml).toContain('<file_server_address>https://203.0.113.7:7443/<');
    expect(xml).toContain('<registrar>203.0.113.7:5061<');
  });

  it('pins the LAN address when rendered without a request (CLI)', () => {
    expect(render(testSite())).toContain('<file_server_address>https://192.168.2.4:7443/<');
  });

  it('is "SRTP Optional" for Disabled, Best Effort and Enforce alike (A-20 table)', () => {
    const bodies = (['disabled', 'best-effort', 'enforced'] as const).map((security) => {
      const xml = render(testSite({ media: { ...testSite().media, security } }), LAN);
      // Best Effort is the site of the TLS/LAN golden file.
      expectGolden(security === 'best-effort' ? 'avaya-b179/tls-lan.xml' : `avaya-b179/media-${security}.xml`, xml);
      return xml.replace(/<!-- System media security .*-->\n/, '');
    });
    expect(bodies[0]).toContain('<use_srtp>1<');
    expect(new Set(bodies).size).toBe(1);
  });

  it('without TLS: no tls_port, TCP transport, and plain http to the HTTP listener (A-14)', () => {
    const xml = render(testSite({ sipPorts: { udp: 5060, tcp: 5060 }, provisioningPorts: { https: 7443, http: 8080 } }), LAN);
    expectGolden('avaya-b179/no-tls.xml', xml);
    expect(xml).toContain('<tls_transport>0<');
    expect(xml).not.toContain('<tls_port>');
    expect(xml).toContain('<transport>TCP<');
    expect(xml).toContain('<file_server_address>http://192.168.2.4:8080/<');
  });

  it('escapes XML in names and secrets', () => {
    const lines = [{ extension: '8001', authUser: '8001', password: 'a<b>&"c\'', displayName: 'R&D <lab>' }];
    const xml = avayaB179.render({ site: testSite(), device, lines }).files[0]!.body as string;
    expect(xml).toContain('<password>a&lt;b&gt;&amp;&quot;c&apos;</password>');
    expect(xml).toContain('<account_name>R&amp;D &lt;lab&gt;</account_name>');
  });

  it('refuses a site with no SIP transport', () => {
    expect(() => render(testSite({ sipPorts: {} }))).toThrow(ProvisioningRefusal);
  });
});

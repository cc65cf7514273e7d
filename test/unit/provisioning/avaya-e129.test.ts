import { describe, expect, it } from 'vitest';
import { avayaE129, e129FileName } from '../../../src/provisioning/families/avaya-e129.ts';
import { generatorFor } from '../../../src/provisioning/families/index.ts';
import { ProvisioningRefusal, type ProvisioningSite, type RemoteWorkerSbc, type RequestFacts } from '../../../src/provisioning/types.ts';
import { expectGolden } from './golden.ts';
import { testLines, testSite } from './site.ts';

const MAC = '000b82e12901';
const LAN: RequestFacts = { source: '192.168.2.70', secure: true, local: true };
const REMOTE: RequestFacts = { source: '198.51.100.30', secure: true, local: false };
/** SPEC §5.9 test vector: REG=203.0.113.10, PROV=10.0.0.5, TLS=5061, TCP unset, UDP=5060. */
const SBC: RemoteWorkerSbc = { reg: '203.0.113.10', prov: '10.0.0.5', tls: 5061, udp: 5060 };

function render(site: ProvisioningSite, request?: RequestFacts): string {
  const result = avayaE129.render({
    site,
    device: { mac: MAC, family: 'avaya-e129', model: 'E129', options: {} },
    lines: testLines(1, 2001),
    ...(request ? { request } : {}),
  });
  expect(result.files.map((f) => [f.name, f.credentials])).toEqual([[e129FileName(MAC), true]]);
  return result.files[0]!.body as string;
}

function p(xml: string, n: number): string | undefined {
  return new RegExp(`<P${n}>([^<]*)</P${n}>`).exec(xml)?.[1];
}

const PATH_FIELDS = [192, 237, 331];

describe('Avaya E129 cfg<mac>.xml (C-07, A-15, A-20, §5.9)', () => {
  it('is registered in the family registry', () => {
    expect(generatorFor('avaya-e129')).toBe(avayaE129);
  });

  it('writes the C-07 values over TLS, pinned to the LAN address for a LAN request (golden)', () => {
    const xml = render(testSite(), LAN);
    expectGolden('avaya-e129/tls-lan.xml', xml);
    expect([p(xml, 47), p(xml, 130), p(xml, 2311), p(xml, 2329), p(xml, 183)]).toEqual(['192.168.2.4:5061', '2', '1', '0', '2']);
    expect([p(xml, 145), p(xml, 192), p(xml, 237), p(xml, 212), p(xml, 330)]).toEqual(['0', '192.168.2.4:7443', '192.168.2.4:7443', '2', '3']);
    // Appendix A #27: uppercase P only.
    expect(xml).not.toMatch(/<p\d/);
  });

  it('pins the public address for a request from a remote site (A-15 scenarios 3 and 5; golden)', () => {
    const xml = render(testSite(), REMOTE);
    expectGolden('avaya-e129/tls-remote.xml', xml);
    expect([p(xml, 47), p(xml, 192), p(xml, 237)]).toEqual(['203.0.113.7:5061', '203.0.113.7:7443', '203.0.113.7:7443']);
  });

  it('pins the LAN address when rendered without a request (CLI)', () => {
    expect(p(render(testSite()), 237)).toBe('192.168.2.4:7443');
  });

  it('maps the system media security to P183: Disabled 0, Best Effort 2, Enforce 2 (A-20 table; golden)', () => {
    const got = (['disabled', 'best-effort', 'enforced'] as const).map((security) => {
      const xml = render(testSite({ media: { ...testSite().media, security } }), LAN);
      // Best Effort is the site of the TLS/LAN golden file.
      expectGolden(security === 'best-effort' ? 'avaya-e129/tls-lan.xml' : `avaya-e129/media-${security}.xml`, xml);
      return p(xml, 183);
    });
    expect(got).toEqual(['0', '2', '2']);
  });

  it('without TLS: TCP transport and http for firmware, config and phonebook (A-14; golden)', () => {
    const xml = render(testSite({ sipPorts: { udp: 5060, tcp: 5060 }, provisioningPorts: { https: 7443, http: 8080 } }), LAN);
    expectGolden('avaya-e129/no-tls.xml', xml);
    expect([p(xml, 47), p(xml, 130), p(xml, 212), p(xml, 330), p(xml, 237)]).toEqual(['192.168.2.4:5060', '1', '1', '1', '192.168.2.4:8080']);
  });

  describe('§5.9 test vectors', () => {
    const site = testSite({ remoteWorker: SBC });

    it('request from 10.0.0.5: outbound proxy 203.0.113.10:5061 and no path fields (golden)', () => {
      const xml = render(site, { source: '10.0.0.5', secure: true, local: true });
      expectGolden('avaya-e129/remote-worker.xml', xml);
      expect(p(xml, 48)).toBe('203.0.113.10:5061');
      for (const n of PATH_FIELDS) expect(p(xml, n), `P${n}`).toBeUndefined();
      expect(p(xml, 145)).toBe('0');
    });

    it('the same request from 10.0.0.99: the normal LAN file', () => {
      expect(render(site, { source: '10.0.0.99', secure: true, local: true })).toBe(render(testSite(), { source: '10.0.0.99', secure: true, local: true }));
    });

    it('REG set but PROV unset: RW_* ignored', () => {
      const xml = render(testSite({ remoteWorker: { ...SBC, prov: '' } }), { source: '10.0.0.5', secure: true, local: true });
      expect(p(xml, 48)).toBe('');
      expect(p(xml, 237)).toBe('192.168.2.4:7443');
    });

    it('picks exactly one SBC port: TCP when TLS is unset, else UDP (rule 6)', () => {
      const from = { source: '10.0.0.5', secure: true, local: true };
      const tcp = render(testSite({ remoteWorker: { reg: SBC.reg, prov: SBC.prov, tcp: 5070, udp: 5060 } }), from);
      expect([p(tcp, 48), p(tcp, 130)]).toEqual(['203.0.113.10:5070', '1']);
      const udp = render(testSite({ remoteWorker: { reg: SBC.reg, prov: SBC.prov, udp: 5060 } }), from);
      expect([p(udp, 48), p(udp, 130)]).toEqual(['203.0.113.10:5060', '0']);
    });
  });

  it('refuses a site with no SIP transport', () => {
    expect(() => render(testSite({ sipPorts: {} }), LAN)).toThrow(ProvisioningRefusal);
  });

  it('escapes XML in names and secrets', () => {
    const result = avayaE129.render({
      site: testSite(),
      device: { mac: MAC, family: 'avaya-e129', model: null, options: {} },
      lines: [{ extension: '2001', authUser: '2001', password: '<&>', displayName: 'A & B' }],
    });
    const xml = result.files[0]!.body as string;
    expect(p(xml, 34)).toBe('&lt;&amp;&gt;');
    expect(p(xml, 3)).toBe('A &amp; B');
  });
});

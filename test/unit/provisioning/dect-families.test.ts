// The three DECT families against golden files (one handset, several, TLS
// with SRTP enforced, no TLS) and the rules they share: handset limits per
// model, SRTP suites, A-15 pinning, credentials marking, hostile text.
import { describe, expect, it } from 'vitest';
import { generatorFor } from '../../../src/provisioning/families/index.ts';
import { gigasetDect } from '../../../src/provisioning/families/gigaset-dect.ts';
import { snomDect } from '../../../src/provisioning/families/snom-dect.ts';
import { yealinkDect } from '../../../src/provisioning/families/yealink-dect.ts';
import { ProvisioningRefusal, type FamilyGenerator, type ProvisioningSite, type RenderInput, type RenderResult } from '../../../src/provisioning/types.ts';
import { expectGolden } from './golden.ts';
import { testLines, testSite } from './site.ts';

interface Family {
  gen: FamilyGenerator;
  mac: string;
  small: string;
  large: string;
  /** Handsets the small model takes. */
  smallMax: number;
}

const FAMILIES: Family[] = [
  { gen: yealinkDect, mac: '805ec0aabbcc', small: 'W60B', large: 'W80B', smallMax: 8 },
  { gen: gigasetDect, mac: '7c2f80aabbcc', small: 'N670', large: 'N870', smallMax: 20 },
  { gen: snomDect, mac: '000413aabbcc', small: 'M300', large: 'M700', smallMax: 20 },
];

function input(f: Family, over: { site?: Partial<ProvisioningSite>; lines?: number; model?: string | null; options?: RenderInput['device']['options']; request?: RenderInput['request'] } = {}): RenderInput {
  return {
    site: testSite(over.site),
    device: { mac: f.mac, family: f.gen.family, model: over.model === undefined ? f.small : over.model, options: over.options ?? { ntp: 'ntp.example.com' } },
    lines: testLines(over.lines ?? 1),
    request: over.request,
  };
}

function expectResultGolden(f: Family, name: string, r: RenderResult): void {
  for (const file of r.files) expectGolden(`${f.gen.family}/${name}/${file.name}`, file.body);
  expectGolden(`${f.gen.family}/${name}/warnings.txt`, r.warnings.map((w) => `${w}\n`).join(''));
}

const bodies = (r: RenderResult) => r.files.map((f) => String(f.body)).join('\n');

describe.each(FAMILIES)('$gen.family', (f) => {
  it('is registered under its family', () => {
    expect(generatorFor(f.gen.family)).toBe(f.gen);
    expect(f.gen.maxLines).toBeGreaterThanOrEqual(f.smallMax);
    expect(f.gen.bootstrapFiles).toEqual([]);
  });

  it('one handset: golden', () => {
    expectResultGolden(f, 'one-handset', f.gen.render(input(f)));
  });

  it('several handsets, one account each: golden', () => {
    const r = f.gen.render(input(f, { lines: 4, model: f.large }));
    expectResultGolden(f, 'several-handsets', r);
    for (const l of testLines(4)) expect(bodies(r)).toContain(l.password);
  });

  it('TLS with SRTP enforced: golden', () => {
    const r = f.gen.render(input(f, { lines: 2, site: { media: { ...testSite().media, security: 'enforced' } } }));
    expectResultGolden(f, 'tls-srtp-enforced', r);
    expect(bodies(r)).toContain('5061');
  });

  it('no TLS (UDP, SRTP off): golden, no TLS warning about the clock', () => {
    const r = f.gen.render(input(f, { lines: 2, options: {}, site: { sipPorts: { udp: 5060, tcp: 5060 }, media: { ...testSite().media, security: 'disabled' } } }));
    expectResultGolden(f, 'no-tls', r);
    expect(bodies(r)).not.toContain('5061');
    expect(r.warnings.join('\n')).not.toContain('EC-12');
  });

  it('refuses more handsets than the model takes, and names the model', () => {
    expect(() => f.gen.render(input(f, { lines: f.smallMax + 1 }))).toThrow(ProvisioningRefusal);
    expect(() => f.gen.render(input(f, { lines: f.smallMax + 1 }))).toThrow(`${f.small} takes at most ${f.smallMax} handsets`);
    expect(() => f.gen.render(input(f, { lines: f.smallMax + 1, model: f.large }))).not.toThrow();
  });

  it('an unknown model is written as the largest, with a warning; no model at all without one', () => {
    const r = f.gen.render(input(f, { model: 'X1', lines: f.smallMax + 1 }));
    expect(r.warnings.join('\n')).toContain('model X1 is not one this family knows');
    expect(f.gen.render(input(f, { model: null })).warnings.join('\n')).not.toContain('is not one this family knows');
    expect(() => f.gen.render(input(f, { model: null, lines: f.gen.maxLines + 1 }))).toThrow(ProvisioningRefusal);
  });

  it('refuses SRTP when the server offers no suite the bases can do', () => {
    const site = { media: { ...testSite().media, suites: ['AES_256_CM_HMAC_SHA1_80' as const] } };
    expect(() => f.gen.render(input(f, { site }))).toThrow(/AES_CM_128_HMAC_SHA1_80/);
    expect(() => f.gen.render(input(f, { site: { ...site, media: { ...site.media, security: 'disabled' } } }))).not.toThrow();
  });

  it('refuses bad options with the reason', () => {
    expect(() => f.gen.render(input(f, { options: { ntp: 'pool.ntp.org\nx = 1' } }))).toThrow(/ntp must be a host name/);
    expect(() => f.gen.render(input(f, { options: { color: 'red' } }))).toThrow(ProvisioningRefusal);
  });

  it('warns when TLS has no NTP server (EC-12) and when SRTP keys would travel without TLS', () => {
    expect(f.gen.render(input(f, { options: {} })).warnings.join('\n')).toContain('EC-12');
    const noTls = f.gen.render(input(f, { site: { sipPorts: { udp: 5060 } } }));
    expect(noTls.warnings.join('\n')).toContain('SRTP keys travel in SDP over UDP');
  });

  it('pins the public address for a request from outside the local networks (A-15)', () => {
    const remote = bodies(f.gen.render(input(f, { request: { source: '198.51.100.9', secure: true, local: false } })));
    expect(remote).toContain('203.0.113.7');
    expect(remote).not.toContain('192.168.2.4');
    const local = bodies(f.gen.render(input(f, { request: { source: '192.168.2.50', secure: true, local: true } })));
    expect(local).toContain('192.168.2.4');
    expect(local).not.toContain('203.0.113.7');
  });

  it('writes an IPv6 server address in brackets where a port or URL follows', () => {
    const text = bodies(f.gen.render(input(f, { site: { lanAddress: '2001:db8::4' } })));
    expect(text).toContain('https://[2001:db8::4]:7443/');
    expect(text).not.toMatch(/[^[]2001:db8::4:/);
  });

  it('marks the files with passwords as credentials and only those', () => {
    const r = f.gen.render(input(f, { lines: 2 }));
    for (const file of r.files) expect(file.credentials).toBe(String(file.body).includes('Secret-1001-pw'));
    expect(r.files.some((file) => file.credentials)).toBe(true);
  });

  it('keeps hostile display names inside their value', () => {
    const lines = [{ extension: '1001', authUser: '1001', password: 'p&<"\'>w', displayName: 'A\nx = 1 <b>"&' }];
    const r = f.gen.render({ ...input(f), lines });
    expect(bodies(r)).not.toMatch(/^x = 1/m);
    for (const file of r.files.filter((x) => x.contentType.includes('xml'))) {
      expect(String(file.body)).not.toContain('<b>');
      expect(String(file.body)).toContain('p&amp;&lt;&quot;&apos;&gt;w');
    }
  });
});

describe('yealink-dect common file', () => {
  it('is named after the model and carries the site settings only; an unknown model gets them in the device file', () => {
    const w70 = yealinkDect.render(input(FAMILIES[0]!, { model: 'W70B' }));
    expect(w70.files.map((x) => x.name)).toEqual(['y000000000146.cfg', '805ec0aabbcc.cfg']);
    expect(String(w70.files[0]!.body)).toContain('static.trusted_certificates.url = https://192.168.2.4:7443/ca.pem');
    expect(String(w70.files[1]!.body)).not.toContain('static.auto_provision.server.url');
    const none = yealinkDect.render(input(FAMILIES[0]!, { model: null }));
    expect(none.files.map((x) => x.name)).toEqual(['805ec0aabbcc.cfg']);
    expect(String(none.files[0]!.body)).toContain('static.auto_provision.server.url = https://192.168.2.4:7443/');
  });
});

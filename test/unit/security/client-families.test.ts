import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_FAMILIES } from '../../../src/model/device.ts';
import { createRootCa, generateRsaKeys, issueCertificate } from '../../../src/security/ca.ts';
import {
  CLIENT_FAMILIES, CLIENT_FAMILY_PROFILES, DEVICE_CLIENT_FAMILY, checkIdentityForFamilies, clientFamiliesOfDevices,
  type ClientFamily, type SiteAddresses,
} from '../../../src/security/client-families.ts';
import { proposedSans } from '../../../src/security/identity-store.ts';
import { makeSelfSignedLeaf } from './openssl-pki.ts';

const site: SiteAddresses = { fqdn: 'pbx.example.test', domain: 'example.test', lan: ['192.0.2.10', '198.51.100.10'], public: '203.0.113.10' };
const LAN1 = 'IP:192.0.2.10';
const LAN2 = 'IP:198.51.100.10';
const PUB = 'IP:203.0.113.10';

let dir: string;
/** CA-signed, every name proposedSans gives for a site with E129s. */
let full: string;
/** CA-signed, CN other.example.test, only DNS:pbx.example.test. */
let bare: string;
/** Self-signed leaf carrying every proposed name. */
let selfSigned: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-families-'));
  const ca = await createRootCa();
  const keys = await generateRsaKeys();
  const sans = proposedSans({ ...site, e129: true });
  full = (await issueCertificate(ca, { commonName: site.fqdn, ...sans, days: 30, keys })).certPem;
  bare = (await issueCertificate(ca, { commonName: 'other.example.test', dns: [site.fqdn], days: 30, keys })).certPem;
  const sanText = [...sans.dns.map((d) => `DNS:${d}`), ...sans.ips.map((i) => `IP:${i}`), ...sans.uris.map((u) => `URI:${u}`)].join(',');
  selfSigned = (await makeSelfSignedLeaf(dir, 'self', site.fqdn, sanText)).certPem;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** SPEC §4.3 table: what each row lacks in `bare`, and whether it refuses a self-signed identity. */
const ROWS: Record<ClientFamily, { bareMissing: string[]; refusesSelfSigned: boolean }> = {
  'avaya-11xx-12xx': { bareMissing: [LAN1, LAN2, PUB], refusesSelfSigned: true },
  'avaya-e129': { bareMissing: ['DNS:192.0.2.10', 'DNS:198.51.100.10'], refusesSelfSigned: false },
  'avaya-b179': { bareMissing: [], refusesSelfSigned: false },
  'communicator-ipad': { bareMissing: [], refusesSelfSigned: false },
  'communicator-windows': { bareMissing: [], refusesSelfSigned: false },
  'onex-ios': { bareMissing: [], refusesSelfSigned: false },
  'onex-android': { bareMissing: [LAN1, LAN2, PUB], refusesSelfSigned: false },
  'radvision-xt': { bareMissing: [LAN1, LAN2], refusesSelfSigned: true },
  'radvision-iview': { bareMissing: [], refusesSelfSigned: false },
  gateway: { bareMissing: [], refusesSelfSigned: false },
  'lync-registrar': { bareMissing: ['CN:pbx.example.test'], refusesSelfSigned: false },
};

describe('checkIdentityForFamilies (A-29, A-28)', () => {
  it('the proposed identity for a site with E129s satisfies every row', () => {
    for (const row of checkIdentityForFamilies(full, CLIENT_FAMILIES, site)) {
      expect(row, row.family).toEqual({ family: row.family, missing: [], selfSignedRefused: false, message: null });
    }
  });

  it.each(CLIENT_FAMILIES.map((f) => [f]))('%s: SAN needs as the §4.3 row says', (family) => {
    const [row] = checkIdentityForFamilies(bare, [family], site);
    expect(row!.missing).toEqual(ROWS[family].bareMissing);
    if (row!.missing.length > 0) expect(row!.message).toBe(`${CLIENT_FAMILY_PROFILES[family].label}: the identity lacks ${row!.missing.join(', ')}`);
    else expect(row!.message).toBeNull();
  });

  it.each(CLIENT_FAMILIES.map((f) => [f]))('%s: self-signed identity refused only where the row says so', (family) => {
    const [row] = checkIdentityForFamilies(selfSigned, [family], site);
    expect(row!.selfSignedRefused).toBe(ROWS[family].refusesSelfSigned);
    expect(row!.missing).toEqual([]);
    if (ROWS[family].refusesSelfSigned) expect(row!.message).toMatch(new RegExp(`^${CLIENT_FAMILY_PROFILES[family].label.replace(/[/.]/g, '\\$&')}: they refuse a self-signed identity`));
  });

  it('E129 needs the FQDN only when remote clients use the public address; 11xx then needs no public IP', () => {
    const lanOnly: SiteAddresses = { ...site, public: undefined, lan: ['192.0.2.10'] };
    const rows = checkIdentityForFamilies(bare, ['avaya-e129', 'avaya-11xx-12xx'], { ...lanOnly, fqdn: 'elsewhere.example.test' });
    expect(rows.map((r) => r.missing)).toEqual([['DNS:192.0.2.10'], [LAN1]]);
  });

  it('one row per family, in the order given, duplicates removed', () => {
    const rows = checkIdentityForFamilies(full, ['radvision-xt', 'avaya-b179', 'radvision-xt'], site);
    expect(rows.map((r) => r.family)).toEqual(['radvision-xt', 'avaya-b179']);
  });
});

describe('device families', () => {
  it('maps every device family, and the §4.3 ones to their row', () => {
    expect(Object.keys(DEVICE_CLIENT_FAMILY).sort()).toEqual([...DEVICE_FAMILIES].sort());
    expect(DEVICE_CLIENT_FAMILY['avaya-11xx']).toBe('avaya-11xx-12xx');
    expect(DEVICE_CLIENT_FAMILY['avaya-e129']).toBe('avaya-e129');
    expect(DEVICE_CLIENT_FAMILY['avaya-b179']).toBe('avaya-b179');
  });

  it('clientFamiliesOfDevices: distinct, in table order, families outside the table dropped', () => {
    expect(clientFamiliesOfDevices(['avaya-e129', 'yealink-dect', 'avaya-11xx', 'avaya-e129'])).toEqual(['avaya-11xx-12xx', 'avaya-e129']);
    expect(clientFamiliesOfDevices([])).toEqual([]);
  });
});

describe('proposedSans (§4.3 guideline, Appendix A #25)', () => {
  it('DNS FQDN, IP LAN1, LAN2, public, URI sip:domain', () => {
    expect(proposedSans(site)).toEqual({ dns: ['pbx.example.test'], ips: ['192.0.2.10', '198.51.100.10', '203.0.113.10'], uris: ['sip:example.test'] });
  });

  it('with E129s, the LAN addresses also as DNS entries; an IP "FQDN" becomes an IP entry; no duplicates', () => {
    expect(proposedSans({ fqdn: 'PBX.Example.test', domain: 'example.test', lan: ['192.0.2.10'], public: '192.0.2.10', e129: true }))
      .toEqual({ dns: ['pbx.example.test', '192.0.2.10'], ips: ['192.0.2.10'], uris: ['sip:example.test'] });
    expect(proposedSans({ fqdn: '192.0.2.10', domain: 'example.test', lan: ['192.0.2.10'] }))
      .toEqual({ dns: [], ips: ['192.0.2.10'], uris: ['sip:example.test'] });
  });
});

import { describe, expect, it } from 'vitest';
import { avaya46xx, SETTINGS_46XX } from '../../../src/provisioning/families/avaya-46xx.ts';
import { parseFirmwareVersion } from '../../../src/provisioning/families/avaya-46xx-firmware.ts';
import { generatorFor } from '../../../src/provisioning/families/index.ts';
import { ProvisioningRefusal, type ProvisioningSite, type RenderResult } from '../../../src/provisioning/types.ts';
import { expectGolden } from './golden.ts';
import { TEST_ROOT, testLines, testSite } from './site.ts';

type Options = Record<string, string | number | boolean>;

function renderResult(site: ProvisioningSite, options: Options = {}, local = true): RenderResult {
  return avaya46xx.render({
    site,
    device: { mac: '0004f2460001', family: 'avaya-46xx', model: 'J179', options },
    lines: testLines(1),
    request: { source: local ? '192.168.2.60' : '198.51.100.40', secure: true, local },
  });
}

function settings(site: ProvisioningSite, options: Options = {}): string {
  const file = renderResult(site, options).files.find((f) => f.name === SETTINGS_46XX)!;
  expect(file.credentials).toBe(false);
  return file.body as string;
}

function value(text: string, name: string): string | undefined {
  return new RegExp(`^SET ${name} (.*)$`, 'm').exec(text)?.[1];
}

const media = testSite().media;
const withMedia = (over: Partial<ProvisioningSite['media']>) => testSite({ media: { ...media, ...over } });

describe('Avaya 46xxsettings.txt (C-01..C-03)', () => {
  it('is registered in the family registry', () => {
    expect(generatorFor('avaya-46xx')).toBe(avaya46xx);
  });

  it('gives the AN J100 block of §5.2 verbatim for the AN set-up (golden)', () => {
    const text = settings(testSite());
    expectGolden('avaya-46xx/j100-an.txt', text);
    expect(text).toContain('SET SDPCAPNEG 1\nSET ENFORCE_SIPS_URI 1\nSET MEDIAENCRYPTION 1,9\nSET ENCRYPT_SRTCP 1\n');
  });

  it('names the public address to a phone outside the local networks', () => {
    const text = renderResult(testSite(), {}, false).files[0]!.body as string;
    expect(value(text, 'SIP_CONTROLLER_LIST')).toBe('203.0.113.7:5061;transport=tls');
  });

  it('serves the TRUSTCERTS root file with the root that issued the HTTPS identity (C-03)', () => {
    const files = renderResult(testSite()).files;
    expect(value(files[0]!.body as string, 'TRUSTCERTS')).toBe('WebRootCA.pem');
    const root = files.find((f) => f.name === 'WebRootCA.pem')!;
    expect(root).toMatchObject({ body: TEST_ROOT.pem, credentials: false });
  });

  it('follows the system media security: Disabled, Best Effort, Enforce (golden)', () => {
    const disabled = settings(withMedia({ security: 'disabled' }));
    const bestEffort = settings(withMedia({ security: 'best-effort' }));
    const enforced = settings(withMedia({ security: 'enforced' }));
    expectGolden('avaya-46xx/j100-disabled.txt', disabled);
    expectGolden('avaya-46xx/j100-an.txt', bestEffort);
    expectGolden('avaya-46xx/j100-enforced.txt', enforced);
    expect([value(disabled, 'MEDIAENCRYPTION'), value(bestEffort, 'MEDIAENCRYPTION'), value(enforced, 'MEDIAENCRYPTION')]).toEqual(['9', '1,9', '1,2']);
    // ENCRYPT_SRTCP 1 only when MEDIAENCRYPTION is not 9.
    expect([value(disabled, 'ENCRYPT_SRTCP'), value(bestEffort, 'ENCRYPT_SRTCP'), value(enforced, 'ENCRYPT_SRTCP')]).toEqual(['0', '1', '1']);
  });

  it('keeps the server order of suites and writes ENCRYPT_SRTCP 0 when SRTCP is unencrypted', () => {
    const text = settings(withMedia({ security: 'enforced', suites: ['AES_CM_128_HMAC_SHA1_32', 'AES_CM_128_HMAC_SHA1_80'], srtcp: 'unencrypted' }));
    expect(value(text, 'MEDIAENCRYPTION')).toBe('2,1');
    expect(value(text, 'ENCRYPT_SRTCP')).toBe('0');
  });

  it('writes SDPCAPNEG from the capability-negotiation setting and ENFORCE_SIPS_URI 0 without TLS (golden)', () => {
    const text = settings(testSite({ sipPorts: { udp: 5060, tcp: 5060 }, media: { ...media, capneg: false } }));
    expectGolden('avaya-46xx/j100-no-tls.txt', text);
    expect(value(text, 'SDPCAPNEG')).toBe('0');
    expect(value(text, 'ENFORCE_SIPS_URI')).toBe('0');
    expect(value(text, 'SIP_CONTROLLER_LIST')).toBe('192.168.2.4:5060;transport=tcp');
  });

  it('gives codes 10/11 only to firmware that supports AES-256 (C-01)', () => {
    const site = withMedia({ security: 'enforced', suites: ['AES_256_CM_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_80'] });
    expect(value(settings(site, { firmware: 'j100' }), 'MEDIAENCRYPTION')).toBe('10,1');
    expect(value(settings(site, { firmware: '96x1-sip', version: '7.0.0' }), 'MEDIAENCRYPTION')).toBe('10,1');
    expect(value(settings(site, { firmware: '96x1-sip', version: '6.8.5' }), 'MEDIAENCRYPTION')).toBe('1');
    expect(value(settings(site, { firmware: 'h1xx', version: '1.0.1' }), 'MEDIAENCRYPTION')).toBe('10,1');
    expect(value(settings(site, { firmware: 'h1xx', version: '1.0' }), 'MEDIAENCRYPTION')).toBe('1');
    expect(value(settings(site, { firmware: '96x0-sip' }), 'MEDIAENCRYPTION')).toBe('1');
  });

  it('never writes more than two codes, 96x0 SIP from R2.6.14.5 included', () => {
    const site = withMedia({ suites: ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80'] });
    expect(value(settings(site, { firmware: '96x0-sip', version: 'R2.6.14.5' }), 'MEDIAENCRYPTION')).toBe('1,9');
    expect(value(settings(withMedia({ ...site.media, security: 'enforced' }), { firmware: '96x1-sip' }), 'MEDIAENCRYPTION')).toBe('1,2');
  });

  it('leaves out what a firmware below its floor does not take (C.1 floors)', () => {
    const old96x1 = settings(testSite(), { firmware: '96x1-sip', version: '7.0.1' });
    expectGolden('avaya-46xx/96x1-sip-7.0.1.txt', old96x1);
    expect(value(old96x1, 'ENCRYPT_SRTCP')).toBeUndefined();
    expect(value(old96x1, 'MEDIAENCRYPTION')).toBe('1,9');
    const old96x0 = settings(testSite(), { firmware: '96x0-sip', version: '2.5' });
    expect(value(old96x0, 'SDPCAPNEG')).toBeUndefined();
    expect(value(old96x0, 'ENFORCE_SIPS_URI')).toBeUndefined();
    expect(value(old96x0, 'ENCRYPT_SRTCP')).toBeUndefined();
    expect(value(settings(testSite(), { firmware: 'h1xx' }), 'ENCRYPT_SRTCP')).toBeUndefined();
    expect(value(settings(testSite(), { firmware: '96x1-sip', version: '5.2' }), 'MEDIAENCRYPTION')).toBeUndefined();
    expect(() => settings(withMedia({ security: 'enforced' }), { firmware: '96x1-sip', version: '5.2' })).toThrow(ProvisioningRefusal);
  });

  it('96x1 H.323: only TRUSTCERTS and the root file (C-03, §5.6; golden)', () => {
    const result = renderResult(testSite(), { firmware: '96x1-h323' });
    const text = result.files[0]!.body as string;
    expectGolden('avaya-46xx/96x1-h323.txt', text);
    expect(text.split('\n').filter((l) => l.startsWith('SET '))).toEqual(['SET TRUSTCERTS WebRootCA.pem']);
    expect(result.files.map((f) => f.name)).toEqual([SETTINGS_46XX, 'WebRootCA.pem']);
  });

  it('accepts an explicit MEDIAENCRYPTION that matches the server (C-02)', () => {
    expect(value(settings(testSite(), { mediaEncryption: '2,1' }), 'MEDIAENCRYPTION')).toBe('2,1');
    expect(value(settings(testSite(), { mediaEncryption: '1,9' }), 'MEDIAENCRYPTION')).toBe('1,9');
    // Option values may arrive as numbers (device options are string | number | boolean).
    expect(value(settings(testSite(), { mediaEncryption: 1 }), 'MEDIAENCRYPTION')).toBe('1');
    expect(value(settings(testSite(), { firmware: '96x1-sip', version: 7 }), 'ENCRYPT_SRTCP')).toBeUndefined();
  });

  it.each([
    ['10,9', 'AES_256_CM_HMAC_SHA1_80, which the server'],
    ['3,9', 'unauthenticated or unencrypted'],
    ['1,2,9', 'at most 2'],
    ['1,1', 'repeats'],
    ['1;9', 'comma list'],
    ['12', 'not a MEDIAENCRYPTION code'],
  ])('refuses an explicit MEDIAENCRYPTION %s the server cannot match (C-02)', (list, why) => {
    expect(() => settings(testSite(), { mediaEncryption: list })).toThrow(ProvisioningRefusal);
    expect(() => settings(testSite(), { mediaEncryption: list })).toThrow(why);
  });

  it('refuses 9 when media security is enforced and SRTP codes when it is disabled (C-02)', () => {
    expect(() => settings(withMedia({ security: 'enforced' }), { mediaEncryption: '1,9' })).toThrow('enforces media security');
    expect(() => settings(withMedia({ security: 'disabled' }), { mediaEncryption: '1,9' })).toThrow('disabled');
  });

  it('refuses AES-256 codes for firmware without them, and enforced security with no suite the firmware takes', () => {
    const site = withMedia({ suites: ['AES_256_CM_HMAC_SHA1_80'] });
    expect(() => settings(site, { firmware: '96x0-sip', mediaEncryption: '10,9' })).toThrow('not supported by this firmware');
    expect(value(settings(site, { firmware: '96x0-sip' }), 'MEDIAENCRYPTION')).toBe('9');
    expect(() => settings(withMedia({ security: 'enforced', suites: ['AES_256_CM_HMAC_SHA1_80'] }), { firmware: '96x0-sip' })).toThrow(ProvisioningRefusal);
  });

  it('refuses options it does not know, with the reason', () => {
    expect(() => settings(testSite(), { firmware: '9999' })).toThrow(ProvisioningRefusal);
    expect(() => settings(testSite(), { version: 'latest' })).toThrow('must be a version');
    expect(() => settings(testSite(), { colour: 'red' })).toThrow(ProvisioningRefusal);
  });

  it('reads firmware versions with or without the R', () => {
    expect(parseFirmwareVersion('R2.6.14.5')).toEqual([2, 6, 14, 5]);
    expect(parseFirmwareVersion('7.1')).toEqual([7, 1]);
    expect(parseFirmwareVersion('7.x')).toBeUndefined();
  });
});

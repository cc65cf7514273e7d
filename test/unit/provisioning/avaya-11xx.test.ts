import { describe, expect, it } from 'vitest';
import { avaya11xx, MODEL_FILES_11XX, SEC_POLICY_11XX, SETTINGS_11XX } from '../../../src/provisioning/families/avaya-11xx.ts';
import { generatorFor } from '../../../src/provisioning/families/index.ts';
import type { ProvisioningSite, RemoteWorkerSbc, RenderResult, RequestFacts } from '../../../src/provisioning/types.ts';
import { expectGolden } from './golden.ts';
import { TEST_ROOT, testLines, testSite } from './site.ts';

const LAN: RequestFacts = { source: '192.168.2.61', secure: false, local: true };
/** SPEC §5.9 test vector: REG=203.0.113.10, PROV=10.0.0.5, TLS=5061, TCP unset, UDP=5060. */
const SBC: RemoteWorkerSbc = { reg: '203.0.113.10', prov: '10.0.0.5', tls: 5061, udp: 5060 };
const TEL_ROOT = { ...TEST_ROOT, subject: 'CN=Telephony Root', pem: '-----BEGIN CERTIFICATE-----\nTELEPHONY\n-----END CERTIFICATE-----\n' };

function render(site: ProvisioningSite, request: RequestFacts | undefined = LAN): RenderResult {
  return avaya11xx.render({
    site,
    device: { mac: '0024001140e1', family: 'avaya-11xx', model: '1140e', options: {} },
    lines: testLines(1),
    ...(request ? { request } : {}),
  });
}

function file(result: RenderResult, name: string): string {
  const f = result.files.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no ${name} among ${result.files.map((x) => x.name).join(', ')}`);
  return f.body as string;
}

describe('Avaya 11xx/12xx SIP (C-04, C-05, A-20, A-28, §5.9)', () => {
  it('is registered in the family registry', () => {
    expect(generatorFor('avaya-11xx')).toBe(avaya11xx);
  });

  it('writes the settings, four model files, the policy and one root when both identities share it (golden)', () => {
    const result = render(testSite());
    expect(result.files.map((f) => f.name)).toEqual([SETTINGS_11XX, ...MODEL_FILES_11XX, SEC_POLICY_11XX, 'WebRootCA.pem']);
    expect(result.files.every((f) => !f.credentials)).toBe(true);
    expectGolden('avaya-11xx/11xxsettings.txt', file(result, SETTINGS_11XX));
    expectGolden('avaya-11xx/1140eSIP.cfg', file(result, '1140eSIP.cfg'));
    expectGolden('avaya-11xx/11xxsecpolicy.txt', file(result, SEC_POLICY_11XX));
    expect(file(result, 'WebRootCA.pem')).toBe(TEST_ROOT.pem);
    for (const model of MODEL_FILES_11XX) {
      const cfg = file(result, model);
      expect(cfg).toContain('[SEC_POLICY]\nDOWNLOAD_MODE AUTO\nVERSION 000002\nPROTOCOL HTTP\nFILENAME 11xxsecpolicy.txt\n');
      expect(cfg).toContain('[USER_KEYS]\nDOWNLOAD_MODE AUTO\nVERSION 000002\nPROTOCOL HTTP\nFILENAME WebRootCA.pem\n');
      expect(cfg).not.toContain('TelRootCA.pem');
      expect(cfg).toContain('PROTOCOL HTTPS\nFILENAME 11xxsettings.txt');
    }
  });

  it('adds TelRootCA.pem (VERSION 000003) when the telephony identity has its own root (C-04; golden)', () => {
    const result = render(testSite({ telephonyRootCa: TEL_ROOT }));
    expect(result.files.map((f) => f.name)).toContain('TelRootCA.pem');
    expect(file(result, 'TelRootCA.pem')).toBe(TEL_ROOT.pem);
    const cfg = file(result, '1230SIP.cfg');
    expectGolden('avaya-11xx/1230SIP-telephony-root.cfg', cfg);
    expect(cfg).toContain('[USER_KEYS]\nDOWNLOAD_MODE AUTO\nVERSION 000003\nPROTOCOL HTTP\nFILENAME TelRootCA.pem\n');
  });

  it('keeps every line within the 80 characters the phone reads', () => {
    const result = render(testSite({ telephonyRootCa: TEL_ROOT, remoteWorker: SBC }), { source: '10.0.0.5', secure: true, local: true });
    for (const f of result.files.filter((x) => !x.name.endsWith('.pem'))) {
      for (const line of (f.body as string).split('\n')) expect(line.length, `${f.name}: ${line}`).toBeLessThanOrEqual(80);
    }
  });

  it('writes the same SRTP block for Disabled, Best Effort and Enforce (C-05, A-20 table)', () => {
    const bodies = (['disabled', 'best-effort', 'enforced'] as const).map((security) =>
      file(render(testSite({ media: { ...testSite().media, security, srtcp: 'encrypted', suites: ['AES_CM_128_HMAC_SHA1_80'] } })), SETTINGS_11XX));
    for (const body of bodies) {
      expect(body).toContain('SRTP_ENABLED YES\nSRTP_MODE BE-CAP-NEG\nUSE_UNENCRYPTED_SRTCP YES\nSRTP_CIPHER_1 AES_CM_128_HMAC_SHA1_80\nSRTP_CIPHER_2 AES_CM_128_HMAC_SHA1_32\n');
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it('names S1 and S2 with every SIP port; without TLS the settings come over HTTP (A-14; golden)', () => {
    const site = testSite({ sipPorts: { udp: 5060, tcp: 5062 }, provisioningPorts: { https: 7443, http: 8080 } });
    const result = render(site);
    const settings = file(result, SETTINGS_11XX);
    expectGolden('avaya-11xx/11xxsettings-no-tls.txt', settings);
    expect(settings).toContain('SERVER_IP_1 192.168.2.4\nSERVER_UDP_PORT_1 5060\nSERVER_TCP_PORT_1 5062\n');
    expect(settings).not.toContain('SERVER_TLS_PORT');
    expect(file(result, '1120eSIP.cfg')).toContain('PROTOCOL HTTP\nFILENAME 11xxsettings.txt');
  });

  it('warns that 11xx/12xx refuse a self-signed identity (A-28)', () => {
    const withHttp = { provisioningPorts: { https: 7443, http: 8080 } };
    expect(render(testSite(withHttp)).warnings).toEqual([]);
    const warnings = render(testSite({ ...withHttp, identitySelfSigned: true })).warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/self-signed/);
  });

  it('warns when the HTTP bootstrap listener the first fetch needs is off (§5.3, A-14)', () => {
    const warnings = render(testSite()).warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/over HTTP before/);
  });

  it('lists the policy, model files and roots, not the settings, as HTTP bootstrap files (A-14, §5.3)', () => {
    expect([...avaya11xx.bootstrapFiles].sort()).toEqual([...MODEL_FILES_11XX, SEC_POLICY_11XX, 'TelRootCA.pem', 'WebRootCA.pem'].sort());
    expect(avaya11xx.bootstrapFiles).not.toContain(SETTINGS_11XX);
  });

  describe('§5.9 remote workers behind an SBC', () => {
    it('a request from PROV 10.0.0.5 gets REG as S1/S2 with every SBC port (rule 5; golden)', () => {
      const settings = file(render(testSite({ remoteWorker: SBC }), { source: '10.0.0.5', secure: true, local: true }), SETTINGS_11XX);
      expectGolden('avaya-11xx/11xxsettings-remote-worker.txt', settings);
      for (const n of [1, 2]) {
        expect(settings).toContain(`SERVER_IP_${n} 203.0.113.10\nSERVER_UDP_PORT_${n} 5060\nSERVER_TLS_PORT_${n} 5061\n`);
      }
      expect(settings).not.toContain('SERVER_TCP_PORT');
      expect(settings).not.toContain('192.168.2.4');
    });

    it('the same request from 10.0.0.99 gets the normal LAN file', () => {
      const fromElsewhere = file(render(testSite({ remoteWorker: SBC }), { source: '10.0.0.99', secure: true, local: true }), SETTINGS_11XX);
      expect(fromElsewhere).toBe(file(render(testSite()), SETTINGS_11XX));
    });

    it('REG set but PROV unset: the RW_* values are ignored (rule 2)', () => {
      const site = testSite({ remoteWorker: { ...SBC, prov: '' } });
      expect(file(render(site, { source: '10.0.0.5', secure: true, local: true }), SETTINGS_11XX)).toBe(file(render(testSite()), SETTINGS_11XX));
    });

    it('no SBC port set: ignored (rule 3); an IPv4-mapped source still counts as PROV', () => {
      const noPorts = testSite({ remoteWorker: { reg: SBC.reg, prov: SBC.prov } });
      expect(file(render(noPorts, { source: '10.0.0.5', secure: true, local: true }), SETTINGS_11XX)).not.toContain('203.0.113.10');
      expect(file(render(testSite({ remoteWorker: SBC }), { source: '::ffff:10.0.0.5', secure: true, local: true }), SETTINGS_11XX)).toContain('SERVER_IP_1 203.0.113.10');
    });
  });
});

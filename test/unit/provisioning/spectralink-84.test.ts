// Spectralink 84-Series generator: golden files per layout and sign-in mode
// and per scenario, and the SPEC rules C-08..C-14, C-17 checked one by one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatorFor } from '../../../src/provisioning/families/index.ts';
import { LYNC_PRODUCT_IDS } from '../../../src/provisioning/families/spectralink-checks.ts';
import { LYNC_BASE_PROFILE } from '../../../src/provisioning/families/spectralink-lync-profile.ts';
import { ProvisioningRefusal, type ProvisionedFile, type RenderInput, type RenderResult } from '../../../src/provisioning/types.ts';
import { expectGolden } from './golden.ts';
import { testLines, testSite } from './site.ts';

const MAC = '0004f2aabbcc';
const gen = generatorFor('spectralink-84')!;
const LYNC = { telephony: 'lync', productId: '2200-37290-001' } as const;
const LAYOUTS = ['flat', 'group', 'user-profiles'] as const;
const SIGN_INS = ['credentials-or-pin', 'credentials', 'pin', 'auto'] as const;

function input(options: RenderInput['device']['options'], over: Partial<RenderInput> = {}): RenderInput {
  return { site: testSite(), device: { mac: MAC, family: 'spectralink-84', model: '8441', options }, lines: testLines(1), ...over };
}

function render(options: RenderInput['device']['options'], over: Partial<RenderInput> = {}): RenderResult {
  return gen.render(input(options, over));
}

function file(r: RenderResult, name: string): ProvisionedFile {
  const f = r.files.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no ${name} in ${r.files.map((x) => x.name).join(', ')}`);
  return f;
}

const text = (f: ProvisionedFile): string => f.body.toString();

/** Every file of a render in order, for one golden file a reviewer reads top to bottom. */
function bundle(r: RenderResult): string {
  const parts = r.files.map((f) => `==> ${f.name} (${f.contentType}, credentials: ${f.credentials})\n${text(f)}`);
  if (r.warnings.length > 0) parts.push(`==> warnings\n${r.warnings.join('\n')}\n`);
  return parts.join('\n');
}

/** XML 1.0 Char production: tab, LF, CR, U+0020 and up, without U+FFFE/U+FFFF or lone surrogates. */
function xmlCanCarry(s: string): boolean {
  // Iterating by code point leaves a lone surrogate as a code point of its own.
  return [...s].every((c) => {
    const n = c.codePointAt(0)!;
    return (n >= 0x20 || n === 9 || n === 10 || n === 13) && (n < 0xd800 || n > 0xdfff) && n !== 0xfffe && n !== 0xffff;
  });
}
const ENTITIES: Record<string, string> = { quot: '"', lt: '<', gt: '>', amp: '&' };

/** The value of attribute `name` in an 84-Series file, XML references decoded. */
function attr(body: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name.replace(/\./g, '\\.')}="([^"]*)"`).exec(body);
  return m?.[1]?.replace(/&(#\d+|quot|lt|gt|amp);/g, (_, e: string) => e.startsWith('#') ? String.fromCharCode(Number(e.slice(1))) : ENTITIES[e]!);
}

function configFiles(r: RenderResult): string[] {
  return attr(text(r.files[0]!), 'CONFIG_FILES')!.split(', ');
}

describe('spectralink-84 golden files', () => {
  for (const layout of LAYOUTS) {
    for (const signIn of SIGN_INS) {
      it(`Lync registrar, layout ${layout}, sign-in ${signIn}`, () => {
        expectGolden(`spectralink-84/lync-${layout}-${signIn}.txt`, bundle(render({ ...LYNC, layout, signIn })));
      });
    }
  }

  it('scenario 1 with TLS and SRTP best effort (flat)', () => {
    expectGolden('spectralink-84/switchboard-tls-srtp.txt', bundle(render({})));
  });

  it('scenario 1 without TLS or SRTP (flat, UDP)', () => {
    const site = testSite({ sipPorts: { udp: 5060 }, media: { security: 'disabled', srtcp: 'encrypted', suites: [], capneg: false } });
    expectGolden('spectralink-84/switchboard-udp-no-srtp.txt', bundle(render({}, { site })));
  });

  it('scenario 1 with SRTP enforced, 80 only, unencrypted SRTCP, group layout', () => {
    const site = testSite({ media: { security: 'enforced', srtcp: 'unencrypted', suites: ['AES_CM_128_HMAC_SHA1_80'], capneg: true } });
    expectGolden('spectralink-84/switchboard-group-enforced.txt', bundle(render({ layout: 'group', identity: 'ward3' }, { site })));
  });

  it('scenario 1 in the User Profiles layout', () => {
    expectGolden('spectralink-84/switchboard-user-profiles.txt', bundle(render({ layout: 'user-profiles' })));
  });

  it('scenario 2: Switchboard for telephony, the Lync-like registrar for IM and presence on line 2', () => {
    expectGolden('spectralink-84/switchboard-lync-im.txt', bundle(render({ lyncIm: true, lyncServer: 'lync.example.net', lyncDomain: 'example.net', builtBeforeJune2013: true })));
  });
});

describe('spectralink-84 rules', () => {
  it('C-08: flat and group site.cfg set device.set, the base profile, and only the dial-plan flags that differ from it (C-17)', () => {
    const plain = text(file(render({ ...LYNC }), 'site.cfg'));
    expect(attr(plain, 'device.set')).toBe('1');
    expect(attr(plain, 'device.baseProfile.set')).toBe('1');
    expect(attr(plain, 'device.baseProfile')).toBe('Lync');
    expect(attr(plain, 'reg.1.applyServerDigitMapLocally')).toBeUndefined();
    const off = text(file(render({ ...LYNC, layout: 'group', digitMapLocally: false, dialPlanToForward: false }), 'site.cfg'));
    expect(attr(off, 'reg.1.applyServerDigitMapLocally')).toBe('0');
    expect(attr(off, 'dialplan.1.applyToForward')).toBe('0');
    expect(attr(off, 'dialplan.applyToDirectoryDial')).toBeUndefined();
    // The override comes after the base profile, so it wins (C-08).
    expect(off.indexOf('reg.1.applyServerDigitMapLocally')).toBeGreaterThan(off.indexOf('device.baseProfile='));
  });

  it('C-09, C-11: without auto sign-in there is no per-phone file and no password anywhere', () => {
    for (const layout of ['flat', 'group'] as const) {
      const r = render({ ...LYNC, layout, signIn: 'pin' });
      expect(r.files.map((f) => f.name)).toEqual([`${MAC}.cfg`, 'site.cfg']);
      expect(configFiles(r)).toEqual(['site.cfg']);
      const site = text(file(r, 'site.cfg'));
      expect(attr(site, 'reg.1.auth.useLoginCredentials')).toBe('0');
      expect(attr(site, 'reg.1.auth.usePinCredentials')).toBe('1');
    }
  });

  it('C-09, C-10: auto sign-in puts both use*Credentials=0 and the four reg.1 values in the per-phone or identity file, listed first', () => {
    const flat = render({ ...LYNC, signIn: 'auto' });
    expect(configFiles(flat)).toEqual([`${MAC}-ext.cfg`, 'site.cfg']);
    const ext = text(file(flat, `${MAC}-ext.cfg`));
    expect(['useLoginCredentials', 'usePinCredentials'].map((k) => attr(ext, `reg.1.auth.${k}`))).toEqual(['0', '0']);
    expect(attr(ext, 'reg.1.auth.domain')).toBe('example.com');
    expect(attr(ext, 'reg.1.address')).toBe('1001@example.com');
    expect(attr(ext, 'reg.1.auth.userId')).toBe('1001');
    expect(attr(ext, 'reg.1.auth.password')).toBe('Secret-1001-pw');
    // The sign-in section leaves site.cfg.
    expect(attr(text(file(flat, 'site.cfg')), 'reg.1.auth.useLoginCredentials')).toBeUndefined();

    const group = render({ ...LYNC, layout: 'group', identity: 'nurses-ward3', signIn: 'auto' });
    expect(configFiles(group)).toEqual(['nurses-ward3.cfg', 'site.cfg']);
    expect(attr(text(file(group, 'nurses-ward3.cfg')), 'reg.1.auth.password')).toBe('Secret-1001-pw');
  });

  it('C-09: auto sign-in is refused when a reg.1 value would be empty', () => {
    const lines = [{ ...testLines(1)[0]!, password: '' }];
    expect(() => render({ ...LYNC, signIn: 'auto' }, { lines })).toThrow(/reg\.1\.auth\.password/);
  });

  it('§4.7: exactly the files that carry a SIP password are marked credentials, in every layout, sign-in mode and scenario', () => {
    const all = [
      ...LAYOUTS.flatMap((layout) => SIGN_INS.map((signIn) => ({ ...LYNC, layout, signIn }))),
      ...LAYOUTS.map((layout) => ({ layout })),
      ...LAYOUTS.map((layout) => ({ layout, lyncIm: true, productId: '2200-36149-001' })),
    ];
    for (const options of all) {
      const r = render(options, { device: { mac: MAC, family: 'spectralink-84', model: null, options } });
      for (const f of r.files) expect({ options, name: f.name, credentials: f.credentials }).toEqual({ options, name: f.name, credentials: text(f).includes('Secret-1001-pw') });
    }
  });

  it('C-10: User Profiles writes the base profile one by one, S values in site.cfg and L values in login.cfg, login.cfg not in CONFIG_FILES', () => {
    const r = render({ ...LYNC, layout: 'user-profiles', digitMapLocally: false });
    expect(configFiles(r)).toEqual(['site.cfg']);
    const site = text(file(r, 'site.cfg'));
    const login = text(file(r, 'login.cfg'));
    expect(attr(site, 'device.baseProfile')).toBeUndefined();
    for (const p of LYNC_BASE_PROFILE) {
      const inSite = attr(site, p.name);
      const inLogin = attr(login, p.name);
      if (p.placement === 'S') expect({ p: p.name, inSite, inLogin }).toEqual({ p: p.name, inSite: p.value, inLogin: undefined });
      if (p.placement === 'L') {
        const want = p.name === 'reg.1.applyServerDigitMapLocally' ? '0' : p.value;
        expect({ p: p.name, inSite, inLogin }).toEqual({ p: p.name, inSite: undefined, inLogin: want });
      }
      if (p.placement === 'sign-in') expect({ p: p.name, inSite, inLogin }).toEqual({ p: p.name, inSite: undefined, inLogin: '1' });
      if (p.placement === null) expect({ p: p.name, inSite, inLogin }).toEqual({ p: p.name, inSite: undefined, inLogin: undefined });
    }
    const auto = render({ ...LYNC, layout: 'user-profiles', signIn: 'auto' });
    expect(attr(text(file(auto, 'site.cfg')), 'softkey.feature.simplifiedSignIn')).toBe('0');
    expect(attr(text(file(auto, 'login.cfg')), 'reg.1.auth.password')).toBe('Secret-1001-pw');
    expect(file(auto, 'login.cfg').credentials).toBe(true);
  });

  it('C-12: QoS DSCP values come from the site', () => {
    for (const options of [{}, LYNC, { ...LYNC, layout: 'user-profiles' }]) {
      const site = text(file(render(options, { site: testSite({ qos: { rtpDscp: 34, controlDscp: 24 } }) }), 'site.cfg'));
      expect([attr(site, 'qos.ip.rtp.dscp'), attr(site, 'qos.ip.callControl.dscp')]).toEqual(['34', '24']);
    }
  });

  it('C-13: a handset whose product ID is not Lync-enabled is refused, naming the product ID', () => {
    const refused = (options: RenderInput['device']['options'], model: string | null = '8441'): unknown => {
      try {
        gen.render(input(options, { device: { mac: MAC, family: 'spectralink-84', model, options } }));
        return 'rendered';
      } catch (e) {
        return e;
      }
    };
    const e = refused({ telephony: 'lync', productId: '2200-37100-001' });
    expect(e).toBeInstanceOf(ProvisioningRefusal);
    expect((e as Error).message).toContain('2200-37100-001');
    expect(refused({ lyncIm: true, productId: '2200-37100-001' })).toBeInstanceOf(ProvisioningRefusal);
    expect((refused({ telephony: 'lync' }) as Error).message).toMatch(/productId.*builtBeforeJune2013/);
    expect((refused({ telephony: 'lync', productId: '2200-37152-001' }) as Error).message).toMatch(/8450.*8441/);
    // Accepted: every §5.7.1 ID for its model, 2200-37149-001 (Appendix A #28), units built before June 2013.
    for (const [model, ids] of Object.entries(LYNC_PRODUCT_IDS)) {
      for (const productId of ids) expect(refused({ telephony: 'lync', productId }, model)).toBe('rendered');
    }
    expect(refused({ telephony: 'lync', productId: '2200-37149-001' })).toBe('rendered');
    expect(refused({ telephony: 'lync', builtBeforeJune2013: true })).toBe('rendered');
    // Scenario 1 carries no Lync parameters: no product ID needed.
    expect(refused({})).toBe('rendered');
  });

  it('C-14: Lync and Switchboard both as telephony server (scenario 4) is refused', () => {
    expect(() => render({ telephony: 'switchboard-and-lync', builtBeforeJune2013: true })).toThrow(ProvisioningRefusal);
    expect(() => render({ telephony: 'switchboard-and-lync', builtBeforeJune2013: true })).toThrow(/C-14/);
  });

  it('refuses what the handset cannot do: a Lync registrar without TLS, AES-256 only, two lines, bad options', () => {
    expect(() => render(LYNC, { site: testSite({ sipPorts: { udp: 5060 } }) })).toThrow(/TLS/);
    const aes256 = testSite({ media: { security: 'enforced', srtcp: 'encrypted', suites: ['AES_256_CM_HMAC_SHA1_80'], capneg: true } });
    expect(() => render({}, { site: aes256 })).toThrow(/AES_CM_128/);
    expect(() => render({}, { lines: testLines(2) })).toThrow(ProvisioningRefusal);
    expect(() => render({ layout: 'tree' })).toThrow(ProvisioningRefusal);
    expect(() => render({ layout: 'group', identity: 'site' })).toThrow(ProvisioningRefusal);
    expect(() => render({ telephny: 'lync' })).toThrow(ProvisioningRefusal);
  });

  it('scenario 1: registers line 1 to Switchboard over TLS, trusting the site root, with the public address for a remote phone (A-15)', () => {
    const r = render({}, { request: { source: '198.51.100.9', secure: true, local: false } });
    const site = text(file(r, 'site.cfg'));
    expect([attr(site, 'reg.1.server.1.address'), attr(site, 'reg.1.server.1.port'), attr(site, 'reg.1.server.1.transport')]).toEqual(['203.0.113.7', '5061', 'TLS']);
    expect(attr(site, 'sec.TLS.customCaCert.1')).toBe(testSite().rootCa.pem.trim());
    expect(site).not.toContain('device.baseProfile');
    expect(attr(site, 'reg.1.srtp.offer')).toBe('1');
    const ext = text(file(r, `${MAC}-ext.cfg`));
    expect([attr(ext, 'reg.1.address'), attr(ext, 'reg.1.auth.userId'), attr(ext, 'reg.1.auth.password')]).toEqual(['1001@example.com', '1001', 'Secret-1001-pw']);
    // reg.x.auth.domain is the Lync authorisation domain; a standard registrar names its realm in the challenge.
    expect(attr(ext, 'reg.1.auth.domain')).toBeUndefined();
    expect(r.warnings).toEqual([]);
    const clear = render({}, { site: testSite({ sipPorts: { udp: 5060 } }) });
    expect(attr(text(file(clear, 'site.cfg')), 'reg.1.server.1.transport')).toBe('UDPOnly');
    expect(clear.warnings.join('\n')).toMatch(/SRTP without SIP over TLS/);
    const local = text(file(render({}, { request: { source: '192.168.2.50', secure: true, local: true } }), 'site.cfg'));
    expect(attr(local, 'reg.1.server.1.address')).toBe('192.168.2.4');
  });

  it('group identity: a name that is not a plain file name, or is one of the generator\'s own files, is refused', () => {
    for (const identity of ['site', 'Login', '0004f2aabbcc', '../x', 'a b']) {
      expect(() => render({ layout: 'group', identity })).toThrow(ProvisioningRefusal);
    }
    const lines = [{ ...testLines(1)[0]!, extension: '*55' }];
    expect(() => render({ layout: 'group' }, { lines })).toThrow(/set the option identity/);
    expect(configFiles(render({ layout: 'group', identity: 'desk-55' }, { lines }))).toEqual(['desk-55.cfg', 'site.cfg']);
  });

  it('options given as text (forms, CLI) mean the same as typed ones', () => {
    const typed = render({ ...LYNC, lyncIm: false, digitMapLocally: false, lyncPort: 5067 });
    const texts = render({ ...LYNC, lyncIm: 'false', digitMapLocally: 'false', lyncPort: '5067' });
    expect(texts).toEqual(typed);
    expect(() => render({ ...LYNC, lyncPort: '70000' })).toThrow(ProvisioningRefusal);
    expect(() => render({ ...LYNC, digitMapLocally: 'no' })).toThrow(ProvisioningRefusal);
  });

  it('any display name and password survive the XML: the attribute decodes to the original, nothing breaks out', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (displayName, secret) => {
      const password = `Secret:${secret}`;
      const lines = [{ ...testLines(1)[0]!, displayName, password }];
      for (const options of [{}, { ...LYNC, signIn: 'auto' }]) {
        // The Lync files carry no display name (the registrar sends it in-band).
        const carriable = xmlCanCarry('telephony' in options ? password : displayName + password);
        let r: RenderResult;
        try {
          r = render(options, { lines });
        } catch (e) {
          // Refused only for what XML cannot carry, and the message never shows the secret.
          expect(e).toBeInstanceOf(ProvisioningRefusal);
          expect(carriable).toBe(false);
          expect((e as Error).message).not.toContain(password);
          continue;
        }
        expect(carriable).toBe(true);
        const ext = text(file(r, `${MAC}-ext.cfg`));
        expect(attr(ext, 'reg.1.auth.password')).toBe(password);
        if (!('telephony' in options)) expect(attr(ext, 'reg.1.displayName')).toBe(displayName);
        expect(ext.split('\n').filter((l) => l.startsWith('    ')).every((l) => /^    [A-Za-z0-9_.]+="[^"<\n]*"$/.test(l))).toBe(true);
      }
    }), { numRuns: 200 });
  });

  it('the shared master file is 000000000000.cfg with the same list', () => {
    const r = render({ masterFile: 'shared' });
    expect(r.files[0]!.name).toBe('000000000000.cfg');
    expect(configFiles(r)).toEqual([`${MAC}-ext.cfg`, 'site.cfg']);
  });
});

describe('spectralink-84 Lync base profile table (SPEC §5.7.3)', () => {
  // The 38 rows with their defaults, in the spellings of Appendix A #29..#34.
  const SPEC_ROWS: Record<string, string> = {
    'call.enableOnNotRegistered': '0', 'callLists.logConsultationCalls': '1', 'dialplan.applyToDirectoryDial': '1',
    'dialplan.1.applyToForward': '1', 'feature.messaging.enabled': '1', 'feature.presence.enabled': '1',
    'reg.1.applyServerDigitMapLocally': '1', 'reg.1.auth.useLoginCredentials': '1', 'reg.1.auth.usePinCredentials': '1',
    'reg.1.serverFeatureControl.cf': '1', 'reg.1.serverFeatureControl.localProcessing.cf': '0',
    'reg.1.serverFeatureControl.signalingMethod': 'serviceMsForwardContact', 'reg.1.server.1.registerRetry.baseTimeOut': '10',
    'reg.1.server.1.registerRetry.maxTimeout': '180', 'reg.1.server.1.specialInterop': 'lync2013', 'reg.1.server.1.transport': 'TLS',
    'roaming_buddies.reg': '1', 'sec.srtp.holdWithNewKey': '0', 'sec.srtp.key.lifetime': String(2 ** 31), 'sec.srtp.mki.enabled': '1',
    'sec.srtp.mki.length': '1', 'sec.srtp.mki.startSessionAtOne': '1', 'sec.srtp.resumeWithNewKey': '0',
    'sec.TLS.profileSelection.SIP': 'ApplicationProfile1', 'softkey.feature.simplifiedSignIn': '1', 'tcpIpApp.ice.mode': 'MSOCS',
    'tcpIpApp.keepalive.tcp.sip.tls.enable': '1', 'voice.audioProfile.G7221.24kbps.payloadType': '112',
    'voice.codecPref.G7221.24kbps': '5', 'voice.codecPref.G7221.32kbps': '0', 'voIpProt.SIP.IM.autoAnswerDelay': '40',
    'voIpProt.SIP.allowTransferOnProceeding': '0', 'voIpProt.SIP.serverFeatureControl.cf': '1', 'voIpProt.SIP.serverFeatureControl.dnd': '1',
    'voIpProt.SIP.serverFeatureControl.localProcessing.cf': '0', 'voIpProt.SIP.serverFeatureControl.localProcessing.dnd': '0',
    'voIpProt.SIP.header.diversion.enable': '1', 'voIpProt.SIP.mtls.enable': '0',
  };

  it('has all 38 rows with their defaults, once each', () => {
    expect(Object.keys(SPEC_ROWS)).toHaveLength(38);
    expect(LYNC_BASE_PROFILE).toHaveLength(38);
    expect(Object.fromEntries(LYNC_BASE_PROFILE.map((p) => [p.name, p.value]))).toEqual(SPEC_ROWS);
  });

  it('uses the Appendix A spellings, never the misprints', () => {
    const names = LYNC_BASE_PROFILE.map((p) => p.name).join(' ');
    expect(names).not.toMatch(/volpProt|tcplpApp|heartbeat|baseTimeout/);
  });
});

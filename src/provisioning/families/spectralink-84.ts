// Spectralink 84-Series Wi-Fi handsets (SPEC C-08..C-14, C-17, §5.7, §3.6,
// §4.7; Appendix A #24). Scenario 1: Switchboard is the SIP call server
// (standard line registration). Scenario 2: Switchboard for telephony and a
// Lync-like registrar for IM and presence on line 2. Scenario 3: a Lync-like
// registrar (Switchboard's own by default) with the Lync base profile and
// sign-in. Scenario 4 is refused (C-14). Files: the master file, site.cfg,
// and the per-phone file, the group's <identity>.cfg or login.cfg according
// to the layout (C-10, C-11).
import { z } from 'zod';
import type { FamilyGenerator, LineAccount, ProvisionedFile, ProvisioningSite, RenderInput, RenderResult } from '../types.ts';
import { ProvisioningRefusal } from '../types.ts';
import { checkLyncCapable, checkTelephonyMix } from './spectralink-checks.ts';
import { baseProfileValue, LYNC_BASE_PROFILE } from './spectralink-lync-profile.ts';
import { configFile, masterFile, type ParamGroup } from './spectralink-xml.ts';

const RESERVED_NAMES = new Set(['site', 'login', 'feature', 'group', '000000000000']);

/** Device options arrive as typed values from the API and as text from forms and the CLI. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const port = z.union([z.number(), z.string().regex(/^\d{1,5}$/).transform(Number)]).pipe(z.number().int().min(1).max(65535));

/** The group layout's <identity>.cfg: a plain file name that is none of the generator's own. */
const identityName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be letters, digits, _ or -')
  .refine((s) => !RESERVED_NAMES.has(s.toLowerCase()) && !/^[0-9a-f]{12}$/i.test(s), 'names a file the generator writes itself (site, login, a MAC...)');

const options = z.object({
  /** Which server carries telephony; 'switchboard-and-lync' is scenario 4, refused (C-14). */
  telephony: z.enum(['switchboard', 'lync', 'switchboard-and-lync']).default('switchboard'),
  /** Scenario 2: with Switchboard for telephony, line 2 signs in to the Lync-like registrar for IM and presence. */
  lyncIm: flag.default(false),
  /** Host of the Lync-like registrar; absent = this server (its TLS listener). */
  lyncServer: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or address').optional(),
  lyncPort: port.optional(),
  /** The SIP domain of the Lync-like registrar (sign-in addresses, reg.x.auth.domain); absent = this site's domain. */
  lyncDomain: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a domain name').optional(),
  layout: z.enum(['flat', 'group', 'user-profiles']).default('flat'),
  /** Group layout: the <identity>.cfg name; default the line-1 extension. */
  identity: identityName.optional(),
  /** C-09, with a Lync registrar: the sign-in menu items, or auto sign-in with the line's credentials. */
  signIn: z.enum(['credentials-or-pin', 'credentials', 'pin', 'auto']).default('credentials-or-pin'),
  /** The master file's name: <MAC>.cfg, or 000000000000.cfg (still rendered per authenticated device). */
  masterFile: z.enum(['mac', 'shared']).default('mac'),
  /** C-13: the product ID on the handset label, e.g. 2200-37290-001. */
  productId: z.string().regex(/^\d{4}-\d{5}-\d{3}$/, 'must look like 2200-37290-001').optional(),
  /** C-13: every unit built before June 2013 is Lync-enabled. */
  builtBeforeJune2013: flag.default(false),
  /** C-17 (base-profile defaults 1): normalise on the handset, and for directory dial and forwarding. */
  digitMapLocally: flag.default(true),
  dialPlanToDirectory: flag.default(true),
  dialPlanToForward: flag.default(true),
}).strict();
type Options = z.output<typeof options>;

const CONTENT_TYPE = 'application/xml';
const TITLE = 'Spectralink 84-Series';

/** The SIP server a line registers to. */
interface Server { address: string; port: number; transport: 'TLS' | 'TCPOnly' | 'UDPOnly' }

function parseOptions(raw: RenderInput['device']['options']): Options {
  const r = options.safeParse(raw);
  if (!r.success) throw new ProvisioningRefusal(`spectralink-84 options: ${z.prettifyError(r.error)}`);
  return r.data;
}

/** the LAN address for a request from the LAN, the public one for a remote phone. */
function pinnedAddress(input: RenderInput): string {
  const remote = input.request !== undefined && !input.request.local;
  return remote && input.site.publicAddress !== undefined ? input.site.publicAddress : input.site.lanAddress;
}

/** Switchboard as the phone's call server: TLS when the site listens on it. */
function switchboardServer(input: RenderInput): Server {
  const { tls, tcp, udp } = input.site.sipPorts;
  const address = pinnedAddress(input);
  if (tls !== undefined) return { address, port: tls, transport: 'TLS' };
  if (udp !== undefined) return { address, port: udp, transport: 'UDPOnly' };
  if (tcp !== undefined) return { address, port: tcp, transport: 'TCPOnly' };
  throw new ProvisioningRefusal('no SIP listener is on: turn on TLS (recommended), TCP or UDP');
}

/** The Lync-like registrar: always TLS (base profile reg.1.server.1.transport). */
function lyncServer(input: RenderInput, o: Options): Server {
  if (o.lyncServer !== undefined) return { address: o.lyncServer, port: o.lyncPort ?? 5061, transport: 'TLS' };
  const tls = input.site.sipPorts.tls;
  if (tls === undefined) throw new ProvisioningRefusal('a Lync-like registrar needs SIP over TLS: turn on the TLS listener, or set lyncServer');
  return { address: pinnedAddress(input), port: o.lyncPort ?? tls, transport: 'TLS' };
}

function serverParams(reg: number, s: Server): Array<[string, string]> {
  return [
    [`reg.${reg}.server.1.address`, s.address],
    [`reg.${reg}.server.1.port`, String(s.port)],
    [`reg.${reg}.server.1.transport`, s.transport],
  ];
}

/** C-12, §3.6: DSCP for voice and signalling (a change reboots the handset). */
function qosGroup(site: ProvisioningSite): ParamGroup {
  return {
    element: 'QoS',
    comment: 'SPEC C-12: these two override the finer qos.ip.* settings; changing them reboots the handset',
    params: [['qos.ip.rtp.dscp', String(site.qos.rtpDscp)], ['qos.ip.callControl.dscp', String(site.qos.controlDscp)]],
  };
}

/** The root that issued the SIP identity, for the handset's TLS application profile 1. */
function trustGroup(site: ProvisioningSite, withProfile: boolean): ParamGroup {
  const root = site.telephonyRootCa ?? site.rootCa;
  const params: Array<[string, string]> = [['sec.TLS.customCaCert.1', root.pem.trim()]];
  if (withProfile) params.push(['sec.TLS.profileSelection.SIP', baseProfileValue('sec.TLS.profileSelection.SIP')]);
  return { element: 'TrustedRoot', comment: `root CA: ${root.subject}`, params };
}

/** Line 1 SRTP from the system media security: the handset offers AES_CM_128 suites only. */
function srtpGroup(site: ProvisioningSite): ParamGroup {
  const m = site.media;
  if (m.security === 'disabled') {
    return { element: 'Srtp', comment: 'system media security disabled', params: [['reg.1.srtp.enable', '0'], ['reg.1.srtp.offer', '0'], ['reg.1.srtp.require', '0']] };
  }
  const has80 = m.suites.includes('AES_CM_128_HMAC_SHA1_80');
  const has32 = m.suites.includes('AES_CM_128_HMAC_SHA1_32');
  if (!has80 && !has32) {
    throw new ProvisioningRefusal(`the 84-Series offers AES_CM_128_HMAC_SHA1_80 or _32 only, and the media settings enable ${m.suites.join(', ')}: enable one of them (SPEC C-02)`);
  }
  return {
    element: 'Srtp',
    comment: `system media security ${m.security}, suites ${m.suites.join(', ')}, SRTCP ${m.srtcp}`,
    params: [
      ['reg.1.srtp.enable', '1'],
      ['reg.1.srtp.offer', '1'],
      ['reg.1.srtp.require', m.security === 'enforced' ? '1' : '0'],
      ['sec.srtp.offer.HMAC_SHA1_32', has32 ? '1' : '0'],
      ['sec.srtp.sessionParams.noEncryptRTCP.offer', m.srtcp === 'unencrypted' ? '1' : '0'],
    ],
  };
}

function account(line: LineAccount, domain: string): Array<[string, string]> {
  return [['address', `${line.extension}@${domain}`], ['auth.userId', line.authUser], ['auth.password', line.password]];
}

/** A line's registration identity and secret; a Lync line also names its authorisation domain. */
function lineParams(reg: number, line: LineAccount, domain: string, lync: boolean): Array<[string, string]> {
  const params: Array<[string, string]> = [
    [`reg.${reg}.displayName`, line.displayName],
    ...account(line, domain).map(([k, v]): [string, string] => [`reg.${reg}.${k}`, v]),
  ];
  if (lync) params.push([`reg.${reg}.auth.domain`, domain]);
  return params;
}

/** C-09: the sign-in menu items, or auto sign-in with all four reg.1 values. */
function signInGroup(o: Options, line: LineAccount, domain: string): ParamGroup {
  if (o.signIn !== 'auto') {
    return {
      element: 'LyncSignIn',
      params: [
        ['reg.1.auth.useLoginCredentials', o.signIn === 'pin' ? '0' : '1'],
        ['reg.1.auth.usePinCredentials', o.signIn === 'credentials' ? '0' : '1'],
      ],
    };
  }
  const values = account(line, domain);
  const missing = values.filter(([, v]) => v === '').map(([k]) => `reg.1.${k}`);
  if (missing.length > 0) throw new ProvisioningRefusal(`auto sign-in needs ${missing.join(', ')} (SPEC C-09): complete the SIP account of extension ${line.extension}`);
  return {
    element: 'LyncAutoSignIn',
    comment: 'SPEC C-09, §4.7: auto sign-in; whoever holds the handset is signed in, and sign-out is not offered',
    params: [
      ['reg.1.auth.useLoginCredentials', '0'],
      ['reg.1.auth.usePinCredentials', '0'],
      ['reg.1.auth.domain', domain],
      ...values.map(([k, v]): [string, string] => [`reg.1.${k}`, v]),
    ],
  };
}

/** C-17: the dial-plan flags that differ from the base profile (or all of them when it cannot be used). */
function dialPlanParams(o: Options, all: boolean): Array<[string, string]> {
  const flags: Array<[string, boolean]> = [
    ['reg.1.applyServerDigitMapLocally', o.digitMapLocally],
    ['dialplan.applyToDirectoryDial', o.dialPlanToDirectory],
    ['dialplan.1.applyToForward', o.dialPlanToForward],
  ];
  return flags
    .map(([k, on]): [string, string] => [k, on ? '1' : '0'])
    .filter(([k, v]) => all || v !== baseProfileValue(k));
}

/** The per-device file of the layout (C-10): <MAC>-ext.cfg, the group's <identity>.cfg, or login.cfg. */
function deviceFileName(o: Options, mac: string, line: LineAccount): string {
  if (o.layout === 'flat') return `${mac}-ext.cfg`;
  if (o.layout === 'group') {
    if (o.identity !== undefined) return `${o.identity}.cfg`;
    if (!identityName.safeParse(line.extension).success) {
      throw new ProvisioningRefusal(`extension ${line.extension} cannot name the group file <identity>.cfg: set the option identity`);
    }
    return `${line.extension}.cfg`;
  }
  return 'login.cfg';
}

interface Files { site: ParamGroup[]; device: ParamGroup[] }

/** Scenarios 1 and 2: Switchboard registers line 1; with lyncIm line 2 signs in to the Lync-like registrar. */
function switchboardFiles(input: RenderInput, o: Options, line: LineAccount): Files {
  const { site } = input;
  const server = switchboardServer(input);
  const files: Files = {
    site: [
      { element: 'CallServer', comment: 'SPEC §5.7 scenario 1: Switchboard is the call server', params: serverParams(1, server) },
      srtpGroup(site),
    ],
    device: [{ element: 'Line', params: lineParams(1, line, site.domain, false) }],
  };
  const lync = o.lyncIm ? lyncServer(input, o) : undefined;
  if (server.transport === 'TLS' || lync !== undefined) {
    files.site.push(trustGroup(site, true), { element: 'TlsKeepAlive', params: [['tcpIpApp.keepalive.tcp.sip.tls.enable', '1']] });
  }
  if (lync !== undefined) {
    files.site.push({
      element: 'LyncIm',
      comment: 'SPEC §5.7 scenario 2: line 2 signs in to the Lync-like registrar for IM and presence only',
      params: [
        ...serverParams(2, lync),
        ['reg.2.server.1.specialInterop', baseProfileValue('reg.1.server.1.specialInterop')],
        ['feature.messaging.enabled', '1'],
        ['feature.presence.enabled', '1'],
        ['roaming_buddies.reg', '2'],
      ],
    });
    files.device.push({ element: 'LyncImLine', params: lineParams(2, line, o.lyncDomain ?? site.domain, true) });
  }
  if (o.layout === 'user-profiles') files.site.push({ element: 'UserProfiles', params: [['prov.login.enabled', '1']] });
  files.site.push(qosGroup(site));
  return files;
}

/** Scenario 3: the Lync-like registrar carries telephony, with the base profile (C-08) or its values one by one (C-10). */
function lyncFiles(input: RenderInput, o: Options, line: LineAccount): Files {
  const { site } = input;
  const server = { element: 'LyncServer', params: serverParams(1, lyncServer(input, o)).slice(0, 2) };
  const signIn = signInGroup(o, line, o.lyncDomain ?? site.domain);
  const auto = o.signIn === 'auto';
  if (o.layout !== 'user-profiles') {
    const files: Files = {
      site: [
        {
          element: 'LyncBaseProfile',
          comment: 'SPEC C-08: the handset applies every base-profile value; the groups below override single values',
          params: [['device.set', '1'], ['device.baseProfile.set', '1'], ['device.baseProfile', 'Lync']],
        },
        server,
        { element: 'LyncDialPlan', params: dialPlanParams(o, false) },
      ],
      device: [],
    };
    // C-10: with auto sign-in the sign-in section leaves site.cfg for the per-device file.
    (auto ? files.device : files.site).push(signIn);
    files.site.push(trustGroup(site, false), qosGroup(site));
    return files;
  }
  const pick = (placement: 'S' | 'L'): Array<[string, string]> => LYNC_BASE_PROFILE
    .filter((p) => p.placement === placement)
    .map((p): [string, string] => [p.name, p.name === 'softkey.feature.simplifiedSignIn' && auto ? '0' : p.value]);
  const flags = new Map(dialPlanParams(o, true));
  const withFlags = (params: Array<[string, string]>): Array<[string, string]> =>
    params.map(([k, v]): [string, string] => [k, flags.get(k) ?? v]);
  return {
    site: [
      { element: 'LyncProfile', comment: 'SPEC C-10: the User Profiles layout cannot use the base profile; its site values one by one', params: withFlags(pick('S')) },
      { element: 'UserProfiles', params: [['prov.login.enabled', '1']] },
      trustGroup(site, false),
      qosGroup(site),
    ],
    device: [
      { element: 'LyncTelephony', comment: 'base-profile values applied after the profile login', params: withFlags(pick('L')) },
      server,
      signIn,
    ],
  };
}

function render(input: RenderInput): RenderResult {
  const { device, site } = input;
  const o = parseOptions(device.options);
  checkTelephonyMix(o.telephony);
  const lyncParams = o.telephony === 'lync' || o.lyncIm;
  if (lyncParams) checkLyncCapable({ model: device.model, productId: o.productId, builtBeforeJune2013: o.builtBeforeJune2013 });
  if (input.lines.length !== 1) throw new ProvisioningRefusal(`an 84-Series handset carries one line; this device has ${input.lines.length}`);
  const line = input.lines[0]!;
  const warnings: string[] = [];
  if (o.telephony !== 'lync' && 'signIn' in device.options) warnings.push('signIn applies only when the Lync-like registrar carries telephony; ignored');
  if (o.telephony === 'lync' && o.signIn === 'auto') warnings.push('auto sign-in: whoever holds the handset is signed in as ' + line.extension + ' (SPEC §4.7)');
  if (o.telephony === 'switchboard' && site.sipPorts.tls === undefined && site.media.security !== 'disabled') {
    warnings.push('SRTP without SIP over TLS: the media keys cross the network in clear in the SDP; turn on the TLS listener');
  }
  if (site.identitySelfSigned) warnings.push('the identity is self-signed: the handset trusts exactly that certificate, so replacing it means re-provisioning (A-28)');

  const files = o.telephony === 'lync' ? lyncFiles(input, o, line) : switchboardFiles(input, o, line);
  const what = `${TITLE}, telephony ${o.telephony}${o.lyncIm ? ' + Lync IM' : ''}, layout ${o.layout}`;
  // In load order: the per-phone file first (§5.7.2), site.cfg, then login.cfg,
  // which the handset applies after the profile login, not at boot (C-10).
  const loaded: ProvisionedFile[] = [
    { name: 'site.cfg', contentType: CONTENT_TYPE, credentials: false, body: configFile(`site.cfg: site-wide settings (${what}); generated by Switchboard`, files.site) },
  ];
  const after: ProvisionedFile[] = [];
  if (files.device.some((g) => g.params.length > 0)) {
    const name = deviceFileName(o, device.mac, line);
    const credentials = files.device.some((g) => g.params.some(([k]) => k.endsWith('.auth.password')));
    const f = { name, contentType: CONTENT_TYPE, credentials, body: configFile(`${name}: ${line.extension} on ${device.mac} (${what}); generated by Switchboard`, files.device) };
    if (o.layout === 'user-profiles') after.push(f);
    else loaded.unshift(f);
  }
  const master = o.masterFile === 'mac' ? `${device.mac}.cfg` : '000000000000.cfg';
  const configFiles = loaded.map((f) => f.name);
  const head = { name: master, contentType: CONTENT_TYPE, credentials: false, body: masterFile(`${master}: master file for ${device.mac} (${what}); generated by Switchboard`, configFiles) };
  return { files: [head, ...loaded, ...after], warnings };
}

export const spectralink84: FamilyGenerator = {
  family: 'spectralink-84',
  title: `${TITLE} Wi-Fi handsets (<MAC>.cfg, site.cfg; Lync base profile)`,
  models: ['8440', '8441', '8450', '8452', '8453'],
  options,
  maxLines: 1,
  bootstrapFiles: [],
  render,
};

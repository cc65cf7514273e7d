// Avaya 1120e/1140e/1220/1230 SIP desk phones (SPEC §5.3, C-04, C-05, A-20,
// A-28, §5.9 rules 4-5, A-14 bootstrap exception).
//
// Key names: SERVER_TLS_PORT_1/_2, SRTP_MODE, USE_UNENCRYPTED_SRTCP,
// SRTP_CIPHER_1/_2 and the [SEC_POLICY]/[USER_KEYS] entries are those SPEC
// C.1 prints (TB). The rest follow the vendor's "SIP Software for Avaya 1100
// Series IP Deskphones - Administration" (NN43170-600): the model file is a
// list of [SECTION]s with DOWNLOAD_MODE (AUTO or FORCED), VERSION, PROTOCOL
// and FILENAME, and [DEVICE_CONFIG] names the device configuration file; a
// line longer than 80 characters makes the phone ignore the rest of the file.
// SRTP_ENABLED and the S1/S2 address and UDP/TCP port keys (SERVER_IP_n,
// SERVER_UDP_PORT_n, SERVER_TCP_PORT_n, SIP_DOMAIN) are spelt after
// SERVER_TLS_PORT_n; SPEC Appendix A #21 leaves them open and the sources
// searched did not print them: confirm on a device.
import { z } from 'zod';
import type { FamilyGenerator, ProvisionedFile, RenderInput, RenderResult } from '../types.ts';
import { A20_TABLE } from './avaya-media.ts';
import { pinnedServer, remoteWorkerSbc } from './pinning.ts';
import { AVAYA_ROOT_FILE, AVAYA_TELEPHONY_ROOT_FILE, rootCaFile } from './avaya-roots.ts';

export const SETTINGS_11XX = '11xxsettings.txt';
export const SEC_POLICY_11XX = '11xxsecpolicy.txt';
/** C-04: one file per model; the phone asks for its own. */
export const MODEL_FILES_11XX = ['1120eSIP.cfg', '1140eSIP.cfg', '1220SIP.cfg', '1230SIP.cfg'] as const;

const TEXT = 'text/plain; charset=utf-8';

function section(name: string, mode: 'AUTO' | 'FORCED', version: string, protocol: 'HTTP' | 'HTTPS', file: string): string[] {
  return [`[${name}]`, `DOWNLOAD_MODE ${mode}`, `VERSION ${version}`, `PROTOCOL ${protocol}`, `FILENAME ${file}`, ''];
}

/**
 * C-04 with the §5.3 bootstrap: the policy and roots over HTTP first (the
 * phone cannot check HTTPS before it has the root), then the settings over
 * HTTPS when TLS is on. The settings file is FORCED, so a change
 * reaches the phone without a VERSION to raise; the roots keep the VERSIONs
 * SPEC prints (raising one makes the phone fetch it again).
 */
function modelFile(input: RenderInput, name: string): string {
  return [
    `# Switchboard: ${name} (SPEC C-04, 5.3)`,
    '',
    ...section('SEC_POLICY', 'AUTO', '000002', 'HTTP', SEC_POLICY_11XX),
    ...section('USER_KEYS', 'AUTO', '000002', 'HTTP', AVAYA_ROOT_FILE),
    ...(input.site.telephonyRootCa !== undefined ? section('USER_KEYS', 'AUTO', '000003', 'HTTP', AVAYA_TELEPHONY_ROOT_FILE) : []),
    ...section('DEVICE_CONFIG', 'FORCED', '000001', pinnedServer(input).scheme === 'https' ? 'HTTPS' : 'HTTP', SETTINGS_11XX),
  ].join('\n');
}

function settingsFile(input: RenderInput): string {
  const { site } = input;
  // §5.9 rule 5: through the SBC, its public address and every port it has; the phone picks TLS, TCP, UDP.
  const sbc = remoteWorkerSbc(input);
  const server = sbc !== undefined ? sbc.reg : pinnedServer(input).host;
  const ports = sbc !== undefined ? { tls: sbc.tls, tcp: sbc.tcp, udp: sbc.udp } : site.sipPorts;
  const out = [
    `# Switchboard: ${SETTINGS_11XX} (SPEC 5.3, C-05)`,
    ...(sbc !== undefined ? [`# Remote worker through the SBC ${sbc.prov} (SPEC 5.9)`] : []),
    `SIP_DOMAIN ${site.domain}`,
  ];
  for (const n of [1, 2]) {
    // S1 and S2: Switchboard is one server, so both name it (the SBC for a remote worker).
    out.push(`SERVER_IP_${n} ${server}`);
    if (ports.udp !== undefined) out.push(`SERVER_UDP_PORT_${n} ${ports.udp}`);
    if (ports.tcp !== undefined) out.push(`SERVER_TCP_PORT_${n} ${ports.tcp}`);
    if (ports.tls !== undefined) out.push(`SERVER_TLS_PORT_${n} ${ports.tls}`);
  }
  // C-05: the same block whatever the system media security.
  out.push(
    'SRTP_ENABLED YES',
    `SRTP_MODE ${A20_TABLE[site.media.security].srtpMode11xx}`,
    'USE_UNENCRYPTED_SRTCP YES',
    'SRTP_CIPHER_1 AES_CM_128_HMAC_SHA1_80',
    'SRTP_CIPHER_2 AES_CM_128_HMAC_SHA1_32',
    '',
  );
  return out.join('\n');
}

/**
 * SPEC Appendix A #26: the sources give no policy contents, and the phone
 * accepts policy values only from a file signed by an entity it trusts, which
 * Switchboard cannot produce. The file is served so the [SEC_POLICY] entry
 * resolves; it sets nothing.
 */
function securityPolicyFile(): string {
  return [
    `# Switchboard: ${SEC_POLICY_11XX} (SPEC 5.3)`,
    '# No policy values: the phone keeps its own security policy.',
    '',
  ].join('\n');
}

function render(input: RenderInput): RenderResult {
  const { site } = input;
  const text = (name: string, body: string): ProvisionedFile => ({ name, contentType: TEXT, body, credentials: false });
  const files: ProvisionedFile[] = [
    text(SETTINGS_11XX, settingsFile(input)),
    ...MODEL_FILES_11XX.map((name) => text(name, modelFile(input, name))),
    text(SEC_POLICY_11XX, securityPolicyFile()),
    rootCaFile(AVAYA_ROOT_FILE, site.rootCa),
    ...(site.telephonyRootCa !== undefined ? [rootCaFile(AVAYA_TELEPHONY_ROOT_FILE, site.telephonyRootCa)] : []),
  ];
  const warnings: string[] = [];
  if (site.identitySelfSigned) {
    warnings.push('11xx/12xx phones refuse a self-signed identity (SPEC A-28, 4.3): issue the identity from the internal CA or import one, then let the phones fetch WebRootCA.pem');
  }
  if (site.provisioningPorts.http === undefined) {
    warnings.push('11xx/12xx phones fetch the security policy and root certificates over HTTP before they can check HTTPS (SPEC 5.3): switch on the provisioning HTTP bootstrap listener, or stage the phones by hand');
  }
  return { files, warnings };
}

export const avaya11xx: FamilyGenerator = {
  family: 'avaya-11xx',
  title: `Avaya 1120e/1140e/1220/1230 SIP (${SETTINGS_11XX}, <model>SIP.cfg)`,
  models: ['1120e', '1140e', '1220', '1230'],
  options: z.object({}).strict(),
  maxLines: 1,
  // A-14 / §5.3: what a phone on the LAN may fetch over HTTP before it trusts the root.
  bootstrapFiles: [SEC_POLICY_11XX, ...MODEL_FILES_11XX, AVAYA_ROOT_FILE, AVAYA_TELEPHONY_ROOT_FILE],
  render,
};

// Avaya J100 / 96x1 SIP / H1xx / 96x0 SIP desk phones, and 96x1 H.323 for
// HTTPS trust: 46xxsettings.txt (SPEC §5.2, §5.6, C-01, C-02, C-03, §4.4 with
// Appendix A #20). SIP_CONTROLLER_LIST and SIPDOMAIN, which tell a SIP phone
// where to register, are the keys of the vendor's 46xxsettings.txt template
// (its comment block documents `host[:port][;transport=tls|tcp|udp]`).
import { z } from 'zod';
import { formatHostPort } from '../../lib/net.ts';
import { ProvisioningRefusal, type FamilyGenerator, type RenderInput, type RenderResult } from '../types.ts';
import {
  deriveMediaEncryption, explicitMediaEncryption, FIRMWARE_CLASSES, meets, parseFirmwareVersion, type FirmwareClass, type FirmwareVersion,
} from './avaya-46xx-firmware.ts';
import { MEDIAENCRYPTION_NONE } from './avaya-media.ts';
import { pinnedServer, preferredTransport } from './pinning.ts';
import { AVAYA_ROOT_FILE, rootCaFile } from './avaya-roots.ts';

export const SETTINGS_46XX = '46xxsettings.txt';

const options = z.object({
  /** The firmware the phone runs (SPEC C.1): decides which settings and codes it takes. */
  firmware: z.enum(FIRMWARE_CLASSES).default('j100'),
  /** e.g. "7.0.1" or "R2.6.14.5" when older than current; absent = current firmware (every floor met). */
  version: z.coerce.string().refine((v) => parseFirmwareVersion(v) !== undefined, 'must be a version like 7.1.0.0 or R2.6.14.5').optional(),
  /** An explicit MEDIAENCRYPTION list, e.g. "1,2": it must match the server's enabled suites (C-02). */
  mediaEncryption: z.coerce.string().optional(),
}).strict();

function render(input: RenderInput): RenderResult {
  const { site, device } = input;
  const parsed = options.safeParse(device.options);
  if (!parsed.success) throw new ProvisioningRefusal(`options of ${device.mac}: ${z.prettifyError(parsed.error)}`);
  const { firmware, version: versionText, mediaEncryption } = parsed.data;
  const version = versionText === undefined ? undefined : parseFirmwareVersion(versionText);
  const out = [
    `## Switchboard: 46xxsettings.txt for ${device.mac} (${firmware}${versionText === undefined ? '' : ` ${versionText}`}).`,
    `## System media security ${site.media.security}; suites ${site.media.suites.join(', ') || 'none'}.`,
  ];
  if (firmware !== '96x1-h323') out.push(...sipSettings(input, firmware, version, mediaEncryption));
  // C-03, §5.6: the root that issued the HTTPS identity; served alongside.
  out.push(`SET TRUSTCERTS ${AVAYA_ROOT_FILE}`, '');
  return {
    files: [
      { name: SETTINGS_46XX, contentType: 'text/plain; charset=utf-8', body: out.join('\n'), credentials: false },
      rootCaFile(AVAYA_ROOT_FILE, site.rootCa),
    ],
    warnings: [],
  };
}

function sipSettings(input: RenderInput, firmware: Exclude<FirmwareClass, '96x1-h323'>, version: FirmwareVersion | undefined, explicit: string | undefined): string[] {
  const { site } = input;
  const host = pinnedServer(input).host;
  const tls = site.sipPorts.tls;
  const transport = preferredTransport(site.sipPorts);
  if (transport === undefined) throw new ProvisioningRefusal('no SIP transport (UDP, TCP or TLS) is on: a SIP phone has nothing to register to');
  const controller = `${formatHostPort(host, transport.port)};transport=${transport.protocol.toLowerCase()}`;
  const out = [`SET SIP_CONTROLLER_LIST ${controller}`, `SET SIPDOMAIN ${site.domain}`];
  if (meets(firmware, version, 'SDPCAPNEG')) out.push(`SET SDPCAPNEG ${site.media.capneg ? 1 : 0}`);
  // Appendix A #20: "require SIPS with TLS"; without a TLS listener a sips: URI could not be reached.
  if (meets(firmware, version, 'ENFORCE_SIPS_URI')) out.push(`SET ENFORCE_SIPS_URI ${tls !== undefined ? 1 : 0}`);
  let codes: number[] = [MEDIAENCRYPTION_NONE];
  if (meets(firmware, version, 'MEDIAENCRYPTION')) {
    codes = explicit === undefined ? deriveMediaEncryption(site.media, firmware, version) : explicitMediaEncryption(explicit, site.media, firmware, version);
    out.push(`SET MEDIAENCRYPTION ${codes.join(',')}`);
  } else if (site.media.security === 'enforced' || explicit !== undefined) {
    throw new ProvisioningRefusal(`${firmware} firmware older than its MEDIAENCRYPTION floor has no SRTP, but ${explicit !== undefined ? 'a MEDIAENCRYPTION list is set' : 'the server enforces media security'}: upgrade the phone`);
  }
  if (meets(firmware, version, 'ENCRYPT_SRTCP')) {
    // C-01: active only when MEDIAENCRYPTION is not 9.
    const srtp = codes.some((c) => c !== MEDIAENCRYPTION_NONE);
    out.push(`SET ENCRYPT_SRTCP ${srtp && site.media.srtcp === 'encrypted' ? 1 : 0}`);
  }
  return out;
}

export const avaya46xx: FamilyGenerator = {
  family: 'avaya-46xx',
  title: `Avaya J100 / 96x1 / H1xx / 96x0 SIP, 96x1 H.323 (${SETTINGS_46XX})`,
  models: ['J129', 'J139', 'J159', 'J169', 'J179', 'J189', '9608', '9611G', '9621G', '9641G', 'H175', '9620', '9630', '9640', '9650'],
  options,
  maxLines: 1,
  bootstrapFiles: [],
  render,
};

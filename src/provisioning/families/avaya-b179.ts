// Avaya B179 SIP conference phone: avayab179.xml (SPEC §5.4, C-06, A-20,
// A-15/C-18 pinning, §4.3 B179 row).
//
// Element names: the TLS/SRTP ones are those of SPEC C.1 (TB); the account
// and device-management ones follow the same spelling for the fields the
// B179 web UI shows (Primary account: Account name, User, Registrar, Proxy,
// Transport; Settings -> Provisioning -> File server address) and are to be
// confirmed on a device (SPEC Appendix A #22 asks the same of use_srtpc).
import { z } from 'zod';
import { formatHostPort } from '../../lib/net.ts';
import { ProvisioningRefusal, type FamilyGenerator, type RenderInput, type RenderResult } from '../types.ts';
import { escapeXml } from '../xml.ts';
import { A20_TABLE } from './avaya-media.ts';
import { pinnedServer, pinnedUrl, preferredTransport } from './pinning.ts';

/** SPEC §5.4: the name the call server gives the B179's configuration file. */
export const B179_FILE = 'avayab179.xml';

/**
 * The local (per-phone) file a B179 asks its device-management server for
 * by default, avaya-<MAC>.xml with the MAC without colons (vendor's B179
 * administration guide, "Provisioning from a device management server").
 */
export function b179LocalFileName(mac: string): string {
  return `avaya-${mac}.xml`;
}

function render(input: RenderInput): RenderResult {
  const { site, device, lines } = input;
  const line = lines[0]!;
  const pinned = pinnedServer(input);
  const transport = preferredTransport(site.sipPorts);
  if (transport === undefined) throw new ProvisioningRefusal('no SIP transport (UDP, TCP or TLS) is on: a B179 has nothing to register to');
  const tls = transport.protocol === 'TLS';
  const x = escapeXml;
  const body = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- Switchboard: Avaya B179 ${x(device.mac)}, line ${x(line.extension)}. -->`,
    `<!-- System media security ${site.media.security}: ${A20_TABLE[site.media.security].b179} (SPEC A-20). -->`,
    '<avaya_b179>',
    '  <account>',
    `    <account_name>${x(line.displayName)}</account_name>`,
    `    <user>${x(line.extension)}</user>`,
    `    <auth_user>${x(line.authUser)}</auth_user>`,
    `    <password>${x(line.password)}</password>`,
    `    <registrar>${x(formatHostPort(pinned.host, transport.port))}</registrar>`,
    `    <proxy>${x(formatHostPort(pinned.host, transport.port))}</proxy>`,
    `    <domain>${x(site.domain)}</domain>`,
    `    <transport>${transport.protocol}</transport>`,
    '  </account>',
    '  <security>',
    `    <tls_transport>${tls ? 1 : 0}</tls_transport>`,
    ...(tls ? [`    <tls_port>${transport.port}</tls_port>`] : []),
    // §4.3: the B179 validates only against an installed root (web UI upload, §5.4).
    '    <tls_verify_server>1</tls_verify_server>',
    // §4.4: SIPS configurable but left off.
    '    <sips_transport>0</sips_transport>',
    // A-20 "SRTP Optional" whatever the system setting: SRTP offered, RTP accepted.
    '    <use_srtp>1</use_srtp>',
    // Appendix A #22: the SRTCP flag, printed with a stray '>' in the source.
    '    <use_srtpc>false</use_srtpc>',
    '    <srtp_secure_signaling>0</srtp_secure_signaling>',
    '  </security>',
    '  <device_management>',
    // A-15/C-18: pinned to the address this request reached; DHCP option 242 no longer moves it.
    `    <file_server_address>${x(pinnedUrl(pinned))}</file_server_address>`,
    '    <use_dhcp_option_242>0</use_dhcp_option_242>',
    '  </device_management>',
    '</avaya_b179>',
    '',
  ].join('\n');
  // The same file under both names: SPEC's, and the one a phone with default settings requests.
  return {
    files: [B179_FILE, b179LocalFileName(device.mac)].map((name) => ({ name, contentType: 'application/xml', body, credentials: true })),
    warnings: [],
  };
}

export const avayaB179: FamilyGenerator = {
  family: 'avaya-b179',
  title: `Avaya B179 conference phone (${B179_FILE}, avaya-<mac>.xml)`,
  models: ['B179'],
  options: z.object({}).strict(),
  maxLines: 1,
  bootstrapFiles: [],
  render,
};

// Avaya E129 (built by Grandstream): cfg<mac>.xml (SPEC §5.5, C-07, A-20,
// A-15/C-18 pinning, §5.9 rules 4 and 6, Appendix A #27 uppercase P).
//
// The file is Grandstream's XML provisioning format (<gs_provision> with the
// P-values in <config>; the phone asks for cfg<mac>.xml before the generic
// cfg.xml). P-numbers SPEC C.1 does not give come from Grandstream's
// configuration templates: P48 outbound proxy (Appendix A #21), P331
// phonebook server path, P270/P271 account name/active, P3 display name,
// P34/P35/P36 password/user/authentication ID; and their values for P130
// (0 UDP, 1 TCP, 2 TCP/TLS), P212 (1 HTTP, 2 HTTPS) and P330 (1 HTTP, 3 HTTPS).
import { z } from 'zod';
import { formatHostPort } from '../../lib/net.ts';
import { ProvisioningRefusal, type FamilyGenerator, type RenderInput, type RenderResult } from '../types.ts';
import { escapeXml } from '../xml.ts';
import { A20_TABLE } from './avaya-media.ts';
import { pinnedServer, preferredTransport, remoteWorkerSbc } from './pinning.ts';

export function e129FileName(mac: string): string {
  return `cfg${mac}.xml`;
}

const P130 = { UDP: 0, TCP: 1, TLS: 2 } as const;

function render(input: RenderInput): RenderResult {
  const { site, device, lines } = input;
  const line = lines[0]!;
  const pinned = pinnedServer(input);
  const sbc = remoteWorkerSbc(input);
  // §5.9 rule 6: through the SBC exactly one port, TLS > TCP > UDP.
  const transport = preferredTransport(sbc ?? site.sipPorts);
  if (transport === undefined) throw new ProvisioningRefusal('no SIP transport (UDP, TCP or TLS) is on: an E129 has nothing to register to');
  const https = pinned.scheme === 'https';
  const provisioning = formatHostPort(pinned.host, pinned.port);
  const p = (n: number, value: string | number, why: string) => `    <P${n}>${escapeXml(String(value))}</P${n}> <!-- ${why} -->`;
  const body = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- Switchboard: Avaya E129 ${escapeXml(device.mac)}, line ${escapeXml(line.extension)}${sbc !== undefined ? `, remote worker through the SBC ${escapeXml(sbc.prov)} (SPEC 5.9)` : ''}. -->`,
    '<gs_provision version="1">',
    `  <mac>${escapeXml(device.mac)}</mac>`,
    '  <config version="1">',
    p(271, 1, 'account active'),
    p(270, line.displayName, 'account name'),
    p(3, line.displayName, 'display name'),
    p(35, line.extension, 'SIP user ID'),
    p(36, line.authUser, 'authentication ID'),
    p(34, line.password, 'authentication password'),
    ...(sbc !== undefined
      ? [p(47, site.domain, 'SIP server: the domain, reached through the outbound proxy'), p(48, formatHostPort(sbc.reg, transport.port), 'outbound proxy: the SBC (RW_SBC_REG)')]
      : [p(47, formatHostPort(pinned.host, transport.port), 'SIP server'), p(48, '', 'no outbound proxy')]),
    p(130, P130[transport.protocol], `SIP transport ${transport.protocol === 'TLS' ? 'TCP/TLS' : transport.protocol}`),
    p(2311, 1, 'check the domain certificate'),
    p(2329, 0, 'SIP URI, not SIPS (SPEC 4.4)'),
    p(183, A20_TABLE[site.media.security].e129P183, `SRTP ${A20_TABLE[site.media.security].e129P183 === 0 ? 'disabled' : 'enabled and enforced'} (system media security ${site.media.security}, SPEC A-20)`),
    p(145, 0, 'DHCP option 66 no longer overrides the config server (SPEC A-15, C-18)'),
    p(212, https ? 2 : 1, `firmware and config over ${https ? 'HTTPS' : 'HTTP'} (SPEC A-14)`),
    p(330, https ? 3 : 1, `phonebook over ${https ? 'HTTPS' : 'HTTP'}`),
    // §5.9 rule 6: a remote worker keeps the paths set on it by hand before it moved outside.
    ...(sbc !== undefined ? [] : [
      p(192, provisioning, 'firmware server path, pinned (SPEC A-15)'),
      p(237, provisioning, 'config server path, pinned (SPEC A-15)'),
      p(331, provisioning, 'phonebook server path'),
    ]),
    '  </config>',
    '</gs_provision>',
    '',
  ].join('\n');
  return { files: [{ name: e129FileName(device.mac), contentType: 'application/xml', body, credentials: true }], warnings: [] };
}

export const avayaE129: FamilyGenerator = {
  family: 'avaya-e129',
  title: 'Avaya E129 (cfg<mac>.xml)',
  models: ['E129'],
  options: z.object({}).strict(),
  maxLines: 1,
  bootstrapFiles: [],
  render,
};

// Gigaset PRO DECT systems (N670 single-cell, N870 multi-cell DECT manager):
// one SIP provider profile for this server and one SIP account per handset.
//
// Vendor facts used (Gigaset's provisioning wiki and public templates for
// the N670/N870): the file is XML, <provisioning version="1.1"
// productID="e2"> with an <nvm> of <param name value/> entries and <oper>
// operations; the device file is named after the MAC in upper case, <MAC>.xml;
// provider keys SipProvider.0.Name, Domain, ProxyServerAddress/Port,
// RegServerAddress/Port, TransportProtocol, UseSIPS, SRTP_Enabled,
// AcceptNonSRTPCalls, MWISubscription; a handset slot opened with
// <oper name="add_hs" value="NNNNN"> (hs.RegStatus ToReg) and its account
// SipAccount.NNNNN.AuthName, AuthPassword, UserName, DisplayName,
// ProviderId; Provisioning.global.ProvisioningServer; DmGlobal.0.NtpServer.
// Not confirmed here: the TransportProtocol codes (written 1 UDP, 2 TCP,
// 3 TLS), a provisioning key for a trusted CA (none is written: a TLS set-up
// warns to import the root CA in the web UI), the handset limits (datasheet
// figures: N670 20, N870 250).
import type { FamilyGenerator, RenderInput, RenderResult } from '../types.ts';
import { dectOptionsSchema, dectPlan, familyMax, xmlText, type ModelLimits } from './dect-common.ts';

const TITLE = 'Gigaset DECT';
const LIMITS: ModelLimits = { N670: 20, N870: 250 };
const TRANSPORT = { udp: 1, tcp: 2, tls: 3 } as const;
const PROVIDER = 0;

const param = (name: string, value: string | number) => `    <param name="${xmlText(name)}" value="${xmlText(value)}"/>`;

function render(input: RenderInput): RenderResult {
  const plan = dectPlan(input, LIMITS, TITLE);
  const p = `SipProvider.${PROVIDER}`;
  const srtp = plan.media !== 'disabled';
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<provisioning version="1.1" productID="e2">',
    '  <nvm>',
    '    <!-- Provisioning: fetch again from this server -->',
    param('Provisioning.global.ProvisioningServer', plan.provisioningUrl),
    ...(plan.options.ntp !== undefined ? ['    <!-- Time: TLS certificate checks need it (EC-12) -->', param('DmGlobal.0.NtpServer', plan.options.ntp)] : []),
    '    <!-- This server, for every handset -->',
    param(`${p}.Name`, 'Switchboard'),
    param(`${p}.Domain`, input.site.domain),
    param(`${p}.ProxyServerAddress`, plan.address),
    param(`${p}.ProxyServerPort`, plan.port),
    param(`${p}.RegServerAddress`, plan.address),
    param(`${p}.RegServerPort`, plan.port),
    param(`${p}.TransportProtocol`, TRANSPORT[plan.transport]),
    param(`${p}.UseSIPS`, 0),
    param(`${p}.SRTP_Enabled`, srtp ? 1 : 0),
    param(`${p}.AcceptNonSRTPCalls`, plan.media === 'enforced' ? 0 : 1),
    param(`${p}.MWISubscription`, 1),
  ];
  input.lines.forEach((l, i) => {
    const hs = String(i + 1).padStart(5, '0');
    out.push(
      `    <!-- Handset ${i + 1}: ${xmlText(l.extension)} -->`,
      `    <oper name="add_hs" value="${hs}">`,
      `  ${param('hs.RegStatus', 'ToReg')}`,
      '    </oper>',
      param(`SipAccount.${hs}.AuthName`, l.authUser),
      param(`SipAccount.${hs}.AuthPassword`, l.password),
      param(`SipAccount.${hs}.UserName`, l.extension),
      param(`SipAccount.${hs}.DisplayName`, l.displayName || l.extension),
      param(`SipAccount.${hs}.ProviderId`, PROVIDER),
    );
  });
  out.push('  </nvm>', '</provisioning>', '');
  const warnings = [...plan.warnings];
  if (plan.transport === 'tls') warnings.push(`${TITLE}: import the root CA (${plan.caUrl}) in the base's web interface: this file cannot carry it`);
  return {
    files: [{ name: `${input.device.mac.toUpperCase()}.xml`, contentType: 'application/xml; charset=utf-8', body: out.join('\n'), credentials: true }],
    warnings,
  };
}

export const gigasetDect: FamilyGenerator = {
  family: 'gigaset-dect',
  title: 'Gigaset N670/N870 DECT (<MAC>.xml)',
  models: Object.keys(LIMITS),
  options: dectOptionsSchema,
  maxLines: familyMax(LIMITS),
  bootstrapFiles: [],
  render,
};

// Snom M-series DECT bases (M300, M400, M700, M900): SIP server 1 is this
// server, and one account per handset on it.
//
// Vendor facts used (Snom's M-series provisioning guide and public
// templates): the settings file is XML, <settings><phone-settings> with one
// element per setting, indexed ones carrying idx (server or account number)
// and a perm flag ("R": read-only for the user); setting_server is the URL
// the base fetches its settings from; ntp_server; per server
// srv_sip_server_alias, user_host, srv_sip_transport (udp/tcp/tls),
// user_srtp (on/off); per account user_active, user_name, user_pname (the
// authentication name), user_pass, user_realname, subscr_sip_hs_idx (the
// handset the account belongs to), subscr_sip_ua_data_server_id (its
// server), subscr_sip_line_name.
// Not confirmed here: user_savp (mandatory/optional/off, the desk phones'
// key for "SRTP only") on the M-series; the file name the base asks for
// first (this file names itself <mac>.xml and points setting_server at it);
// a provisioning key for a trusted CA (none is written: a TLS set-up warns to
// import the root CA); the handset limits (datasheet figures, capped at the
// device model's 250 lines: M300 20, M400 100, M700 and M900 250).
import type { FamilyGenerator, RenderInput, RenderResult } from '../types.ts';
import { formatHostPort } from '../../lib/net.ts';
import { dectOptionsSchema, dectPlan, familyMax, xmlText, type ModelLimits } from './dect-common.ts';

const TITLE = 'Snom M-series DECT';
const LIMITS: ModelLimits = { M300: 20, M400: 100, M700: 250, M900: 250 };
const SERVER = 1;
const SAVP = { enforced: 'mandatory', 'best-effort': 'optional', disabled: 'off' } as const;

const setting = (name: string, value: string | number, idx?: number) =>
  `    <${name}${idx === undefined ? '' : ` idx="${idx}"`} perm="R">${xmlText(value)}</${name}>`;

function render(input: RenderInput): RenderResult {
  const plan = dectPlan(input, LIMITS, TITLE);
  const name = `${input.device.mac}.xml`;
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<settings>',
    '  <phone-settings>',
    '    <!-- Provisioning: fetch again from this server -->',
    setting('setting_server', `${plan.provisioningUrl}${name}`),
    ...(plan.options.ntp !== undefined ? ['    <!-- Time: TLS certificate checks need it (EC-12) -->', setting('ntp_server', plan.options.ntp)] : []),
    `    <!-- This server (SIP server ${SERVER}), for every handset -->`,
    setting('srv_sip_server_alias', 'Switchboard', SERVER),
    setting('user_host', formatHostPort(plan.address, plan.port), SERVER),
    setting('srv_sip_transport', plan.transport, SERVER),
    setting('user_srtp', plan.media === 'disabled' ? 'off' : 'on', SERVER),
    setting('user_savp', SAVP[plan.media], SERVER),
  ];
  input.lines.forEach((l, i) => {
    const n = i + 1;
    out.push(
      `    <!-- Handset ${n}: ${xmlText(l.extension)} -->`,
      setting('user_active', 'on', n),
      setting('user_name', l.extension, n),
      setting('user_pname', l.authUser, n),
      setting('user_pass', l.password, n),
      setting('user_realname', l.displayName || l.extension, n),
      setting('subscr_sip_line_name', l.extension, n),
      setting('subscr_sip_hs_idx', n, n),
      setting('subscr_sip_ua_data_server_id', SERVER, n),
    );
  });
  out.push('  </phone-settings>', '</settings>', '');
  const warnings = [...plan.warnings];
  if (plan.transport === 'tls') warnings.push(`${TITLE}: import the root CA (${plan.caUrl}) in the base's web interface: this file cannot carry it`);
  return { files: [{ name, contentType: 'application/xml; charset=utf-8', body: out.join('\n'), credentials: true }], warnings };
}

export const snomDect: FamilyGenerator = {
  family: 'snom-dect',
  title: 'Snom M300/M400/M700/M900 DECT (<mac>.xml)',
  models: Object.keys(LIMITS),
  options: dectOptionsSchema,
  maxLines: familyMax(LIMITS),
  bootstrapFiles: [],
  render,
};

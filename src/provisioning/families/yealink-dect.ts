// Yealink DECT bases (W60B, W70B, W80B/W80DM, W90): one SIP account per
// handset, handset N on account N.
//
// Vendor facts used (Yealink auto-provisioning as its admin guides and
// public templates describe it): the base fetches a common file named
// y0000000000<NN>.cfg after its firmware's product number (W60B 77, W80B
// and W80DM 103) and then <mac>.cfg, lowercase MAC without separators, from
// the provisioning URL; both start with "#!version:1.0.0.1" and hold
// "key = value" lines. Account keys account.N.enable, label, display_name,
// user_name, auth_name, password, sip_server.1.address/port/transport_type
// (0 UDP, 1 TCP, 2 TLS), srtp_encryption (0 off, 1 optional, 2 compulsory),
// subscribe_mwi; handset keys handset.N.name, incoming_lines,
// dial_out_default_line, dial_out_lines; static.auto_provision.server.url
// and repeat.enable/minutes; static.trusted_certificates.url with
// static.security.trust_certificates; local_time.ntp_server1.
// Not confirmed from a vendor document here: the product numbers of the W70B
// (146) and W90 (130) common files (taken from their firmware numbering), and
// the handset limits per model (datasheet figures: 8, 10, 100, 250).
import type { FamilyGenerator, ProvisionedFile, RenderInput, RenderResult } from '../types.ts';
import { dectOptionsSchema, dectPlan, familyMax, lineValue, type DectPlan, type ModelLimits } from './dect-common.ts';

const TITLE = 'Yealink DECT';
const LIMITS: ModelLimits = { W60B: 8, W70B: 10, W80B: 100, W80DM: 100, W90: 250 };
/** The product number in each model's common file name. */
const COMMON_ID: Readonly<Record<string, string>> = { W60B: '077', W70B: '146', W80B: '103', W80DM: '103', W90: '130' };
const TRANSPORT = { udp: 0, tcp: 1, tls: 2 } as const;
const SRTP = { disabled: 0, 'best-effort': 1, enforced: 2 } as const;
const HEADER = '#!version:1.0.0.1';
const CONTENT_TYPE = 'text/plain; charset=utf-8';

function cfg(lines: readonly (readonly [string, string | number] | string)[]): string {
  return [HEADER, ...lines.map((l) => (typeof l === 'string' ? l : `${l[0]} = ${lineValue(l[1])}`)), ''].join('\n');
}

/** What every base of the site shares: where to fetch again, whom to trust, where the time comes from. */
function siteLines(plan: DectPlan): (readonly [string, string | number] | string)[] {
  return [
    '## Provisioning: fetch again from this server once a day',
    ['static.auto_provision.server.url', plan.provisioningUrl],
    ['static.auto_provision.repeat.enable', 1],
    ['static.auto_provision.repeat.minutes', 1440],
    '## Trust the server root CA (and the built-in list only)',
    ['static.trusted_certificates.url', plan.caUrl],
    ['static.security.trust_certificates', 1],
    ...(plan.options.ntp !== undefined ? ['## Time: TLS certificate checks need it (EC-12)', ['local_time.ntp_server1', plan.options.ntp] as const] : []),
  ];
}

function render(input: RenderInput): RenderResult {
  const plan = dectPlan(input, LIMITS, TITLE);
  const model = Object.keys(COMMON_ID).find((m) => m.toLowerCase() === (input.device.model ?? '').trim().toLowerCase());
  const accounts = input.lines.flatMap((l, i) => {
    const n = i + 1;
    const label = l.displayName || l.extension;
    return [
      `## Handset ${n}: ${lineValue(l.extension)}`,
      [`account.${n}.enable`, 1],
      [`account.${n}.label`, label],
      [`account.${n}.display_name`, label],
      [`account.${n}.user_name`, l.extension],
      [`account.${n}.auth_name`, l.authUser],
      [`account.${n}.password`, l.password],
      [`account.${n}.sip_server.1.address`, plan.address],
      [`account.${n}.sip_server.1.port`, plan.port],
      [`account.${n}.sip_server.1.transport_type`, TRANSPORT[plan.transport]],
      [`account.${n}.srtp_encryption`, SRTP[plan.media]],
      [`account.${n}.subscribe_mwi`, 1],
      [`handset.${n}.name`, label],
      [`handset.${n}.incoming_lines`, n],
      [`handset.${n}.dial_out_default_line`, n],
      [`handset.${n}.dial_out_lines`, n],
    ] as const;
  });
  const files: ProvisionedFile[] = [];
  // Without a known model there is no common file to name: the site settings go into the device file.
  if (model) files.push({ name: `y000000000${COMMON_ID[model]}.cfg`, contentType: CONTENT_TYPE, body: cfg(siteLines(plan)), credentials: false });
  files.push({
    name: `${input.device.mac}.cfg`,
    contentType: CONTENT_TYPE,
    body: cfg([...(model ? [] : siteLines(plan)), ...accounts]),
    credentials: true,
  });
  return { files, warnings: plan.warnings };
}

export const yealinkDect: FamilyGenerator = {
  family: 'yealink-dect',
  title: 'Yealink DECT W60B/W70B/W80B/W90 (y0000000000NN.cfg + <mac>.cfg)',
  models: Object.keys(LIMITS),
  options: dectOptionsSchema,
  maxLines: familyMax(LIMITS),
  bootstrapFiles: [],
  render,
};

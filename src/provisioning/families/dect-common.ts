// What the three DECT families (yealink-dect, gigaset-dect, snom-dect) decide
// the same way: where the base reaches this server (A-15 pinning), which SIP
// transport it registers over, the media security it is told (A-20), the
// handset limit of its model, and the warnings a TLS set-up needs (EC-12,
// A-28). Each family file only maps these choices onto its vendor's keys.
import { z } from 'zod';
import { hostSchema } from '../host.ts';
import { escapeXml } from '../xml.ts';
import { ProvisioningRefusal, type RenderInput, type SrtpSuite } from '../types.ts';
import { formatHostPort } from '../../lib/net.ts';
import { pinnedServer } from './pinning.ts';

/** The SDES suites every one of these bases offers; the AES-256 ones are not documented for any of them. */
const DECT_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** The options every DECT family takes. */
export const dectOptionsSchema = z.object({
  /** NTP server the base sets its clock from: TLS certificate checks need the right time (EC-12, B-23). */
  ntp: hostSchema.optional(),
}).strict();
export type DectOptions = z.output<typeof dectOptionsSchema>;

export type SipTransport = 'tls' | 'tcp' | 'udp';

/** How the base is told to reach this server; the same for every handset account. */
export interface DectPlan {
  /** Address the base connects to: LAN, or public when the request came from outside (A-15). */
  address: string;
  transport: SipTransport;
  port: number;
  media: 'enforced' | 'best-effort' | 'disabled';
  /** Where the base fetches its files again. */
  provisioningUrl: string;
  /** The root CA for the base to trust, as a URL the provisioning server serves without authentication. */
  caUrl: string;
  options: DectOptions;
  warnings: string[];
}

/** Handsets per model; a model not listed (or none given) takes the family's largest. */
export type ModelLimits = Readonly<Record<string, number>>;

export function familyMax(limits: ModelLimits): number {
  return Math.max(...Object.values(limits));
}

/**
 * The common decisions for one render, or a refusal saying what to change:
 * too many handsets for the model, SRTP suites the bases cannot do, no SIP
 * listener the base could use.
 * @throws ProvisioningRefusal
 */
export function dectPlan(input: RenderInput, limits: ModelLimits, familyTitle: string): DectPlan {
  const { site, device, lines } = input;
  const parsed = dectOptionsSchema.safeParse(device.options);
  if (!parsed.success) throw new ProvisioningRefusal(`${familyTitle}: options: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'} ${i.message}`).join('; ')}`);
  const warnings: string[] = [];

  const model = device.model ?? '';
  const known = Object.keys(limits).find((m) => m.toLowerCase() === model.trim().toLowerCase());
  if (model !== '' && !known) warnings.push(`${familyTitle}: model ${model} is not one this family knows (${Object.keys(limits).join(', ')}); written as the largest`);
  const limit = known ? limits[known]! : familyMax(limits);
  if (lines.length > limit) {
    throw new ProvisioningRefusal(`${familyTitle}${known ? ` ${known}` : ''} takes at most ${limit} handsets, and this device has ${lines.length} lines: remove lines or choose a larger model`);
  }

  const ports = site.sipPorts;
  const [transport, port] = ports.tls ? ['tls', ports.tls] as const : ports.udp ? ['udp', ports.udp] as const
    : ports.tcp ? ['tcp', ports.tcp] as const : [undefined, 0] as const;
  if (!transport) throw new ProvisioningRefusal(`${familyTitle}: the server has no SIP listener (TLS, UDP or TCP) for the base to register to`);

  const media = site.media.security;
  if (media !== 'disabled' && !site.media.suites.some((s) => DECT_SUITES.includes(s))) {
    throw new ProvisioningRefusal(`${familyTitle}: SRTP is ${media} but the server's suites (${site.media.suites.join(', ') || 'none'}) hold neither of ${DECT_SUITES.join(', ')}, the only ones these bases offer: enable one of them`);
  }
  if (media !== 'disabled' && transport !== 'tls') warnings.push(`${familyTitle}: SRTP keys travel in SDP over ${transport.toUpperCase()}, readable on the network: turn on the SIP TLS listener`);
  if (transport === 'tls' && parsed.data.ntp === undefined) {
    warnings.push(`${familyTitle}: no NTP server set (option ntp): the base checks the server certificate over TLS and fails with a wrong clock (EC-12)`);
  }
  if (transport === 'tls' && site.identitySelfSigned) warnings.push(`${familyTitle}: the server identity is self-signed; the base trusts it only once it has the root CA (A-28)`);

  // A-15 as the other families pin it; the files carry passwords, so the URL is always https.
  const address = pinnedServer(input).host;
  const base = `https://${formatHostPort(address, site.provisioningPorts.https)}/`;
  return { address, transport, port, media, provisioningUrl: base, caUrl: `${base}ca.pem`, options: parsed.data, warnings };
}

/** A value for a line-based "key = value" file: a line break would start another key. */
export function lineValue(v: string | number): string {
  return String(v).replace(/[\r\n\u2028\u2029]/g, ' ');
}

/** Text or attribute content for XML; control characters and line breaks (one value, one line) become spaces. */
export function xmlText(v: string | number): string {
  // eslint-disable-next-line no-control-regex
  return escapeXml(String(v).replace(/[\x00-\x1f\u2028\u2029]/g, ' '));
}

// The handset gateway model (SPEC 1.B, B.1 tables; §3.1; B-01..B-32, D-06,
// EC-03, EC-11): the gateway's settings with their defaults, its upstream
// proxies, and per local user the upstream line (the SIP account the gateway
// registers upstream for the user's handset) with the handset's registry
// fields. CLI, API, store and web UI take their rules from here. No Node
// imports: the web UI type-checks it.
import { z } from 'zod';
import { CONTROL_RE, extensionSchema } from './common.ts';

/** What this Switchboard is (issue 15 item 7): a call server, a gateway, or both at once. */
export const GATEWAY_MODES = ['call-server', 'gateway', 'both'] as const;
export type GatewayMode = (typeof GATEWAY_MODES)[number];

/**
 * Capacity profiles (§3.1): the models differ only in scale. `handsets` caps
 * gateway users (lines); a line over the cap is refused when it is written.
 * Channel budgets (§3.2, B-25, Appendix A #17: a per-profile value).
 */
export const GATEWAY_PROFILES = {
  'dect-200': { handsets: 12, baseStations: 0, channels: 32, channelsSrtp: 16 },
  'dect-400': { handsets: 60, baseStations: 9, channels: 32, channelsSrtp: 16 },
  'dect-6500': { handsets: 4096, baseStations: 1024, channels: 32, channelsSrtp: 16 },
  'dect-virtual': { handsets: 4096, baseStations: 4096, channels: 32, channelsSrtp: 16 },
} as const;
export type GatewayProfile = keyof typeof GATEWAY_PROFILES;
export const GATEWAY_PROFILE_NAMES = Object.keys(GATEWAY_PROFILES) as GatewayProfile[];

export const UPSTREAM_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export const DNS_METHODS = ['a', 'srv', 'naptr'] as const;
/** B.1 codec priority values (up to 6); G729A is a flag, not a codec. */
export const GATEWAY_CODECS = ['PCMU', 'PCMA', 'G722', 'G729'] as const;

const text = (min: number, max: number) => z.string()
  .min(min, min === 1 ? 'must not be empty' : `must have at least ${min} characters`)
  .max(max, `must have at most ${max} characters`)
  .refine((s) => !CONTROL_RE.test(s), 'must not contain control characters');
const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

/** A SIP host: a DNS name, an IPv4 address or an IPv6 address in brackets or bare. */
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/;
export const sipHostSchema = z.string().max(253).regex(HOST_RE, 'must be a host name or an IP address');

/**
 * The gateway's settings (B.1 Configuration → SIP, DTMF, MWI, Media, Call
 * status, Security's legacy TLS and export hygiene, Lync's trusted server).
 * Every key has its B.1 default; a change applies to the running gateway
 * (lines re-register where the change needs it), so nothing here waits for a
 * restart (B-24 is a limitation of the source product we do not copy).
 */
export const gatewaySettingsSchema = z.object({
  mode: z.enum(GATEWAY_MODES).default('call-server'),
  profile: z.enum(GATEWAY_PROFILE_NAMES as [GatewayProfile, ...GatewayProfile[]]).default('dect-virtual'),
  /** Domain of a line that has none of its own (B.1 Default domain; with Lync the SIP domain). */
  defaultDomain: z.union([sipHostSchema, z.literal('')]).default(''),
  transport: z.enum(UPSTREAM_TRANSPORTS).default('tls'),
  /** How proxy and domain names are resolved: A/AAAA only, SRV then A, or NAPTR then SRV then A (RFC 3263). */
  dnsMethod: z.enum(DNS_METHODS).default('naptr'),
  /** B-04: AoR, Request-URI and Contact use sips:. */
  sips: z.boolean().default(false),
  registerExpiresSec: int(30, 86_400, 3600),
  /** REGISTER transactions in flight at once (B-01; 1 = one after another). */
  maxPendingRegistrations: int(1, 1024, 1),
  /** Each line registers from its own local port (B.1, off by default). */
  separatePorts: z.boolean().default(false),
  /** Every request of a line goes to the proxy that accepted its registration. */
  sendToCurrentRegistrar: z.boolean().default(false),
  /** Handset-to-handset calls are routed locally when upstream is unreachable. */
  internalRoutingFallback: z.boolean().default(false),
  maxForwards: int(1, 255, 70),
  clientTransactionTimeoutMs: int(1_000, 64_000, 16_000),
  /** Seconds an unresponsive proxy is skipped (B-02). */
  blacklistTimeoutSec: int(0, 3_600, 30),
  /** Request a GRUU (RFC 5627, D-10). */
  gruu: z.boolean().default(true),
  /** Accept an upstream certificate that fails validation (B.1 TLS allow insecure; logged on every connection). */
  tlsAllowInsecure: z.boolean().default(false),
  /** EC-03 / Appendix A #13: off = TLS 1.2+ with modern suites only; on = also 1.0/1.1 and older suites. */
  legacyTls: z.boolean().default(false),
  /** B-03: Contact carries the TCP/TLS connection's ephemeral local port. */
  tcpEphemeralContact: z.boolean().default(true),
  /** RFC 5626 CRLF keep-alive on TCP/TLS flows; 0 = off. */
  keepaliveIntervalSec: int(0, 3_600, 30),
  // --- DTMF (B-09) ---
  dtmfRfc2833: z.boolean().default(true),
  dtmfPayloadType: int(96, 127, 96),
  dtmfInfo: z.boolean().default(false),
  dtmfDurationMs: int(40, 2_000, 270),
  // --- MWI (B-10) ---
  mwi: z.boolean().default(true),
  mwiExpiresSec: int(60, 86_400, 3600),
  // --- media (B-05..B-08, B-11) ---
  codecs: z.array(z.enum(GATEWAY_CODECS)).min(1).max(6)
    .refine((l) => new Set(l).size === l.length, 'a codec is listed twice')
    .default(['PCMU', 'PCMA', 'G729']),
  g729a: z.boolean().default(false),
  answerPreferredCodec: z.boolean().default(false),
  answerSingleCodec: z.boolean().default(false),
  ignoreSdpVersion: z.boolean().default(false),
  srtp: z.boolean().default(true),
  requireSrtp: z.boolean().default(true),
  sdesLifetime: z.boolean().default(false),
  sdesMki: z.boolean().default(false),
  packetMs: int(10, 60, 20),
  // --- call status / transfer (B-12, B-13, EC-10) ---
  holdBeforeRefer: z.boolean().default(true),
  byeWithRefer: z.boolean().default(true),
  callWaiting: z.boolean().default(true),
  // --- security / Lync ---
  /** B-16: exports carry no upstream passwords unless asked (project default on). */
  stripPasswordsOnExport: z.boolean().default(true),
  /** D-06/B-19: authenticate to the upstream by mutual TLS as a trusted application; lines need no digest credentials. */
  trustedServer: z.boolean().default(false),
}).strict();
export type GatewaySettings = z.output<typeof gatewaySettingsSchema>;
export const GATEWAY_DEFAULTS: Readonly<GatewaySettings> = Object.freeze(gatewaySettingsSchema.parse({}));
/**
 * A PATCH body of `schema`: any subset of its keys, none defaulted. zod's
 * partial() keeps each key's default, so a key left out would come back as
 * its default and a PATCH would reset everything it did not name.
 */
function patchOf<S extends z.ZodObject>(schema: S): ReturnType<S['partial']> {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([k, s]) => [k, (s instanceof z.ZodDefault ? s.unwrap() : s).optional()]));
  return z.object(shape).strict() as unknown as ReturnType<S['partial']>;
}

/** PATCH body: any subset of the settings. */
export const gatewaySettingsPatchSchema = patchOf(gatewaySettingsSchema);
export type GatewaySettingsPatch = z.input<typeof gatewaySettingsPatchSchema>;

// --- proxies (B-02) ------------------------------------------------------------

export const MAX_PROXIES = 4;

/** `sip:HOST[:PORT][;transport=udp|tcp|tls]` or `sips:HOST[:PORT]`; no user part. */
export const PROXY_URI_RE = /^sips?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:;transport=(?:udp|tcp|tls))?(?:;lr)?$/i;

export const proxySchema = z.object({
  uri: z.string().regex(PROXY_URI_RE, 'must be sip:HOST[:PORT][;transport=udp|tcp|tls] or sips:HOST[:PORT]'),
  /** Lower is tried first (1-4 in B.1; we allow up to 65535 as SRV does). */
  priority: z.number().int().min(0).max(65_535).default(1),
  /** Share among proxies of equal priority. */
  weight: z.number().int().min(0).max(65_535).default(100),
}).strict();
export type ProxyInput = z.input<typeof proxySchema>;
export const proxyViewSchema = proxySchema.extend({ id: z.number().int() });
export type ProxyView = z.output<typeof proxyViewSchema>;

// --- lines (per user: the upstream account and the handset registry, B-14) ---

/** IPEI as the examples print it: 5 digits, a space, 7 digits (B.1). Also accepted without the space; stored with it. */
export function normaliseIpei(text: string): string | undefined {
  const m = /^\s*(\d{5})\s*(\d{7})\s*$/.exec(text);
  return m ? `${m[1]} ${m[2]}` : undefined;
}
export const ipeiSchema = z.string().transform((s, ctx) => {
  const v = normaliseIpei(s);
  if (v === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be an IPEI: 5 digits, a space, 7 digits (e.g. "05003 0733588")' });
    return z.NEVER;
  }
  return v;
});

/** The upstream user part: what the call server knows the handset as (41510, jim.kander). */
const UPSTREAM_USER_RE = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,128}$/;
const AUTH_USER_RE = /^[\x21\x23-\x39\x3b-\x5b\x5d-\x7e]{1,128}$/;

/** Fields an administrator writes (CLI `user set --upstream-*`, API, import). */
export const lineFieldSchemas = {
  upstreamUser: z.string().regex(UPSTREAM_USER_RE, 'must be a SIP user part (1-128 characters, no spaces or @)'),
  /** Registrar domain of this line; empty = the gateway's default domain. */
  upstreamDomain: z.union([sipHostSchema, z.literal('')]),
  /** Digest user; empty = upstreamUser. Unused in trusted-server mode. */
  authUser: z.union([z.string().regex(AUTH_USER_RE, 'must be 1-128 visible ASCII characters without quote, backslash or colon'), z.literal('')]),
  /** Digest password; write-only. Empty: none (trusted-server mode, or a stripped import). */
  password: text(0, 128),
  /** Display name upstream; empty = the local user's name. */
  displayName: text(0, 128),
  ipei: ipeiSchema.nullable(),
  accessCode: z.string().regex(/^[0-9]{0,8}$/, 'must be up to 8 digits').default(''),
  standbyText: text(0, 24),
  /** Line switched off (B.1 Disabled): not registered upstream. */
  disabled: z.boolean(),
};

export const lineInputSchema = z.object({
  extension: extensionSchema,
  upstreamUser: lineFieldSchemas.upstreamUser,
  upstreamDomain: lineFieldSchemas.upstreamDomain.default(''),
  authUser: lineFieldSchemas.authUser.default(''),
  password: lineFieldSchemas.password.default(''),
  displayName: lineFieldSchemas.displayName.default(''),
  ipei: lineFieldSchemas.ipei.default(null),
  accessCode: lineFieldSchemas.accessCode,
  standbyText: lineFieldSchemas.standbyText.default(''),
  disabled: lineFieldSchemas.disabled.default(false),
}).strict();
export type LineInput = z.input<typeof lineInputSchema>;
export const linePatchSchema = patchOf(lineInputSchema.omit({ extension: true }));
export type LinePatch = z.input<typeof linePatchSchema>;

/** What the handset reported when it subscribed (B-14 "fill in automatically"); read-only to administrators. */
export const handsetInfoSchema = z.object({
  model: z.string().max(64).default(''),
  firmware: z.string().max(64).default(''),
  baseStation: z.string().max(64).default(''),
}).strict();
export type HandsetInfo = z.output<typeof handsetInfoSchema>;

/** A line as the API shows it: no password, only whether one is set. */
export const lineViewSchema = z.object({
  extension: z.string(),
  userId: z.number().int(),
  upstreamUser: z.string(),
  upstreamDomain: z.string(),
  authUser: z.string(),
  hasPassword: z.boolean(),
  displayName: z.string(),
  ipei: z.string().nullable(),
  accessCode: z.string(),
  standbyText: z.string(),
  disabled: z.boolean(),
  handset: handsetInfoSchema,
  /** The local user's name (read-only here): the display name upstream when the line has none. */
  userName: z.string(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type LineView = z.output<typeof lineViewSchema>;

/** The display name a line uses upstream (REGISTER To/From, From of its calls): its own, else the local user's name. */
export function lineDisplayName(l: Pick<LineView, 'displayName' | 'userName'>): string {
  return l.displayName || l.userName;
}

/** The line has no display name of its own and uses the local user's name. */
export function inheritsUserName(l: Pick<LineView, 'displayName' | 'userName'>): boolean {
  return l.displayName === '' && l.userName !== '';
}

// --- runtime state (B-32, EC-04): what the lines manager reports -------------

export const REGISTRATION_STATES = ['disabled', 'waiting', 'registering', 'registered', 'failed'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];
export const SUBSCRIPTION_STATES = ['off', 'subscribing', 'active', 'failed'] as const;
export type MwiSubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/**
 * Why a line is not registered, as a technician reads it (B-32). `code`
 * is stable for scripts; `text` is the sentence shown in the list, API and log.
 */
export const FAILURE_CODES = [
  'wrong-password', // 401/403 after our credentials
  'not-found', // 404: no such user upstream
  'no-answer', // every proxy timed out (all blacklisted)
  'refused', // connection refused / unreachable
  'dns', // the domain or proxy does not resolve
  'tls-trust', // the upstream certificate's issuer is not trusted
  'tls-name', // the upstream certificate does not name the host dialled (D-07)
  'tls-version', // TLS version or suites not in common (EC-03)
  'clock', // a certificate outside its validity: our clock or theirs (EC-12)
  'tls-other',
  'rejected', // any other final status
  'no-domain', // neither the line nor the gateway has a domain
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export const lineStatusSchema = z.object({
  extension: z.string(),
  upstreamUser: z.string(),
  aor: z.string(),
  /** The display name sent upstream (lineDisplayName); inherited: it is the local user's name (the line has none). */
  displayName: z.string(),
  displayNameInherited: z.boolean(),
  registration: z.enum(REGISTRATION_STATES),
  /** The proxy (or domain target) that accepted the registration, as "transport:host:port". */
  registeredVia: z.string().nullable(),
  expiresAt: z.number().int().nullable(),
  failure: z.object({ code: z.enum(FAILURE_CODES), text: z.string(), at: z.number().int(), status: z.number().int() }).nullable(),
  mwi: z.enum(SUBSCRIPTION_STATES),
  /** Messages waiting upstream (from the last NOTIFY), when subscribed. */
  messagesWaiting: z.boolean().nullable(),
  /** Handset subscribed = has an IPEI and its phone is registered locally. */
  subscribed: z.boolean(),
  /** Epoch ms of the latest SIP activity of the line or its handset. */
  latestActivity: z.number().int().nullable(),
});
export type LineStatus = z.output<typeof lineStatusSchema>;

/** SPEC B.1 "List Users" overview counters. */
export const gatewayCountersSchema = z.object({
  sipUsers: z.number().int(),
  subscribed: z.number().int(),
  registered: z.number().int(),
  total: z.number().int(),
});
export type GatewayCounters = z.output<typeof gatewayCountersSchema>;

export const gatewayStatusSchema = z.object({
  mode: z.enum(GATEWAY_MODES),
  profile: z.string(),
  counters: gatewayCountersSchema,
  proxies: z.array(z.object({
    uri: z.string(), priority: z.number().int(), weight: z.number().int(),
    /** Resolved targets and whether each is blacklisted now. */
    targets: z.array(z.object({ target: z.string(), blacklistedUntil: z.number().int().nullable() })),
  })),
  lines: z.array(lineStatusSchema),
});
export type GatewayStatus = z.output<typeof gatewayStatusSchema>;

// The trunk model (SPEC 1.A "Trunk"): an outbound SIP peer and the dialled
// numbers routed to it, plus the inbound numbers (DIDs) routed to extensions.
// Every rule and default of their fields lives here: the store validates
// writes with these schemas (src/store/trunk-validate.ts), the API validates
// requests and documents them with the same objects, and the web UI's types
// are the view schema's output. No Node imports: the web UI type-checks it.
import { z } from 'zod';
import { CONTROL_RE, extensionSchema } from './common.ts';

export const TRUNK_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type TrunkTransport = (typeof TRUNK_TRANSPORTS)[number];
export const STRIP_RANGE = [0, 32] as const;

export function defaultPort(transport: TrunkTransport): number {
  return transport === 'tls' ? 5061 : 5060;
}

/** Defaults of add(); the port defaults to defaultPort(transport). */
export const TRUNK_DEFAULTS = Object.freeze({
  transport: 'udp' as TrunkTransport,
  registerUser: null,
  registerPassword: null,
  outboundProxy: null,
  prefix: '',
  strip: 0,
  addPrefix: '',
  fallbackTrunk: null,
  probeIntervalSec: null,
  enabled: true,
});

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
// Visible ASCII without '"', '\' or ':', as for user auth names: the digest
// username is a quoted-string and part of "user:realm:pass".
const DIGEST_USER_RE = /^[\x21\x23-\x39\x3b-\x5b\x5d-\x7e]{1,128}$/;
const ipv4 = z.ipv4();
const ipv6 = z.ipv6();

/** A host name, IPv4 address or IPv6 address (brackets optional, dropped). Null when unusable. */
export function parseHost(value: string): string | null {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (ipv6.safeParse(bare).success) return bare;
  if (bare !== value) return null;
  if (ipv4.safeParse(value).success) return value;
  // All-numeric labels that are not an IPv4 address (999.1.1.1, 10.1) are typos, not names.
  if (/^[0-9.]+$/.test(value)) return null;
  return value.length <= 253 && HOSTNAME_RE.test(value) ? value : null;
}

/** "HOST:PORT" with an IPv6 address in brackets; a bare IPv6 address would make the port ambiguous. */
export function isHostPort(s: string): boolean {
  const colon = s.lastIndexOf(':');
  if (colon <= 0) return false;
  const h = s.slice(0, colon);
  const p = s.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) return false;
  return !ipv6.safeParse(h).success && parseHost(h) !== null;
}

const TRUNK_NAME_RULE = 'must be 1-64 letters, digits or _.-';
export const trunkNameSchema = z.string({ error: TRUNK_NAME_RULE }).regex(/^[A-Za-z0-9_.-]{1,64}$/, TRUNK_NAME_RULE);

const hostRule = 'must be a host name or an IPv4/IPv6 address';
const portRule = 'must be an integer from 1 to 65535';
const stripRule = `must be an integer from ${STRIP_RANGE[0]} to ${STRIP_RANGE[1]}`;
const bool = () => z.boolean({ error: 'must be true or false' });
const probeRule = 'must be 0 (not probed) or an integer from 5 to 3600, or null for the system default';

/** Every field of a trunk as stored (before id and timestamps). */
export const trunkFieldSchemas = {
  name: trunkNameSchema,
  host: z.string({ error: hostRule }).refine((s) => parseHost(s) !== null, hostRule)
    .overwrite((s) => parseHost(s) ?? s)
    .describe('host name or IPv4/IPv6 address of the peer; brackets around IPv6 are dropped'),
  port: z.number({ error: portRule }).int(portRule).min(1, portRule).max(65535, portRule)
    .describe('default 5060, or 5061 for tls'),
  transport: z.enum(TRUNK_TRANSPORTS, { error: 'must be udp, tcp or tls' }),
  registerUser: z.string().regex(DIGEST_USER_RE, 'must be 1-128 visible ASCII characters without quote, backslash or colon, or null')
    .nullable().describe('digest user name for registering and answering challenges; null = none (set with registerPassword)'),
  registerPassword: z.string().min(1).max(128).refine((s) => !CONTROL_RE.test(s), 'must not contain control characters')
    .nullable().describe('write-only; null = none (set with registerUser)'),
  outboundProxy: z.string().refine(isHostPort, 'must be HOST:PORT, an IPv6 address in brackets ([ADDR]:PORT)').nullable()
    .describe('HOST:PORT to send requests to instead of host:port; null = none'),
  prefix: z.string().regex(/^[0-9+*#]{0,32}$/, "must be 0-32 characters, each one of digits, '+', '*' or '#'")
    .describe("dialled numbers starting with this go out here ('' = every number no longer prefix takes)"),
  strip: z.number({ error: stripRule }).int(stripRule).min(STRIP_RANGE[0], stripRule).max(STRIP_RANGE[1], stripRule)
    .describe('digits removed from the front of the dialled number'),
  addPrefix: z.string().regex(/^[0-9+]{0,32}$/, "must be 0-32 characters, each one of digits or '+'")
    .describe('digits put in front after stripping'),
  fallbackTrunk: trunkNameSchema.nullable()
    .describe("trunk that takes this one's calls while it is down (no answer to OPTIONS), with its own strip and addPrefix; " +
      'its own fallback follows if it is down too; null = none: such calls get 503 at once'),
  probeIntervalSec: z.number({ error: probeRule }).int(probeRule).refine((n) => n === 0 || (n >= 5 && n <= 3600), probeRule).nullable()
    .describe('seconds between OPTIONS probes of this trunk; null = the system default (trunkHealth.intervalSec); ' +
      '0 = not probed (for a peer that ignores OPTIONS: never marked down)'),
  enabled: bool(),
};

/** A whole stored trunk's fields: the store validates the merged result of every write with it. */
export const storedTrunkSchema = z.object(trunkFieldSchemas);

const optional = Object.fromEntries(Object.entries(trunkFieldSchemas).map(([k, v]) => [k, v.optional()])) as {
  [K in keyof typeof trunkFieldSchemas]: z.ZodOptional<(typeof trunkFieldSchemas)[K]>
};

/** POST body and store add() input: name and host required, the rest defaulted (TRUNK_DEFAULTS, port by transport). */
export const trunkCreateSchema = z.object({ ...optional, name: trunkFieldSchemas.name, host: trunkFieldSchemas.host }).strict();
export const trunkPatchSchema = z.object(optional).strict();
export type TrunkCreate = z.input<typeof trunkCreateSchema>;
export type TrunkPatch = z.input<typeof trunkPatchSchema>;
export type TrunkFields = z.output<typeof storedTrunkSchema>;

/** The registration user and password go together; a trunk is no fallback of itself. */
export function trunkProblem(f: Pick<TrunkFields, 'registerUser' | 'registerPassword'> & Partial<Pick<TrunkFields, 'name' | 'fallbackTrunk'>>): { field: string; message: string } | null {
  if (f.fallbackTrunk != null && f.fallbackTrunk === f.name) return { field: 'fallbackTrunk', message: 'a trunk cannot be its own fallback' };
  if ((f.registerUser === null) === (f.registerPassword === null)) return null;
  return { field: f.registerUser === null ? 'registerUser' : 'registerPassword', message: 'the register user and password go together: set both or neither' };
}

/** A trunk as the API shows it: the registration password is write-only, the view only says whether one is set. */
export const trunkViewSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  transport: z.enum(TRUNK_TRANSPORTS),
  registerUser: z.string().nullable(),
  hasRegisterPassword: z.boolean(),
  outboundProxy: z.string().nullable(),
  prefix: z.string(),
  strip: z.number().int(),
  addPrefix: z.string(),
  fallbackTrunk: z.string().nullable(),
  probeIntervalSec: z.number().int().nullable(),
  enabled: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type TrunkView = z.output<typeof trunkViewSchema>;

/** The view of a stored trunk. */
export function trunkView(t: TrunkFields & { id: number; createdAt: number; updatedAt: number }): TrunkView {
  const { registerPassword, ...rest } = t;
  return { ...rest, hasRegisterPassword: registerPassword !== null };
}

// --- inbound numbers (DIDs) ---------------------------------------------------

export const didNumberSchema = z.string({ error: "must be 1-32 digits, optionally after a '+'" })
  .regex(/^\+?[0-9]{1,32}$/, "must be 1-32 digits, optionally after a '+'");
export const didCreateSchema = z.object({ number: didNumberSchema, extension: extensionSchema.describe("a user's extension, or an IVR menu's number") }).strict();
export const didViewSchema = z.object({ number: z.string(), extension: z.string(), createdAt: z.number().int() });
export type DidView = z.output<typeof didViewSchema>;

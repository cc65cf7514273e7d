// Validation of trunk and DID fields, shared by every store implementation
// (like user-validate.ts). Administrative writes only, never the SIP path.
import { isIP } from 'node:net';
import { StoreError } from './errors.ts';
import type { Trunk, TrunkInput, TrunkTransport } from './types.ts';

/** A trunk as written to storage, before id and timestamps. */
export type TrunkFields = Omit<Trunk, 'id' | 'createdAt' | 'updatedAt'>;

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
// Visible ASCII without '"', '\' or ':', as for user auth names: the digest
// username is a quoted-string and part of "user:realm:pass".
const DIGEST_USER_RE = /^[\x21\x23-\x39\x3b-\x5b\x5d-\x7e]{1,128}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f]/;
const PREFIX_RE = /^[0-9+*#]{0,32}$/;
const ADD_PREFIX_RE = /^[0-9+]{0,32}$/;
const DID_RE = /^\+?[0-9]{1,32}$/;
const TRANSPORTS: readonly TrunkTransport[] = ['udp', 'tcp', 'tls'];

function invalid(field: string, message: string): never {
  throw new StoreError('invalid', field, `${field}: ${message}`);
}

export function defaultPort(transport: TrunkTransport): number {
  return transport === 'tls' ? 5061 : 5060;
}

function trunkName(value: unknown): string {
  if (typeof value !== 'string' || !NAME_RE.test(value)) invalid('name', 'must be 1-64 letters, digits or _.-');
  return value;
}

/** A host name, IPv4 address or IPv6 address (brackets optional, dropped). Null when unusable. */
function parseHost(value: string): string | null {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(bare) === 6) return bare;
  if (bare !== value) return null;
  if (isIP(value) === 4) return value;
  // All-numeric labels that are not an IPv4 address (999.1.1.1, 10.1) are typos, not names.
  if (/^[0-9.]+$/.test(value)) return null;
  return value.length <= 253 && HOSTNAME_RE.test(value) ? value : null;
}

function host(value: unknown): string {
  const h = typeof value === 'string' ? parseHost(value) : null;
  if (h === null) invalid('host', 'must be a host name or an IPv4/IPv6 address');
  return h;
}

function port(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    invalid(field, 'must be an integer from 1 to 65535');
  }
  return value;
}

function transport(value: unknown): TrunkTransport {
  const t = typeof value === 'string' ? value.toLowerCase() : value;
  if (!TRANSPORTS.includes(t as TrunkTransport)) invalid('transport', 'must be udp, tcp or tls');
  return t as TrunkTransport;
}

function registerUser(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !DIGEST_USER_RE.test(value)) {
    invalid('registerUser', 'must be 1-128 visible ASCII characters without quote, backslash or colon, or null');
  }
  return value;
}

function registerPassword(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length < 1 || value.length > 128 || CONTROL_RE.test(value)) {
    invalid('registerPassword', 'must be 1-128 characters without control characters, or null');
  }
  return value;
}

/** "HOST:PORT", IPv6 in brackets. */
function outboundProxy(value: unknown): string | null {
  if (value === null) return null;
  const bad = () => invalid('outboundProxy', 'must be HOST:PORT, an IPv6 address in brackets ([ADDR]:PORT)');
  if (typeof value !== 'string') bad();
  const s = value as string;
  const colon = s.lastIndexOf(':');
  if (colon <= 0) bad();
  const h = s.slice(0, colon);
  const p = s.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) bad();
  // A bare IPv6 address would make the port ambiguous.
  if (isIP(h) === 6 || parseHost(h) === null) bad();
  return s;
}

function pattern(field: string, value: unknown, re: RegExp, what: string): string {
  if (typeof value !== 'string' || !re.test(value)) invalid(field, `must be 0-32 characters, each one of ${what}`);
  return value;
}

function strip(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 32) {
    invalid('strip', 'must be an integer from 0 to 32');
  }
  return value;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(field, 'must be true or false');
  return value;
}

function check(f: TrunkFields): TrunkFields {
  if ((f.registerUser === null) !== (f.registerPassword === null)) {
    invalid(f.registerUser === null ? 'registerUser' : 'registerPassword', 'the register user and password go together: set both or neither');
  }
  return f;
}

/** Fields of a trunk built from an add() input, defaults applied. @throws StoreError invalid */
export function newTrunkFields(input: TrunkInput): TrunkFields {
  if (input === null || typeof input !== 'object') invalid('trunk', 'must be an object');
  const t = transport(input.transport ?? 'udp');
  return check({
    name: trunkName(input.name),
    host: host(input.host),
    port: port('port', input.port ?? defaultPort(t)),
    transport: t,
    registerUser: registerUser(input.registerUser ?? null),
    registerPassword: registerPassword(input.registerPassword ?? null),
    outboundProxy: outboundProxy(input.outboundProxy ?? null),
    prefix: pattern('prefix', input.prefix ?? '', PREFIX_RE, "digits, '+', '*' or '#'"),
    strip: strip(input.strip ?? 0),
    addPrefix: pattern('addPrefix', input.addPrefix ?? '', ADD_PREFIX_RE, "digits or '+'"),
    enabled: bool('enabled', input.enabled ?? true),
  });
}

/** Fields of an existing trunk with a patch applied (undefined keeps a field). @throws StoreError invalid */
export function patchedTrunkFields(current: Trunk, patch: Partial<TrunkInput>): TrunkFields {
  if (patch === null || typeof patch !== 'object') invalid('trunk', 'must be an object');
  const pick = <K extends keyof TrunkFields>(k: K): unknown => (patch[k] === undefined ? current[k] : patch[k]);
  return check({
    name: trunkName(pick('name')),
    host: host(pick('host')),
    port: port('port', pick('port')),
    transport: transport(pick('transport')),
    registerUser: registerUser(pick('registerUser')),
    registerPassword: registerPassword(pick('registerPassword')),
    outboundProxy: outboundProxy(pick('outboundProxy')),
    prefix: pattern('prefix', pick('prefix'), PREFIX_RE, "digits, '+', '*' or '#'"),
    strip: strip(pick('strip')),
    addPrefix: pattern('addPrefix', pick('addPrefix'), ADD_PREFIX_RE, "digits or '+'"),
    enabled: bool('enabled', pick('enabled')),
  });
}

/** @throws StoreError invalid (field 'number') */
export function validDidNumber(value: unknown): string {
  if (typeof value !== 'string' || !DID_RE.test(value)) invalid('number', "must be 1-32 digits, optionally after a '+'");
  return value;
}

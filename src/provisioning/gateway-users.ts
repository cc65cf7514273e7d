// The handset gateway's users file (SPEC §5.8, B-16, Appendix A #14): one
// record per handset user (IPEI, access code, standby text, username, domain,
// display name, authentication user and password, call-forward target,
// flags, and the local extension), as CSV or JSON, written from Switchboard
// users and their gateway lines and read back.
//
// - Written from a user without a line: username = extension, displayName =
//   name, authUser, callForward = the unconditional forward, disabled = not
//   enabled; the standby text is the name, or the extension when there is
//   none (B.1: "e.g. extension or the user's name"); IPEI and access code
//   empty. With a line (issue 15), username, domain, authUser, password,
//   IPEI, access code, standby text and display name come from the line.
//   DECT-to-DECT and admin rights are not held: false. The domain is empty
//   (the gateway's default domain) unless one is given.
// - Passwords are left out unless asked for (B-16, §4.7, project default on):
//   the CSV has no authPassword column, the JSON no authPassword keys.
// - CSV cells that a spreadsheet would take for a formula are guarded with a
//   ' on writing (as the user export does, src/model/user-csv.ts) and the
//   guard is taken off on reading; an unguarded one is refused.
// - Reading (Appendix A #14): a record without a password keeps the stored
//   password of the same username; a new user without one starts disabled and
//   is reported as needing a password. A callForward left out (no such column
//   or key) is null, "not given"; an empty one means no forward.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { extensionSchema, targetSchema, textSchema } from '../model/common.ts';
import { userFieldSchemas } from '../model/user.ts';
import { cellText, delimiterOf, unguard } from '../model/user-csv.ts';
import { lineFieldSchemas } from '../model/gateway.ts';
import type { LineWithSecret } from '../store/gateway-types.ts';
import { hostSchema } from './host.ts';

/** What a spreadsheet takes for a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** SPEC §3.1: the largest gateway (6500 / virtual) holds 4,096 handset users. */
export const MAX_GATEWAY_USERS = 4096;
/** A file larger than this is refused before it is parsed. */
export const MAX_GATEWAY_FILE_BYTES = 8 * 1024 * 1024;

export const GATEWAY_USER_COLUMNS = ['ipei', 'accessCode', 'standbyText', 'username', 'domain', 'displayName',
  'authUser', 'authPassword', 'callForward', 'disabled', 'dectToDect', 'adminRights', 'extension'] as const;
type Column = (typeof GATEWAY_USER_COLUMNS)[number];
const FLAG_COLUMNS: readonly Column[] = ['disabled', 'dectToDect', 'adminRights'];

/** IPEI as B.1 shows it, "05003 0733588"; read with or without the space. */
const ipeiSchema = z.string().regex(/^(\d{5} ?\d{7})?$/, 'must be an IPEI: 5 digits, a space, 7 digits (e.g. 05003 0733588), or empty')
  .transform((s) => (s === '' ? s : `${s.slice(0, 5)} ${s.slice(-7)}`));
const orEmpty = <T extends z.ZodType<string>>(s: T) => z.union([z.literal(''), s]);

/**
 * One gateway user; authPassword null = not in the file (stripped, or never
 * set). username, authUser and authPassword are the account the handset's
 * calls register with upstream (a line's, or the user's own on Switchboard);
 * extension is the local user (empty: the username).
 */
export const gatewayUserSchema = z.object({
  ipei: ipeiSchema,
  accessCode: z.string().regex(/^\d{0,8}$/, 'must be up to 8 digits, or empty'),
  standbyText: textSchema(0, 128),
  username: lineFieldSchemas.upstreamUser,
  domain: orEmpty(hostSchema),
  displayName: userFieldSchemas.name,
  authUser: lineFieldSchemas.authUser,
  authPassword: lineFieldSchemas.password.min(1).nullable(),
  callForward: orEmpty(targetSchema).nullable(),
  disabled: z.boolean(),
  dectToDect: z.boolean(),
  adminRights: z.boolean(),
  extension: orEmpty(extensionSchema),
}).strict();
export type GatewayUser = z.output<typeof gatewayUserSchema>;

/** The Switchboard user fields the file is written from. */
export interface GatewayUserSource {
  extension: string;
  name: string;
  authUser: string;
  password: string;
  enabled: boolean;
  forwardUnconditional: string | null;
}

/** The gateway line of a user (src/model/gateway.ts), with its password. */
export type GatewayLineSource = Pick<LineWithSecret, 'upstreamUser' | 'upstreamDomain' | 'authUser' | 'password' | 'displayName'
  | 'ipei' | 'accessCode' | 'standbyText' | 'disabled'>;

/**
 * A user without a line registers to Switchboard itself (username = its
 * extension); with a line, the record is the line's upstream account and the
 * handset fields, the user's name and extension filling what the line leaves empty.
 */
export function gatewayUserOf(u: GatewayUserSource, domain = '', line?: GatewayLineSource): GatewayUser {
  const own: GatewayUser = {
    ipei: '', accessCode: '', standbyText: u.name || u.extension, username: u.extension, domain,
    displayName: u.name, authUser: u.authUser, authPassword: u.password, callForward: u.forwardUnconditional ?? '',
    disabled: !u.enabled, dectToDect: false, adminRights: false, extension: u.extension,
  };
  if (!line) return own;
  return {
    ...own,
    ipei: line.ipei ?? '', accessCode: line.accessCode, standbyText: line.standbyText || own.standbyText,
    username: line.upstreamUser, domain: line.upstreamDomain || domain, displayName: line.displayName || u.name,
    authUser: line.authUser, authPassword: line.password || null, disabled: line.disabled || !u.enabled,
  };
}

const columnsFor = (withPasswords: boolean) => GATEWAY_USER_COLUMNS.filter((c) => withPasswords || c !== 'authPassword');

/** CSV with a header row, CRLF, formula cells guarded; passwords only withPasswords (B-16). */
export function gatewayUsersToCsv(users: readonly GatewayUser[], withPasswords: boolean): string {
  const cols = columnsFor(withPasswords);
  const rows = users.map((u) => cols.map((c) => cellText(u[c])));
  return stringify([cols, ...rows], { record_delimiter: 'windows', quoted_match: /[\r\n;]|^\s|\s$/ });
}

export const GATEWAY_USERS_FORMAT = 'switchboard-gateway-users';

/** JSON: { format, version, passwords, users }; a user's authPassword only withPasswords. */
export function gatewayUsersToJson(users: readonly GatewayUser[], withPasswords: boolean): string {
  const cols = columnsFor(withPasswords);
  const list = users.map((u) => Object.fromEntries(cols.filter((c) => u[c] !== null).map((c) => [c, u[c]])));
  return `${JSON.stringify({ format: GATEWAY_USERS_FORMAT, version: 1, passwords: withPasswords, users: list }, null, 2)}\n`;
}

/** The whole file is unusable (not CSV/JSON, no username column, too big). */
export class GatewayUsersError extends Error {}

export interface GatewayUsersRowError {
  /** CSV record number (header = 1) or JSON position (first user = 1). */
  row: number;
  username: string;
  message: string;
}

export interface GatewayUsersFile {
  users: GatewayUser[];
  errors: GatewayUsersRowError[];
}

const FLAGS = new Map([['true', true], ['yes', true], ['on', true], ['1', true], ['false', false], ['no', false], ['off', false], ['0', false], ['', false]]);

/** A CSV row as the record's fields: cells unguarded and trimmed, flags as booleans. */
function csvRecord(cols: readonly Column[], cells: readonly string[]): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  cols.forEach((c, i) => {
    const raw = (cells[i] ?? '').trim();
    // A cell a spreadsheet would evaluate is refused, not imported as text: our export guards such text with a '.
    if (FORMULA_START.test(raw)) throw new Error(`${c}: a spreadsheet formula is not allowed (the cell starts with ${JSON.stringify(raw[0])}; write '${raw[0]} for text)`);
    const text = unguard(raw);
    if (FLAG_COLUMNS.includes(c)) {
      const flag = FLAGS.get(text.toLowerCase());
      if (flag === undefined) throw new Error(`${c}: must be true or false`);
      rec[c] = flag;
    } else {
      rec[c] = text;
    }
  });
  return withDefaults(rec);
}

/**
 * A field left out is empty (a flag false); an empty or absent password is "not given" (null), and so is an absent
 * callForward: a file without that column must not clear the users' forwards.
 */
function withDefaults(rec: Record<string, unknown>): Record<string, unknown> {
  const out = { ...rec };
  if (out.callForward === undefined) out.callForward = null;
  for (const c of GATEWAY_USER_COLUMNS) if (out[c] === undefined) out[c] = FLAG_COLUMNS.includes(c) ? false : '';
  if (out.authPassword === '') out.authPassword = null;
  return out;
}

function csvRows(text: string): { cols: Column[]; rows: string[][] } {
  let records: string[][];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, delimiter: delimiterOf(text) }) as string[][];
  } catch (err) {
    throw new GatewayUsersError(`not a CSV file: ${(err as Error).message}`);
  }
  const [head, ...rows] = records;
  if (!head) throw new GatewayUsersError('the file is empty');
  const cols = head.map((h) => {
    const col = GATEWAY_USER_COLUMNS.find((c) => c.toLowerCase() === h.trim().toLowerCase());
    if (!col) throw new GatewayUsersError(`unknown column "${h.trim()}" in the header (columns: ${GATEWAY_USER_COLUMNS.join(', ')})`);
    return col;
  });
  if (new Set(cols).size !== cols.length) throw new GatewayUsersError('a column appears twice in the header');
  if (!cols.includes('username')) throw new GatewayUsersError('the header must name the column username');
  return { cols, rows };
}

function jsonRecords(text: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new GatewayUsersError(`not a JSON file: ${(err as Error).message}`);
  }
  const users = Array.isArray(doc) ? doc : (doc as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) throw new GatewayUsersError('a JSON file must be a list of users or an object with a "users" list');
  return users;
}

/**
 * The users of a CSV or JSON file (JSON when it starts with { or [), each
 * checked; bad records are reported with their row and left out, as is a
 * username seen before.
 * @throws GatewayUsersError when the file as a whole cannot be read
 */
export function parseGatewayUsers(text: string): GatewayUsersFile {
  if (Buffer.byteLength(text) > MAX_GATEWAY_FILE_BYTES) throw new GatewayUsersError(`the file is larger than ${MAX_GATEWAY_FILE_BYTES} bytes`);
  const isJson = /^\ufeff?\s*[[{]/.test(text);
  let entries: { row: number; username: string; read: () => unknown }[];
  if (isJson) {
    entries = jsonRecords(text.replace(/^\ufeff/, '')).map((r, i) => ({
      row: i + 1,
      username: String((r as { username?: unknown } | null)?.username ?? ''),
      read: () => (r !== null && typeof r === 'object' && !Array.isArray(r) ? withDefaults(r as Record<string, unknown>) : r),
    }));
  } else {
    const { cols, rows } = csvRows(text);
    const at = cols.indexOf('username');
    entries = rows.map((cells, i) => ({ row: i + 2, username: unguard((cells[at] ?? '').trim()), read: () => csvRecord(cols, cells) }));
  }
  if (entries.length > MAX_GATEWAY_USERS) throw new GatewayUsersError(`the file holds ${entries.length} users; a gateway takes at most ${MAX_GATEWAY_USERS}`);

  const out: GatewayUsersFile = { users: [], errors: [] };
  const seen = new Set<string>();
  for (const { row, username, read } of entries) {
    try {
      const parsed = gatewayUserSchema.safeParse(read());
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; '));
      const key = parsed.data.extension || parsed.data.username;
      if (seen.has(key)) throw new Error(`${parsed.data.extension ? 'extension' : 'username'} ${key} appears twice`);
      seen.add(key);
      out.users.push(parsed.data);
    } catch (err) {
      out.errors.push({ row, username, message: (err as Error).message });
    }
  }
  return out;
}

export interface GatewayImportPlan {
  /** The users to store, each with a password or disabled. */
  users: GatewayUser[];
  /** Usernames that came without a password and keep the stored one. */
  kept: string[];
  /** New usernames without a password: stored disabled until one is set. */
  needPassword: string[];
}

/**
 * Appendix A #14: a record without a password keeps the password stored for
 * its username; one with no stored password is disabled and reported.
 */
export function withStoredPasswords(users: readonly GatewayUser[], storedPassword: (username: string) => string | null | undefined): GatewayImportPlan {
  const plan: GatewayImportPlan = { users: [], kept: [], needPassword: [] };
  for (const u of users) {
    if (u.authPassword !== null) {
      plan.users.push(u);
      continue;
    }
    const stored = storedPassword(u.username);
    if (stored) {
      plan.users.push({ ...u, authPassword: stored });
      plan.kept.push(u.username);
    } else {
      plan.users.push({ ...u, disabled: true });
      plan.needPassword.push(u.username);
    }
  }
  return plan;
}

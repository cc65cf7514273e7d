// Users as the API shows them, and as CSV/JSON files for import and export.
// CSV is the one dialect of src/model/user-csv.ts (the CLI's import reads it
// too), so an exported file imports back through either.
import { MEDIA_KEYS } from '../model/user.ts';
import { USER_CSV_FIELDS, usersToCsv, type UserCsvRow } from '../model/user-csv.ts';
import { USER_FEATURE_KEYS } from '../model/user-features.ts';
import type { UserView } from '../model/user.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { User, UserRepository } from '../store/types.ts';
import { ApiError } from './errors.ts';

/** A user without its secrets (SPEC 4.1: login and voicemail codes are never shown). */
export function userView(u: User): UserView {
  return {
    id: u.id,
    extension: u.extension,
    name: u.name,
    authUser: u.authUser,
    hasVoicemailCode: u.voicemailCode !== null,
    enabled: u.enabled,
    callWaiting: u.callWaiting,
    codecs: u.codecs === null ? null : [...u.codecs],
    maxCalls: u.maxCalls,
    noAnswerTimeoutSec: u.noAnswerTimeoutSec,
    outboundCalls: u.outboundCalls ?? false,
    voicemail: u.voicemail ?? true,
    mwi: u.mwi ?? 'subscribe',
    media: { ...u.media },
    ...Object.fromEntries(USER_FEATURE_KEYS.map((k) => [k, u[k]])) as Pick<UserView, (typeof USER_FEATURE_KEYS)[number]>,
    dndExceptions: [...u.dndExceptions],
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

const SECRETS: readonly string[] = ['password', 'voicemailCode'];

/** The import form of a user (JSON): every writable field, secrets only when asked for; media only the user's own keys. */
export function exportRecord(u: User, withSecrets: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of USER_CSV_FIELDS) {
    if (!withSecrets && SECRETS.includes(c)) continue;
    const v = u[c];
    out[c] = Array.isArray(v) ? [...v] : v;
  }
  out.media = { ...u.media };
  return out;
}

export function toCsv(users: readonly User[], withSecrets: boolean): string {
  return usersToCsv(users.map((u) => exportRecord(u, withSecrets)), withSecrets);
}

/** Users per read of an export: a few milliseconds of reading and writing. */
const EXPORT_PAGE = 250;

/** Every user, a page at a time by id, the event loop turning between pages. */
async function* userPages(users: UserRepository): AsyncGenerator<User[]> {
  let after = 0;
  for (;;) {
    const page = await users.afterId(after, EXPORT_PAGE);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!.id;
    await nextTurn();
  }
}

/**
 * An export file written as it is read, in the order the users were
 * created: CSV (src/model/user-csv.ts) or a JSON array of import records.
 */
export async function* exportPieces(users: UserRepository, format: 'csv' | 'json', withSecrets: boolean): AsyncGenerator<string> {
  let first = true;
  if (format === 'csv') yield usersToCsv([], withSecrets);
  else yield '[';
  for await (const page of userPages(users)) {
    const records = page.map((u) => exportRecord(u, withSecrets));
    if (format === 'csv') {
      yield usersToCsv(records, withSecrets, false);
    } else {
      yield `${first ? '' : ','}${records.map((r) => JSON.stringify(r)).join(',')}`;
      first = false;
    }
  }
  if (format === 'json') yield ']';
}

/** One row of an import: its number in the file and the fields it sets, or why it cannot be read. */
export type ImportRow = UserCsvRow;

/** Rows of a JSON import: an array of user objects, or {users: [...]}. */
export function jsonRows(body: unknown): ImportRow[] {
  const list = Array.isArray(body) ? body : (body as { users?: unknown } | null)?.users;
  if (!Array.isArray(list)) throw fileError('expected a JSON array of users, or {"users": [...]}');
  return list.map((item: unknown, i) => {
    const fields = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : null;
    const ext = fields && typeof fields.extension === 'string' ? fields.extension : '';
    if (!fields) return { row: i + 1, extension: '', fields: {}, error: 'must be an object' };
    return { row: i + 1, extension: ext, fields: wholeMedia(oneName(fields, ext)) };
  });
}

/**
 * A record from before the account name merged into the display name (it has
 * fullName): fullName is the display name; the old account name counts only
 * where fullName is empty and it is not just the extension, as the store
 * migration decided (see src/model/user-csv.ts).
 */
function oneName(fields: Record<string, unknown>, extension: string): Record<string, unknown> {
  if (!('fullName' in fields)) return fields;
  const { fullName, name, ...rest } = fields;
  const display = fullName !== '' && fullName !== null ? fullName : name !== extension && name !== '' ? name : undefined;
  return display === undefined ? rest : { ...rest, name: display };
}

/**
 * A media object in a file is the user's whole media settings, as exported:
 * a key left out follows the system (so an import is not a merge).
 */
function wholeMedia(fields: Record<string, unknown>): Record<string, unknown> {
  const m = fields.media;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return fields;
  const media: Record<string, unknown> = Object.fromEntries(MEDIA_KEYS.map((k) => [k, null]));
  return { ...fields, media: { ...media, ...(m as Record<string, unknown>) } };
}

/** A file that cannot be imported at all: 400. */
export function fileError(message: string): ApiError {
  return new ApiError(400, 'validation', `file: ${message}`, { issues: [{ path: 'file', in: 'body', message }] });
}

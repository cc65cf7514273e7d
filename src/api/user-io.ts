// Users as the API shows them, and as CSV/JSON files for import and export.
// Export and import use the same columns, so an exported file imports back.
import { parseCsv } from '../store/csv.ts';
import { MEDIA_KEYS } from '../store/user-validate.ts';
import { USER_FEATURE_KEYS } from '../model/user-features.ts';
import type { User } from '../store/types.ts';
import { ApiError } from './errors.ts';

function featuresOf(u: User) {
  return { ...Object.fromEntries(USER_FEATURE_KEYS.map((k) => [k, u[k]])), dndExceptions: [...u.dndExceptions] } as
    { [K in (typeof USER_FEATURE_KEYS)[number]]: K extends 'dndExceptions' ? string[] : User[K] };
}

/** A user without its secrets (SPEC 4.1: login and voicemail codes are never shown). */
export function userView(u: User) {
  return {
    id: u.id,
    extension: u.extension,
    name: u.name,
    fullName: u.fullName,
    authUser: u.authUser,
    hasVoicemailCode: u.voicemailCode !== null,
    enabled: u.enabled,
    callWaiting: u.callWaiting,
    codecs: u.codecs === null ? null : [...u.codecs],
    maxCalls: u.maxCalls,
    noAnswerTimeoutSec: u.noAnswerTimeoutSec,
    outboundCalls: u.outboundCalls ?? false,
    media: { ...u.media },
    ...featuresOf(u),
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

type Field = 'extension' | 'name' | 'fullName' | 'authUser' | 'password' | 'voicemailCode' | 'enabled' | 'callWaiting'
  | 'codecs' | 'maxCalls' | 'noAnswerTimeoutSec' | 'outboundCalls';
type MediaKey = (typeof MEDIA_KEYS)[number];
/** CSV has one column per media key ("media.security"); JSON carries the media object as it is. */
type Column = Field | `media.${MediaKey}`;
const SECRET_COLUMNS: readonly Column[] = ['password', 'voicemailCode'];
const FIELDS: readonly Field[] = ['extension', 'name', 'fullName', 'authUser', 'password', 'voicemailCode', 'enabled',
  'callWaiting', 'codecs', 'maxCalls', 'noAnswerTimeoutSec', 'outboundCalls'];
const MEDIA_COLUMNS = MEDIA_KEYS.map((k) => `media.${k}` as const);
const COLUMNS: readonly Column[] = [...FIELDS, ...MEDIA_COLUMNS];
const BOOL_COLUMNS = new Set<Column>(['enabled', 'callWaiting', 'outboundCalls', 'media.directMedia', 'media.capneg']);
const INT_COLUMNS = new Set<Column>(['maxCalls', 'noAnswerTimeoutSec']);
// The store's CSV import and the source product's column names, besides our own.
const ALIASES: Record<string, Column> = { logincode: 'password', displayname: 'fullName' };

const isMediaColumn = (c: Column): c is `media.${MediaKey}` => c.startsWith('media.');

export function exportColumns(withSecrets: boolean): Column[] {
  return COLUMNS.filter((c) => withSecrets || !SECRET_COLUMNS.includes(c));
}

/** The import form of a user (JSON): every writable field, secrets only when asked for; media only the user's own keys. */
export function exportRecord(u: User, withSecrets: boolean): Record<string, unknown> {
  const all: Record<Field, unknown> = {
    extension: u.extension, name: u.name, fullName: u.fullName, authUser: u.authUser, password: u.password,
    voicemailCode: u.voicemailCode, enabled: u.enabled, callWaiting: u.callWaiting,
    codecs: u.codecs === null ? null : [...u.codecs], maxCalls: u.maxCalls, noAnswerTimeoutSec: u.noAnswerTimeoutSec,
    outboundCalls: u.outboundCalls ?? false,
  };
  const out: Record<string, unknown> = {};
  for (const c of FIELDS) if (withSecrets || !SECRET_COLUMNS.includes(c)) out[c] = all[c];
  out.media = { ...u.media };
  return out;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(users: readonly User[], withSecrets: boolean): string {
  const cols = exportColumns(withSecrets);
  const lines = [cols.join(',')];
  for (const u of users) {
    const r = exportRecord(u, withSecrets);
    const media = r.media as Record<string, unknown>;
    // An empty media cell means "same as the system".
    lines.push(cols.map((c) => csvCell(isMediaColumn(c) ? media[c.slice('media.'.length)] : r[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One row of an import: its number in the file and the fields it sets, or why it cannot be read. */
export interface ImportRow {
  row: number;
  extension: string;
  fields: Record<string, unknown>;
  error?: string;
}

function columnOf(header: string): Column | undefined {
  const key = header.trim().toLowerCase().replace(/[\s_-]/g, '');
  return COLUMNS.find((c) => c.toLowerCase() === key) ?? ALIASES[key];
}

function cellValue(col: Column, text: string): unknown {
  if (BOOL_COLUMNS.has(col)) {
    const t = text.toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(t)) return true;
    if (['false', 'no', '0', 'off'].includes(t)) return false;
    throw new Error(`${col}: must be true or false${isMediaColumn(col) ? ', or empty for the system value' : ''}`);
  }
  if (INT_COLUMNS.has(col)) {
    if (!/^\d{1,9}$/.test(text)) throw new Error(`${col}: must be a whole number`);
    return Number(text);
  }
  if (col === 'codecs') return text.split(/[\s|;]+/).filter((c) => c !== '');
  return text;
}

/**
 * Rows of a CSV file with a header naming columns (any of the export
 * columns, in any order and case; extension is required). An empty cell
 * leaves the field as it is, or at its default for a new user; an empty (or
 * "system") media cell returns that key to the system value, as exported.
 */
export function csvRows(text: string): ImportRow[] {
  const parsed = parseCsv(text);
  if (!parsed.ok) throw fileError(parsed.error);
  const [head, ...records] = parsed.records;
  if (!head) throw fileError('the file is empty');
  const cols: Column[] = [];
  for (const cell of head) {
    const col = columnOf(cell);
    if (!col) throw fileError(`unknown column "${cell.trim()}" in the header`);
    if (cols.includes(col)) throw fileError(`column "${cell.trim()}" appears twice`);
    cols.push(col);
  }
  if (!cols.includes('extension')) throw fileError('the header must name the column extension');
  const rows: ImportRow[] = [];
  records.forEach((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return;
    const row: ImportRow = { row: i + 2, extension: (cells[cols.indexOf('extension')] ?? '').trim(), fields: {} };
    try {
      if (cells.length > cols.length) throw new Error(`${cells.length} fields but the header has ${cols.length}`);
      cols.forEach((c, j) => {
        const v = (cells[j] ?? '').trim();
        if (isMediaColumn(c)) {
          const media = (row.fields.media ??= {}) as Record<string, unknown>;
          media[c.slice('media.'.length)] = v === '' || v.toLowerCase() === 'system' ? null : cellValue(c, v);
        } else if (v !== '') {
          row.fields[c] = cellValue(c, v);
        }
      });
    } catch (err) {
      row.error = (err as Error).message;
    }
    rows.push(row);
  });
  return rows;
}

/** Rows of a JSON import: an array of user objects, or {users: [...]}. */
export function jsonRows(body: unknown): ImportRow[] {
  const list = Array.isArray(body) ? body : (body as { users?: unknown } | null)?.users;
  if (!Array.isArray(list)) throw fileError('expected a JSON array of users, or {"users": [...]}');
  return list.map((item: unknown, i) => {
    const fields = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : null;
    const ext = fields && typeof fields.extension === 'string' ? fields.extension : '';
    if (!fields) return { row: i + 1, extension: '', fields: {}, error: 'must be an object' };
    return { row: i + 1, extension: ext, fields: wholeMedia(fields) };
  });
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

function fileError(message: string): ApiError {
  return new ApiError(400, 'validation', `file: ${message}`, { issues: [{ path: 'file', in: 'body', message }] });
}

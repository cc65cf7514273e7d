// The one CSV dialect of the user directory: what the API and the web UI
// export, and what both `switchboard user import` and POST /api/users/import
// read. Reading and writing the CSV syntax is csv-parse / csv-stringify (a
// maintained parser rather than our own); this file is the mapping between
// cells and user fields.
//
// - Header row naming columns, any order and case; extension is required.
//   The column names are the export's: name is the display name (caller ID,
//   status), authUser the SIP login. Older names are read as aliases:
//   "full name", "fullName", "display name" = name, "login code" = password.
//   A file with both name and fullName is an export from before the account
//   name merged into the display name: there fullName is the display name,
//   and name (the old account name) is taken only where fullName is empty
//   and it is not just the extension (the rule the store migration applied). ";" is taken as the delimiter when the header uses
//   it (spreadsheets in comma-decimal locales write that). UTF-8, BOM dropped.
// - Cells are trimmed. An empty cell leaves the field as it is (a new user:
//   its default), except in the media.* columns (empty = the system value)
//   and the feature columns (empty = off / none): those are state the export
//   writes in full, so an exported file restores it.
// - Lists (codecs, dndExceptions) are separated by spaces (or , ; |).
// - Spreadsheet formulas (OWASP CSV injection): a cell starting with = + - @
//   (or tab, CR) or with ' is written with a ' in front, so a spreadsheet
//   shows it as text; reading drops one ' before one of those characters, so
//   every value round-trips. A formula-looking cell in a field whose model
//   cannot hold it (an extension, a number, a group) is refused with a
//   per-row error saying so; free text and secrets may start that way.
// - Big files: rows come one at a time from a streaming parser, and the
//   stream hands the event loop back every few milliseconds, so a 32 MB
//   file neither becomes 32 MB of objects nor holds up SIP while it is read.
import { Readable } from 'node:stream';
import { Parser } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { inSlices } from '../lib/slices.ts';
import { MEDIA_KEYS, userFieldSchemas, type UserMediaSettings } from './user.ts';
import { USER_FEATURE_KEYS } from './user-features.ts';

type MediaKey = keyof UserMediaSettings;
const BASE_FIELDS = ['extension', 'name', 'authUser', 'password', 'voicemailCode', 'enabled', 'callWaiting',
  'codecs', 'maxCalls', 'noAnswerTimeoutSec', 'outboundCalls', 'voicemail', 'mwi'] as const;
export const USER_CSV_FIELDS = [...BASE_FIELDS, ...USER_FEATURE_KEYS] as const;
type Field = (typeof USER_CSV_FIELDS)[number];
/** media.* as one column per key; accountName only in files from before the display name was `name`. */
export type UserCsvColumn = Field | `media.${MediaKey}` | typeof LEGACY_ACCOUNT_NAME;
const LEGACY_ACCOUNT_NAME = 'accountName';

const MEDIA_COLUMNS = MEDIA_KEYS.map((k) => `media.${k}` as const);
const COLUMNS: readonly UserCsvColumn[] = [...BASE_FIELDS, ...MEDIA_COLUMNS, ...USER_FEATURE_KEYS];
const SECRET_COLUMNS: readonly UserCsvColumn[] = ['password', 'voicemailCode'];
const BOOL_COLUMNS = new Set<UserCsvColumn>(['enabled', 'callWaiting', 'outboundCalls', 'voicemail', 'dnd', 'media.directMedia', 'media.capneg']);
const INT_COLUMNS = new Set<UserCsvColumn>(['maxCalls', 'noAnswerTimeoutSec', 'forwardNoAnswerSec']);
const LIST_COLUMNS = new Set<UserCsvColumn>(['codecs', 'dndExceptions']);
/** Columns where an empty cell is a value (system / off / none) rather than "leave as it is". */
const STATE_COLUMNS = new Set<UserCsvColumn>([...MEDIA_COLUMNS, ...USER_FEATURE_KEYS]);
// The source product's column names, besides our own.
const ALIASES: Record<string, UserCsvColumn> = { logincode: 'password', displayname: 'name', fullname: 'name' };

const FORMULA_START = /^[=+\-@\t\r]/;
/** What the export guards with a ': a formula start, or a ' that reading would otherwise take for a guard. */
const GUARDED_START = /^[=+\-@\t\r']/;

const isMediaColumn = (c: UserCsvColumn): c is `media.${MediaKey}` => c.startsWith('media.');

/** A file-level problem: the whole file is refused. */
export class UserCsvError extends Error {}

export function userCsvColumns(withSecrets: boolean): UserCsvColumn[] {
  return COLUMNS.filter((c) => withSecrets || !SECRET_COLUMNS.includes(c));
}

/** A cell as written: lists space-separated, a formula start guarded with a ' (OWASP CSV injection). */
export function cellText(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
  return GUARDED_START.test(s) ? `'${s}` : s;
}

/**
 * The file for users given in their export form (every field; media as an
 * object of the user's own keys). Secrets only with withSecrets; without
 * header, rows only (the rest of a file written in pieces).
 */
export function usersToCsv(records: readonly Record<string, unknown>[], withSecrets: boolean, header = true): string {
  const cols = userCsvColumns(withSecrets);
  const rows = records.map((r) => cols.map((c) => cellText(isMediaColumn(c) ? (r.media as Record<string, unknown> | undefined)?.[c.slice(6)] : r[c])));
  // Quote what a reader could split or trim: delimiters, quotes, line breaks, edge spaces.
  return stringify(header ? [cols, ...rows] : rows, { record_delimiter: 'windows', quoted_match: /[\r\n;]|^\s|\s$/ });
}

/** One data row: its record number (header = 1) and the fields it sets, or why it cannot be read. */
export interface UserCsvRow {
  row: number;
  extension: string;
  fields: Record<string, unknown>;
  error?: string;
}

function columnOf(header: string): UserCsvColumn | undefined {
  const key = header.trim().toLowerCase().replace(/[\s_-]/g, '');
  return COLUMNS.find((c) => c.toLowerCase() === key) ?? ALIASES[key];
}

function cellValue(col: UserCsvColumn, text: string): unknown {
  if (text === '') return col === 'dnd' ? false : LIST_COLUMNS.has(col) ? [] : null;
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
  if (LIST_COLUMNS.has(col)) return text.split(/[\s,;|]+/).filter((c) => c !== '');
  return text;
}

/**
 * A cell's value; a cell that starts like a formula must be a value its field
 * can hold (the user model decides: a password or a name may, an extension
 * may not), else the row is refused saying why.
 */
function checkedCellValue(col: UserCsvColumn, text: string): unknown {
  if (!FORMULA_START.test(text)) return cellValue(col, text);
  const refused = new Error(`${col}: a spreadsheet formula is not allowed here (the cell starts with ${JSON.stringify(text[0])})`);
  if (isMediaColumn(col) || BOOL_COLUMNS.has(col) || INT_COLUMNS.has(col)) throw refused;
  const value = cellValue(col, text);
  if (!userFieldSchemas[col as Field].safeParse(value).success) throw refused;
  return value;
}

/** A cell as written, with the export's formula guard taken off. */
export const unguard = (s: string) => (s.startsWith("'") && GUARDED_START.test(s.slice(1)) ? s.slice(1) : s);

/** The delimiter the header row uses: ";" when it has more of them than commas (comma-decimal locales), else ",". */
export function delimiterOf(text: string): string {
  const header = text.slice(text.startsWith('\ufeff') ? 1 : 0, text.search(/[\r\n]|$/));
  const count = (ch: string) => header.split(ch).length - 1;
  return count(';') > count(',') ? ';' : ',';
}

const PIECE_CHARS = 16 * 1024;

/** The text in pieces, never splitting a surrogate pair (the parser reads UTF-8 bytes). */
function* pieces(text: string): Generator<string> {
  for (let i = 0; i < text.length;) {
    let end = Math.min(i + PIECE_CHARS, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield text.slice(i, end);
    i = end;
  }
}

/** The file's records, parsed as they are read, the event loop turning every few milliseconds (src/lib/slices.ts). */
async function* records(text: string): AsyncGenerator<string[]> {
  const parser = new Parser({
    bom: true, delimiter: delimiterOf(text), relax_column_count: true, skip_empty_lines: false,
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  const source = Readable.from(pieces(text), { objectMode: false });
  source.pipe(parser);
  try {
    yield* inSlices(parser as AsyncIterable<string[]>);
  } catch (err) {
    throw new UserCsvError((err as Error).message);
  } finally {
    source.destroy();
    parser.destroy();
  }
}

function headerColumns(head: readonly string[] | undefined): UserCsvColumn[] {
  if (!head || head.every((c) => c.trim() === '')) throw new UserCsvError('the file is empty');
  const cols: UserCsvColumn[] = [];
  const old = head.filter((c) => columnOf(c) === 'name').length === 2;
  for (const cell of head) {
    const col = old && cell.trim().toLowerCase() === 'name' ? LEGACY_ACCOUNT_NAME : columnOf(cell);
    if (!col) throw new UserCsvError(`unknown column "${cell.trim()}" in the header`);
    if (cols.includes(col)) throw new UserCsvError(`column "${cell.trim()}" appears twice`);
    cols.push(col);
  }
  if (!cols.includes('extension')) throw new UserCsvError('the header must name the column extension');
  return cols;
}

function rowOf(cols: readonly UserCsvColumn[], cells: readonly string[], row: number): UserCsvRow {
  const out: UserCsvRow = { row, extension: unguard((cells[cols.indexOf('extension')] ?? '').trim()), fields: {} };
  try {
    if (cells.length > cols.length) throw new Error(`${cells.length} fields but the header has ${cols.length}`);
    let accountName = '';
    cols.forEach((c, j) => {
      const v = unguard((cells[j] ?? '').trim());
      if (c === LEGACY_ACCOUNT_NAME) {
        accountName = v;
      } else if (isMediaColumn(c)) {
        const media = (out.fields.media ??= {}) as Record<string, unknown>;
        media[c.slice(6)] = v.toLowerCase() === 'system' ? null : checkedCellValue(c, v);
      } else if (v !== '' || STATE_COLUMNS.has(c)) {
        out.fields[c] = checkedCellValue(c, v);
      }
    });
    if (out.fields.name === undefined && accountName !== '' && accountName !== out.extension) out.fields.name = checkedCellValue('name', accountName);
  } catch (err) {
    out.error = (err as Error).message;
  }
  return out;
}

/**
 * The rows of a file one by one, header checked first; blank lines skipped.
 * Media cells come back as a media object (empty = null, the system value),
 * "system" also meaning the system value.
 * @throws UserCsvError when the file or its header is unusable (possibly after
 * rows were read: callers that must not act on a broken file read it twice, see userCsvCount)
 */
export async function* userCsvRows(text: string): AsyncGenerator<UserCsvRow> {
  let cols: UserCsvColumn[] | undefined;
  let record = 0;
  for await (const cells of records(text)) {
    record++;
    if (!cols) {
      cols = headerColumns(cells);
      continue;
    }
    if (cells.every((c) => c.trim() === '')) continue;
    yield rowOf(cols, cells, record);
  }
  if (!cols) headerColumns(undefined);
}

/** Reads the whole file without keeping it: its number of data rows. @throws UserCsvError as userCsvRows */
export async function userCsvCount(text: string): Promise<number> {
  let n = 0;
  for await (const _ of userCsvRows(text)) n++;
  return n;
}

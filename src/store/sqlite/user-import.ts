// CSV import of the directory. The caller runs this inside one IMMEDIATE
// transaction; each row's add/update nests as a savepoint, so a bad row is
// rolled back alone and reported while the good rows are applied.
import { parseCsv } from '../csv.ts';
import { StoreError } from '../errors.ts';
import type { ImportRowResult, UserPatch, UserRepository } from '../types.ts';

type Column = 'extension' | 'password' | 'name' | 'fullName' | 'authUser' | 'voicemailCode' | 'outboundCalls';

const HEADER_NAMES: Record<string, Column> = {
  extension: 'extension',
  password: 'password',
  logincode: 'password',
  name: 'name',
  fullname: 'fullName',
  displayname: 'fullName',
  authuser: 'authUser',
  voicemailcode: 'voicemailCode',
  outboundcalls: 'outboundCalls',
};

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

function csvBoolean(field: string, cell: string): boolean {
  const v = BOOLEAN_WORDS[cell.toLowerCase()];
  if (v === undefined) throw new StoreError('invalid', field, `${field}: must be true/false, yes/no or 1/0`);
  return v;
}

function columnOf(header: string): Column | undefined {
  return HEADER_NAMES[header.toLowerCase().replace(/[\s_-]/g, '')];
}

function header(cells: string[]): Column[] {
  const cols: Column[] = [];
  for (const cell of cells) {
    const col = columnOf(cell.trim());
    if (!col) throw new StoreError('invalid', 'csv', `unknown column "${cell.trim()}" in the header`);
    if (cols.includes(col)) throw new StoreError('invalid', 'csv', `column "${cell.trim()}" appears twice`);
    cols.push(col);
  }
  if (!cols.includes('extension') || !cols.includes('password')) {
    throw new StoreError('invalid', 'csv', 'the header must name at least the columns extension and password');
  }
  return cols;
}

/**
 * Applies every data row: an existing extension is updated, a new one added.
 * Cells are trimmed; an empty optional cell leaves the field as it is (or at
 * its default for a new user). Blank lines are skipped.
 * @throws StoreError invalid (field 'csv') when the file or its header is unusable
 */
export function importUsersCsv(users: UserRepository, text: string): ImportRowResult[] {
  const parsed = parseCsv(text);
  if (!parsed.ok) throw new StoreError('invalid', 'csv', parsed.error);
  const [head, ...rows] = parsed.records;
  if (!head) throw new StoreError('invalid', 'csv', 'the file is empty');
  const cols = header(head);
  const results: ImportRowResult[] = [];
  rows.forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((c) => c.trim() === '')) return;
    const fields: UserPatch = {};
    let outbound: string | undefined;
    for (let c = 0; c < cols.length; c++) {
      const v = (cells[c] ?? '').trim();
      const col = cols[c]!;
      if (v === '') continue;
      if (col === 'outboundCalls') outbound = v;
      else fields[col] = v;
    }
    const extension = fields.extension ?? '';
    try {
      if (outbound !== undefined) fields.outboundCalls = csvBoolean('outboundCalls', outbound);
      if (cells.length > cols.length) {
        throw new StoreError('invalid', 'csv', `${cells.length} fields but the header has ${cols.length}`);
      }
      if (extension === '') throw new StoreError('invalid', 'extension', 'extension: must not be empty');
      if (users.getByExtension(extension)) {
        users.update(extension, fields);
        results.push({ row, extension, action: 'updated' });
      } else {
        users.add({ ...fields, extension, password: fields.password ?? '' });
        results.push({ row, extension, action: 'added' });
      }
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      results.push({ row, extension, action: 'error', error: err.message });
    }
  });
  return results;
}

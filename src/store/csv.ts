// A small RFC 4180 reader for directory imports: quoted fields may hold the
// delimiter, line breaks and "" for a quote; CRLF, LF or a lone CR end a record;
// a UTF-8 BOM is dropped. Spreadsheets in comma-decimal locales write ";" as
// the delimiter, so it is chosen from the header line.

export type CsvResult = { ok: true; records: string[][] } | { ok: false; error: string };

const QUOTE = 34;
const CR = 13;
const LF = 10;

function pickDelimiter(text: string): number {
  let i = 0;
  let commas = 0;
  let semis = 0;
  let quoted = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && (c === CR || c === LF)) break;
    else if (!quoted && c === 44) commas++;
    else if (!quoted && c === 59) semis++;
  }
  return semis > commas ? 59 : 44;
}

export function parseCsv(input: string): CsvResult {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const delim = pickDelimiter(text);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE && field.length === 0) {
      // Quoted field: runs to the next lone quote.
      const start = i;
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return { ok: false, error: `unterminated quoted field starting in record ${records.length + 1} (offset ${start})` };
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      continue;
    }
    if (c === delim) {
      record.push(field);
      field = '';
      i++;
    } else if (c === CR || c === LF) {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    } else {
      // Text after a closing quote is kept rather than rejected: spreadsheets
      // never write it, and hand-edited files are better read than refused.
      field += text[i];
      i++;
    }
  }
  if (field.length > 0 || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return { ok: true, records };
}

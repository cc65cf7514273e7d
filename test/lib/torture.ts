// Loads the RFC 4475 / RFC 5118 torture messages and their expected verdicts
// from test/fixtures/rfc4475 (in the repository: tests need nothing beside it).
import { readFileSync } from 'node:fs';

/** The corpus folder: msgs/, expected.tsv, SHA256SUMS (see its README.md). */
export const TORTURE_DIR = new URL('../fixtures/rfc4475/', import.meta.url);
const DIR = TORTURE_DIR;

export interface TortureRow {
  name: string;
  section: string;
  kind: 'valid' | 'invalid' | 'app';
  expected: string;
  expectedClass: string;
}

export const tortureRows: TortureRow[] = readFileSync(new URL('expected.tsv', DIR), 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim().length > 0)
  .map((l) => {
    const [name, section, kind, expected, expectedClass] = l.split('\t');
    return { name: name!, section: section!, kind: kind as TortureRow['kind'], expected: expected!, expectedClass: expectedClass ?? '' };
  });

/** The message bytes; the RFC 5118 archive has bare LF line ends, sent as CRLF (README of the folder). */
export function loadTortureMessage(row: { name: string; section: string }): Buffer {
  const raw = readFileSync(new URL(`msgs/${row.name}.dat`, DIR));
  if (!row.section.startsWith('RFC5118')) return raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0a && raw[i - 1] !== 0x0d) out.push(0x0d);
    out.push(raw[i]!);
  }
  return Buffer.from(out);
}

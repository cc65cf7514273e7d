import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/store/index.ts';

describe('parseCsv', () => {
  it('reads quoted fields with delimiters, "" escapes and line breaks', () => {
    const r = parseCsv('a,b,c\r\n"1,2","say ""hi""","two\nlines"\n3,,x');
    expect(r).toEqual({ ok: true, records: [['a', 'b', 'c'], ['1,2', 'say "hi"', 'two\nlines'], ['3', '', 'x']] });
  });

  it('drops a BOM, accepts LF, CRLF and lone CR, ignores a final line break', () => {
    const r = parseCsv('\ufeffx,y\ra,b\r\nc,d\n');
    expect(r).toEqual({ ok: true, records: [['x', 'y'], ['a', 'b'], ['c', 'd']] });
  });

  it('picks ";" as delimiter when the header uses it', () => {
    expect(parseCsv('extension;name\n1;"a;b"')).toEqual({ ok: true, records: [['extension', 'name'], ['1', 'a;b']] });
  });

  it('reports an unterminated quote instead of throwing', () => {
    const r = parseCsv('a,b\n"open,x\n');
    expect(r.ok).toBe(false);
  });

  it('keeps empty trailing fields', () => {
    expect(parseCsv('a,b,\n')).toEqual({ ok: true, records: [['a', 'b', '']] });
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ha1, parseCsv } from '../../../src/store/index.ts';

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

describe('ha1', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  it('matches the RFC 2617 §3.5 example', () => {
    const h = ha1({ authUser: 'Mufasa', password: 'Circle Of Life' }, 'testrealm@host.com', 'MD5');
    expect(h).toBe('939e7578ed9e3c518a452acee763bce9');
    const ha2 = md5('GET:/dir/index.html');
    expect(md5(`${h}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:${ha2}`)).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('yields the RFC 7616 §3.9.1 responses for MD5 and SHA-256', () => {
    const user = { authUser: 'Mufasa', password: 'Circle of Life' };
    const rest = ':7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:';
    const m = ha1(user, 'http-auth@example.org', 'MD5');
    expect(md5(m + rest + md5('GET:/dir/index.html'))).toBe('8ca523f5e9506fed4657c9700eebdbec');
    const s = ha1(user, 'http-auth@example.org', 'SHA-256');
    expect(sha256(s + rest + sha256('GET:/dir/index.html'))).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('computes SHA-512-256 as a 64-digit hex string differing by realm', () => {
    const u = { authUser: '100', password: 'pw' };
    const a = ha1(u, 'a', 'SHA-512-256');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(ha1(u, 'b', 'SHA-512-256'));
    expect(a).not.toBe(ha1(u, 'a', 'SHA-256'));
  });
});

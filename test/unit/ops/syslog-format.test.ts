import { describe, expect, it } from 'vitest';
import { formatSyslog, octetCounted, redact, toFields, truncateUtf8 } from '../../../src/ops/syslog-format.ts';
import type { SyslogRecord } from '../../../src/ops/syslog-format.ts';
import { parseSyslogTarget } from '../../../src/ops/syslog-target.ts';

const T = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function record(over: Partial<SyslogRecord> = {}): SyslogRecord {
  return { facility: 16, severity: 4, time: T, hostname: 'sb1', appName: 'switchboard', procId: '4242', fields: [], msg: 'hello', ...over };
}

describe('RFC 5424 formatting', () => {
  it('writes PRI, version, timestamp, header fields, structured data and MSG exactly', () => {
    const b = formatSyslog(
      record({ msgId: 'tls-handshake', fields: [['source', '192.0.2.1'], ['detail', 'bad "x" ] \\ y']], msg: 'SIP transport problem' }),
    );
    expect(b.toString('utf8')).toBe(
      '<132>1 2024-01-02T03:04:05.678Z sb1 switchboard 4242 tls-handshake ' +
        '[fields@32473 source="192.0.2.1" detail="bad \\"x\\" \\] \\\\ y"] SIP transport problem',
    );
  });

  it('uses NILVALUE for empty fields, no structured data and no MSG', () => {
    const b = formatSyslog(record({ facility: 1, severity: 3, hostname: '', msg: undefined }));
    expect(b.toString()).toBe('<11>1 2024-01-02T03:04:05.678Z - switchboard 4242 - -');
  });

  it('computes PRI as facility * 8 + severity (local7.debug = 191, kern.error = 3)', () => {
    expect(formatSyslog(record({ facility: 23, severity: 7 })).toString()).toMatch(/^<191>1 /);
    expect(formatSyslog(record({ facility: 0, severity: 3 })).toString()).toMatch(/^<3>1 /);
  });

  it('prefixes a non-ASCII MSG with the UTF-8 BOM and leaves ASCII alone', () => {
    const utf = formatSyslog(record({ msg: 'Grüße' }));
    const head = '<132>1 2024-01-02T03:04:05.678Z sb1 switchboard 4242 - - ';
    expect(utf.subarray(0, head.length).toString()).toBe(head);
    expect([...utf.subarray(head.length, head.length + 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(utf.subarray(head.length + 3).toString('utf8')).toBe('Grüße');
    expect(formatSyslog(record({ msg: 'plain' })).includes(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
  });

  it('keeps header fields printable and within their RFC lengths', () => {
    const b = formatSyslog(record({ hostname: 'host name\n', appName: 'a'.repeat(60), msgId: 'm'.repeat(40) })).toString();
    const parts = b.split(' ');
    expect(parts[2]).toBe('hostname');
    expect(parts[3]).toBe('a'.repeat(48));
    expect(parts[5]).toBe('m'.repeat(32));
  });

  it('turns line breaks in MSG and values into spaces (no log injection)', () => {
    const b = formatSyslog(record({ fields: [['x', 'a\r\nb']], msg: 'one\ntwo' })).toString();
    expect(b).not.toMatch(/[\r\n]/);
    expect(b).toContain('x="a  b"');
    expect(b.endsWith(' one two')).toBe(true);
  });

  it('cuts MSG to the size limit without splitting a UTF-8 character, and drops structured data when it alone is too long', () => {
    const long = formatSyslog(record({ msg: 'é'.repeat(500) }), 480);
    expect(long.length).toBeLessThanOrEqual(480);
    expect(long.toString('utf8')).not.toContain('\ufffd');
    const sdHeavy = formatSyslog(record({ fields: [['v', 'x'.repeat(1000)]], msg: 'm' }), 480).toString();
    expect(sdHeavy).toContain(' - - m');
    expect(truncateUtf8(Buffer.from('aé'), 2).toString()).toBe('a');
  });
});

describe('octet counting (RFC 6587 §3.4.1)', () => {
  it('prefixes the byte length and a space', () => {
    expect(octetCounted(Buffer.from('<14>1 - - - - - -')).toString()).toBe('17 <14>1 - - - - - -');
    const utf = octetCounted(Buffer.from('é', 'utf8'));
    expect(utf.toString('utf8')).toBe('2 é');
  });
});

describe('redaction', () => {
  it('writes every secret field as *** at any depth and any case', () => {
    const out = redact({
      user: '1001',
      password: 'pw',
      Secret: 's',
      registerPassword: 'rp',
      privateKey: 'k',
      nested: { ha1: 'abc', Authorization: 'Digest x', ok: 1 },
      list: [{ key: 'v' }],
    });
    expect(out).toEqual({
      user: '1001',
      password: '***',
      Secret: '***',
      registerPassword: '***',
      privateKey: '***',
      nested: { ha1: '***', Authorization: '***', ok: 1 },
      list: [{ key: '***' }],
    });
  });

  it('redacts the value of a { name, value } header pair naming a secret', () => {
    expect(redact({ headers: [{ name: 'authorization', value: 'Digest response="x"' }, { name: 'via', value: 'v' }] })).toEqual({
      headers: [{ name: 'authorization', value: '***' }, { name: 'via', value: 'v' }],
    });
  });

  it('flattens fields for structured data: errors to their message, objects to JSON, secrets never present', () => {
    const err = Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
    const fields = toFields({ err, ban: { ip: '192.0.2.9', password: 'hunter2' }, n: 3, skip: undefined });
    expect(fields).toEqual([
      ['err', '{"message":"disk full","code":"SQLITE_FULL"}'],
      ['ban', '{"ip":"192.0.2.9","password":"***"}'],
      ['n', '3'],
    ]);
    expect(JSON.stringify(fields)).not.toContain('hunter2');
  });

  it('survives cycles and deep nesting', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(() => toFields({ a })).not.toThrow();
    expect(toFields({ a })[0]![1]).toContain('[...]');
  });
});

describe('syslog target', () => {
  it('parses protocol, host and port with defaults per protocol', () => {
    expect(parseSyslogTarget('udp://127.0.0.1:5514')).toEqual({ protocol: 'udp', host: '127.0.0.1', port: 5514 });
    expect(parseSyslogTarget('tls://logs.example.com')).toEqual({ protocol: 'tls', host: 'logs.example.com', port: 6514 });
    expect(parseSyslogTarget('tcp://[::1]:601')).toEqual({ protocol: 'tcp', host: '::1', port: 601 });
    for (const bad of ['http://x:1', 'udp://', 'udp://host:0', 'udp://host:70000', 'tcp://a b:1', '127.0.0.1:514']) {
      expect(parseSyslogTarget(bad)).toBeUndefined();
    }
  });
});

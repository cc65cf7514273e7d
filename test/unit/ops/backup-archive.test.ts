import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BackupError, decodeBackup, encodeBackup, type BackupFileName } from '../../../src/ops/backup-archive.ts';

const files = new Map<BackupFileName, Buffer>([['switchboard.db', Buffer.from('db bytes')], ['certs/ca.crt', Buffer.from('pem')]]);
const meta = { version: '1.2.3', createdAt: 1000, store: 'sqlite' as const, schemaVersion: 5 };

function refusal(archive: Buffer, max = 5): string {
  try {
    decodeBackup(archive, max);
  } catch (err) {
    expect(err).toBeInstanceOf(BackupError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

/** The same archive with its unpacked bytes changed by `edit`. */
const edited = (edit: (raw: Buffer) => Buffer) => gzipSync(edit(gunzipSync(encodeBackup(meta, files))));

describe('backup archive', () => {
  it('round-trips the files and the manifest', () => {
    const back = decodeBackup(encodeBackup(meta, files), 5);
    expect(back.manifest).toMatchObject({ format: 1, product: 'switchboard', ...meta });
    expect([...back.files]).toEqual([...files]);
  });

  it('refuses what it cannot restore, saying why', () => {
    expect(refusal(encodeBackup(meta, files), 4)).toMatch(/newer Switchboard \(1\.2\.3, database schema 5/);
    expect(refusal(Buffer.from('plain text'))).toMatch(/not a complete gzip file/);
    expect(refusal(gzipSync(Buffer.from('PK\u0003\u0004 a zip')))).toMatch(/does not start like one/);
    expect(refusal(edited((r) => Buffer.concat([r, Buffer.from('x')])))).toMatch(/bytes after the last file/);
    expect(refusal(edited((r) => r.subarray(0, r.length - 2)))).toMatch(/pem is cut short|certs\/ca.crt is cut short/);
    expect(refusal(edited((r) => {
      const c = Buffer.from(r);
      c[c.length - 1] = 0x21;
      return c;
    }))).toMatch(/does not match its checksum/);
    // A manifest naming a path outside the known files (e.g. ../../etc/passwd) is not valid.
    expect(refusal(edited((r) => Buffer.from(r.toString('latin1').replace('certs/ca.crt', '../etc/passw'), 'latin1')))).toMatch(/manifest is not valid/);
    expect(refusal(edited((r) => Buffer.from(r.toString('latin1').replace('"format":1', '"format":7'), 'latin1')))).toMatch(/format 7, newer/);
    expect(refusal(encodeBackup(meta, new Map([['certs/ca.crt', Buffer.from('pem')]])))).toMatch(/holds no database/);
  });
});

// Phone uploads (C-16): only the device's own logs and upload files, bounded in count.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeUpload, uploadDir, uploadName } from '../../../src/provisioning/uploads.ts';

const MAC = '0004f2aabbcc';

describe('uploadName', () => {
  it('takes <MAC>-*.log and <MAC>-upload-*.cfg of the device itself, in any case', () => {
    expect(uploadName(`${MAC}-app.log`, MAC)).toBe(`${MAC}-app.log`);
    expect(uploadName('0004F2AABBCC-boot.log', MAC)).toBe(`${MAC}-boot.log`);
    expect(uploadName(`${MAC}-upload-CallServer.cfg`, MAC)).toBe(`${MAC}-upload-CallServer.cfg`);
  });

  it("refuses another device's name, other kinds of file and anything that climbs out", () => {
    for (const name of ['0004f2000001-app.log', `${MAC}-phone.cfg`, `${MAC}.log`, `${MAC}-../x.log`, `${MAC}-a/b.log`, `${MAC}-..log`, 'x'.repeat(200)]) {
      expect(uploadName(name, MAC), name).toBeUndefined();
    }
  });
});

describe('storeUpload', () => {
  it('keeps files per device, replaces one of the same name, refuses beyond the count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-up-'));
    const limits = { maxBytes: 1024, maxFiles: 2 };
    expect(await storeUpload(dir, MAC, `${MAC}-a.log`, Buffer.from('1'), limits)).toBe('stored');
    expect(await storeUpload(dir, MAC, `${MAC}-b.log`, Buffer.from('2'), limits)).toBe('stored');
    expect(await storeUpload(dir, MAC, `${MAC}-c.log`, Buffer.from('3'), limits)).toBe('full');
    expect(await storeUpload(dir, MAC, `${MAC}-a.log`, Buffer.from('again'), limits)).toBe('stored');
    expect(readdirSync(uploadDir(dir, MAC)).sort()).toEqual([`${MAC}-a.log`, `${MAC}-b.log`]);
    expect(readFileSync(join(uploadDir(dir, MAC), `${MAC}-a.log`), 'utf8')).toBe('again');
  });
});

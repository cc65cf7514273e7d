// `switchboard user set --voicemail/--voicemail-code/--mwi` and `switchboard
// voicemail list|export|delete`, as scripts run them: real processes on a
// real data directory; messages are deposited through the store as the
// voicemail application deposits them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { cli } from './lib/cli.ts';
import { tempDataDir } from './lib/server.ts';

describe('voicemail from the command line', () => {
  it('user set switches the mailbox, sets the code and the MWI mode; list, export and delete messages', async () => {
    const dir = tempDataDir();
    expect((await cli('user', 'add', '--ext', '5100', '--password', 'Str0ng-Desk-Pw', '--data-dir', dir)).code).toBe(0);
    const set = await cli('user', 'set', '--ext', '5100', '--voicemail', 'off', '--voicemail-code', '4711', '--mwi', 'unsolicited', '--data-dir', dir);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const listed = JSON.parse((await cli('user', 'list', '--json', '--data-dir', dir)).stdout) as Record<string, unknown>[];
    expect(listed[0]).toMatchObject({ extension: '5100', voicemail: false, mwi: 'unsolicited' });
    expect(listed[0]).not.toHaveProperty('voicemailCode');
    const bad = await cli('user', 'set', '--ext', '5100', '--mwi', 'sometimes', '--data-dir', dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--mwi');
    const badCode = await cli('user', 'set', '--ext', '5100', '--voicemail-code', '12ab', '--data-dir', dir);
    expect(badCode.code).not.toBe(0);
    expect(badCode.stderr).toContain('--voicemail-code');

    const store = openStore(dir);
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(100, 7)]);
    let ids: string[];
    try {
      expect(await store.users.getByExtension('5100')).toMatchObject({ voicemail: false, voicemailCode: '4711', mwi: 'unsolicited' });
      const a = await store.voicemail.deposit('5100', { caller: '2001', callerName: 'Ann', receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5), durationMs: 4500 }, wav);
      const b = await store.voicemail.deposit('5100', { caller: '2002', callerName: '', receivedAt: Date.UTC(2026, 0, 2, 4, 0, 0), durationMs: 1000 }, wav.subarray(0, 50));
      await store.voicemail.setFolder('5100', b.id, 'saved');
      ids = [a.id, b.id];
    } finally {
      await store.close();
    }

    const list = await cli('voicemail', 'list', '--ext', '5100', '--data-dir', dir);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual([
      `${ids[0]} new   2026-01-02 03:04:05 4.5 s from 2001 "Ann"`,
      `${ids[1]} saved 2026-01-02 04:00:00 1.0 s from 2002`,
    ]);
    const json = JSON.parse((await cli('voicemail', 'list', '--ext', '5100', '--json', '--data-dir', dir)).stdout) as { id: string; folder: string; bytes: number }[];
    expect(json.map((m) => [m.id, m.folder, m.bytes])).toEqual([[ids[0], 'new', 104], [ids[1], 'saved', 50]]);

    const out = path.join(dir, 'm.wav');
    expect((await cli('voicemail', 'export', '--ext', '5100', '--id', ids[0]!, '--out', out, '--data-dir', dir)).code).toBe(0);
    expect(readFileSync(out).equals(wav)).toBe(true);
    const missing = await cli('voicemail', 'export', '--ext', '5100', '--id', 'ffffffffffffffff', '--out', out, '--data-dir', dir);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no message ffffffffffffffff in mailbox 5100');

    expect((await cli('voicemail', 'delete', '--ext', '5100', '--id', ids[0]!, '--data-dir', dir)).code).toBe(0);
    expect((await cli('voicemail', 'delete', '--ext', '5100', '--id', ids[0]!, '--data-dir', dir)).code).not.toBe(0);
    expect((await cli('voicemail', 'list', '--ext', '5100', '--data-dir', dir)).stdout.trim().split('\n')).toHaveLength(1);
    const nobody = await cli('voicemail', 'list', '--ext', '5999', '--data-dir', dir);
    expect(nobody.code).not.toBe(0);
    expect(nobody.stderr).toContain('no user with extension 5999');
  });
});

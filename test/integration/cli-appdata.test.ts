// `switchboard ivr`, `conference`, `audio` and `moh` as scripts use them,
// against the data directory of a running server, which follows the changes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIO_MAX_BYTES } from '../../src/model/audio-file.ts';
import { wavFile } from '../lib/wav-file.ts';
import { cli as runCli } from './lib/cli.ts';
import { startTestServer, type TestServer } from './lib/server.ts';

let ts: TestServer;
let files: string;
let d: string[];

/** The real command on the running server's data directory (asynchronous: the server in this process answers the store's lock meanwhile). */
const cli = (...args: string[]) => runCli(...args, ...d);

const file = (name: string, content: string | Uint8Array) => {
  const path = join(files, name);
  writeFileSync(path, content);
  return path;
};

beforeAll(async () => {
  ts = await startTestServer();
  d = ['--data-dir', ts.dataDir];
  files = mkdtempSync(join(tmpdir(), 'sb-appdata-'));
  await ts.server.store.users.add({ extension: '1001', password: 'Str0ng-Desk-Pw' });
}, 60_000);
afterAll(async () => {
  await ts?.server.stop();
  rmSync(files, { recursive: true, force: true });
});

describe('ivr, conference, audio and moh commands', () => {
  it('sets a menu from a JSON file, lists and removes it; the server follows', async () => {
    const greeting = file('Welcome.wav', wavFile(new Uint8Array(4000)));
    const added = await cli('audio', 'add', '--file', greeting);
    expect([added.code, added.stdout, added.stderr]).toEqual([0, 'added audio file Welcome (0.5s)\n', '']);
    const menu = file('menu.json', JSON.stringify({
      name: 'Main', greeting: 'Welcome', options: { 1: { type: 'extension', target: '1001' }, 9: { type: 'dial-by-extension' } }, operator: '1001',
    }));
    const set = await cli('ivr', 'set', '--number', '8100', '--file', menu);
    expect([set.code, set.stdout, set.stderr]).toEqual([0, 'set IVR menu 8100\n', '']);
    expect((await cli('ivr', 'list')).stdout)
      .toBe('8100\tMain\tgreeting=Welcome\toptions=1=extension:1001,9=dial-by-extension\ttimeout=repeat\tinvalid=repeat\toperator=1001\n');
    const [m] = JSON.parse((await cli('ivr', 'list', '--json')).stdout) as Record<string, unknown>[];
    expect(m).toMatchObject({ number: '8100', timeoutSec: 5, maxRetries: 3 });
    await ts.server.featureTables.poll();
    expect(ts.server.featureTables.ivrByNumber('8100')?.greeting).toBe('Welcome');

    const inUse = await cli('audio', 'remove', '--name', 'Welcome');
    expect([inUse.code, inUse.stderr]).toEqual([2, 'switchboard: name: Welcome is the greeting of IVR menu 8100\n']);
    const notJson = await cli('ivr', 'set', '--number', '8101', '--file', file('bad.json', '{ name: '));
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^switchboard: --file: .*bad\.json is not JSON: /);
    const twice = await cli('ivr', 'set', '--number', '8101', '--file', file('twice.json', '{"name":"x","options":{"1":{"type":"hangup"},"1":{"type":"repeat"}}}'));
    expect(twice.stderr).toMatch(/^switchboard: --file: .*twice\.json names options\.1 twice\n$/);
    const badMenu = await cli('ivr', 'set', '--number', '8101', '--file', file('bad-menu.json', JSON.stringify({ name: 'x', options: { 1: { type: 'menu', target: '8199' } } })));
    expect([badMenu.code, badMenu.stderr]).toEqual([2, 'switchboard: options.1: no IVR menu 8199\n']);
    const clash = await cli('user', 'add', '--ext', '8100', '--password', 'Str0ng-Desk-Pw');
    expect([clash.code, clash.stderr]).toEqual([2, 'switchboard: extension: 8100 is the number of an IVR menu\n']);
    const onUser = await cli('ivr', 'set', '--number', '1001', '--file', menu);
    expect([onUser.code, onUser.stderr]).toEqual([2, 'switchboard: number: 1001 is the extension of a user\n']);

    expect((await cli('ivr', 'remove', '--number', '8100')).stdout).toBe('removed IVR menu 8100\n');
    expect((await cli('ivr', 'list')).stdout).toBe('');
    await ts.server.featureTables.poll();
    expect(ts.server.featureTables.ivrByNumber('8100')).toBeUndefined();
  });

  it('adds, lists and removes conference rooms', async () => {
    const add = await cli('conference', 'add', '--number', '8200', '--pin', '4711', '--name', 'Board', '--max', '20');
    expect([add.code, add.stdout, add.stderr]).toEqual([0, 'added conference room 8200\n', '']);
    expect((await cli('conference', 'list')).stdout).toBe('8200\tBoard\tpin=set\tmax=20\tannounce=on\n');
    expect(JSON.parse((await cli('conference', 'list', '--json')).stdout)).toEqual([expect.objectContaining({ number: '8200', hasPin: true })]);
    await ts.server.featureTables.poll();
    expect(ts.server.featureTables.roomByNumber('8200')?.maxParticipants).toBe(20);
    const cases: [string[], string][] = [
      [['--number', '8201', '--max', '51'], 'switchboard: --max: must be an integer from 2 to 50, not "51"\n'],
      [['--number', '8201', '--pin', '12ab'], 'switchboard: --pin: must be 1-16 digits\n'],
      [['--number', '8201', '--announce', 'maybe'], 'switchboard: --announce: must be on or off, not "maybe"\n'],
      [['--number', '1001'], 'switchboard: number: 1001 is the extension of a user\n'],
      [['--number', '8000'], 'switchboard: number: 8000 is the voicemail number\n'],
    ];
    for (const [args, stderr] of cases) expect([(await cli('conference', 'add', ...args)).stderr]).toEqual([stderr]);
    const group = await cli('huntgroup', 'add', '--number', '8200', '--name', 'x');
    expect(group.stderr).toBe('switchboard: number: 8200 is the number of a conference room\n');
    expect((await cli('conference', 'remove', '--number', '8200')).code).toBe(0);
    expect((await cli('conference', 'remove', '--number', '8200')).stderr).toBe('switchboard: no conference room 8200\n');
  });

  it('sets, shows and resets the music on hold; refuses files that are no WAV or too large', async () => {
    const music = file('hold music.wav', wavFile(new Uint8Array(16000), { format: 1, bitsPerSample: 16 }));
    const set = await cli('moh', 'set', '--file', music);
    expect([set.code, set.stdout, set.stderr]).toEqual([0, 'music on hold: hold-music\n', '']);
    expect((await cli('moh', 'show')).stdout).toBe('hold-music\n');
    expect((await cli('audio', 'list')).stdout).toContain('hold-music\tmoh\t8058 bytes\t1.0s\n');
    await ts.server.featureTables.poll();
    expect(ts.server.featureTables.mohFile()).toBe('hold-music');
    const inUse = await cli('audio', 'remove', '--name', 'hold-music');
    expect(inUse.stderr).toBe('switchboard: name: hold-music is the music on hold (moh.file); choose another or reset it first\n');

    const notWav = await cli('moh', 'set', '--file', file('notes.wav', 'not a sound'));
    expect(notWav.stderr).toMatch(/^switchboard: --file: .*notes\.wav: not a WAV file \(no RIFF\/WAVE header\)\n$/);
    const big = await cli('audio', 'add', '--file', file('big.wav', wavFile(new Uint8Array(AUDIO_MAX_BYTES))));
    expect(big.stderr).toMatch(/is larger than 5242880 bytes\n$/);
    expect((await cli('moh', 'show', '--json')).stdout).toBe('{"file":"hold-music"}\n');

    expect((await cli('moh', 'reset')).stdout).toBe('music on hold: default\n');
    expect((await cli('moh', 'show')).stdout).toBe('default\n');
    expect((await cli('audio', 'remove', '--name', 'hold-music')).code).toBe(0);
  });
});

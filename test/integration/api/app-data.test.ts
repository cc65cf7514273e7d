// /api/ivr-menus, /api/conference-rooms, /api/audio and /api/moh on the real
// store, and the in-memory tables routing reads them from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIO_MAX_BYTES } from '../../../src/model/audio-file.ts';
import { wavFile } from '../../lib/wav-file.ts';
import { accountWith, startWithApi, type ApiTestServer } from './client.ts';
import { readWav } from '../../../src/media/wav.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

const tone = wavFile(new Uint8Array(8000).fill(0x7f)); // one second of µ-law at 8 kHz
const upload = (name: string, bytes: Uint8Array | Buffer, contentType = 'audio/wav', kind = 'prompt') =>
  s.admin.request('PUT', `/api/audio/${name}?kind=${kind}`, { raw: Buffer.from(bytes), contentType });

describe('IVR menus and conference rooms', () => {
  it('sets, lists, replaces and removes a menu; routing sees it without a restart', async () => {
    expect((await s.admin.post('/api/users', { extension: '5201', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    const put = await s.admin.put('/api/ivr-menus/8100', {
      name: 'Main', options: { 1: { type: 'extension', target: '5201' }, 0: { type: 'dial-by-extension' } }, operator: '5201',
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ number: '8100', greeting: null, timeoutSec: 5, maxRetries: 3, onTimeout: { type: 'repeat' }, operator: '5201' });
    await s.ts.server.featureTables.poll();
    expect(s.ts.server.featureTables.ivrByNumber('8100')?.options['1']).toEqual({ type: 'extension', target: '5201' });

    const replaced = await s.admin.put('/api/ivr-menus/8100', { name: 'Main 2', timeoutSec: 8 });
    expect(replaced.json).toMatchObject({ name: 'Main 2', timeoutSec: 8, options: {}, operator: null });
    expect((await s.admin.get('/api/ivr-menus')).json.items.map((m: { number: string }) => m.number)).toEqual(['8100']);

    const bad = await s.admin.put('/api/ivr-menus/8101', { name: 'x', options: { 1: { type: 'extension' } }, maxRetries: 99 });
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['maxRetries', 'options.1.target']);
    const key = await s.admin.put('/api/ivr-menus/8101', { name: 'x', options: { X: { type: 'hangup' } } });
    expect([key.status, key.json.message]).toEqual([400, "options.X: must be a key of the phone: 0-9, '*' or '#'"]);
    const loop = await s.admin.put('/api/ivr-menus/8101', { name: 'x', onTimeout: { type: 'menu', target: '8101' }, options: { 1: { type: 'menu', target: '8100' } } });
    expect([loop.status, loop.json.message, loop.json.issues[0].path]).toEqual([400, 'onTimeout: menus 8101 -> 8101 would loop without the caller pressing a key; use repeat, or a key', 'onTimeout']);
    const noGreeting = await s.admin.put('/api/ivr-menus/8101', { name: 'x', greeting: 'missing' });
    expect([noGreeting.status, noGreeting.json.message]).toEqual([404, 'greeting: no audio file missing']);

    // Numbers clash both ways, and with the voicemail number.
    const asUser = await s.admin.post('/api/users', { extension: '8100', password: 'Str0ng-Desk-Pw' });
    expect([asUser.status, asUser.json.message]).toEqual([409, 'extension: 8100 is the number of an IVR menu']);
    const onUser = await s.admin.put('/api/ivr-menus/5201', { name: 'x' });
    expect([onUser.status, onUser.json.message]).toEqual([409, 'number: 5201 is the extension of a user']);
    const onVoicemail = await s.admin.put('/api/ivr-menus/8000', { name: 'x' });
    expect([onVoicemail.status, onVoicemail.json.message]).toEqual([409, 'number: 8000 is the voicemail number']);
    const asGroup = await s.admin.post('/api/hunt-groups', { number: '8100', name: 'x' });
    expect([asGroup.status, asGroup.json.message]).toEqual([409, 'number: 8100 is the number of an IVR menu']);

    expect((await s.admin.delete('/api/ivr-menus/8100')).status).toBe(204);
    expect((await s.admin.get('/api/ivr-menus/8100')).status).toBe(404);
    await s.ts.server.featureTables.poll();
    expect(s.ts.server.featureTables.ivrByNumber('8100')).toBeUndefined();
  });

  it('adds, changes and removes a room without ever showing its PIN', async () => {
    const add = await s.admin.post('/api/conference-rooms', { number: '8200', pin: '4711', name: 'Board' });
    expect(add.status, add.text).toBe(201);
    expect(add.json).toMatchObject({ number: '8200', name: 'Board', hasPin: true, maxParticipants: 10, announceJoin: true });
    expect(add.text).not.toContain('4711');
    await s.ts.server.featureTables.poll();
    expect(s.ts.server.featureTables.roomByNumber('8200')?.pin).toBe('4711');

    const patch = await s.admin.patch('/api/conference-rooms/8200', { pin: null, maxParticipants: 50 });
    expect(patch.json).toMatchObject({ hasPin: false, maxParticipants: 50 });
    const tooMany = await s.admin.patch('/api/conference-rooms/8200', { maxParticipants: 51 });
    expect([tooMany.status, tooMany.json.issues[0].path]).toEqual([400, 'maxParticipants']);
    const clash = await s.admin.put('/api/ivr-menus/8200', { name: 'x' });
    expect([clash.status, clash.json.message]).toEqual([409, 'number: 8200 is the number of a conference room']);
    const dup = await s.admin.post('/api/conference-rooms', { number: '8200' });
    expect(dup.status).toBe(409);
    expect((await s.admin.get('/api/conference-rooms')).json.items).toHaveLength(1);
    expect((await s.admin.delete('/api/conference-rooms/8200')).status).toBe(204);
    expect((await s.admin.delete('/api/conference-rooms/8200')).status).toBe(404);
  });
});

describe('audio files and music on hold', () => {
  it('uploads, downloads, refuses bad files and limits without harm, and guards files in use', async () => {
    const up = await upload('welcome', tone);
    expect(up.status, up.text).toBe(200);
    expect(up.json).toMatchObject({ name: 'welcome', kind: 'prompt', durationMs: 1000 });
    const down = await s.admin.get('/api/audio/welcome.wav');
    expect([down.status, down.headers['content-type']]).toEqual([200, 'audio/wav']);
    // Stored as the endpoint plays it: 8 kHz µ-law, the same second of sound.
    expect(up.json.size).toBe(down.body.length);
    expect(readWav(down.body)).toMatchObject({ sampleRate: 8000, encoding: 'ulaw' });
    expect(readWav(down.body).pcm.length).toBe(8000);
    expect((await s.admin.get('/api/audio/nothing.wav')).status).toBe(404);

    const notWav = await upload('junk', Buffer.from('this is no sound file at all'));
    expect([notWav.status, notWav.json.message]).toEqual([400, 'wav: not a WAV file (no RIFF/WAVE header)']);
    const mp3ish = Buffer.from(tone);
    mp3ish.writeUInt16LE(85, 20); // format tag 85: MPEG layer 3
    expect((await upload('junk', mp3ish)).json.message).toBe('wav: format 85 is not PCM, A-law or µ-law');
    const cut = await upload('junk', Buffer.from(tone).subarray(0, 100));
    expect([cut.status, cut.json.message]).toEqual([400, 'wav: the "data" chunk is cut short']);
    const big = await upload('junk', wavFile(new Uint8Array(AUDIO_MAX_BYTES)));
    expect([big.status, big.json.error]).toEqual([413, 'too-large']);
    const asJson = await s.admin.put('/api/audio/junk', { wav: 'x' });
    expect(asJson.status).toBe(415);
    expect((await upload('junk', tone, 'application/octet-stream')).status).toBe(415);
    const badName = await upload('bad.name', tone);
    expect([badName.status, badName.json.issues[0].path]).toEqual([400, 'name']);
    expect((await s.admin.get('/api/audio')).json.items.map((f: { name: string }) => f.name)).toEqual(['welcome']);

    expect((await s.admin.put('/api/ivr-menus/8110', { name: 'Greeted', greeting: 'welcome' })).status).toBe(200);
    const inUse = await s.admin.delete('/api/audio/welcome');
    expect([inUse.status, inUse.json.message]).toEqual([409, 'name: welcome is the greeting of IVR menu 8110']);

    expect((await upload('music', tone, 'audio/x-wav', 'moh')).json.kind).toBe('moh');
    expect((await s.admin.get('/api/moh')).json).toEqual({ file: null });
    expect((await s.admin.put('/api/moh', { file: 'nothing' })).status).toBe(404);
    expect((await s.admin.put('/api/moh', { file: 'music' })).json).toEqual({ file: 'music' });
    await s.ts.server.featureTables.poll();
    expect(s.ts.server.featureTables.mohFile()).toBe('music');
    const mohInUse = await s.admin.delete('/api/audio/music');
    expect([mohInUse.status, mohInUse.json.message]).toEqual([409, 'name: music is the music on hold (moh.file); choose another or reset it first']);
    expect((await s.admin.put('/api/moh', { file: null })).json).toEqual({ file: null });
    expect((await s.admin.delete('/api/audio/music')).status).toBe(204);

    const doc = (await s.admin.get('/api/openapi.json')).json;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/ivr-menus/{number}', '/api/conference-rooms/{number}', '/api/audio/{name}', '/api/moh']));
  });
});

describe('roles', () => {
  it('lets an operator read menus, rooms, audio and the MoH setting, and change none of them', async () => {
    const op = await accountWith(s, 'ops-appdata', ['operator']);
    expect((await s.admin.put('/api/ivr-menus/8120', { name: 'Read me' })).status).toBe(200);
    expect((await upload('readable', tone)).status).toBe(200);
    for (const path of ['/api/ivr-menus', '/api/ivr-menus/8120', '/api/conference-rooms', '/api/audio', '/api/audio/readable.wav', '/api/moh']) {
      expect((await op.get(path)).status, path).toBe(200);
    }
    const writes: [string, string, unknown][] = [
      ['PUT', '/api/ivr-menus/8121', { name: 'x' }], ['DELETE', '/api/ivr-menus/8120', undefined],
      ['POST', '/api/conference-rooms', { number: '8221' }], ['PUT', '/api/moh', { file: 'readable' }], ['DELETE', '/api/audio/readable', undefined],
    ];
    for (const [method, path, body] of writes) {
      const r = await op.request(method, path, body === undefined ? {} : { body });
      expect([r.status, r.json?.role], `${method} ${path}`).toEqual([403, 'admin']);
    }
    const wav = await op.request('PUT', '/api/audio/sneaky', { raw: Buffer.from(tone), contentType: 'audio/wav' });
    expect(wav.status).toBe(403);
    expect((await s.admin.get('/api/audio')).json.items.map((f: { name: string }) => f.name)).not.toContain('sneaky');
  });
});

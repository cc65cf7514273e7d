// /api/voicemail and /api/users/:ext/voicemail on the real store: mailboxes
// and counts, messages (list, audio, folder, delete), greetings (hostile
// uploads refused), the user's mailbox settings, and who may do what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWith, startWithApi, type ApiTestServer } from './client.ts';
import { readWav } from '../../../src/media/wav.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000);
afterAll(async () => {
  await s.ts.stop();
});

/** A WAV header for mono audio (format 7 = µ-law) and `n` bytes of samples. */
function wav(n: number, o: { format?: number; channels?: number; rate?: number } = {}): Buffer {
  const b = Buffer.alloc(44 + n, 0xff);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + n, 4);
  b.write('WAVE', 8, 'latin1');
  b.write('fmt ', 12, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(o.format ?? 7, 20);
  b.writeUInt16LE(o.channels ?? 1, 22);
  b.writeUInt32LE(o.rate ?? 8000, 24);
  b.writeUInt32LE(o.rate ?? 8000, 28);
  b.writeUInt16LE(1, 32);
  b.writeUInt16LE(8, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(n, 40);
  return b;
}

describe('voicemail management', () => {
  it("users carry the mailbox switch and MWI mode; mailboxes, messages, audio, folder, deletion", async () => {
    const add = await s.admin.post('/api/users', { extension: '6100', password: 'Str0ng-Desk-Pw', mwi: 'unsolicited' });
    expect(add.status, add.text).toBe(201);
    expect(add.json).toMatchObject({ voicemail: true, mwi: 'unsolicited' });
    const off = await s.admin.patch('/api/users/6100', { voicemail: false });
    expect(off.json).toMatchObject({ voicemail: false, mwi: 'unsolicited' });
    const bad = await s.admin.patch('/api/users/6100', { mwi: 'never' });
    expect([bad.status, bad.json.issues[0].path]).toEqual([400, 'mwi']);
    expect((await s.admin.post('/api/users', { extension: '6101', password: 'Str0ng-Desk-Pw' })).status).toBe(201);

    const vm = s.ts.server.store.voicemail;
    const m1 = await vm.deposit('6100', { caller: '2001', callerName: 'Ann', receivedAt: 1_000, durationMs: 2500 }, wav(100));
    const m2 = await vm.deposit('6100', { caller: '2002', callerName: '', receivedAt: 2_000, durationMs: 1500 }, wav(10));
    await vm.deposit('6101', { caller: '2003', callerName: '', receivedAt: 3_000, durationMs: 1500 }, wav(10));

    const boxes = await s.admin.get('/api/voicemail');
    expect(boxes.json.items).toEqual([{ mailbox: '6100', name: '', new: 2, saved: 0 }, { mailbox: '6101', name: '', new: 1, saved: 0 }]);
    const list = await s.admin.get('/api/users/6100/voicemail');
    expect(list.json).toMatchObject({ voicemail: false, counts: { new: 2, saved: 0 } });
    expect(list.json.items.map((m: { id: string }) => m.id)).toEqual([m1.id, m2.id]);
    expect(list.json.items[0]).toEqual({ ...m1 });

    const audio = await s.admin.get(`/api/users/6100/voicemail/${m1.id}.wav`);
    expect(audio.status).toBe(200);
    expect(audio.headers['content-type']).toBe('audio/wav');
    expect(audio.body.equals(wav(100))).toBe(true);
    expect((await s.admin.get(`/api/users/6101/voicemail/${m1.id}.wav`)).status).toBe(404);

    const saved = await s.admin.patch(`/api/users/6100/voicemail/${m1.id}`, { folder: 'saved' });
    expect(saved.json).toMatchObject({ id: m1.id, folder: 'saved' });
    expect((await s.admin.patch(`/api/users/6100/voicemail/${m1.id}`, { folder: 'archive' })).status).toBe(400);
    expect((await s.admin.get('/api/users/6100/voicemail?folder=saved')).json.items.map((m: { id: string }) => m.id)).toEqual([m1.id]);
    expect((await s.admin.delete(`/api/users/6100/voicemail/${m2.id}`)).status).toBe(204);
    expect((await s.admin.delete(`/api/users/6100/voicemail/${m2.id}`)).status).toBe(404);
    expect((await s.admin.get('/api/users/6100/voicemail')).json.counts).toEqual({ new: 0, saved: 1 });
    expect((await s.admin.get('/api/users/6999/voicemail')).status).toBe(404);
    expect((await s.admin.get('/api/users/6100/voicemail/not-an-id.wav')).status).toBe(400);

    const audit = await s.admin.get('/api/audit?limit=20');
    expect(JSON.stringify(audit.json)).toContain(`voicemail:6100/${m2.id}`);
  });

  it('greetings: a playable WAV is kept; anything else, too big, or of another type is refused', async () => {
    expect((await s.admin.post('/api/users', { extension: '6200', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    const url = '/api/users/6200/voicemail/greeting.wav';
    expect((await s.admin.get(url)).status).toBe(404);
    expect((await s.admin.get('/api/users/6200/voicemail')).json.greeting).toBe(false);
    const put = await s.admin.request('PUT', url, { raw: wav(800), contentType: 'audio/wav' });
    expect(put.status, put.text).toBe(204);
    const got = await s.admin.get(url);
    expect([got.status, got.headers['content-type']]).toEqual([200, 'audio/wav']);
    // Kept as the endpoint plays it (8 kHz µ-law), the same samples long.
    expect(readWav(got.body)).toMatchObject({ sampleRate: 8000, encoding: 'ulaw' });
    expect(readWav(got.body).pcm.length).toBe(readWav(wav(800)).pcm.length);
    const stored = got.body;
    expect((await s.admin.get('/api/users/6200/voicemail')).json.greeting).toBe(true);

    const refused = async (raw: Buffer, contentType = 'audio/wav') => (await s.admin.request('PUT', url, { raw, contentType })).status;
    expect(await refused(Buffer.from('not a wav file at all, just text that is long enough to pass a size check'))).toBe(400);
    expect(await refused(wav(100, { channels: 2 }))).toBe(400);
    expect(await refused(wav(100, { format: 85 }))).toBe(400);
    expect(await refused(wav(100, { rate: 4000 }))).toBe(400);
    expect(await refused(wav(100).subarray(0, 30))).toBe(400);
    expect(await refused(wav(100), 'application/json')).toBe(400);
    expect(await refused(wav(100), 'image/png')).toBe(415);
    expect(await refused(wav(3 * 1024 * 1024))).toBe(413);
    // What was refused changed nothing.
    expect((await s.admin.get(url)).body.equals(stored)).toBe(true);

    expect((await s.admin.delete(url)).status).toBe(204);
    expect((await s.admin.get(url)).status).toBe(404);
    expect((await s.admin.delete(url)).status).toBe(404);
    expect((await s.admin.request('PUT', '/api/users/6999/voicemail/greeting.wav', { raw: wav(10), contentType: 'audio/wav' })).status).toBe(404);
  });

  it('an operator sees mailboxes and counts but neither hears nor changes messages', async () => {
    expect((await s.admin.post('/api/users', { extension: '6300', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    const m = await s.ts.server.store.voicemail.deposit('6300', { caller: '1', callerName: '', receivedAt: 1, durationMs: 1000 }, wav(10));
    const op = await accountWith(s, 'vm-operator', ['operator']);
    expect((await op.get('/api/voicemail')).status).toBe(200);
    expect((await op.get('/api/users/6300/voicemail')).status).toBe(200);
    expect((await op.get(`/api/users/6300/voicemail/${m.id}.wav`)).status).toBe(403);
    expect((await op.delete(`/api/users/6300/voicemail/${m.id}`)).status).toBe(403);
    expect((await op.request('PUT', '/api/users/6300/voicemail/greeting.wav', { raw: wav(10), contentType: 'audio/wav' })).status).toBe(403);
  });

  it('status: the extension list and detail count new messages; no conference is open', async () => {
    expect((await s.admin.post('/api/users', { extension: '6400', password: 'Str0ng-Desk-Pw' })).status).toBe(201);
    expect((await s.admin.post('/api/users', { extension: '6401', password: 'Str0ng-Desk-Pw', voicemail: false })).status).toBe(201);
    await s.ts.server.directory.poll();
    const vm = s.ts.server.store.voicemail;
    const m = await vm.deposit('6400', { caller: '1', callerName: '', receivedAt: 1, durationMs: 1000 }, wav(10));
    await vm.deposit('6400', { caller: '2', callerName: '', receivedAt: 2, durationMs: 1000 }, wav(10));
    await vm.setFolder('6400', m.id, 'saved');
    const rows = (await s.admin.get('/api/status/extensions?q=640')).json.items as { extension: string; messages: number }[];
    expect(rows.map((r) => [r.extension, r.messages])).toEqual([['6400', 1], ['6401', 0]]);
    expect((await s.admin.get('/api/users/6400/detail')).json.voicemail).toEqual({ enabled: true, new: 1, saved: 1 });
    expect((await s.admin.get('/api/users/6401/detail')).json.voicemail).toEqual({ enabled: false, new: 0, saved: 0 });
    expect((await s.admin.get('/api/status/conferences')).json).toEqual({ items: [] });
  });

  it('the OpenAPI document lists the routes', async () => {
    const paths = (await s.admin.get('/api/openapi.json')).json.paths;
    expect(paths['/api/voicemail'].get).toBeDefined();
    expect(paths['/api/users/{ext}/voicemail/{id}'].delete).toBeDefined();
    expect(paths['/api/users/{ext}/voicemail/greeting.wav'].put).toBeDefined();
    expect(paths['/api/status/conferences'].get).toBeDefined();
  });
});

// The media server in status with two workers: a conference room lives in
// the mixer of the worker whose B2BUA took the call, so the management
// worker (1) must ask the other for its rooms. Phones (new source ports, so
// the kernel spreads their flows) call rooms until both workers answered
// some (each phone a user of its own: a user's calls are kept on one worker); GET /api/status/conferences then lists each room with the worker
// that answered it, and GET /api/status names those calls' application.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../api/client.ts';
import { freePort, startSwitchboard } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import { waitUntil } from '../../lib/wait.ts';
import type { ActiveConference } from '../../../src/model/status.ts';

/** Phones tried at most before both workers must have answered one. */
const ATTEMPTS = 24;
// A user's calls are kept on one worker (placement.ts): a user of its own for each call.
const USERS = Array.from({ length: ATTEMPTS }, (_, i) => ({ ext: String(5101 + i), password: `pw-room-caller-${String.fromCharCode(97 + i)}-secret` }));
const ROOMS = ['8200', '8201', '8202', '8203', '8204', '8205'];

let sb: SwitchboardHandle;
let api: ApiClient;
const phones: TestPhone[] = [];

beforeAll(async () => {
  const httpPort = await freePort();
  sb = await startSwitchboard({ workers: 2, users: USERS, readyTimeoutMs: 60_000, http: `127.0.0.1:${httpPort}` });
  const adminPassword = /^Initial admin password: (\S+)$/m.exec(sb.output())?.[1] ?? '';
  api = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(sb.dataDir, 'certs', 'ca.crt'), 'utf8'));
  await api.loginChanging('admin', adminPassword, 'Cluster-Rooms-Pass-8');
  // No join tone: a caller is in the mixer once its short prompt ends.
  for (const number of ROOMS) expect((await api.post('/api/conference-rooms', { number, announceJoin: false })).status).toBe(201);
}, 90_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await sb?.stop();
});

describe('conferences in status with two workers', () => {
  it("lists every worker's rooms with the worker mixing each, and names the calls' application", async () => {
    const answered: Array<{ room: string; worker: number }> = [];
    for (let i = 0; i < ATTEMPTS && new Set(answered.map((a) => a.worker)).size < 2; i++) {
      const phone = await TestPhone.start({ ext: USERS[i]!.ext, password: USERS[i]!.password, server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
      phones.push(phone);
      const room = ROOMS[i % ROOMS.length]!;
      // The workers learn of new rooms from the store within a poll interval: a 404 before that is tried again.
      let ok = await phone.call(room).final;
      for (let t = 0; t < 20 && ok.status === 404; t++) {
        await new Promise((r) => setTimeout(r, 250));
        ok = await phone.call(room).final;
      }
      expect(ok.status, `call ${i} to ${room}`).toBe(200);
      answered.push({ room, worker: ownerOfId(tagOf(ok.to)) });
    }
    expect(new Set(answered.map((a) => a.worker))).toEqual(new Set([1, 2]));

    const expected = new Map<string, ActiveConference>();
    for (const a of answered) {
      const key = `${a.room}@${a.worker}`;
      const seen = expected.get(key) ?? { room: a.room, adhoc: false, participants: 0, worker: a.worker };
      seen.participants++;
      expected.set(key, seen);
    }
    const want = [...expected.values()].sort((a, b) => a.room.localeCompare(b.room) || a.worker! - b.worker!);
    let got: ActiveConference[] = [];
    // Each caller joins its room's mixer after the room's prompt (real time).
    const joined = await waitUntil(async () => {
      got = ((await api.get('/api/status/conferences')).json as { items: ActiveConference[] }).items;
      return JSON.stringify(got) === JSON.stringify(want);
    }, 30_000, 250);
    expect(joined, JSON.stringify(got)).toBe(true);

    const calls = ((await api.get('/api/status')).json as { calls: Array<{ callee: string; app: string | null }> }).calls;
    expect(calls.map((c) => [c.callee, c.app]).sort()).toEqual(answered.map((a) => [a.room, 'conference']).sort());
  }, 120_000);
});

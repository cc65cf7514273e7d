// The data directory's disk fills up under a running server (issue 11,
// "Disk trouble"): a 24 MiB tmpfs, filled to the last byte. The server keeps
// answering SIP and HTTPS; a REGISTER it cannot store is refused (503), never
// acknowledged and then lost; /healthz and the admin login say "database"
// instead of "ok" and 500; the log says it once per outage, without stacks;
// when space returns everything queued is written; and a SIGTERM while the
// disk is full names what it could not write and exits non-zero.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../../integration/api/client.ts';
import { TestPhone } from '../../integration/lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';
import { freePort, importUsers, processAlive as alive, startSwitchboard } from '../harness.ts';
import { serverPids } from '../../fuzz/checks.ts';
import type { SwitchboardHandle } from '../harness.ts';
import { makeUsers } from '../users.ts';
import { mountSmallDisk } from '../lib/small-disk.ts';
import type { SmallDisk } from '../lib/small-disk.ts';
import { httpsGet } from '../lib/https-get.ts';
import { getHeader } from '../../../src/sip/headers.ts';
import { tlsOptions } from '../lib/tls-probe.ts';

const USERS = makeUsers(40, 21000);
const ADMIN_PASSWORD = 'Disk-Full-Keeper-42';

let disk: SmallDisk;
let sb: SwitchboardHandle;
let httpPort = 0;
let api: ApiClient;
const phones: TestPhone[] = [];

function count(table: 'registrations' | 'cdrs'): number {
  const db = new Database(join(disk.dir, 'switchboard.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
const storedContacts = (): number => count('registrations');

/** A call from phones[from] to phones[to], answered and hung up by the caller: a call record to write. */
async function callAndHangUp(from: number, to: number): Promise<void> {
  const call = phones[from]!.call(USERS[to]!.ext);
  expect((await call.final).status).toBe(200);
  expect((await phones[from]!.inDialog(call.dialog!, 'BYE')).status).toBe(200);
}

const lines = (pattern: RegExp): number => sb.output().split('\n').filter((l) => pattern.test(l)).length;

beforeAll(async () => {
  disk = mountSmallDisk(24);
  await importUsers(disk.dir, USERS);
  httpPort = await freePort();
  // A start takes over 30 s on a loaded machine (2 workers on 2 shared cores); the start is not what is tested here.
  sb = await startSwitchboard({ dataDir: disk.dir, http: `127.0.0.1:${httpPort}`, workers: 2, readyTimeoutMs: 90_000 });
  const initial = /^Initial admin password: (\S+)$/m.exec(sb.output())?.[1] ?? '';
  api = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(disk.dir, 'certs', 'ca.crt'), 'utf8'));
  await api.loginChanging('admin', initial, ADMIN_PASSWORD);
  for (const u of USERS) {
    phones.push(await TestPhone.start({ ext: u.ext, password: u.password, server: { host: '127.0.0.1', port: sb.udpPort, domain: sb.domain } }));
  }
}, 120_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await sb?.stop();
  disk?.unmount();
});

describe('the data disk fills up under a running server', () => {
  it('refuses REGISTERs it cannot store (503), keeps answering SIP, and says so once, on /healthz and at login', async () => {
    const before = await Promise.all(phones.slice(0, 20).map((p) => p.register(3600)));
    expect(before.map((r) => r.status)).toEqual(before.map(() => 200));
    expect(storedContacts()).toBe(20);

    disk.fill();
    const during = await Promise.all(phones.slice(20).map((p) => p.register(3600)));
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(getHeader(r, 'retry-after')).toBe('30');
    }
    // Still serving: OPTIONS over UDP, TLS and TCP.
    expect((await phones[0]!.request('OPTIONS')).status).toBe(200);
    expect(await tlsOptions(sb.tlsPort)).toBe('SIP/2.0 200 OK');
    const tcp = await TestPhone.start({ ext: USERS[0]!.ext, password: USERS[0]!.password, transport: 'tcp', server: { host: '127.0.0.1', port: sb.tcpPort, domain: sb.domain } });
    try {
      expect((await tcp.request('OPTIONS')).status).toBe(200);
    } finally {
      await tcp.stop();
    }

    // Calls go on; the record of one that ended waits in the queue (its write fails and is retried).
    await callAndHangUp(0, 1);
    // Said by the worker that placed the call. /healthz is the management worker's (worker 1) and names its
    // own queues: it names the call records only when the call was placed there.
    const cdrFailing = await waitUntil(() => /call record writes failing/.test(sb.output()), 10_000, 200);
    expect(cdrFailing, sb.output()).toBe(true);
    const health = await httpsGet(httpPort, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.body).checks.database).toEqual({ ok: false, detail: expect.stringMatching(/not writable.*SQLITE_FULL/) });

    // The right password: a session cannot be stored, and the answer says why (not 500).
    const admin = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(disk.dir, 'certs', 'ca.crt'), 'utf8'));
    const login = await admin.login('admin', ADMIN_PASSWORD);
    expect(login.status, login.text).toBe(503);
    expect(login.json.error).toBe('database-unavailable');
    expect(login.headers['retry-after']).toBe('30');
    // An administrator's change cannot be stored with its audit entry: refused the same way, nothing half done.
    const add = await api.post('/api/users', { extension: '21999', password: 'Disk-Full-New-User-1' });
    expect(add.status, add.text).toBe(503);
    expect(add.json.error).toBe('database-unavailable');

    // More attempts over a few seconds (the write-behind retries, more REGISTERs): still one line per worker.
    await Promise.all(phones.slice(20, 30).map((p) => p.register(3600)));
    await new Promise((r) => setTimeout(r, 3000));
    // The log line and the alarm it raises, once per worker (each writes its own registrations).
    expect(lines(/"msg":"registration writes failing: SQLITE_FULL/)).toBeGreaterThanOrEqual(1);
    expect(lines(/"msg":"registration writes failing/)).toBeLessThanOrEqual(2);
    expect(lines(/"msg":"call record writes failing: SQLITE_FULL/)).toBe(1);
    expect(lines(/"msg":"alarm raised"/)).toBeLessThanOrEqual(2);
    expect(lines(/management API: database cannot take writes/)).toBeLessThanOrEqual(2);
    expect(sb.output()).not.toContain('"stack"');
  });

  it('writes what was queued once space returns, and acknowledges registrations again', async () => {
    disk.free();
    const recovered = await waitUntil(async () => (await httpsGet(httpPort, '/healthz')).status === 200, 10_000, 200);
    expect(recovered, sb.output()).toBe(true);
    // /healthz is worker 1's; each worker that failed says so when its own queue's retry goes through.
    const everyWorker = await waitUntil(() => lines(/registration writes go through again/) >= lines(/"msg":"registration writes failing: SQLITE_FULL/), 10_000, 200);
    expect(everyWorker, sb.output()).toBe(true);
    const after = await Promise.all(phones.slice(20).map((p) => p.register(3600)));
    expect(after.map((r) => r.status)).toEqual(after.map(() => 200));
    expect(storedContacts()).toBe(40);
    // The call record queued during the outage is written, and the refused change was never half applied.
    expect(await waitUntil(() => count('cdrs') === 1, 10_000, 200)).toBe(true);
    expect((await api.get('/api/users/21999')).status).toBe(404);
    expect((await api.get('/api/audit?target=user:21999')).json.items).toEqual([]);
  });

  it('a SIGTERM while the disk is full names what it could not write, exits non-zero, and loses nothing acknowledged', async () => {
    disk.fill();
    // Unregistrations the server cannot store: refused, queued, and unwritten at the stop.
    const refused = await Promise.all(phones.slice(30).map((p) => p.register(0)));
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 503));
    await callAndHangUp(2, 3);
    const pids = serverPids(sb.pid);
    expect(pids).toHaveLength(3);
    const code = await sb.stop();
    // 1, not null: the process ended by itself within the stop's 5 s grace (no half-stopped process left to SIGKILL).
    expect(code).toBe(1);
    expect(sb.output()).toMatch(/not written before closing: \d+ registration change\(s\): SQLITE_FULL/);
    expect(sb.output()).toMatch(/not written before closing: .*1 call record\(s\): SQLITE_FULL/);
    expect(sb.output()).toMatch(/did not stop cleanly/);
    // No half-alive process: the workers are gone with the supervisor.
    expect(pids.filter((p) => alive(p))).toEqual([]);
    disk.free();
    // Every registration answered 200 is on disk (the refused unregistrations were never acknowledged).
    expect(storedContacts()).toBe(40);
  });
});

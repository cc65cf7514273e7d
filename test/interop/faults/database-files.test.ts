// The SQLite files under a running or starting server (issue 11, "Disk
// trouble"): the -shm index truncated behind the server's back is put back
// (a worker caught inside the window dies of SIGBUS and is started again,
// nothing acknowledged lost); a database file the server
// cannot write, a full disk and a damaged file stop the start with a line
// that says what to do.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPhone } from '../../integration/lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';
import { importUsers, makeTempDir, removeDir, REPO_ROOT, runTool, startSwitchboard, SWITCHBOARD_BIN } from '../harness.ts';
import type { SwitchboardHandle } from '../harness.ts';
import { makeUsers } from '../users.ts';
import { mountSmallDisk } from '../lib/small-disk.ts';

const USERS = makeUsers(30, 23000);
const dirs: string[] = [];
const servers: SwitchboardHandle[] = [];
const phones: TestPhone[] = [];

afterAll(async () => {
  for (const p of phones) await p.stop();
  for (const s of servers) await s.stop();
  for (const d of dirs) removeDir(d);
});

function stored(dataDir: string): number {
  const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM registrations').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** `switchboard start` on a data dir that should not start: its exit code and what it printed. */
async function startFails(dataDir: string): Promise<{ code: number | null; out: string }> {
  const r = await runTool(process.execPath, [SWITCHBOARD_BIN, 'start', '--data-dir', dataDir, '--workers', '1',
    '--sip-udp', '127.0.0.1:0', '--sip-tcp', '127.0.0.1:0', '--sip-tls', '127.0.0.1:0', '--http', '127.0.0.1:0', '--provisioning', '127.0.0.1:0'],
  { timeoutMs: 30_000, cwd: REPO_ROOT, until: (out) => /Switchboard ready/.test(out) });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('the -shm index under a running server', () => {
  it('is put back when truncated, and the server goes on registering and storing (two workers)', async () => {
    const dataDir = makeTempDir('shm');
    dirs.push(dataDir);
    await importUsers(dataDir, USERS);
    const sb = await startSwitchboard({ dataDir, workers: 2, tls: false });
    servers.push(sb);
    for (const u of USERS) phones.push(await TestPhone.start({ ext: u.ext, password: u.password, server: { host: '127.0.0.1', port: sb.udpPort, domain: sb.domain } }));
    const shm = join(dataDir, 'switchboard.db-shm');
    for (let round = 0; round < 3; round++) {
      truncateSync(shm, 0);
      // The index is rebuilt; every REGISTER goes on being stored before its 200.
      const answers = await Promise.all(phones.slice(round * 10, round * 10 + 10).map((p) => p.register(3600)));
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      expect(() => process.kill(sb.pid, 0)).not.toThrow();
    }
    expect(stored(dataDir)).toBe(30);
    expect(await waitUntil(() => /-shm was cut from \d+ to 0 bytes/.test(sb.output()), 5000, 100), sb.output()).toBe(true);
    // Said as a warning line, without a stack.
    const cut = sb.output().split('\n').filter((l) => l.includes('-shm was cut'));
    for (const l of cut) expect(l).not.toMatch(/stack|"level":50|ERROR/);
    // The guard narrows the window and cannot close it (file-checks.ts): a worker that read the
    // index inside it dies of SIGBUS and is started again. Nothing else may end a worker.
    const exits = sb.output().split('\n').filter((l) => l.includes('worker exited'));
    for (const l of exits) expect(l).toMatch(/SIGBUS/);
    if (exits.length > 0) expect(await waitUntil(() => (sb.output().match(/worker restarted/g) ?? []).length >= exits.length, 30_000, 100), sb.output()).toBe(true);
    const again = await Promise.all(phones.map((p) => p.register(3600)));
    expect(again.map((r) => r.status)).toEqual(again.map(() => 200));
    // A command beside the running server still works on the same files.
    const list = await runTool(process.execPath, [SWITCHBOARD_BIN, 'user', 'list', '--data-dir', dataDir], { timeoutMs: 30_000, cwd: REPO_ROOT });
    expect(list.code, list.stderr).toBe(0);
  });
});

describe('a start on database files that cannot work', () => {
  it('an immutable -shm left by a crash: says which file and what to do', async () => {
    const dataDir = makeTempDir('shm-immutable');
    dirs.push(dataDir);
    await importUsers(dataDir, USERS.slice(0, 2));
    const shm = join(dataDir, 'switchboard.db-shm');
    writeFileSync(shm, Buffer.alloc(32768));
    execFileSync('chattr', ['+i', shm]);
    try {
      const r = await startFails(dataDir);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`cannot write ${shm} (EPERM)`);
      expect(r.out).toMatch(/chattr -i.*remove switchboard\.db-shm while no switchboard process runs/);
    } finally {
      execFileSync('chattr', ['-i', shm]);
    }
  });

  it('a full disk: refuses to start and says to free space', async () => {
    const disk = mountSmallDisk(16);
    try {
      await importUsers(disk.dir, USERS.slice(0, 2));
      disk.fill();
      const r = await startFails(disk.dir);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/the disk holding .* is full \(\d+ KiB free\): free some space, then start again/);
    } finally {
      disk.unmount();
    }
  });

  it('a damaged database file: names it and the ways out', async () => {
    const dataDir = makeTempDir('damaged');
    dirs.push(dataDir);
    await importUsers(dataDir, USERS.slice(0, 2));
    writeFileSync(join(dataDir, 'switchboard.db'), Buffer.alloc(8192, 0x41));
    const r = await startFails(dataDir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/the database .*switchboard\.db is damaged \(SQLITE_NOTADB.*restore it from a backup/);
  });
});

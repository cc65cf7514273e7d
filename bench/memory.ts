// Memory benchmark: resident memory of a Switchboard server holding N
// (default 100,000) registered contacts. The server runs as a child process
// with N users imported through `switchboard user import`; a UDP load
// generator (lib/register-load.ts) registers every user once with digest
// auth; RSS comes from /proc/<pid>/status before and after. The count is
// checked twice: 200 OKs seen by the client, and rows in the registrations
// table once the server has stopped (its shutdown flushes the write-behind).
//
//   node --import tsx bench/memory.ts [--users N] [--rate R] [--window W] [--deadline S] [--hold S] [--keep]
//        [--heap-snapshots DIR] [--workers N] [--log-level L]
//
// With --workers N the figures are the sum over the supervisor and every
// worker (each worker holds every registration and every user), with each
// process's RSS and the sum of their PSS beside (shared pages counted once).
//
// --heap-snapshots writes a heap snapshot with 0 contacts and one in the
// steady state (compare them with lib/heap-top.ts); analysis only, slow.
//
// Prints one line per figure. Exit code 1 when the plumbing broke (server
// did not start, fewer contacts than users), never for a large figure.
import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { machineLines } from './lib/machine.ts';
import { registerAll } from './lib/register-load.ts';
import { GcHookReader, gcHookArgs, mib, procMemory, startServerProc } from './lib/switchboard-proc.ts';
import type { HookMemory, ServerProc } from './lib/switchboard-proc.ts';
import { treeCpuSeconds, treePids } from './lib/cpu.ts';
import { importUsers, makeTempDir, removeDir } from '../test/interop/harness.ts';
import { makeUsers } from '../test/interop/users.ts';

const DOMAIN = 'lab.test';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

function isServerProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('switchboard.mjs');
  } catch {
    return false;
  }
}

function countRows(dataDir: string): { rows: number; aors: number } {
  const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
  try {
    const rows = (db.prepare('SELECT COUNT(*) AS n FROM registrations').get() as { n: number }).n;
    const aors = (db.prepare('SELECT COUNT(DISTINCT aor) AS n FROM registrations').get() as { n: number }).n;
    return { rows, aors };
  } finally {
    db.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      users: { type: 'string', default: '100000' },
      rate: { type: 'string', default: '3000' },
      window: { type: 'string', default: '300' },
      deadline: { type: 'string', default: '300' },
      hold: { type: 'string', default: '45' },
      keep: { type: 'boolean', default: false },
      'heap-snapshots': { type: 'string' },
      workers: { type: 'string', default: '1' },
      'log-level': { type: 'string', default: 'warn' },
    },
  });
  const n = int('users', values.users, 100, 2_000_000);
  const rate = int('rate', values.rate, 10, 50_000);
  const window = int('window', values.window, 1, 10_000);
  const deadlineSec = int('deadline', values.deadline, 10, 1800);
  const holdSec = int('hold', values.hold, 0, 600);
  const workers = int('workers', values.workers, 1, 63);
  for (const line of machineLines()) console.log(line);
  console.log(`setup: ${n} users, register at <= ${rate}/s with <= ${window} in flight, UDP loopback, digest MD5, Expires 3600, ${workers} worker(s)`);

  const dataDir = makeTempDir('bench-memory');
  let server: ServerProc | null = null;
  let broken = false;
  try {
    const users = makeUsers(n, 100000);
    const t0 = Date.now();
    await importUsers(dataDir, users);
    console.log(`import of ${n} users (switchboard user import): ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const t1 = Date.now();
    const hook = new GcHookReader();
    let partial = '';
    const snapDir = values['heap-snapshots'] === undefined ? undefined : resolve(values['heap-snapshots']);
    if (snapDir !== undefined) mkdirSync(snapDir, { recursive: true });
    server = await startServerProc({
      dataDir, domain: DOMAIN, nodeArgs: gcHookArgs(), onOutput: (c) => {
        hook.feed(c);
        // The server's own word when it hands freed heap back (src/lib/heap-trim.ts), at --log-level info.
        const lines = (partial + c).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.includes('freed heap handed back')) console.log(`server: ${line}`);
      },
      env: snapDir === undefined ? {} : { BENCH_HEAP_SNAPSHOT_DIR: snapDir },
      workers,
      logLevel: values['log-level'],
    });
    console.log(`server start with ${n} users: ${((Date.now() - t1) / 1000).toFixed(1)} s (pid ${server.pid})`);
    const pid = server.pid;
    // Every process of the server: the supervisor and its workers, or the one process.
    const treeMemory = (): { rss: number; hwm: number; pss: number | null; each: string } | null => {
      const all = treePids(pid).map(procMemory);
      if (all.length === 0 || all.some((m) => m === null)) return null;
      const pss = all.some((m) => m!.pss === null) ? null : all.reduce((a, m) => a + m!.pss!, 0);
      return {
        rss: all.reduce((a, m) => a + m!.rss, 0),
        hwm: all.reduce((a, m) => a + m!.hwm, 0),
        pss,
        each: all.map((m) => mib(m!.rss)).join(' + '),
      };
    };
    const treeHook = async (snap: boolean): Promise<HookMemory | null> => {
      const parts: HookMemory[] = [];
      // Only the server's node processes carry the hook; tsx's esbuild service (a Go program) would die of the signal.
      for (const p of treePids(pid).filter(isServerProcess)) {
        const m = await hook.request(p, snap ? 600_000 : 30_000);
        if (m === null) return null;
        if (m.snapshot) console.log(`heap snapshot: ${m.snapshot}`);
        parts.push(m);
      }
      const add = (k: 'heapUsed' | 'heapTotal' | 'external'): number => parts.reduce((a, m) => a + m[k], 0);
      return parts.length === 0 ? null : { ...parts[0]!, heapUsed: add('heapUsed'), heapTotal: add('heapTotal'), external: add('external') };
    };
    const figure = async (what: string, snapshot = false): Promise<{ rss: number | null; heap: number | null }> => {
      const raw = treeMemory();
      const snap = snapshot && snapDir !== undefined;
      if (snap) writeFileSync(join(snapDir, 'next'), '');
      const m = await treeHook(snap);
      await sleep(500);
      const gced = treeMemory();
      const heap = m === null ? 'n/a' : `heap used ${mib(m.heapUsed)} of ${mib(m.heapTotal)}, external ${mib(m.external)}`;
      console.log(
        `${what}: rss ${raw === null ? 'n/a' : mib(raw.rss)}; after full GC rss ${gced === null ? 'n/a' : mib(gced.rss)}, ${heap}` +
          `${raw === null ? '' : `; peak rss so far ${mib(raw.hwm)}`}` +
          `${gced === null ? '' : `; per process rss ${gced.each}, pss total ${gced.pss === null ? 'n/a' : mib(gced.pss)}`}`,
      );
      return { rss: gced?.rss ?? null, heap: m?.heapUsed ?? null };
    };
    await sleep(2000);
    const before = await figure(`${n} users, 0 contacts`);
    if (snapDir !== undefined) await figure(`${n} users, 0 contacts, for the heap snapshot`, true);

    const cpu0 = treeCpuSeconds(pid);
    let lastLog = 0;
    const load = await registerAll({
      host: server.host,
      port: server.udpPort,
      domain: DOMAIN,
      users,
      rate,
      window,
      expiresSec: 3600,
      deadlineMs: deadlineSec * 1000,
      retryPasses: 2,
      onProgress: (done, ok) => {
        if (Date.now() - lastLog < 10_000) return;
        lastLog = Date.now();
        console.log(`  progress: ${done} done, ${ok} ok`);
      },
    });
    const cpu1 = treeCpuSeconds(pid);
    const unexpected = [...load.unexpected.entries()].map(([s, c]) => `${s}x${c}`).join(' ') || 'none';
    console.log(
      `registered (200 OK seen by client): ${load.ok}/${n} in ${load.elapsedSec.toFixed(1)} s ` +
        `(${(load.ok / load.elapsedSec).toFixed(0)}/s incl. retry passes), retransmissions ${load.retransmissions}, ` +
        `unexpected finals ${unexpected}, server cpu ${cpu0 !== null && cpu1 !== null ? `${(cpu1 - cpu0).toFixed(1)} s` : 'n/a'}`,
    );
    await figure(`${load.ok} contacts, right after registering (completed transactions still held for timer J)`);
    // Timer J keeps each completed UDP transaction 64*T1 = 32 s; after that
    // only the users and the contacts remain.
    await sleep(holdSec * 1000);
    // The snapshot goes last: writing it costs memory the RSS figure must not see.
    const after = await figure(`${load.ok} contacts, ${holdSec} s later (steady state)`);
    if (snapDir !== undefined) await figure(`${load.ok} contacts, for the heap snapshot`, true);
    if (load.ok > 0) {
      const per = (a: number | null, b: number | null): string => (a === null || b === null ? 'n/a' : `${((a - b) / load.ok).toFixed(0)} bytes`);
      // The live heap is the precise figure; RSS also holds heap V8 keeps committed.
      console.log(`growth per contact (steady, after GC): live heap ${per(after.heap, before.heap)}, rss ${per(after.rss, before.rss)}`);
    }

    const code = await server.stop();
    server = null;
    const { rows, aors } = countRows(dataDir);
    console.log(`registrations table after SIGTERM (exit ${code}): ${rows} rows, ${aors} distinct AORs`);
    if (load.ok !== n || rows !== n || aors !== n) {
      broken = true;
      console.log(`CHECK FAILED: expected ${n} contacts on both sides`);
    }
  } catch (err) {
    broken = true;
    console.log(`memory bench could not run: ${(err as Error).message}`);
  } finally {
    if (server !== null) await server.stop();
    if (values.keep) console.log(`data dir kept: ${dataDir}`);
    else removeDir(dataDir);
  }
  return broken ? 1 : 0;
}

process.exitCode = await main();

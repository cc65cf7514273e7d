// CPU of Switchboard when it does little: per process (supervisor, each
// worker) over bounded windows: (1) idle, users imported and nothing
// registered; (2) idle with N users registered; (3) K windows in a row of a
// low steady call rate through the calls bench's SIPp rig. A fixed cost
// (timers, probes, polling, traffic between workers) shows here undiluted,
// where the ramp of bench/calls.ts only shows it as a high CPU at its first
// step; the repeated call windows tell a steady cost from the first calls'
// (V8 compiling the call path in each process). Per process it prints the
// main thread's part (the rest is V8's compiler and GC threads) and how often
// the main thread woke up.
//
//   node --import tsx bench/cluster-cpu.ts [--workers N] [--users N] [--seconds S]
//        [--rate R] [--repeat K] [--pairs P] [--overload on|off] [--profile DIR] [--top N] [--by-file]
//
// --profile runs the server with `node --cpu-prof` into DIR and prints, for
// every worker, the top functions by self time within each window. The
// profiler costs CPU of its own (~3 % per process here, ~900 wake-ups/s):
// take CPU figures from a run without it.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PairUsers } from './lib/call-load.ts';
import { runCallStep, setupRig } from './lib/call-load.ts';
import { clockTicks, parseProcStat, treePids } from './lib/cpu.ts';
import { machineLines } from './lib/machine.ts';
import { intOption } from './lib/micro.ts';
import type { CpuProfile } from './lib/profile-top.ts';
import { formatSummary, summarize } from './lib/profile-top.ts';
import { registerAll } from './lib/register-load.ts';
import { startServerProc } from './lib/switchboard-proc.ts';
import { REPO_ROOT, importUsers, makeTempDir, removeDir, requireTool } from '../test/interop/harness.ts';
import type { TestUser } from '../test/interop/users.ts';
import { makeUsers } from '../test/interop/users.ts';

const DOMAIN = 'lab.test';
const CALLERS_PER_PAIR = 500;

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Ticks of utime+stime of one process's main thread, or null. */
function mainThreadTicks(pid: number): number | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'))?.self ?? null;
  } catch {
    return null;
  }
}

/** Times the main thread went to sleep (waiting for I/O or a timer): each is a wake-up later. */
function mainThreadSleeps(pid: number): number {
  try {
    const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** utime+stime (and stime alone, and the main thread's part) in ticks of each live process of the tree, and its main thread's sleeps. */
function perProcess(root: number): Map<number, { cpu: number; sys: number; main: number; sleeps: number }> {
  const out = new Map<number, { cpu: number; sys: number; main: number; sleeps: number }>();
  for (const pid of treePids(root)) {
    try {
      const st = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (st !== null) out.set(pid, { cpu: st.self, sys: st.sys, main: mainThreadTicks(pid) ?? st.self, sleeps: mainThreadSleeps(pid) });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** The machine's UDP datagrams sent so far (/proc/net/snmp): every process's, so only a quiet machine gives a clean count. */
function udpOut(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(' ');
  const vals = (lines[1] ?? '').split(' ');
  return Number(vals[names.indexOf('OutDatagrams')]);
}

interface Phase {
  name: string;
  /** UDP datagrams sent on the machine during the phase. */
  datagrams: number;
  fromUs: number;
  toUs: number;
  /** pid -> CPU % of one core over the phase (and its kernel part). */
  cpu: Map<number, { pct: number; sysPct: number; mainPct: number; wakeups: number }>;
}

/** Runs fn (at least `seconds` long) and measures every process of the tree over it. */
async function phase(name: string, root: number, fn: () => Promise<void>): Promise<Phase> {
  const before = perProcess(root);
  const out0 = udpOut();
  const t0 = Date.now();
  const fromUs = monotonicUs();
  await fn();
  const toUs = monotonicUs();
  const wall = (Date.now() - t0) / 1000;
  const after = perProcess(root);
  const datagrams = udpOut() - out0;
  const cpu = new Map<number, { pct: number; sysPct: number; mainPct: number; wakeups: number }>();
  const hz = clockTicks();
  for (const [pid, a] of after) {
    const b = before.get(pid);
    if (b === undefined) continue;
    const pct = (x: number, y: number): number => ((x - y) / hz / wall) * 100;
    cpu.set(pid, { pct: pct(a.cpu, b.cpu), sysPct: pct(a.sys, b.sys), mainPct: pct(a.main, b.main), wakeups: (a.sleeps - b.sleeps) / wall });
  }
  return { name, datagrams, fromUs, toUs, cpu };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      workers: { type: 'string', default: '2' },
      users: { type: 'string', default: '4000' },
      seconds: { type: 'string', default: '20' },
      rate: { type: 'string', default: '100' },
      pairs: { type: 'string', default: '8' },
      profile: { type: 'string' },
      top: { type: 'string', default: '12' },
      repeat: { type: 'string', default: '2' },
      'by-file': { type: 'boolean', default: false },
      // off: no overload control, to tell shedding (on a machine whose other load delays the probe) from a limit of ours.
      overload: { type: 'string', default: 'on' },
    },
  });
  const workers = intOption('workers', values.workers, 1, 63);
  const registered = intOption('users', values.users, 0, 100_000);
  const seconds = intOption('seconds', values.seconds, 2, 120);
  const rate = intOption('rate', values.rate, 0, 2000);
  const pairCount = intOption('pairs', values.pairs, 1, 16);
  const top = intOption('top', values.top, 1, 100);
  const repeat = intOption('repeat', values.repeat, 1, 5);
  requireTool('sipp');
  for (const line of machineLines()) console.log(line);
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const dataDir = makeTempDir('bench-cluster-cpu');
  const workDir = makeTempDir('bench-cluster-cpu-sipp');
  // The calls bench's users (callers and callees) and, after them, the ones registered in phase 2.
  const callUsers = makeUsers(pairCount * (1 + CALLERS_PER_PAIR), 100000);
  const extra = makeUsers(callUsers.length + registered, 100000).slice(callUsers.length);
  const pairs: PairUsers[] = [];
  for (let i = 0; i < pairCount; i++) {
    const base = i * (1 + CALLERS_PER_PAIR);
    pairs.push({ callee: callUsers[base] as TestUser, callers: callUsers.slice(base + 1, base + 1 + CALLERS_PER_PAIR) });
  }
  console.log(`setup: --workers ${workers}, ${callUsers.length + extra.length} users, phases of ${seconds} s: idle; ${registered} registered; ${rate} calls/s over ${pairCount} SIPp pairs`);
  const phases: Phase[] = [];
  let serverPid = -1;
  let broken = false;
  try {
    await importUsers(dataDir, [...callUsers, ...extra]);
    const configFile = join(dataDir, 'bench-config.json');
    if (values.overload !== 'on' && values.overload !== 'off') throw new Error('--overload must be on or off');
    const sip = values.overload === 'off' ? { sip: { overload: { enabled: false } } } : {};
    // registrar.keepaliveSec 0: the SIPp phones (uas_*.xml) fail a call on an OPTIONS keepalive and then miss their INVITE.
    writeFileSync(configFile, JSON.stringify({ calls: { maxCallsPerUser: 100 }, registrar: { keepaliveSec: 0 }, ...sip }));
    const server = await startServerProc({
      dataDir, domain: DOMAIN, configFile, workers,
      nodeArgs: profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
    });
    serverPid = server.pid;
    try {
      await sleep(3000);
      phases.push(await phase('idle', server.pid, () => sleep(seconds * 1000)));
      if (registered > 0) {
        const r = await registerAll({ host: server.host, port: server.udpPort, domain: DOMAIN, users: extra, rate: 1000, window: 100, expiresSec: 3600, deadlineMs: 60_000 });
        console.log(`registered ${r.ok}/${extra.length} in ${r.elapsedSec.toFixed(1)} s (${r.failed} failed)`);
        await sleep(3000);
        phases.push(await phase(`idle, ${r.ok} registered`, server.pid, () => sleep(seconds * 1000)));
      }
      if (rate > 0) {
        const sip = { name: 'switchboard', host: server.host, udpPort: server.udpPort, domain: DOMAIN, output: () => server.output() };
        const rig = await setupRig(sip, pairs, workDir, seconds * 4 + 120);
        try {
          await sleep(2000);
          const target = { name: 'switchboard', host: server.host, port: server.udpPort, domain: DOMAIN, pid: server.pid };
          // The first calls of a process also pay for compiling the call path: repeated, the later phases show the steady cost.
          for (let i = 1; i <= repeat; i++) {
            phases.push(await phase(`${rate} calls/s (${i})`, server.pid, async () => {
              const o = { scenario: 'call_uac.xml', users: callUsers, userOffset: 0, transport: 'u1' as const, sippProcs: pairCount, stepSeconds: seconds, workDir };
              const step = await runCallStep(rig, target, rate, o, { holdMs: 100 });
              console.log(`calls: ${step.successful}/${step.calls} ok (${step.failPct.toFixed(2)} % failed) at ${step.achievedRate.toFixed(0)}/s`);
            }));
          }
        } finally {
          const problem = await rig.stop();
          if (problem !== null) console.log(problem);
        }
      }
    } finally {
      const code = await server.stop();
      if (code !== 0) console.log(`switchboard exit code after SIGTERM: ${code}`);
    }
    for (const p of phases) {
      const parts = [...p.cpu].map(([pid, c]) => `${pid === serverPid ? 'supervisor' : `pid ${pid}`} ${c.pct.toFixed(1)} % (sys ${c.sysPct.toFixed(1)}, main thread ${c.mainPct.toFixed(1)}, ${c.wakeups.toFixed(0)} wake-ups/s)`);
      const sum = [...p.cpu.values()].reduce((s, c) => s + c.pct, 0);
      console.log(`${p.name}: ${sum.toFixed(1)} % in all; ${parts.join(', ')}; ${p.datagrams} UDP datagrams sent on the machine`);
    }
    if (profileDir !== undefined) {
      // Main threads only (thread 0 of CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile).
      const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
      for (const f of files.sort()) {
        const pid = Number(f.split('.')[3]);
        if (pid === serverPid && workers > 1) continue;
        const profile = JSON.parse(readFileSync(join(profileDir, f), 'utf8')) as CpuProfile;
        for (const p of phases) {
          console.log(`profile of pid ${pid}, ${p.name}:`);
          const s = summarize(profile, REPO_ROOT, { fromUs: p.fromUs, toUs: p.toUs, byFile: values['by-file'] });
          for (const l of formatSummary(s, top, 'self')) console.log(`  ${l}`);
        }
      }
    }
  } catch (err) {
    broken = true;
    console.log(`cluster-cpu bench could not run: ${(err as Error).stack}`);
  } finally {
    removeDir(workDir);
    removeDir(dataDir);
  }
  return broken ? 1 : 0;
}

process.exitCode = await main();

// CPU profile of Switchboard under REGISTER load: the server runs with
// `node --cpu-prof` (a child process, as an operator would run it), SIPp
// drives the register_auth scenario at a fixed rate for a bounded time, the
// server is stopped with SIGTERM so V8 writes the profile, and the top
// functions by self time over the load phase only are printed.
//
//   node --import tsx bench/profile.ts [--rate R] [--duration S] [--top N] [--out DIR] [--config FILE] [--workers N]
//
// --config passes a server config file through (`start --config`), e.g. to
// see what a shorter timer J (sip.timers.t1Ms) does to the same load.
// --workers N profiles a cluster: each worker writes its own profile and the
// first worker's is summarized (the workers share the load alike).
// --out keeps the .cpuprofile (open it in Chrome DevTools or speedscope);
// without it the profile goes to a temp dir that is removed afterwards.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { machineLines } from './lib/machine.ts';
import { formatStep, runStep } from './lib/ramp.ts';
import { formatSummary, summarize } from './lib/profile-top.ts';
import { mib, procMemory, startServerProc } from './lib/switchboard-proc.ts';
import type { CpuProfile } from './lib/profile-top.ts';
import { REPO_ROOT, importUsers, makeTempDir, removeDir, requireTool } from '../test/interop/harness.ts';
import { makeUsers } from '../test/interop/users.ts';

const DOMAIN = 'lab.test';

function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      rate: { type: 'string', default: '4000' },
      duration: { type: 'string', default: '15' },
      top: { type: 'string', default: '15' },
      out: { type: 'string' },
      config: { type: 'string' },
      'by-file': { type: 'boolean', default: false },
      workers: { type: 'string', default: '1' },
    },
  });
  const rate = int('rate', values.rate, 10, 50_000);
  const seconds = int('duration', values.duration, 2, 120);
  const top = int('top', values.top, 1, 200);
  const workers = int('workers', values.workers, 1, 63);
  requireTool('sipp');
  for (const line of machineLines()) console.log(line);
  const outDir = values.out === undefined ? makeTempDir('bench-profile') : resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const workDir = makeTempDir('bench-profile-sipp');
  const dataDir = makeTempDir('bench-profile-data');
  // Distinct users for the whole run, as in the REGISTER bench.
  const users = makeUsers(Math.max(1000, rate * seconds), 100000);
  console.log(`setup: ${users.length} users, SIPp register_auth at ${rate}/s for ${seconds} s, UDP loopback, profile in ${outDir}`);
  let broken = false;
  try {
    await importUsers(dataDir, users);
    const server = await startServerProc({
      dataDir, domain: DOMAIN, configFile: values.config === undefined ? undefined : resolve(values.config),
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${outDir}`],
      workers,
    });
    let from = 0;
    let to = 0;
    try {
      from = monotonicUs();
      const step = await runStep(
        { name: 'switchboard', host: server.host, port: server.udpPort, domain: DOMAIN, pid: server.pid },
        rate,
        { scenario: 'register_auth.xml', users, userOffset: 0, transport: 'u1', sippProcs: 2, stepSeconds: seconds, workDir },
      );
      to = monotonicUs();
      console.log(formatStep('switchboard', step));
      const mem = procMemory(server.pid);
      if (mem !== null) console.log(`server rss after load: ${mib(mem.rss)}, peak ${mib(mem.hwm)}`);
      if (step.problem !== null) console.log(step.problem);
    } finally {
      const code = await server.stop();
      removeDir(dataDir);
      if (code !== 0) console.log(`switchboard exit code after SIGTERM: ${code} (a killed server writes no profile)`);
    }
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main
    // thread; tsx's module loader runs on a worker thread with its own file.
    // With workers the supervisor idles: take a worker's (the lowest pid other than the supervisor's).
    const mains = readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
    const pids = [...new Set(mains.map((f) => Number(f.split('.')[3])))].filter((p) => workers === 1 || p !== server.pid).sort((a, b) => a - b);
    const files = mains.filter((f) => Number(f.split('.')[3]) === (workers === 1 ? server.pid : pids[0]));
    if (files.length === 0) throw new Error(`no main-thread .cpuprofile of the server in ${outDir}`);
    const file = join(outDir, files.sort().at(-1) as string);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    console.log(`profile file: ${file}`);
    const summary = summarize(profile, REPO_ROOT, { fromUs: from, toUs: to, byFile: values['by-file'] });
    console.log('load phase only, by self time:');
    for (const l of formatSummary(summary, top, 'self')) console.log(l);
    console.log('load phase only, by total (inclusive) time, src/ only:');
    const ours = { ...summary, entries: summary.entries.filter((e) => e.label.includes(' src/')) };
    for (const l of formatSummary(ours, top, 'total').slice(1)) console.log(l);
  } catch (err) {
    broken = true;
    console.log(`profile bench could not run: ${(err as Error).message}`);
  } finally {
    removeDir(workDir);
    removeDir(dataDir);
    if (values.out === undefined) removeDir(outDir);
  }
  return broken ? 1 : 0;
}

process.exitCode = await main();

// Calls benchmark: (1) the highest sustained rate of authenticated calls
// (INVITE -> 407 -> INVITE with digest -> 100/180/200 -> ACK -> hold -> BYE
// -> 200, UDP over loopback) with < 1 % failures through Switchboard's B2BUA
// and through Kamailio as a transaction-stateful proxy, same SIPp rig, same
// machine, same run, with the ratio; (2) the memory of a Switchboard process
// holding N (default 5,000) established calls.
//
//   node --import tsx bench/calls.ts [--target switchboard|kamailio|both]
//        [--pairs P] [--duration S] [--start-rate R] [--hold MS] [--budget S]
//        [--memory-calls N] [--memory-hold S] [--workers N]
//
// --duration is one step in seconds; --budget the ramp time per target;
// --memory-calls 0 skips the memory part. Prints one line per figure; exits
// non-zero only when the plumbing broke, never for a figure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startKamailio } from './kamailio/server.ts';
import type { CallRig, PairUsers } from './lib/call-load.ts';
import { runCallStep, setupRig } from './lib/call-load.ts';
import { measureCallMemory } from './lib/call-memory.ts';
import { machineLines } from './lib/machine.ts';
import type { LoadTarget, RampResult } from './lib/ramp.ts';
import { ramp } from './lib/ramp.ts';
import { startServerProc } from './lib/switchboard-proc.ts';
import { importUsers, makeTempDir, removeDir, requireTool } from '../test/interop/harness.ts';
import type { SipServer } from '../test/interop/lib/sipp-calls.ts';
import type { TestUser } from '../test/interop/users.ts';
import { makeUsers } from '../test/interop/users.ts';
import { intOption } from './lib/micro.ts';

const DOMAIN = 'lab.test';
const CALLERS_PER_PAIR = 500;

interface Settings {
  targets: Array<'switchboard' | 'kamailio'>;
  pairs: number;
  stepSeconds: number;
  startRate: number;
  holdMs: number;
  budgetSec: number;
  memoryCalls: number;
  memoryHoldSec: number;
  workers: number;
}

function settings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', default: 'both' },
      pairs: { type: 'string', default: '8' },
      duration: { type: 'string', default: '10' },
      'start-rate': { type: 'string', default: '100' },
      hold: { type: 'string', default: '100' },
      budget: { type: 'string', default: '110' },
      'memory-calls': { type: 'string', default: '5000' },
      'memory-hold': { type: 'string', default: '80' },
      // As many Switchboard worker processes as Kamailio has children here.
      workers: { type: 'string', default: '2' },
    },
  });
  const target = values.target ?? 'both';
  if (target !== 'both' && target !== 'switchboard' && target !== 'kamailio') throw new Error('--target must be switchboard, kamailio or both');
  return {
    targets: target === 'both' ? ['kamailio', 'switchboard'] : [target],
    pairs: intOption('pairs', values.pairs, 1, 16),
    stepSeconds: intOption('duration', values.duration, 2, 60),
    startRate: intOption('start-rate', values['start-rate'], 4, 50_000),
    holdMs: intOption('hold', values.hold, 50, 60_000),
    budgetSec: intOption('budget', values.budget, 10, 1800),
    memoryCalls: intOption('memory-calls', values['memory-calls'], 0, 50_000),
    memoryHoldSec: intOption('memory-hold', values['memory-hold'], 15, 600),
    workers: intOption('workers', values.workers, 1, 63),
  };
}

/** Starts the target with every user, runs fn against it, stops it. */
async function withTarget(name: 'switchboard' | 'kamailio', users: readonly TestUser[], workers: number, fn: (t: LoadTarget, sip: SipServer) => Promise<RampResult>): Promise<RampResult> {
  if (name === 'kamailio') {
    const k = await startKamailio({ users, tcp: false, domain: DOMAIN, proxy: {} });
    try {
      return await fn({ name, host: k.host, port: k.port, domain: DOMAIN, pid: k.pid }, { name, host: k.host, udpPort: k.port, domain: DOMAIN, output: k.output });
    } finally {
      await k.stop();
    }
  }
  const dataDir = makeTempDir('bench-calls');
  try {
    await importUsers(dataDir, users);
    // Each pair's callee holds many calls at once (call waiting is on by default).
    const configFile = join(dataDir, 'bench-config.json');
    // registrar.keepaliveSec 0: the SIPp phones (uas_*.xml) fail a call on an OPTIONS keepalive and then miss their INVITE.
    writeFileSync(configFile, JSON.stringify({ calls: { maxCallsPerUser: 100 }, registrar: { keepaliveSec: 0 } }));
    const s = await startServerProc({ dataDir, domain: DOMAIN, configFile, workers });
    try {
      return await fn({ name, host: s.host, port: s.udpPort, domain: DOMAIN, pid: s.pid }, { name, host: s.host, udpPort: s.udpPort, domain: DOMAIN, output: () => s.output() });
    } finally {
      const code = await s.stop();
      if (code !== 0) console.log(`switchboard exit code after SIGTERM: ${code}`);
    }
  } finally {
    removeDir(dataDir);
  }
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(0)}%`);

async function rateRun(cfg: Settings, workDir: string): Promise<boolean> {
  const users = makeUsers(cfg.pairs * (1 + CALLERS_PER_PAIR), 100000);
  const pairs: PairUsers[] = [];
  for (let i = 0; i < cfg.pairs; i++) {
    const base = i * (1 + CALLERS_PER_PAIR);
    pairs.push({ callee: users[base] as TestUser, callers: users.slice(base + 1, base + 1 + CALLERS_PER_PAIR) });
  }
  const best = new Map<string, number>();
  let broken = false;
  for (const name of cfg.targets) {
    try {
      const result = await withTarget(name, users, cfg.workers, async (t, sip) => {
        let rig: CallRig | null = null;
        try {
          rig = await setupRig(sip, pairs, workDir, cfg.budgetSec + 300);
          const r = rig;
          return await ramp(t, {
            scenario: 'call_uac.xml',
            users,
            transport: 'u1',
            sippProcs: cfg.pairs,
            stepSeconds: cfg.stepSeconds,
            workDir,
            startRate: cfg.startRate,
            factor: 1.6,
            maxSteps: 10,
            refineSteps: 2,
            budgetSec: cfg.budgetSec,
            pauseSec: 3,
            // Long enough for the server to drop what an overloaded step left (timer J, 32 s).
            recoverSec: 35,
            log: (l) => console.log(l),
            step: (target, rate, o) => runCallStep(r, target, rate, o, { holdMs: cfg.holdMs, log: (l) => console.log(l) }),
          });
        } finally {
          const problem = rig === null ? null : await rig.stop();
          if (problem !== null) console.log(`${name}: ${problem}`);
        }
      });
      const b = result.best;
      if (b === null) {
        console.log(`${name} calls max sustained: none (no step under 1% failures)`);
      } else {
        best.set(name, b.achievedRate);
        console.log(
          `${name} calls max sustained: ${b.achievedRate.toFixed(0)} calls/s (offered ${b.targetRate}/s, ` +
            `failed ${b.failPct.toFixed(2)}%, sipp cpu ${pct(b.sippCpuPct)}, server cpu ${pct(b.serverCpuPct)} (sys ${pct(b.serverSysPct)}))`,
        );
      }
    } catch (err) {
      broken = true;
      console.log(`${name} calls: could not run: ${(err as Error).message}`);
    }
  }
  if (cfg.targets.length === 2) {
    const sb = best.get('switchboard');
    const ka = best.get('kamailio');
    console.log(`ratio switchboard/kamailio (calls/s): ${sb !== undefined && ka !== undefined ? (sb / ka).toFixed(2) : 'n/a (a target has no figure)'}`);
  }
  return !broken;
}

async function main(): Promise<number> {
  const cfg = settings(process.argv.slice(2));
  requireTool('sipp');
  if (cfg.targets.includes('kamailio')) requireTool('kamailio');
  for (const line of machineLines()) console.log(line);
  console.log(
    `setup: ${cfg.pairs} SIPp caller/phone pairs (one callee each, ${CALLERS_PER_PAIR} callers each), steps of ${cfg.stepSeconds} s ` +
      `from ${cfg.startRate} calls/s, hold ${cfg.holdMs} ms, UDP loopback, digest MD5 qop=auth (407), ramp budget ${cfg.budgetSec} s per target`,
  );
  const workDir = makeTempDir('bench-calls');
  let ok = true;
  try {
    ok = await rateRun(cfg, workDir);
    if (cfg.memoryCalls > 0) {
      console.log(`setup: memory with ${cfg.memoryCalls} established calls, hold ${cfg.memoryHoldSec} s, at most 90 per callee`);
      const good = await measureCallMemory({
        domain: DOMAIN,
        calls: cfg.memoryCalls,
        perCallee: 90,
        // ~110 calls/s in all: well under the rate limit, so the figure is for held calls, not a backlog.
        ratePerCaller: 2,
        phones: 4,
        holdSec: cfg.memoryHoldSec,
        workDir,
        log: (l) => console.log(l),
      });
      ok &&= good;
    }
  } finally {
    removeDir(workDir);
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();

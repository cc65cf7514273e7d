// Overload benchmark (issue 10): authenticated calls through Switchboard at
// fixed offered rates, from below its limit to well above it, with overload
// control on and off. Past the limit a server with overload control refuses
// new calls (503, or drops their first INVITE, which the caller resends)
// and its completed-call rate stays near its peak; without it every call
// queues in the socket and the completed rate collapses.
//
//   node --import tsx bench/overload.ts [--rates 250,500,1000,2000] [--pairs P]
//        [--duration S] [--hold MS] [--control on|off|both] [--rest S]
//
// Prints one line per step: offered and completed calls/s, failed %, server
// CPU, and what the overload control did (503s sent, INVITEs dropped).
// Exits non-zero only when the plumbing broke, never for a figure.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PairUsers } from './lib/call-load.ts';
import { runCallStep, setupRig } from './lib/call-load.ts';
import { machineLines } from './lib/machine.ts';
import { formatStep } from './lib/ramp.ts';
import { startServerProc } from './lib/switchboard-proc.ts';
import { freePort, importUsers, makeTempDir, removeDir, requireTool } from '../test/interop/harness.ts';
import type { TestUser } from '../test/interop/users.ts';
import { makeUsers } from '../test/interop/users.ts';
import { intOption } from './lib/micro.ts';

const DOMAIN = 'lab.test';
const CALLERS_PER_PAIR = 500;

interface Settings {
  rates: number[];
  pairs: number;
  stepSeconds: number;
  holdMs: number;
  control: boolean[];
  restSec: number;
}

function settings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '250,500,1000,2000' },
      pairs: { type: 'string', default: '4' },
      duration: { type: 'string', default: '10' },
      hold: { type: 'string', default: '100' },
      control: { type: 'string', default: 'both' },
      rest: { type: 'string', default: '35' },
    },
  });
  const rates = (values.rates ?? '').split(',').map((r) => intOption('rates', r.trim(), 4, 50_000));
  const c = values.control;
  if (c !== 'on' && c !== 'off' && c !== 'both') throw new Error('--control must be on, off or both');
  return {
    rates,
    pairs: intOption('pairs', values.pairs, 1, 16),
    stepSeconds: intOption('duration', values.duration, 2, 60),
    holdMs: intOption('hold', values.hold, 50, 60_000),
    control: c === 'both' ? [true, false] : [c === 'on'],
    // Long enough for the server to drop what an overloaded step left (timer J, 32 s).
    restSec: intOption('rest', values.rest, 0, 600),
  };
}

/** Overload counters from the server's /metrics. */
async function shedCounts(url: string): Promise<{ refused: number; dropped: number }> {
  const text = await (await fetch(url)).text();
  const read = (event: string): number => Number(new RegExp(`^switchboard_sip_transaction_events_total\\{event="${event}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { refused: read('overload_shed'), dropped: read('overload_dropped') };
}

async function runWith(control: boolean, cfg: Settings, users: TestUser[], pairs: PairUsers[], workDir: string): Promise<boolean> {
  const label = `switchboard (overload control ${control ? 'on' : 'off'})`;
  const dataDir = makeTempDir('bench-overload');
  try {
    await importUsers(dataDir, users);
    const configFile = join(dataDir, 'bench-config.json');
    // registrar.keepaliveSec 0: the SIPp phones (uas_*.xml) fail a call on an OPTIONS keepalive and then miss their INVITE.
    writeFileSync(configFile, JSON.stringify({ calls: { maxCallsPerUser: 100 }, registrar: { keepaliveSec: 0 }, http: { allowHttp: true }, sip: { overload: { enabled: control } } }));
    const httpPort = await freePort();
    const s = await startServerProc({ dataDir, domain: DOMAIN, configFile, http: `127.0.0.1:${httpPort}` });
    const metrics = `http://127.0.0.1:${httpPort}/metrics`;
    const sip = { name: label, host: s.host, udpPort: s.udpPort, domain: DOMAIN, output: () => s.output() };
    const rig = await setupRig(sip, pairs, workDir, cfg.rates.length * (cfg.stepSeconds * 3 + cfg.restSec + 30) + 60);
    try {
      for (const [i, rate] of cfg.rates.entries()) {
        if (i > 0 && cfg.restSec > 0) await new Promise((r) => setTimeout(r, cfg.restSec * 1000));
        const before = await shedCounts(metrics);
        const step = await runCallStep(rig, { name: label, host: s.host, port: s.udpPort, domain: DOMAIN, pid: s.pid }, rate, {
          scenario: 'call_uac.xml', users, userOffset: 0, transport: 'u1', sippProcs: cfg.pairs, stepSeconds: cfg.stepSeconds, workDir,
        }, { holdMs: cfg.holdMs });
        const after = await shedCounts(metrics);
        console.log(`${formatStep(label, step)}; 503 sent ${after.refused - before.refused}, INVITEs dropped ${after.dropped - before.dropped}`);
        if (step.problem !== null) console.log(`${label}: ${step.problem.slice(0, 2000)}`);
      }
    } finally {
      const problem = await rig.stop();
      if (problem !== null) console.log(`${label}: ${problem}`);
      const code = await s.stop();
      if (code !== 0) console.log(`switchboard exit code after SIGTERM: ${code}`);
    }
    return true;
  } catch (err) {
    console.log(`${label}: could not run: ${(err as Error).message}`);
    return false;
  } finally {
    removeDir(dataDir);
  }
}

async function main(): Promise<number> {
  const cfg = settings(process.argv.slice(2));
  requireTool('sipp');
  for (const line of machineLines()) console.log(line);
  console.log(
    `setup: ${cfg.pairs} SIPp caller/phone pairs, steps of ${cfg.stepSeconds} s at ${cfg.rates.join(', ')} calls/s, hold ${cfg.holdMs} ms, ` +
      `${cfg.restSec} s rest between steps, UDP loopback, digest MD5 qop=auth (407)`,
  );
  const users = makeUsers(cfg.pairs * (1 + CALLERS_PER_PAIR), 100000);
  const pairs: PairUsers[] = [];
  for (let i = 0; i < cfg.pairs; i++) {
    const base = i * (1 + CALLERS_PER_PAIR);
    pairs.push({ callee: users[base] as TestUser, callers: users.slice(base + 1, base + 1 + CALLERS_PER_PAIR) });
  }
  const workDir = makeTempDir('bench-overload');
  let ok = true;
  try {
    for (const control of cfg.control) ok = (await runWith(control, cfg, users, pairs, workDir)) && ok;
  } finally {
    removeDir(workDir);
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();

// REGISTER benchmark: the highest sustained rate of authenticated
// registrations (REGISTER -> 401 -> REGISTER with digest -> 200, one distinct
// user per registration) that a registrar takes over loopback with < 1 %
// failures, for Switchboard and for Kamailio (the reference) on the same
// machine in the same run.
//
//   node --import tsx bench/register.ts [--target switchboard|kamailio|both]
//        [--users N] [--duration S] [--start-rate R] [--transport u1|t1|tn]
//        [--sipp-procs P] [--budget S] [--kamailio-auth htable|db_text] [--workers N]
//
// --duration is the length of one step in seconds; --workers the Switchboard
// worker processes (default 2, as many as Kamailio's children here). Prints one line per
// figure. Not a test: it never fails on speed, only on broken plumbing.
import { parseArgs } from 'node:util';
import type { KamailioAuthBackend } from './kamailio/config.ts';
import { startKamailio } from './kamailio/server.ts';
import { machineLines } from './lib/machine.ts';
import type { LoadTarget, RampResult } from './lib/ramp.ts';
import { ramp } from './lib/ramp.ts';
import { makeTempDir, removeDir, requireTool, startSwitchboard } from '../test/interop/harness.ts';
import { PRODUCTION_OVERLOAD } from '../test/lib/overload-config.ts';
import type { SippTransport } from '../test/interop/sipp.ts';
import type { TestUser } from '../test/interop/users.ts';
import { makeUsers } from '../test/interop/users.ts';
import { intOption } from './lib/micro.ts';

const DOMAIN = 'lab.test';

interface Settings {
  targets: Array<'switchboard' | 'kamailio'>;
  users: number;
  stepSeconds: number;
  startRate: number;
  transport: SippTransport;
  sippProcs: number;
  budgetSec: number;
  kamailioAuth: KamailioAuthBackend;
  workers: number;
}

function settings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', default: 'both' },
      users: { type: 'string', default: '50000' },
      duration: { type: 'string', default: '10' },
      'start-rate': { type: 'string', default: '1000' },
      transport: { type: 'string', default: 'u1' },
      'sipp-procs': { type: 'string', default: '2' },
      budget: { type: 'string', default: '300' },
      'kamailio-auth': { type: 'string', default: 'htable' },
      workers: { type: 'string', default: '2' },
    },
  });
  const target = values.target ?? 'both';
  if (target !== 'both' && target !== 'switchboard' && target !== 'kamailio') {
    throw new Error('--target must be switchboard, kamailio or both');
  }
  const transport = values.transport ?? 'u1';
  if (transport !== 'u1' && transport !== 't1' && transport !== 'tn') throw new Error('--transport must be u1, t1 or tn');
  const kamailioAuth = values['kamailio-auth'] ?? 'htable';
  if (kamailioAuth !== 'htable' && kamailioAuth !== 'db_text') throw new Error('--kamailio-auth must be htable or db_text');
  return {
    kamailioAuth,
    targets: target === 'both' ? ['kamailio', 'switchboard'] : [target],
    users: intOption('users', values.users, 100, 200_000),
    stepSeconds: intOption('duration', values.duration, 2, 60),
    startRate: intOption('start-rate', values['start-rate'], 10, 100_000),
    transport,
    sippProcs: intOption('sipp-procs', values['sipp-procs'], 1, 4),
    budgetSec: intOption('budget', values.budget, 10, 1800),
    workers: intOption('workers', values.workers, 1, 63),
  };
}

async function withTarget(
  name: 'switchboard' | 'kamailio',
  users: readonly TestUser[],
  cfg: Settings,
  run: (t: LoadTarget) => Promise<RampResult>,
): Promise<RampResult> {
  const tcp = cfg.transport !== 'u1';
  if (name === 'kamailio') {
    const k = await startKamailio({ users, tcp, domain: DOMAIN, authBackend: cfg.kamailioAuth });
    try {
      return await run({ name, host: k.host, port: k.port, domain: DOMAIN, pid: k.pid });
    } finally {
      await k.stop();
    }
  }
  const s = await startSwitchboard({ users, domain: DOMAIN, tls: false, tcp, workers: cfg.workers, config: { sip: { overload: PRODUCTION_OVERLOAD } } });
  try {
    return await run({ name, host: s.host, port: s.udpPort || s.tcpPort, domain: DOMAIN, pid: s.pid });
  } finally {
    const code = await s.stop();
    if (code !== 0) console.log(`switchboard exit code after SIGTERM: ${code}`);
  }
}

async function main(): Promise<number> {
  const cfg = settings(process.argv.slice(2));
  requireTool('sipp');
  if (cfg.targets.includes('kamailio')) requireTool('kamailio');
  for (const line of machineLines()) console.log(line);
  console.log(
    `setup: ${cfg.users} users, steps of ${cfg.stepSeconds} s from ${cfg.startRate}/s, ` +
      `transport ${cfg.transport}, ${cfg.sippProcs} SIPp process(es), loopback, digest MD5 qop=auth, ` +
      `kamailio credentials from ${cfg.kamailioAuth}, switchboard workers ${cfg.workers}`,
  );
  const users = makeUsers(cfg.users, 100000);
  const workDir = makeTempDir('bench-register');
  const best = new Map<string, number>();
  let broken = false;
  try {
    for (const name of cfg.targets) {
      try {
        const result = await withTarget(name, users, cfg, (t) =>
          ramp(t, {
            scenario: 'register_auth.xml',
            users,
            transport: cfg.transport,
            sippProcs: cfg.sippProcs,
            stepSeconds: cfg.stepSeconds,
            workDir,
            startRate: cfg.startRate,
            factor: 1.5,
            maxSteps: 10,
            refineSteps: 2,
            budgetSec: cfg.budgetSec,
            pauseSec: 3,
            recoverSec: 35,
            log: (l) => console.log(l),
          }),
        );
        const b = result.best;
        if (b === null) {
          console.log(`${name} register max sustained: none (no step under 1% failures)`);
        } else {
          best.set(name, b.achievedRate);
          const cpu = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(0)}%`);
          console.log(
            `${name} register max sustained: ${b.achievedRate.toFixed(0)} registrations/s ` +
              `(${(2 * b.achievedRate).toFixed(0)} REGISTER requests/s; offered ${b.targetRate}/s, ` +
              `failed ${b.failPct.toFixed(2)}%, sipp cpu ${cpu(b.sippCpuPct)}, server cpu ${cpu(b.serverCpuPct)} ` +
              `(sys ${cpu(b.serverSysPct)}))`,
          );
        }
      } catch (err) {
        broken = true;
        console.log(`${name} register: could not run: ${(err as Error).message}`);
      }
    }
    const sb = best.get('switchboard');
    const ka = best.get('kamailio');
    if (cfg.targets.length === 2) {
      const ratio = sb !== undefined && ka !== undefined ? (sb / ka).toFixed(2) : 'n/a (a target has no figure)';
      console.log(`ratio switchboard/kamailio: ${ratio}`);
    }
  } finally {
    removeDir(workDir);
  }
  return broken ? 1 : 0;
}

process.exitCode = await main();

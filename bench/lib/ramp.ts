// The load ramp shared by the REGISTER benchmark targets: SIPp at a fixed
// rate for a bounded step, counted by SIPp itself, with the CPU of SIPp and
// of the server's process tree beside each figure (on two shared cores SIPp
// is part of the limit, so a figure without its CPU split says little).
import type { SippTransport } from '../../test/interop/sipp.ts';
import { describeSipp, runSipp } from '../../test/interop/sipp.ts';
import type { TestUser } from '../../test/interop/users.ts';
import { sippUsersCsv } from '../../test/interop/users.ts';
import { cpuWindow } from './cpu.ts';

export interface LoadTarget {
  name: string;
  host: string;
  port: number;
  domain: string;
  /** Root of the server's process tree, for CPU. */
  pid: number;
}

export interface StepOptions {
  scenario: string;
  users: readonly TestUser[];
  /** First user of this step: steps rotate through the list. */
  userOffset: number;
  transport: SippTransport;
  sippProcs: number;
  stepSeconds: number;
  workDir: string;
}

export interface StepResult {
  targetRate: number;
  calls: number;
  successful: number;
  failed: number;
  /** Failed or never-finished calls, in % of calls attempted. */
  failPct: number;
  /** Successful registrations per second over the whole step. */
  achievedRate: number;
  elapsedSec: number;
  sippCpuPct: number | null;
  serverCpuPct: number | null;
  /** Kernel (system) part of serverCpuPct. */
  serverSysPct: number | null;
  /** Set when a SIPp process did not end normally. */
  problem: string | null;
}

function slice(users: readonly TestUser[], offset: number, count: number, stride: number, phase: number): TestUser[] {
  const out: TestUser[] = [];
  const n = users.length;
  for (let i = phase; i < count; i += stride) out.push(users[(offset + i) % n] as TestUser);
  return out;
}

/** One bounded step at `rate` registrations/s spread over sippProcs SIPps. */
export async function runStep(target: LoadTarget, rate: number, o: StepOptions): Promise<StepResult> {
  const procs = Math.max(1, o.sippProcs);
  const calls = Math.max(procs, Math.round(rate * o.stepSeconds));
  // Never more calls than users in one step, so each call is a distinct user.
  const usable = Math.min(calls, o.users.length);
  const perProcRate = rate / procs;
  const started = Date.now();
  const server = cpuWindow(target.pid);
  const runs = [];
  for (let p = 0; p < procs; p++) {
    const mine = slice(o.users, o.userOffset, usable, procs, p);
    const myCalls = Math.ceil(calls / procs);
    runs.push(
      runSipp({
        scenario: o.scenario,
        remoteHost: target.host,
        remotePort: target.port,
        transport: o.transport,
        usersCsv: sippUsersCsv(mine, target.domain),
        authUri: target.domain,
        calls: myCalls,
        rate: Math.max(1, Math.round(perProcRate)),
        // Cap what is in flight: a saturated server shows up as failures and
        // a lower achieved rate, not as an ever-growing queue.
        maxOpenCalls: Math.max(100, Math.round(perProcRate * 4)),
        recvTimeoutMs: 5000,
        keys: { expires: '3600' },
        workDir: o.workDir,
        timeoutMs: (o.stepSeconds * 3 + 30) * 1000,
        extraArgs: ['-timeout', `${o.stepSeconds * 2 + 15}s`, '-max_recv_loops', '5000', '-max_sched_loops', '5000'],
      }),
    );
  }
  const results = await Promise.all(runs);
  const wall = (Date.now() - started) / 1000;
  const serverCpu = server.finishSplit();
  let successful = 0;
  let failed = 0;
  let created = 0;
  let elapsed = 0;
  let sippCpu: number | null = 0;
  let problem: string | null = null;
  for (const r of results) {
    const s = r.stats;
    if (s === null || (r.code !== 0 && r.code !== 1)) {
      problem ??= describeSipp(r).slice(0, 4000);
    }
    if (s !== null) {
      successful += s.successful;
      failed += s.failed;
      created += s.created;
      elapsed = Math.max(elapsed, s.elapsedSec);
    }
    sippCpu = sippCpu === null || r.cpuSec === null ? null : sippCpu + r.cpuSec;
  }
  const attempted = Math.max(calls, created);
  const elapsedSec = elapsed > 0 ? elapsed : wall;
  return {
    targetRate: rate,
    calls: attempted,
    successful,
    failed,
    failPct: attempted > 0 ? ((attempted - successful) / attempted) * 100 : 100,
    achievedRate: successful / elapsedSec,
    elapsedSec,
    sippCpuPct: sippCpu === null ? null : (sippCpu / wall) * 100,
    serverCpuPct: serverCpu?.total ?? null,
    serverSysPct: serverCpu?.sys ?? null,
    problem,
  };
}

export interface RampOptions extends Omit<StepOptions, 'userOffset'> {
  startRate: number;
  /** Multiplier between steps while all is well. */
  factor: number;
  maxSteps: number;
  /** Bisection steps between the last good and the first bad rate. */
  refineSteps: number;
  /** Whole ramp stops starting new steps after this. */
  budgetSec: number;
  /** Idle time before each step, so a backlog of retransmissions from an
   * overloaded step does not count against the next one. */
  pauseSec: number;
  /** Idle time after a step that was not sustained: long enough for the
   * server to drop what that overload left behind (Switchboard keeps each
   * completed UDP transaction for timer J, 32 s), so the next, lower step
   * measures the rate and not the recovery. Default pauseSec. */
  recoverSec?: number;
  log: (line: string) => void;
  /** Runs one step instead of runStep (REGISTER): bench/lib/call-load.ts for calls. */
  step?: (target: LoadTarget, rate: number, o: StepOptions) => Promise<StepResult>;
}

export interface RampResult {
  steps: StepResult[];
  best: StepResult | null;
}

export function stepOk(s: StepResult): boolean {
  // "Sustained": under 1 % failures and the server kept pace with the offered
  // rate (a queue that grows all step long is not a sustained rate).
  return s.problem === null && s.failPct < 1 && s.achievedRate >= 0.9 * s.targetRate;
}

export function formatStep(name: string, s: StepResult): string {
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(0)}%`);
  return (
    `${name} step: offered ${s.targetRate}/s, achieved ${s.achievedRate.toFixed(0)}/s, ` +
    `${s.successful}/${s.calls} ok, failed ${s.failPct.toFixed(2)}%, ` +
    `sipp cpu ${pct(s.sippCpuPct)}, server cpu ${pct(s.serverCpuPct)} (sys ${pct(s.serverSysPct)})` +
    `${stepOk(s) ? '' : ' [not sustained]'}`
  );
}

/**
 * Geometric ramp until a step is not sustained, then bisection; bounded by
 * maxSteps + refineSteps steps and by budgetSec of wall time.
 */
export async function ramp(target: LoadTarget, o: RampOptions): Promise<RampResult> {
  const steps: StepResult[] = [];
  const deadline = Date.now() + o.budgetSec * 1000;
  let offset = 0;
  let good: number | null = null;
  let bad: number | null = null;
  let rate = o.startRate;
  const step = async (r: number): Promise<StepResult> => {
    const prev = steps.at(-1);
    if (prev !== undefined) {
      const idle = stepOk(prev) ? o.pauseSec : Math.max(o.pauseSec, o.recoverSec ?? o.pauseSec);
      await new Promise((res) => setTimeout(res, idle * 1000));
    }
    const s = await (o.step ?? runStep)(target, r, { ...o, userOffset: offset });
    offset = (offset + s.calls) % Math.max(1, o.users.length);
    steps.push(s);
    o.log(formatStep(target.name, s));
    if (s.problem !== null) o.log(`${target.name} step problem:\n${s.problem}`);
    return s;
  };
  for (let i = 0; i < o.maxSteps && Date.now() < deadline; i++) {
    const s = await step(rate);
    if (!stepOk(s)) {
      bad = rate;
      break;
    }
    good = rate;
    rate = Math.round(rate * o.factor);
  }
  for (let i = 0; i < o.refineSteps && good !== null && bad !== null && Date.now() < deadline; i++) {
    const mid = Math.round((good + bad) / 2);
    if (mid <= good || mid >= bad) break;
    if (stepOk(await step(mid))) good = mid;
    else bad = mid;
  }
  let best: StepResult | null = null;
  for (const s of steps) if (stepOk(s) && (best === null || s.achievedRate > best.achievedRate)) best = s;
  return { steps, best };
}

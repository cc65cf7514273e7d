// Call load for bench/calls.ts: P caller/phone pairs of SIPp processes. Each
// pair has its own callee, because SIPp's digest uri= is one fixed string per
// run (-auth_uri) and must equal the Request-URI; its phone (a SIPp UAS) is
// registered once and answers for the whole ramp, its caller (a SIPp UAC)
// runs one bounded step at a time. The same rig drives Switchboard and
// Kamailio, so both see the same scenario from the same processes.
import type { SippRun } from '../../test/interop/sipp.ts';
import { describeSipp } from '../../test/interop/sipp.ts';
import type { SipServer } from '../../test/interop/lib/sipp-calls.ts';
import { registerPhone, runSippOwnMedia, runUac, waitUdpBound } from '../../test/interop/lib/sipp-calls.ts';
import type { TestUser } from '../../test/interop/users.ts';
import { cpuWindow } from './cpu.ts';
import type { LoadTarget, StepOptions, StepResult } from './ramp.ts';

export interface PairUsers {
  callee: TestUser;
  callers: TestUser[];
}

export interface Phone {
  readonly port: number;
  /** The SIPp process group (its shell), once spawned. */
  readonly pid: number | null;
  readonly done: Promise<SippRun>;
  /** The phone already exited (time limit, crash) without being stopped. */
  readonly ended: boolean;
}

export interface CallRig {
  server: SipServer;
  pairs: Array<PairUsers & { phone: Phone }>;
  /** Stops the phones; returns what a phone reported if one failed to run. */
  stop(): Promise<string | null>;
}

const LOOPS = ['-max_recv_loops', '5000', '-max_sched_loops', '5000'];

/**
 * A SIPp UAS answering calls (uas_answer.xml) until stopped, at most
 * lifetimeSec. A call whose ACK or BYE does not come within recvTimeoutMs is
 * dropped instead of kept forever (so it must exceed the callers' hold).
 */
export async function startPhone(port: number, lifetimeSec: number, workDir: string, recvTimeoutMs = 10_000): Promise<Phone> {
  let pid: number | null = null;
  const done = runSippOwnMedia({
    scenario: 'uas_answer.xml',
    remoteHost: '127.0.0.1',
    remotePort: 9,
    localPort: port,
    calls: 100_000_000,
    rate: 1,
    recvTimeoutMs,
    workDir,
    timeoutMs: (lifetimeSec + 30) * 1000,
    extraArgs: ['-timeout', `${lifetimeSec}s`, ...LOOPS],
    onSpawn: (p) => (pid = p),
  });
  let ended = false;
  void done.then(() => (ended = true));
  const first = await Promise.race([done.then(() => false), waitUdpBound(port)]);
  if (!first) throw new Error(`SIPp phone did not listen on ${port}\n${describeSipp(await done)}`);
  return {
    port,
    get pid() {
      return pid;
    },
    get ended() {
      return ended;
    },
    done,
  };
}

/** SIGTERM to each phone's process group; resolves with an account of a phone that had stopped on its own, or null. */
export async function stopPhones(phones: readonly Phone[]): Promise<string | null> {
  const early = phones.filter((p) => p.ended);
  for (const p of phones) {
    if (p.pid === null) continue;
    try {
      process.kill(-p.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await Promise.all(phones.map((p) => p.done));
  const first = early[0];
  return first === undefined ? null : `a SIPp phone stopped before the end:\n${describeSipp(await first.done).slice(0, 3000)}`;
}

/** Registers each pair's callee at its own phone and starts the phones. */
export async function setupRig(server: SipServer, pairs: readonly PairUsers[], workDir: string, lifetimeSec: number): Promise<CallRig> {
  const rig: CallRig['pairs'] = [];
  const stop = (): Promise<string | null> => stopPhones(rig.map((p) => p.phone));
  try {
    for (const p of pairs) {
      const port = await registerPhone({ server, users: [p.callee], workDir });
      rig.push({ ...p, phone: await startPhone(port, lifetimeSec, workDir) });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { server, pairs: rig, stop };
}

export interface CallStepSettings {
  /** Pause between ACK and BYE, ms. */
  holdMs: number;
  /** Gets SIPp's failure causes when a step had failed calls. */
  log?: (line: string) => void;
}

/** SIPp's Failed* counters that are not zero, summed over processes. */
export function failureCauses(runs: readonly SippRun[]): string {
  const sum = new Map<string, number>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.stats?.raw ?? {})) {
      const n = Number(v);
      if (k.startsWith('Failed') && k.endsWith('(C)') && Number.isFinite(n) && n > 0) sum.set(k, (sum.get(k) ?? 0) + n);
    }
  }
  return [...sum].map(([k, n]) => `${k.slice(0, -3)} ${n}`).join(', ');
}

/**
 * One bounded step at `rate` calls/s over all pairs (a ramp.ts step runner:
 * from StepOptions only stepSeconds and workDir are used). Failed = calls
 * SIPp counted failed or never finished.
 */
export async function runCallStep(rig: CallRig, target: LoadTarget, rate: number, o: StepOptions, s: CallStepSettings): Promise<StepResult> {
  const n = rig.pairs.length;
  const perPair = Math.max(1, Math.round(rate / n));
  const callsPerPair = Math.max(1, Math.round(perPair * o.stepSeconds));
  const calls = callsPerPair * n;
  const started = Date.now();
  const server = cpuWindow(target.pid);
  const phones = rig.pairs.map((p) => (p.phone.pid === null ? null : cpuWindow(p.phone.pid)));
  const results = await Promise.all(
    rig.pairs.map((p) =>
      runUac({
        server: rig.server,
        scenario: 'call_uac.xml',
        callee: p.callee.ext,
        callers: p.callers,
        calls: callsPerPair,
        rate: perPair,
        holdMs: s.holdMs,
        // Cap what is in flight: a saturated server shows as failures, not as a queue.
        maxOpenCalls: Math.max(200, perPair * 3),
        recvTimeoutMs: 5000,
        workDir: o.workDir,
        timeoutMs: (o.stepSeconds * 3 + 30) * 1000,
        extraArgs: ['-timeout', `${o.stepSeconds * 2 + 15}s`, ...LOOPS],
      }),
    ),
  );
  const wall = (Date.now() - started) / 1000;
  const serverCpu = server.finishSplit();
  let phoneCpu: number | null = 0;
  for (const w of phones) {
    const v = w?.finish() ?? null;
    phoneCpu = phoneCpu === null || v === null ? null : phoneCpu + v;
  }
  let successful = 0;
  let created = 0;
  let failed = 0;
  let elapsed = 0;
  let uacCpu: number | null = 0;
  let problem: string | null = null;
  for (const r of results) {
    // Exit code 1 = some calls failed: that is a figure, not broken plumbing.
    if (r.stats === null || (r.code !== 0 && r.code !== 1)) problem ??= describeSipp(r).slice(0, 4000);
    if (r.stats !== null) {
      successful += r.stats.successful;
      failed += r.stats.failed;
      created += r.stats.created;
      elapsed = Math.max(elapsed, r.stats.elapsedSec);
    }
    uacCpu = uacCpu === null || r.cpuSec === null ? null : uacCpu + r.cpuSec;
  }
  const attempted = Math.max(calls, created);
  const elapsedSec = elapsed > 0 ? elapsed : wall;
  if (successful < attempted) {
    // "Dead call" lines are late retransmissions after a call ended: noise. The first abort says why.
    const errors = results.map((r) => r.errors).join('\n');
    const at = errors.search(/Aborting call|Call-Id .* timed out|Failed/);
    const sample = at < 0 ? errors.slice(0, 600) : errors.slice(at, at + 1200);
    s.log?.(`${target.name} step at ${rate}/s: failure causes (SIPp): ${failureCauses(results) || 'calls not finished'}${sample === '' ? '' : `\nfirst SIPp error:\n${sample}`}`);
  }
  return {
    targetRate: rate,
    calls: attempted,
    successful,
    failed,
    failPct: attempted > 0 ? ((attempted - successful) / attempted) * 100 : 100,
    achievedRate: successful / elapsedSec,
    elapsedSec,
    sippCpuPct: uacCpu === null || phoneCpu === null ? null : (uacCpu / wall) * 100 + phoneCpu,
    serverCpuPct: serverCpu?.total ?? null,
    serverSysPct: serverCpu?.sys ?? null,
    problem,
  };
}

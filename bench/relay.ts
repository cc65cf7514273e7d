// Highest number of concurrent relayed G.711 calls the media relay holds on
// this machine: every call is two streams (A→B and B→A) of 172-byte RTP
// packets every 20 ms, through the relay on loopback. A step of N calls is
// "held" when under 0.1 % of packets are lost and the p99 delay the relay
// adds stays within one packet time (20 ms). Geometric ramp, then bisection,
// bounded by --budget seconds overall.
//
//   node --import tsx bench/relay.ts [--target builtin[,builtin-js][,builtin-legacy][,rtpengine][,rtpengine-mt][,node-floor]]
//        [--mode rtp,srtp]
//        [--start N] [--factor F] [--refine K] [--retries R] [--step-seconds S] [--budget S]
//        [--max-loss-pct P] [--max-p99-ms MS] [--socks N] [--port-min P] [--port-max P] [--no-pin] [--nice N]
//        [--profile DIR]   (--cpu-prof of the built-in relay's process, for bench/lib/profile-top.ts)
//        [--fixed N[,N...] [--rounds R]]
//
// --fixed replaces the ramp: every target is started at once (each on its
// own share of the port range) and they take turns, round after round, at
// each of the given call counts; the summary gives each target's relay CPU
// per relayed packet (median over the rounds) beside the reference's. On a
// shared machine this is the figure to compare: a relay's CPU per packet
// hardly depends on the neighbours, whether a step is "held" does.
//
// Modes: rtp = RTP↔RTP; srtp = SRTP↔RTP (phone A sends and receives
// AES_CM_128_HMAC_SHA1_80, the relay decrypts and encrypts for it).
// Phones are bench/lib/rtpgen.c (C, sendmmsg/recvmmsg), pinned to the other
// CPU than the relay when there are two, so the generator is not the limit.
// Targets (lib/relay-target.ts): builtin (src/media/relay.ts in a child Node
// process, SRTP on the engine the server would pick: the native addon when
// built), builtin-js / builtin-legacy (the same with the JS engine, or with
// the SRTP code before the engines), rtpengine (userspace, one forwarding thread, same pin and nice
// as the built-in relay; lib/rtpengine-target.ts), rtpengine-mt (its default
// threads, same single core), node-floor (bare dgram forwarding). CPU is the
// target's whole process from /proc/<pid>/stat (every thread).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRtpPacket } from '../src/media/rtp.ts';
import { SrtpSession, generateKeySalt } from '../src/media/srtp.ts';
import { treeCpu } from './lib/cpu.ts';
import { machineLines } from './lib/machine.ts';
import { TARGETS, pinTo, type RelayMode, type RelayTarget, type SrtpKeys } from './lib/relay-target.ts';
import { buildRtpgen, startGen, udpErrors, writePacketFile, type GenResult } from './lib/rtpgen.ts';

const { values: v } = parseArgs({
  args: process.argv.slice(2),
  options: {
    target: { type: 'string', default: 'builtin,rtpengine' },
    mode: { type: 'string', default: 'rtp,srtp' },
    start: { type: 'string', default: '100' },
    factor: { type: 'string', default: '2' },
    refine: { type: 'string', default: '3' },
    retries: { type: 'string', default: '1' },
    'step-seconds': { type: 'string', default: '6' },
    budget: { type: 'string', default: '300' },
    'max-loss-pct': { type: 'string', default: '0.1' },
    'max-p99-ms': { type: 'string', default: '20' },
    socks: { type: 'string', default: '8' },
    'port-min': { type: 'string', default: '20000' },
    'port-max': { type: 'string', default: '29999' },
    'no-pin': { type: 'boolean', default: false },
    nice: { type: 'string', default: '-10' },
    profile: { type: 'string' },
    fixed: { type: 'string' },
    rounds: { type: 'string', default: '2' },
  },
});

function num(name: string, min: number, max: number): number {
  const n = Number(v[name as keyof typeof v]);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in ${min}..${max}`);
  return n;
}

const opts = {
  start: Math.round(num('start', 1, 20000)),
  factor: num('factor', 1.1, 10),
  refine: Math.round(num('refine', 0, 10)),
  retries: Math.round(num('retries', 0, 5)),
  stepSeconds: num('step-seconds', 1, 60),
  budgetSec: num('budget', 10, 3600),
  maxLossPct: num('max-loss-pct', 0, 100),
  maxP99Ms: num('max-p99-ms', 0.1, 1000),
  socks: Math.round(num('socks', 1, 64)),
  portMin: Math.round(num('port-min', 1024, 65535)),
  portMax: Math.round(num('port-max', 1024, 65535)),
};
const targets = v.target.split(',').map((s) => s.trim()).filter(Boolean);
const modes = v.mode.split(',').map((s) => s.trim()) as RelayMode[];
for (const t of targets) if (!(t in TARGETS)) throw new Error(`--target: unknown '${t}' (known: ${Object.keys(TARGETS).join(', ')})`);
for (const m of modes) if (m !== 'rtp' && m !== 'srtp') throw new Error(`--mode: unknown '${m}' (rtp, srtp)`);
const fixedCalls = v.fixed === undefined ? null : v.fixed.split(',').map((x) => Math.round(Number(x)));
if (fixedCalls !== null && fixedCalls.some((n) => !Number.isFinite(n) || n < 1)) throw new Error('--fixed: call counts must be positive integers');
const rounds = Math.round(num('rounds', 1, 20));
/** Four ports per call (an RTP/RTCP pair per side). */
const maxCalls = Math.floor((opts.portMax - opts.portMin + 1) / 4);

const log = (line: string): void => console.log(line);
const cores = cpus().length;
// Relay and phones both run at --nice (default -10, needs root; otherwise
// nice warns and runs them as they are), so that on a shared machine other
// work delays them less; the same for every target.
const nice = Math.round(num('nice', -20, 19));
const nicePrefix = nice === 0 ? [] : ['nice', '-n', String(nice)];
const relayPin = [...nicePrefix, ...(v['no-pin'] ? [] : pinTo(0, cores))];
const genPin = [...nicePrefix, ...(v['no-pin'] ? [] : pinTo(1, cores))];

interface Step {
  calls: number;
  gen: GenResult;
  lossPct: number;
  relayCpuPct: number | null;
  relaySysPct: number | null;
  genCpuPct: number;
  relayDrops: string;
  /** Host-wide UDP drops during the step (/proc/net/snmp), null if unknown. */
  udpDrops: string | null;
  /** Relay event-loop delay p99/max (Node relays only). */
  loop: string | null;
  /** 1-minute load average at the end of the step: other work on a shared machine shows here. */
  load: number;
  ok: boolean;
  problem: string | null;
}

/** Packets for both phones: seq k, 20 ms of PCMU each; phone A's SRTP-protected in srtp mode. */
function packetFiles(dir: string, mode: RelayMode, keys: SrtpKeys): { a: string; b: string } {
  const count = Math.ceil((opts.stepSeconds + 2) * 50);
  const plain = (k: number, ssrc: number): Buffer =>
    buildRtpPacket({ payloadType: 0, sequenceNumber: k & 0xffff, timestamp: (k * 160) >>> 0, ssrc, payload: Buffer.alloc(160, 0xff) });
  const b = Array.from({ length: count }, (_, k) => plain(k, 0xb0b0b0b0));
  let a = Array.from({ length: count }, (_, k) => plain(k, 0xa0a0a0a0));
  if (mode === 'srtp') {
    const s = new SrtpSession({ suite: keys.suite, masterKey: Buffer.from(keys.key, 'base64'), masterSalt: Buffer.from(keys.salt, 'base64') });
    a = a.map((p) => s.protectRtp(p) as Buffer);
  }
  const files = { a: join(dir, `${mode}-a.pkts`), b: join(dir, `${mode}-b.pkts`) };
  writePacketFile(files.a, a);
  writePacketFile(files.b, b);
  return files;
}

async function step(target: RelayTarget, calls: number, mode: RelayMode, files: { a: string; b: string }, keys: SrtpKeys, bin: string): Promise<Step> {
  const gen = await startGen({ bin, aFile: files.a, bFile: files.b, seconds: opts.stepSeconds, socks: opts.socks, drainMs: 500, pin: genPin });
  let problem: string | null = null;
  try {
    const phones = Array.from({ length: calls }, (_, i) => ({ a: gen.aPorts[i % opts.socks]!, b: gen.bPorts[i % opts.socks]! }));
    const ends = await target.createCalls(phones, mode, keys);
    const c0 = treeCpu(target.pid);
    const u0 = udpErrors();
    const r = await gen.run(ends);
    const c1 = treeCpu(target.pid);
    const u1 = udpErrors();
    const drops = await target.clearCalls();
    const lossPct = r.sent > 0 ? ((r.sent - r.received) / r.sent) * 100 : 100;
    const pct = (d: number | undefined): number | null => (d === undefined ? null : (d / opts.stepSeconds) * 100);
    const dropText =
      drops === null
        ? 'n/a'
        : Object.entries(drops)
            .filter(([k, n]) => k !== 'relayed' && !k.startsWith('loop') && n !== undefined && n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'none';
    if (r.strayUnknown > 0 || r.duplicatesOrStray > 0) problem = `unexpected packets at the phones: ${r.strayUnknown} from unknown ports, ${r.duplicatesOrStray} duplicate/stray`;
    const ok = problem === null && lossPct < opts.maxLossPct && r.p99Us <= opts.maxP99Ms * 1000;
    return {
      calls,
      gen: r,
      lossPct,
      relayCpuPct: c0 && c1 ? pct(c1.total - c0.total) : null,
      relaySysPct: c0 && c1 ? pct(c1.sys - c0.sys) : null,
      genCpuPct: (r.cpuSec / r.wallSec) * 100,
      relayDrops: dropText,
      loop: drops?.loopP99Ms === undefined || drops.loopMaxMs === undefined ? null : `${drops.loopP99Ms.toFixed(1)}/${drops.loopMaxMs.toFixed(0)} ms`,
      load: loadavg()[0] ?? 0,
      udpDrops: u0 && u1 ? `rcvbuf ${u1.rcvbuf - u0.rcvbuf}, sndbuf ${u1.sndbuf - u0.sndbuf}, in ${u1.inErrors - u0.inErrors}` : null,
      ok,
      problem,
    };
  } catch (err) {
    gen.kill();
    await target.clearCalls().catch(() => null);
    throw err;
  }
}

/**
 * The phones talking to each other directly (no relay, no process in
 * between): shows that the generator and loopback add next to nothing, so
 * the delays in the steps are the relay process's (and its scheduling).
 */
async function baseline(files: { a: string; b: string }, bin: string): Promise<string> {
  const n = 32; // one socket per phone, so each stream keeps its own source port
  const gen = await startGen({ bin, aFile: files.a, bFile: files.b, seconds: Math.min(opts.stepSeconds, 5), socks: n, drainMs: 300, pin: genPin });
  const calls = Array.from({ length: n }, (_, i) => ({ a: gen.bPorts[i]!, b: gen.aPorts[i]! }));
  const r = await gen.run(calls);
  return (
    `baseline, phones direct (no relay), ${n} calls: loss ${(((r.sent - r.received) / Math.max(1, r.sent)) * 100).toFixed(3)}%, ` +
    `delay p50 ${(r.p50Us / 1000).toFixed(2)} p99 ${(r.p99Us / 1000).toFixed(2)} max ${(r.maxUs / 1000).toFixed(1)} ms, load ${(loadavg()[0] ?? 0).toFixed(1)}`
  );
}

function formatStep(name: string, s: Step): string {
  const f = (n: number | null, d = 0): string => (n === null ? 'n/a' : n.toFixed(d));
  return (
    `${name} step ${s.calls} calls: loss ${s.lossPct.toFixed(3)}% (${s.gen.sent - s.gen.received}/${s.gen.sent}), ` +
    `delay p50 ${(s.gen.p50Us / 1000).toFixed(2)} p99 ${(s.gen.p99Us / 1000).toFixed(2)} max ${(s.gen.maxUs / 1000).toFixed(1)} ms, ` +
    `jitter mean ${(s.gen.jitterMeanUs / 1000).toFixed(2)} max ${(s.gen.jitterMaxUs / 1000).toFixed(2)} ms, ` +
    `relay cpu ${f(s.relayCpuPct)}% (sys ${f(s.relaySysPct)}%), phones cpu ${s.genCpuPct.toFixed(0)}%, load ${s.load.toFixed(1)}, ` +
    `relay loop delay p99/max ${s.loop ?? 'n/a'}, relay drops: ${s.relayDrops}` +
    (s.lossPct > 0 ? `; host udp errors: ${s.udpDrops ?? 'n/a'}, phone send failures ${s.gen.sendFailed}` : '') +
    (s.ok ? '' : ' [not held]') +
    (s.problem === null ? '' : ` (${s.problem})`)
  );
}

/** Every step the ramp ran, in order. */
async function ramp(name: string, target: RelayTarget, mode: RelayMode, files: { a: string; b: string }, keys: SrtpKeys, bin: string, deadline: number): Promise<Step[]> {
  const steps: Step[] = [];
  // A step that is not held is run again (--retries): on a shared machine one
  // scheduling hiccup elsewhere should not end the ramp.
  const run = async (calls: number): Promise<boolean> => {
    for (let attempt = 0; attempt <= opts.retries; attempt++) {
      const s = await step(target, calls, mode, files, keys, bin);
      steps.push(s);
      log(formatStep(name, s));
      await new Promise((r) => setTimeout(r, 1000));
      if (s.ok) return true;
      if (Date.now() >= deadline) break;
    }
    return false;
  };
  let good: number | null = null;
  let bad: number | null = null;
  for (let calls = Math.min(opts.start, maxCalls); Date.now() < deadline; ) {
    if (await run(calls)) good = calls;
    else {
      bad = calls;
      break;
    }
    if (calls >= maxCalls) {
      log(`${name}: reached the port range's ${maxCalls} calls; widen --port-min/--port-max to go further`);
      break;
    }
    calls = Math.min(maxCalls, Math.round(calls * opts.factor));
  }
  for (let i = 0; i < opts.refine && bad !== null && Date.now() < deadline; i++) {
    const lo = good ?? 0;
    const mid = Math.round((lo + bad) / 2);
    if (mid <= lo || mid >= bad || mid < 1) break;
    if (await run(mid)) good = mid;
    else bad = mid;
  }
  return steps;
}

/** The held step with the most calls. */
function bestOf(steps: readonly Step[]): Step | null {
  let best: Step | null = null;
  for (const s of steps) if (s.ok && (best === null || s.calls > best.calls)) best = s;
  return best;
}

const perCall = (x: Step): number | null => (x.relayCpuPct === null || x.relayCpuPct <= 0 ? null : x.relayCpuPct / x.calls);

/**
 * builtin against another target: calls held, and CPU per call both at each
 * one's best step and at the same load (the most calls both held). The two
 * differ because a relay that is busier wakes up less often per packet.
 */
function ratioLine(mode: RelayMode, other: string, b: readonly Step[], r: readonly Step[]): string {
  const bb = bestOf(b);
  const rb = bestOf(r);
  if (bb === null || rb === null) return `relay ${mode}: ratio builtin/${other}: n/a (a side held no step)`;
  const cpuRatio = (x: Step, y: Step): string => {
    const px = perCall(x);
    const py = perCall(y);
    return px === null || py === null ? 'n/a' : `${(px / py).toFixed(2)} (${px.toFixed(3)}% / ${py.toFixed(3)}% of a core)`;
  };
  let same = '';
  const rHeld = new Map(r.filter((s) => s.ok).map((s) => [s.calls, s]));
  const common = b.filter((s) => s.ok && rHeld.has(s.calls)).sort((x, y) => y.calls - x.calls)[0];
  if (common !== undefined) same = `; at the same ${common.calls} calls: ${cpuRatio(common, rHeld.get(common.calls)!)}`;
  return (
    `relay ${mode}: ratio builtin/${other}: calls held ${(bb.calls / rb.calls).toFixed(2)} (${bb.calls} / ${rb.calls}), ` +
    `cpu per call at each one's best ${cpuRatio(bb, rb)}${same}`
  );
}

function summary(name: string, best: Step | null): string {
  if (best === null) return `${name}: no step held (see the steps above)`;
  const cpu = best.relayCpuPct;
  const perCallText = cpu === null ? 'n/a' : `${(cpu / best.calls).toFixed(3)}% of a core`;
  const perPacket = cpu === null ? 'n/a' : `${(((cpu / 100) * opts.stepSeconds * 1e6) / best.gen.sent).toFixed(1)} µs`;
  // What one core would hold if the relay had it to itself: a projection, not a measurement.
  const projected = cpu === null || cpu <= 0 ? 'n/a' : String(Math.floor((100 / cpu) * best.calls));
  return (
    `${name}: max calls held ${best.calls} (loss ${best.lossPct.toFixed(3)}%, p99 added delay ${(best.gen.p99Us / 1000).toFixed(2)} ms, ` +
    `mean jitter ${(best.gen.jitterMeanUs / 1000).toFixed(2)} ms), relay cpu ${cpu === null ? 'n/a' : cpu.toFixed(0)}%, ` +
    `cpu per call ${perCallText}, per relayed packet ${perPacket} (one full core at that cost: ~${projected} calls)`
  );
}

/** Relay CPU per relayed packet at a step, µs. */
const cpuPerPacket = (s: Step): number | null =>
  s.relayCpuPct === null || s.gen.sent === 0 ? null : ((s.relayCpuPct / 100) * opts.stepSeconds * 1e6) / s.gen.sent;

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 === 1 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
}

/** --fixed: all targets up at once, taking turns at each call count, round after round. */
async function fixedSteps(calls: number[], keys: SrtpKeys, files: Map<RelayMode, { a: string; b: string }>, bin: string): Promise<number> {
  const share = Math.floor((opts.portMax - opts.portMin + 1) / targets.length);
  const up: { name: string; target: RelayTarget }[] = [];
  let failures = 0;
  try {
    for (const [i, t] of targets.entries()) {
      const portMin = opts.portMin + i * share;
      const nodeArgs = v.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', v.profile];
      try {
        up.push({ name: t, target: await TARGETS[t]!({ portMin, portMax: portMin + share - 1, pin: relayPin, nodeArgs }) });
      } catch (err) {
        log(`${t}: skipped: ${(err as Error).message}`);
      }
    }
    const results = new Map<string, Step[]>();
    for (const m of modes) {
      for (const n of calls) {
        for (let round = 1; round <= rounds; round++) {
          for (const { name, target } of up) {
            if (name === 'node-floor' && m === 'srtp') continue;
            // builtin-js and builtin-legacy differ from builtin only in SRTP.
            if (name.startsWith('builtin-') && m === 'rtp') continue;
            const label = `relay ${name} ${m === 'rtp' ? 'RTP↔RTP' : 'SRTP↔RTP'}`;
            try {
              const s = await step(target, n, m, files.get(m)!, keys, bin);
              log(`${formatStep(label, s)} (round ${round})`);
              const key = `${name} ${m} ${n}`;
              results.set(key, [...(results.get(key) ?? []), s]);
            } catch (err) {
              failures++;
              log(`${label}: step failed: ${(err as Error).message}`);
            }
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }
    }
    const ref = up.find((u) => u.name.startsWith('rtpengine'))?.name;
    for (const m of modes) {
      for (const n of calls) {
        const perPacket = new Map<string, number>();
        for (const { name } of up) {
          const steps = results.get(`${name} ${m} ${n}`) ?? [];
          const us = steps.map(cpuPerPacket).filter((x): x is number => x !== null);
          if (us.length === 0) continue;
          perPacket.set(name, median(us));
          const held = steps.filter((s) => s.ok).length;
          const loads = steps.map((s) => s.load.toFixed(1)).join('/');
          log(`relay ${name} ${m} at ${n} calls: cpu per relayed packet ${median(us).toFixed(1)} µs (median of ${us.length}: ` +
            `${us.map((x) => x.toFixed(1)).join(', ')}), held ${held}/${steps.length}, load ${loads}`);
        }
        const r = ref === undefined ? undefined : perPacket.get(ref);
        if (r === undefined) continue;
        for (const [name, us] of perPacket) {
          if (name !== ref) log(`relay ${m} at ${n} calls: ${ref}/${name} cpu per packet = ${(r / us).toFixed(2)}× (${r.toFixed(1)} / ${us.toFixed(1)} µs; ≥ 1 = ${name} cheaper)`);
        }
      }
    }
  } finally {
    for (const { target } of up) await target.stop();
  }
  return failures;
}

async function main(): Promise<number> {
  for (const line of machineLines()) log(line);
  log(`relay bench: targets ${targets.join(',')}, modes ${modes.join(',')}, ${opts.stepSeconds} s steps, ` +
    `held = loss < ${opts.maxLossPct}% and p99 delay ≤ ${opts.maxP99Ms} ms (${opts.retries} retries); relay pinned ${relayPin.join(' ') || 'no'}, phones ${genPin.join(' ') || 'no'}`);
  const bin = buildRtpgen();
  const dir = mkdtempSync(join(tmpdir(), 'sb-relay-bench-'));
  const started = Date.now();
  const deadline = started + opts.budgetSec * 1000;
  const results = new Map<string, Step[]>();
  let failures = 0;
  try {
    const { masterKey, masterSalt } = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const keys: SrtpKeys = { suite: 'AES_CM_128_HMAC_SHA1_80', key: masterKey.toString('base64'), salt: masterSalt.toString('base64') };
    const files = new Map(modes.map((m) => [m, packetFiles(dir, m, keys)]));
    log(await baseline(packetFiles(dir, 'rtp', keys), bin));
    if (fixedCalls !== null) {
      failures = await fixedSteps(fixedCalls, keys, files, bin);
      return failures === 0 ? 0 : 1;
    }
    const combos = targets.flatMap((t) => modes.map((m) => [t, m] as const));
    let left = combos.length;
    for (const t of targets) {
      let target: RelayTarget;
      try {
        const nodeArgs = v.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', v.profile];
        target = await TARGETS[t]!({ portMin: opts.portMin, portMax: opts.portMax, pin: relayPin, nodeArgs });
      } catch (err) {
        log(`${t}: skipped: ${(err as Error).message}`);
        left -= modes.length;
        continue;
      }
      try {
        for (const m of modes) {
          if (t === 'node-floor' && m === 'srtp') {
            left--;
            continue; // the floor has no SRTP: it would only pass the packets through
          }
          // Share what is left of the budget evenly among the ramps still to run.
          const share = Math.max(0, deadline - Date.now()) / left--;
          const name = `relay ${t} ${m === 'rtp' ? 'RTP↔RTP' : 'SRTP↔RTP'}`;
          const steps = await ramp(name, target, m, files.get(m)!, keys, bin, Date.now() + share);
          results.set(`${t} ${m}`, steps);
          log(summary(name, bestOf(steps)));
        }
      } catch (err) {
        failures++;
        log(`${t}: failed: ${(err as Error).stack ?? String(err)}`);
      } finally {
        await target.stop();
      }
    }
    for (const m of modes) {
      const b = results.get(`builtin ${m}`);
      for (const other of targets) {
        const r = results.get(`${other} ${m}`);
        if (other !== 'builtin' && b && r) log(ratioLine(m, other, b, r));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`relay bench done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();

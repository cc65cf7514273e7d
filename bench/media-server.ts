// The whole server as a media server: N concurrent voicemail deposits, or N
// conference participants, driven by SIPp, in steps of N. `switchboard start`
// runs as a child process (one worker); every call goes through the B2BUA
// and the relay to the media server's endpoints, as in production.
//
// - Deposits: SIPp callers (call_uac's authenticated INVITE, then
//   play_pcap_audio of a generated 440 Hz µ-law pcap) call mailboxes whose
//   owners have no phone registered, so the mailbox answers at once: the
//   caller hears the greeting and the beep, then is recorded until BYE.
// - Conference: SIPp callers into meet-me rooms of --room participants, each
//   sending the tone; each hears the mix of the others.
// - A few probe callers of our own (a UA of test/integration/lib/phone.ts and
//   an RTP socket in this process) are among the N: they send the tone too and
//   time every packet the server sends them, which is how a stall of the
//   server's 20 ms media clock shows from outside (a skipped tick is a gap of
//   ≥ 100 ms; a late frame a gap over 40 ms).
//
// Per step: the server's CPU (its whole process, /proc) over a window in which
// all N calls are up, per stream; the SIPps' CPU (the load generator, whole
// run); the probes' packet rate and gaps; for deposits, the messages stored
// and the share of their 20 ms frames that hold the caller's tone (frames
// the server lost or recorded late are silence). With --profile N, one more
// deposit step of N on a server under `node --cpu-prof`, and its top entries.
//
//   node --import tsx bench/media-server.ts [--deposits 10,50,100,200]
//        [--conference 10,50,100,200] [--room 10] [--hold 16] [--window 8]
//        [--probes 2] [--profile 100] [--budget 420] [--nice -10]
//
// --deposits '' or --conference '' skips that part; --profile 0 skips the
// profile. Exits non-zero only when the plumbing broke, never for a figure.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { machineLines } from './lib/machine.ts';
import { cpuWindow } from './lib/cpu.ts';
import { intOption } from './lib/micro.ts';
import { formatSummary, summarize, type CpuProfile } from './lib/profile-top.ts';
import { startServerProc, type ServerProc } from './lib/switchboard-proc.ts';
import { pcapFile, rtpStream } from '../test/interop/lib/rtp-pcap.ts';
import { REPO_ROOT, importUsers, makeTempDir, removeDir, requireTool } from '../test/interop/harness.ts';
import { runUac, type SipServer } from '../test/interop/lib/sipp-calls.ts';
import type { SippRun } from '../test/interop/sipp.ts';
import { makeUsers, type TestUser } from '../test/interop/users.ts';
import { TestPhone } from '../test/integration/lib/phone.ts';
import { RtpPeer, sine } from '../test/integration/lib/rtp-peer.ts';
import { openStore } from '../src/store/sqlite/database.ts';
import { readWavAt } from '../src/media/wav.ts';
import { encodeG711 } from '../src/media/g711.ts';

const DOMAIN = 'lab.test';
/** Concurrent deposits per mailbox (one SIPp process each): under calls.maxCallsPerUser (100). */
const PER_MAILBOX = 50;
/** SIPp call rate per process, calls/s: the last call of a step starts within ~2 s. */
const RATE = 25;
const TONE_HZ = 440;

const { values } = parseArgs({
  options: {
    deposits: { type: 'string', default: '10,50,100,200' },
    conference: { type: 'string', default: '10,50,100,200' },
    room: { type: 'string', default: '10' },
    hold: { type: 'string', default: '16' },
    window: { type: 'string', default: '8' },
    probes: { type: 'string', default: '2' },
    profile: { type: 'string', default: '100' },
    budget: { type: 'string', default: '420' },
    nice: { type: 'string', default: '-10' },
  },
});
const steps = (s: string): number[] => s.split(',').filter((x) => x.trim() !== '').map((x) => intOption('step', x, 2, 400));
const depositSteps = steps(values.deposits!);
const conferenceSteps = steps(values.conference!);
const room = intOption('--room', values.room, 2, 50);
const holdSec = intOption('--hold', values.hold, 12, 60);
const windowSec = intOption('--window', values.window, 2, holdSec - 6);
const probes = intOption('--probes', values.probes, 0, 10);
const profileN = intOption('--profile', values.profile, 0, 400);
const budgetMs = intOption('--budget', values.budget, 30, 1800) * 1000;
const nice = intOption('--nice', values.nice, -20, 19);
const started = Date.now();
const maxN = Math.max(2, ...depositSteps, ...conferenceSteps, profileN);

const callers = makeUsers(maxN + probes, 50000);
const mailboxes = makeUsers(Math.ceil(maxN / PER_MAILBOX), 4001);
const rooms = Array.from({ length: Math.ceil(maxN / room) }, (_, i) => String(8200 + i));

interface Probe {
  arrivals: number[];
  stop(): Promise<void>;
}

/** A caller of ours: sends the tone every 20 ms and stamps each packet the server sends back. */
async function startProbe(server: ServerProc, user: TestUser, target: string): Promise<Probe> {
  const phone = await TestPhone.start({ ext: user.ext, password: user.password, server: { host: server.host, port: server.udpPort, domain: DOMAIN } });
  const peer = await RtpPeer.open();
  const arrivals: number[] = [];
  peer.socket.on('message', () => arrivals.push(performance.now()));
  const call = phone.call(target, { body: peer.sdp() });
  const res = await call.final;
  if (res.status !== 200) throw new Error(`probe call to ${target}: ${res.status}`);
  peer.connect(res.body, false);
  const tone = sine(TONE_HZ, 1000);
  const frames = Array.from({ length: 50 }, (_, i) => {
    const b = Buffer.alloc(160);
    encodeG711('ulaw', tone.subarray(i * 160, (i + 1) * 160), b);
    return b;
  });
  let n = 0;
  const timer = setInterval(() => peer.send(1, 0, frames[n++ % 50]!), 20);
  return {
    arrivals,
    async stop() {
      clearInterval(timer);
      await phone.inDialog(call.dialog!, 'BYE').catch(() => undefined);
      peer.close();
      await phone.stop();
    },
  };
}

/** Packets per second and gaps over 40 ms / of 100 ms or more, in [from, to] (performance.now()). */
function gaps(arrivals: readonly number[], from: number, to: number): { rate: number; late: number; stalls: number; max: number } {
  const a = arrivals.filter((t) => t >= from && t <= to);
  let late = 0;
  let stalls = 0;
  let max = 0;
  for (let i = 1; i < a.length; i++) {
    const g = a[i]! - a[i - 1]!;
    if (g > 40) late++;
    if (g >= 100) stalls++;
    if (g > max) max = g;
  }
  return { rate: a.length / ((to - from) / 1000), late, stalls, max };
}

/** Lines the server printed (warnings and errors at the bench's log level). */
let serverLines = 0;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Group {
  callee: string;
  callers: TestUser[];
}

/** SIPp groups and probe targets of one step: deposits spread over mailboxes, participants over rooms. */
function plan(mode: 'deposit' | 'conference', n: number): { groups: Group[]; probeTargets: string[] } {
  const sippCalls = n - probes;
  const groups: Group[] = [];
  const probeTargets: string[] = [];
  let next = 0;
  const take = (k: number): TestUser[] => {
    const out = callers.slice(next, next + k);
    next += k;
    return out;
  };
  if (mode === 'deposit') {
    for (let left = sippCalls, i = 0; left > 0; i++, left -= PER_MAILBOX) groups.push({ callee: mailboxes[i]!.ext, callers: take(Math.min(PER_MAILBOX, left)) });
    for (let i = 0; i < probes; i++) probeTargets.push(mailboxes[i % mailboxes.length]!.ext);
  } else {
    // Probes take a seat each in the first rooms; SIPp fills the rest.
    for (let i = 0, left = n; left > 0; i++) {
      const seats = Math.min(room, left);
      left -= seats;
      const probe = i < probes ? 1 : 0;
      if (probe) probeTargets.push(rooms[i]!);
      if (seats - probe > 0) groups.push({ callee: rooms[i]!, callers: take(seats - probe) });
    }
  }
  return { groups, probeTargets };
}

interface StepFigures {
  line: string;
  failed: boolean;
}

async function step(server: ServerProc, dataDir: string, mode: 'deposit' | 'conference', n: number, scenario: string, workDir: string): Promise<StepFigures> {
  const { groups, probeTargets } = plan(mode, n);
  const sip: SipServer = { name: 'switchboard', host: server.host, udpPort: server.udpPort, domain: DOMAIN, output: server.output };
  const store = mode === 'deposit' ? openStore(dataDir) : undefined;
  const before = new Set<string>();
  if (store) for (const m of mailboxes) for (const msg of await store.voicemail.list(m.ext)) before.add(msg.id);
  const t0 = Date.now();
  const lines0 = serverLines;
  const runs = groups.map((g) =>
    runUac({
      server: sip, scenario, callee: g.callee, callers: g.callers, calls: g.callers.length, rate: Math.min(RATE, g.callers.length),
      holdMs: holdSec * 1000, workDir, timeoutMs: (holdSec + 90) * 1000, maxOpenCalls: g.callers.length, recvTimeoutMs: 30_000,
    }));
  const probeList = await Promise.all(probeTargets.map((t, i) => startProbe(server, callers[callers.length - 1 - i]!, t)));
  // Every call is up once the slowest group has started its last one (plus answer and ACK).
  const rampMs = Math.max(...groups.map((g) => (g.callers.length / Math.min(RATE, g.callers.length)) * 1000), 0) + 2000;
  await sleep(Math.max(0, t0 + rampMs - Date.now()));
  const cpu = cpuWindow(server.pid);
  // This process's own event-loop delay: a probe's gap no longer than it may be ours, not the server's.
  const ownLoop = monitorEventLoopDelay({ resolution: 10 });
  ownLoop.enable();
  const from = performance.now();
  await sleep(windowSec * 1000);
  const to = performance.now();
  ownLoop.disable();
  const serverCpu = cpu.finishSplit();
  const done: SippRun[] = await Promise.all(runs);
  for (const p of probeList) await p.stop();
  const wallSec = (Date.now() - t0) / 1000;
  const ok = done.reduce((a, r) => a + (r.stats?.successful ?? 0), 0);
  const bad = done.reduce((a, r) => a + (r.stats?.failed ?? 0), 0);
  const sippCpu = done.reduce((a, r) => a + (r.cpuSec ?? 0), 0);
  const pg = probeList.map((p) => gaps(p.arrivals, from, to));
  const probeText = pg.length === 0 ? '-' : `${(pg.reduce((a, g) => a + g.rate, 0) / pg.length).toFixed(1)}/s, ${pg.reduce((a, g) => a + g.late, 0)} late, ${pg.reduce((a, g) => a + g.stalls, 0)} ≥100 ms, max ${Math.max(...pg.map((g) => g.max)).toFixed(0)} ms (own loop max ${(ownLoop.max / 1e6).toFixed(0)} ms)`;
  let recorded = '-';
  if (store) {
    // The last messages may still be on their way to the store after the BYEs: wait for as many as calls
    // were answered, 15 s at most, and say how long they took.
    const expected = ok + probeList.length;
    const fresh = async () => {
      const out: { mailbox: string; id: string }[] = [];
      for (const m of mailboxes) for (const msg of await store.voicemail.list(m.ext)) if (!before.has(msg.id)) out.push({ mailbox: m.ext, id: msg.id });
      return out;
    };
    const waitFrom = Date.now();
    let list = await fresh();
    while (list.length < expected && Date.now() - waitFrom < 15_000) {
      await sleep(250);
      list = await fresh();
    }
    const lag = ((Date.now() - waitFrom) / 1000).toFixed(1);
    let count = 0;
    let frames = 0;
    let toneFrames = 0;
    for (const { mailbox, id } of list) {
      count++;
      const pcm = readWavAt((await store.voicemail.audio(mailbox, id))!);
      for (let at = 0; at + 160 <= pcm.length; at += 160) {
        let e = 0;
        for (let i = at; i < at + 160; i++) e += Math.abs(pcm[i]!);
        frames++;
        if (e / 160 > 1000) toneFrames++;
      }
    }
    await store.close();
    recorded = `${count}/${expected} msgs (${lag} s after the last BYE), ${frames === 0 ? '-' : ((toneFrames / frames) * 100).toFixed(1)} % tone`;
  }
  const cpuText = serverCpu === null ? 'n/a' : `${serverCpu.total.toFixed(1)} % (sys ${serverCpu.sys.toFixed(1)})`;
  const perStream = serverCpu === null ? 'n/a' : `${(serverCpu.total / n).toFixed(3)} %`;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  const line = `| ${mode} | ${n} | ${ok}/${ok + bad} | ${cpuText} | ${perStream} | ${probeText} | ${recorded} | ${((sippCpu / wallSec) * 100).toFixed(1)} % | ${load} |`;
  console.log(line);
  if (serverLines > lines0) console.log(`  the server printed ${serverLines - lines0} log lines in the step; last: ${server.output().trim().split('\n').at(-1)!.slice(0, 300)}`);
  if (bad > 0) {
    const failed = done.find((r) => (r.stats?.failed ?? 0) > 0);
    console.log(`  SIPp failures, first: ${failed?.errors.slice(0, 600) ?? ''}`);
  }
  return { line, failed: bad > 0 };
}

function scenarioXml(pcap: string): string {
  const base = readFileSync(join(REPO_ROOT, 'test', 'interop', 'sipp', 'call_uac.xml'), 'utf8');
  // call_uac.xml with the tone played from the ACK on: the pcap is longer than the hold, the BYE ends it.
  const play = `  <nop>\n    <action>\n      <exec play_pcap_audio="${pcap}"/>\n    </action>\n  </nop>\n\n  <pause/>`;
  if (!base.includes('  <pause/>')) throw new Error('call_uac.xml has no <pause/> to put the tone before');
  return base.replace('<scenario name="call_uac">', '<scenario name="pcap_call_uac">').replace('  <pause/>', play);
}

async function withServer<T>(dataDir: string, nodeArgs: string[], fn: (s: ServerProc) => Promise<T>): Promise<{ result: T; code: number | null }> {
  const server = await startServerProc({
    dataDir, domain: DOMAIN, configFile: join(dataDir, 'bench-config.json'), nodeArgs, logLevel: 'warn',
    onOutput: (c) => {
      for (let i = c.indexOf('\n'); i >= 0; i = c.indexOf('\n', i + 1)) serverLines++;
    },
  });
  try {
    return { result: await fn(server), code: await server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * This process's threads at `nice` (a negative one needs root); the server and
 * the SIPps, started from here, inherit it. With the kernel's autogroups
 * (sched_autogroup_enabled) nice only orders the rig's own processes: the
 * rig's session as a whole still gets one session's share of the machine.
 */
function renice(): string {
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) execFileSync('renice', ['-n', String(nice), '-p', tid], { stdio: 'ignore' });
    return `nice ${nice} (bench, server, SIPp)`;
  } catch (err) {
    return `nice not changed (${(err as Error).message.split('\n')[0]})`;
  }
}

async function main(): Promise<number> {
  requireTool('sipp');
  for (const l of machineLines()) console.log(l);
  console.log(renice());
  console.log(`hold ${holdSec} s, CPU window ${windowSec} s, ${probes} probe callers per step, rooms of ${room}, 2 vCPUs shared with other work`);
  const workDir = makeTempDir('bench-media-server');
  const dataDir = join(workDir, 'data');
  mkdirSync(dataDir);
  try {
    const pcap = join(workDir, 'tone.pcap');
    writeFileSync(pcap, pcapFile(rtpStream([{ audio: sine(TONE_HZ, (holdSec + 4) * 1000) }], 101)));
    const scenario = join(workDir, 'pcap_call_uac.xml');
    writeFileSync(scenario, scenarioXml(pcap));
    writeFileSync(join(dataDir, 'bench-config.json'), JSON.stringify({
      registrar: { keepaliveSec: 0 },
      voicemail: { enabled: true, maxMessages: 10_000, minMessageMs: 500 },
      calls: { musicOnHold: false, maxCallsPerUser: 100 },
    }));
    await importUsers(dataDir, [...mailboxes, ...callers]);
    const store = openStore(dataDir);
    for (const r of rooms) await store.conferenceRooms.add({ number: r, name: `bench ${r}`, maxParticipants: room, announceJoin: false });
    await store.close();

    console.log('| work | streams | SIPp calls ok | server CPU (window) | per stream | probes: packets in, late (>40 ms), stalls (≥100 ms), max gap | deposits recorded, frames with the tone | SIPp CPU (whole run) | load 1 min |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const { code } = await withServer(dataDir, [], async (server) => {
      for (const [mode, list] of [['deposit', depositSteps], ['conference', conferenceSteps]] as const) {
        for (const n of list) {
          if (Date.now() - started > budgetMs) {
            console.log(`budget of ${budgetMs / 1000} s spent: ${mode} ${n} not run`);
            continue;
          }
          await step(server, dataDir, mode, n, scenario, workDir);
          await sleep(2000);
        }
      }
    });
    if (code !== 0) console.log(`server exit code after SIGTERM: ${code}`);

    if (profileN > 0 && Date.now() - started < budgetMs) {
      const profDir = join(workDir, 'prof');
      mkdirSync(profDir);
      let from = 0;
      let to = 0;
      const { result: pid } = await withServer(dataDir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`], async (server) => {
        from = Number(process.hrtime.bigint() / 1000n);
        await step(server, dataDir, 'deposit', profileN, scenario, workDir);
        to = Number(process.hrtime.bigint() / 1000n);
        return server.pid;
      });
      const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0' && Number(f.split('.')[3]) === pid);
      if (files.length === 0) throw new Error(`no main-thread .cpuprofile of the server in ${profDir}`);
      const profile = JSON.parse(readFileSync(join(profDir, files.sort().at(-1)!), 'utf8')) as CpuProfile;
      const summary = summarize(profile, REPO_ROOT, { fromUs: from, toUs: to });
      console.log(`profile of the server, deposit step of ${profileN} (the step above), by self time:`);
      for (const l of formatSummary(summary, 25, 'self')) console.log(l);
      const ours = { ...summary, entries: summary.entries.filter((e) => e.label.includes(' src/')) };
      console.log('src/ only, by total (inclusive) time:');
      for (const l of formatSummary(ours, 15, 'total').slice(1)) console.log(l);
    }
    return 0;
  } catch (err) {
    console.log(`media-server bench could not run: ${(err as Error).stack}`);
    return 1;
  } finally {
    removeDir(workDir);
  }
}

process.exitCode = await main();

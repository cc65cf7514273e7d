// The network fuzzer: a real server (`switchboard start`, UDP/TCP/TLS on
// loopback, management HTTPS on, users provisioned, two workers by default)
// takes mutated corpus messages and hostile well-framed ones (hostile.ts)
// at a bounded rate, in batches. Between batches a legitimate client on
// another loopback address must still be served (OPTIONS over UDP, TCP and
// TLS, a REGISTER with digest, /healthz, a phone's provisioning fetch); the
// provisioning listener gets hostile HTTP (provisioning.ts) and must never
// send it a secret; at the end the server's memory
// after warm-up and its log volume must be within bounds, with no error
// lines and no stack traces. On failure the seed, the last inputs and the
// server's log tail go to test-artifacts/fuzz/.
import { readFileSync } from 'node:fs';
import { GcHookReader, gcHookArgs } from '../../bench/lib/switchboard-proc.ts';
import { freePort, processAlive as alive, startSwitchboard } from '../interop/harness.ts';
import { PRODUCTION_OVERLOAD } from '../lib/overload-config.ts';
import type { TestUser } from '../interop/users.ts';
import { makeRng } from '../lib/prng.ts';
import type { Rng } from '../lib/prng.ts';
import { sleep } from '../lib/wait.ts';
import { Channel } from './channels.ts';
import { measure, overloadCounts, probe, serverPids } from './checks.ts';
import type { Memory } from './checks.ts';
import type { ChannelTransport } from './channels.ts';
import { loadCorpus } from './corpus.ts';
import { HostileGenerator } from './hostile.ts';
import type { HostileTarget } from './hostile.ts';
import { LogWatch, countsSince } from './log-watch.ts';
import type { LogCounts } from './log-watch.ts';
import { mutate } from './mutate.ts';
import { addDevices, fetchAsDevice, HttpHostileGenerator, type DeviceSecrets, type FuzzDevice } from './provisioning.ts';

export interface NetworkFuzzOptions {
  seed: number;
  /** Messages in all (default 200,000). */
  messages: number;
  /** Messages per second, at most (default 2,000). */
  rate: number;
  /** Stop sending after this long even if `messages` are not all sent. */
  seconds?: number;
  /** Messages between probes (default 10,000). */
  batch: number;
  /** Server worker processes (default 2). */
  workers: number;
  /** Allowed RSS growth (all server processes, after full GCs) from the end of warm-up to the end, MiB. */
  rssGrowthMiB: number;
  /** Allowed growth of the V8 heap in use (all server processes, after full GCs) over the same span, MiB. */
  heapGrowthMiB: number;
  /** Allowed server log lines per minute of fuzzing. */
  logLinesPerMinute: number;
  /** Called with progress lines. */
  log: (line: string) => void;
}

export const NETWORK_DEFAULTS: Omit<NetworkFuzzOptions, 'seed' | 'log'> = {
  messages: 200_000,
  rate: 2_000,
  batch: 10_000,
  workers: 2,
  rssGrowthMiB: 40,
  heapGrowthMiB: 10,
  logLinesPerMinute: 60,
};

export interface SentInput {
  index: number;
  channel: string;
  data: Buffer;
}

export interface NetworkReport {
  sent: number;
  seconds: number;
  perChannel: Record<string, { sent: number; received: number; closedByServer: number; stalls: number }>;
  /** Server memory after full GCs (MiB): at start, at the end of warm-up, at the end, the highest after warm-up. */
  memory: { start: Memory; afterWarmup: Memory; end: Memory; max: Memory };
  log: LogCounts;
  logLinesPerMinute: number;
  probes: number;
  /** New requests the server's overload control dropped unanswered (no credentials) or refused with 503. */
  overload: { dropped: number; shed: number };
  /** Probe tries that failed, each with why (a later try may have passed). */
  probeRetries: string[];
  /** Empty when every check passed. */
  failures: string[];
  lastInputs: SentInput[];
  logTail: string;
}

const DOMAIN = 'fuzz.test';
/** Sources: the attacker and the "user" channel each have an address; probes come from 127.0.0.1. */
const ATTACKER = '127.0.0.2';
const USER = '127.0.0.3';
const AUTH_USERS: TestUser[] = [1, 2, 3, 4].map((i) => ({ ext: `200${i}`, password: `fuzz-user-${i}-pw` }));
const VICTIMS: TestUser[] = [1, 2, 3, 4, 5].map((i) => ({ ext: `100${i}`, password: `victim-${i}-pw` }));
const PROBE: TestUser = { ext: '3000', password: 'probe-pw-three' };
/** Provisioning: the probe's phone (never named by a fuzz message) and the victims that get wrong passwords. */
const PROBE_DEVICE: FuzzDevice = { mac: '0004f2fe0300', ext: PROBE.ext, family: 'avaya-b179', file: '/avayab179.xml' };
const VICTIM_DEVICES: FuzzDevice[] = [
  { mac: '0004f2fe1001', ext: '1001', family: 'avaya-b179', file: '/avayab179.xml' },
  { mac: '0004f2fe1002', ext: '1002', family: 'avaya-46xx', file: '/46xxsettings.txt' },
];
/**
 * Memory counts as warmed up at the first probe after 30 % of the messages
 * and 30 s of sending (the state the server keeps lives on timers: 32 s for
 * transactions, 60 s of ringing). Measured with 2 workers at 2,000
 * messages/s, after full GCs that also hand back V8's pooled pages: RSS
 * climbs from ~312 to ~375-388 MiB over the first 60,000 messages (V8's new
 * space, the allocator's arenas, socket buffers and the timers' state grow
 * to the load), then drifts up to 29 MiB more until ~140,000 and stays
 * within 387-403 MiB to the end of a 400,000-message run; readings of one
 * run scatter by up to ~20 MiB. Hence the RSS bound of 40 MiB (a leak of
 * 300 bytes per message, a small SIP message kept, adds 40 MiB over the
 * 140,000 after warm-up). The V8 heap in use, free of that noise, stayed
 * within 3.1 MiB of its warm-up value: its 10 MiB bound catches a leak of
 * JavaScript objects of 75 bytes per message.
 */
const WARMUP = { share: 0.3, ms: 30_000 };
/** Inputs kept for the failure report. */
const KEEP_INPUTS = 200;
/** Messages sent per tick of the rate limiter. */
const TICK_MS = 10;
/** A stream channel with more than this queued waits before more is written... */
const MAX_BACKLOG = 256 * 1024;
/** ...this long at most; then we give up on the connection, as a client would, and open another. */
const MAX_STALL_MS = 2000;

interface ChannelPlan {
  name: string;
  transport: ChannelTransport;
  role: HostileTarget['role'];
  weight: number;
  /**
   * 'apphost': the media server's UDP port (it takes requests only from the
   * server's own listener: nothing may come back). 'provisioning': the
   * provisioning HTTPS listener (HTTP requests, provisioning.ts).
   */
  to?: 'apphost' | 'provisioning';
}

/** Where messages go: mostly UDP and TCP, some TLS. */
const PLAN: ChannelPlan[] = [
  { name: 'udp-attacker', transport: 'udp', role: 'attacker', weight: 45 },
  { name: 'udp-user', transport: 'udp', role: 'user', weight: 10 },
  { name: 'tcp-attacker-1', transport: 'tcp', role: 'attacker', weight: 10 },
  { name: 'tcp-attacker-2', transport: 'tcp', role: 'attacker', weight: 10 },
  { name: 'tcp-attacker-3', transport: 'tcp', role: 'attacker', weight: 10 },
  { name: 'tcp-user', transport: 'tcp', role: 'user', weight: 10 },
  { name: 'tls-attacker', transport: 'tls', role: 'attacker', weight: 5 },
  { name: 'udp-apphost', transport: 'udp', role: 'attacker', weight: 5, to: 'apphost' },
  { name: 'https-provisioning', transport: 'tls', role: 'attacker', weight: 5, to: 'provisioning' },
];

/** The media server's port from its log line (the first process's, with workers). */
function appHostPort(output: string): number | undefined {
  const line = /^.*"msg":"media server listening".*$/m.exec(output)?.[0];
  const port = line === undefined ? undefined : /"port":(\d+)/.exec(line)?.[1];
  return port === undefined ? undefined : Number(port);
}

function pickChannel(rng: Rng, total: number): number {
  let r = rng() * total;
  for (let i = 0; i < PLAN.length; i++) {
    r -= PLAN[i]!.weight;
    if (r < 0) return i;
  }
  return PLAN.length - 1;
}

/**
 * Sends a challenge-provoking REGISTER on each channel and waits for the
 * challenge, up to five times a second apart: the server may drop a request
 * without credentials unanswered while its overload control sheds (as after
 * the pause of a heap trim), and a real client would send it again.
 */
async function refreshChallenges(channels: Channel[]): Promise<string | undefined> {
  for (const ch of channels) {
    let got = false;
    for (let attempt = 0; attempt < 5 && !got; attempt++) {
      // A stream may hold a half message from the fuzz: a fresh connection gets the REGISTER whole.
      if (ch.transport !== 'udp') ch.close();
      await ch.connect();
      const challenged = ch.nextChallenge(1000);
      const tag = `${ch.sent}-${attempt}`;
      ch.send(Buffer.from(
        `REGISTER sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/${ch.transport.toUpperCase()} ${ch.localHost}:${ch.localPort};branch=z9hG4bK-refresh-${tag};rport\r\n` +
          `Max-Forwards: 70\r\nFrom: <sip:${AUTH_USERS[0]!.ext}@${DOMAIN}>;tag=r${tag}\r\nTo: <sip:${AUTH_USERS[0]!.ext}@${DOMAIN}>\r\n` +
          `Call-ID: refresh-${ch.name}-${tag}\r\nCSeq: 1 REGISTER\r\nContact: <sip:${AUTH_USERS[0]!.ext}@${ch.localHost}:${ch.localPort}>\r\nContent-Length: 0\r\n\r\n`,
        'latin1',
      ));
      got = await challenged;
    }
    if (!got) return `no digest challenge on ${ch.name} for 5 REGISTERs a second apart`;
  }
  return undefined;
}

/** A server process that is gone: the supervisor or a worker crashed. */
export function processFailures(pids: readonly number[], supervisor: number): string[] {
  return pids.filter((p) => !alive(p)).map((p) => `server process ${p} ${p === supervisor ? '(supervisor)' : '(worker)'} exited`);
}

/** Any error line or stack trace in the server's log (bad input is a warning at most). */
export function logFailures(watch: LogWatch): string[] {
  return watch.counts.errors > 0 || watch.counts.stackTraces > 0 ? [`server logged an error or a stack trace: ${watch.firstBad}`] : [];
}

/**
 * The end-of-run bounds: memory growth from the end of warm-up (not judged
 * when the run never warmed up) and the log volume per minute of fuzzing.
 */
export function endFailures(o: Pick<NetworkFuzzOptions, 'rssGrowthMiB' | 'heapGrowthMiB' | 'logLinesPerMinute'>,
  memory: { afterWarmup: Memory; end: Memory }, logLines: number, minutes: number): string[] {
  const out: string[] = [];
  const { afterWarmup: w, end: e } = memory;
  if (w.rss > 0 && e.rss - w.rss > o.rssGrowthMiB) {
    out.push(`RSS grew ${(e.rss - w.rss).toFixed(1)} MiB after warm-up (${w.rss.toFixed(1)} -> ${e.rss.toFixed(1)} MiB), more than ${o.rssGrowthMiB} MiB`);
  }
  if (w.heap > 0 && e.heap - w.heap > o.heapGrowthMiB) {
    out.push(`V8 heap in use grew ${(e.heap - w.heap).toFixed(1)} MiB after warm-up (${w.heap.toFixed(1)} -> ${e.heap.toFixed(1)} MiB), more than ${o.heapGrowthMiB} MiB`);
  }
  const perMinute = logLines / minutes;
  if (perMinute > o.logLinesPerMinute) {
    out.push(`server logged ${logLines} lines in ${minutes.toFixed(1)} min (${perMinute.toFixed(0)}/min), more than ${o.logLinesPerMinute}/min`);
  }
  return out;
}

export async function runNetworkFuzz(o: NetworkFuzzOptions): Promise<NetworkReport> {
  const watch = new LogWatch(/^bench-memory: /);
  const hook = new GcHookReader();
  const httpPort = await freePort();
  const provisioningPort = await freePort();
  let devices = new Map<string, DeviceSecrets>();
  const t0 = Date.now();
  // The server inherits our environment: its memory hook then also hands back V8's pooled pages.
  process.env.BENCH_GC_LAST_RESORT = '1';
  const server = await startSwitchboard({
    domain: DOMAIN,
    users: [...AUTH_USERS, ...VICTIMS, PROBE],
    workers: o.workers,
    http: `127.0.0.1:${httpPort}`,
    provisioning: `127.0.0.1:${provisioningPort}`,
    beforeStart: async (dataDir) => {
      devices = await addDevices(dataDir, [PROBE_DEVICE, ...VICTIM_DEVICES]);
    },
    readyTimeoutMs: 60_000,
    // The production overload control: the fuzz run reports what it shed.
    config: { sip: { overload: PRODUCTION_OVERLOAD } },
    nodeArgs: gcHookArgs(),
    onOutput: (c, stream) => {
      hook.feed(c);
      watch.feed(c, stream);
    },
  });
  o.log(`fuzz: server pid ${server.pid} (${o.workers} worker(s)) up in ${((Date.now() - t0) / 1000).toFixed(1)} s: udp/tcp ${server.udpPort}, tls ${server.tlsPort}, https ${httpPort}, provisioning https ${provisioningPort}`);
  const ca = readFileSync(await server.exportCa());
  const appPort = appHostPort(server.output());
  if (appPort === undefined) throw new Error(`no 'media server listening' line with a port in the server's output\n${server.output()}`);
  const channels = PLAN.map((p) => new Channel(p.name, p.transport, p.role === 'user' ? USER : ATTACKER, server.host,
    p.to === 'apphost' ? appPort : p.to === 'provisioning' ? provisioningPort : p.transport === 'tls' ? server.tlsPort : server.udpPort, { ca }));
  const sipChannels = channels.filter((_, i) => PLAN[i]!.to === undefined);
  const appChannels = channels.filter((_, i) => PLAN[i]!.to === 'apphost');
  const provisioningChannels = channels.filter((_, i) => PLAN[i]!.to === 'provisioning');
  const deviceSecrets = [...devices.values()].flatMap((d) => [d.password, d.token]);
  for (const ch of provisioningChannels) ch.watchFor([...VICTIMS, PROBE].map((u) => u.password).concat(deviceSecrets));
  const rng = makeRng(o.seed);
  const gen = new HostileGenerator(rng);
  const httpGen = new HttpHostileGenerator(rng, VICTIM_DEVICES, VICTIM_DEVICES.map((d) => devices.get(d.mac)!.token));
  const deviceFetch = (): Promise<number> => fetchAsDevice(provisioningPort, ca, PROBE_DEVICE, devices.get(PROBE_DEVICE.mac)!);
  const corpus = loadCorpus();
  const totalWeight = PLAN.reduce((s, p) => s + p.weight, 0);
  const failures: string[] = [];
  const lastInputs: SentInput[] = [];
  const pids = serverPids(server.pid);
  if (pids.length !== (o.workers > 1 ? o.workers + 1 : 1)) throw new Error(`expected ${o.workers} worker(s), found processes ${pids.join(', ')}`);
  const zero = { rss: 0, heap: 0, external: 0 };
  const memory = { start: zero, afterWarmup: zero, end: zero, max: zero };
  let probes = 0;
  let overload = { dropped: 0, shed: 0 };
  /** Probe tries that went unanswered or wrong before a later one succeeded (or all three failed). */
  const retried: string[] = [];
  let sent = 0;
  let fuzzStart = 0;
  let fuzzMs = 0;
  let logAtStart = watch.snapshot();
  const check = (): void => {
    failures.push(...processFailures(pids, server.pid), ...logFailures(watch));
    for (const ch of appChannels) if (ch.received > 0) failures.push(`the media server's port answered ${ch.received} datagram(s) from outside the server (${ch.name})`);
    for (const ch of provisioningChannels) if (ch.leaks > 0) failures.push(`the provisioning server sent ${ch.name} a secret (a line or device password, a token) ${ch.leaks} time(s)`);
  };

  try {
    for (const ch of channels) await ch.connect();
    const primed = await refreshChallenges(sipChannels);
    if (primed !== undefined) failures.push(primed);
    const first = failures.length === 0 ? await probe(server, httpPort, ca, { domain: DOMAIN, ...PROBE }, retried, deviceFetch) : undefined;
    if (first !== undefined) failures.push(`before fuzzing: ${first}`);
    memory.start = await measure(pids, hook);
    o.log(`fuzz: ${pids.length} server process(es), RSS ${memory.start.rss.toFixed(1)} MiB (heap ${memory.start.heap.toFixed(1)}) at start; seed ${o.seed}, ${o.messages} messages at <= ${o.rate}/s`);
    logAtStart = watch.snapshot();
    fuzzStart = Date.now();
    const deadline = o.seconds === undefined ? Infinity : fuzzStart + o.seconds * 1000;
    const perTick = Math.max(1, Math.round((o.rate * TICK_MS) / 1000));
    while (failures.length === 0 && sent < o.messages && Date.now() < deadline) {
      const batchEnd = Math.min(o.messages, sent + o.batch);
      const batchStart = Date.now();
      let tickStart = Date.now();
      while (sent < batchEnd && Date.now() < deadline) {
        for (let k = 0; k < perTick && sent < batchEnd; k++) {
          const i = pickChannel(rng, totalWeight);
          const plan = PLAN[i]!;
          const ch = channels[i]!;
          const target: HostileTarget = {
            transport: plan.transport === 'udp' ? 'UDP' : plan.transport === 'tcp' ? 'TCP' : 'TLS',
            localHost: ch.localHost, localPort: ch.localPort, serverHost: server.host, serverPort: ch.serverPort,
            domain: DOMAIN, authUsers: AUTH_USERS, victims: VICTIMS.map((v) => v.ext), role: plan.role, challenge: ch.challenge,
          };
          const r = rng();
          // The attacker sends mutated corpus messages, hostile ones and mutated hostile ones; the "user" only hostile ones.
          const data = plan.to === 'provisioning' ? httpGen.next(ch.challenge, corpus)
            : plan.role === 'user' || r < 0.4 ? gen.next(target)
            : r < 0.9 ? mutate(corpus[Math.floor(rng() * corpus.length)]!, rng, corpus) : mutate(gen.next(target), rng, corpus);
          if (!ch.open) await ch.connect();
          const stallEnd = Date.now() + MAX_STALL_MS;
          while (ch.backlog > MAX_BACKLOG && Date.now() < stallEnd) await sleep(1);
          if (ch.backlog > MAX_BACKLOG) {
            ch.stalls++;
            ch.close();
            await ch.connect();
          }
          ch.send(data);
          lastInputs.push({ index: sent, channel: ch.name, data });
          if (lastInputs.length > KEEP_INPUTS) lastInputs.shift();
          sent++;
        }
        const wait = tickStart + TICK_MS - Date.now();
        if (wait > 0) await sleep(wait);
        tickStart = Math.max(tickStart + TICK_MS, Date.now() - 100);
      }
      fuzzMs += Date.now() - batchStart;
      // Let the server drain its queues, then look.
      await sleep(500);
      check();
      if (failures.length > 0) break;
      const p = await probe(server, httpPort, ca, { domain: DOMAIN, ...PROBE }, retried, deviceFetch);
      probes++;
      if (p !== undefined) failures.push(`after ${sent} messages: ${p}`);
      const refreshed = failures.length === 0 ? await refreshChallenges(sipChannels) : undefined;
      if (refreshed !== undefined) failures.push(`after ${sent} messages: ${refreshed}`);
      const now = await measure(pids, hook);
      if (memory.afterWarmup.rss === 0 && sent >= o.messages * WARMUP.share && fuzzMs >= WARMUP.ms) memory.afterWarmup = now;
      if (memory.afterWarmup.rss > 0) memory.max = { rss: Math.max(memory.max.rss, now.rss), heap: Math.max(memory.max.heap, now.heap), external: Math.max(memory.max.external, now.external) };
      memory.end = now;
      const c = countsSince(watch.counts, logAtStart);
      o.log(`fuzz: ${sent} sent (${Math.round(sent / (fuzzMs / 1000))}/s), RSS ${now.rss.toFixed(1)} MiB (heap ${now.heap.toFixed(1)}, external ${now.external.toFixed(1)}), log +${c.lines} lines (${c.warnings} warn), TCP/TLS closed by server ${channels.reduce((s, ch) => s + ch.closedByServer, 0)}`);
    }
    check();
    overload = await overloadCounts(httpPort, ca);
  } catch (err) {
    failures.push(`fuzzer error: ${(err as Error).stack ?? String(err)}`);
  } finally {
    for (const ch of channels) ch.close();
  }
  const log = countsSince(watch.counts, logAtStart);
  const minutes = Math.max(1, (Date.now() - fuzzStart) / 60_000);
  const logLinesPerMinute = log.lines / minutes;
  if (failures.length === 0) failures.push(...endFailures(o, memory, log.lines, minutes));
  const logTail = watch.tailText();
  await server.stop();
  const perChannel: NetworkReport['perChannel'] = {};
  for (const ch of channels) perChannel[ch.name] = { sent: ch.sent, received: ch.received, closedByServer: ch.closedByServer, stalls: ch.stalls };
  return { sent, seconds: fuzzMs / 1000, perChannel, memory, log, logLinesPerMinute, probes, probeRetries: retried, overload, failures, lastInputs, logTail };
}

// Memory of a Switchboard process holding N established calls (bench/calls.ts):
// SIPp callers with a long hold, one process per callee (SIPp's digest uri=
// is fixed per run, and a user may hold at most 100 calls), SIPp phones that
// answer for many callees each. The server counts its own connected calls
// (what `switchboard status` shows, asked over the same control socket
// without starting a CLI process every poll) before the figure is taken, so
// the figure is for calls the server really holds, not calls SIPp placed.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { queryStatus } from '../../src/cli/status.ts';
import { importUsers, makeTempDir, removeDir } from '../../test/interop/harness.ts';
import type { SipServer } from '../../test/interop/lib/sipp-calls.ts';
import { registerPhone, runUac } from '../../test/interop/lib/sipp-calls.ts';
import type { SippRun } from '../../test/interop/sipp.ts';
import { describeSipp } from '../../test/interop/sipp.ts';
import type { TestUser } from '../../test/interop/users.ts';
import { makeUsers } from '../../test/interop/users.ts';
import type { Phone } from './call-load.ts';
import { startPhone, stopPhones } from './call-load.ts';
import type { ServerProc } from './switchboard-proc.ts';
import { GcHookReader, gcHookArgs, mib, procMemory, startServerProc } from './switchboard-proc.ts';

export interface CallMemoryOptions {
  domain: string;
  calls: number;
  /** Calls per callee (at most the server's per-user limit, 100). */
  perCallee: number;
  /** Calls started per second by each caller process. */
  ratePerCaller: number;
  /** SIPp phones (UAS processes) the callees are spread over. */
  phones: number;
  holdSec: number;
  workDir: string;
  log: (line: string) => void;
}

/** Connected calls the server reports; the reason when it did not answer. */
async function connectedCalls(dataDir: string): Promise<number | string> {
  try {
    const s = await queryStatus(dataDir, 20_000);
    return s.calls.filter((c) => c.state === 'connected').length;
  } catch (err) {
    return (err as Error).message;
  }
}

interface Reading {
  rss: number;
  /** Live heap after full GC. */
  heap: number;
}

async function memoryLine(label: string, server: ServerProc, hook: GcHookReader, log: (l: string) => void): Promise<Reading | null> {
  const before = procMemory(server.pid);
  const m = await hook.request(server.pid);
  const after = procMemory(server.pid);
  const rss = before === null ? 'n/a' : mib(before.rss);
  if (m === null || after === null || before === null) {
    log(`calls memory, ${label}: RSS ${rss}; no GC reading`);
    return null;
  }
  log(`calls memory, ${label}: RSS ${rss}, after full GC: RSS ${mib(after.rss)}, live heap ${mib(m.heapUsed)} (heap total ${mib(m.heapTotal)}, external ${mib(m.external)})`);
  return { rss: before.rss, heap: m.heapUsed };
}

function split(users: readonly TestUser[], parts: number): TestUser[][] {
  const out: TestUser[][] = Array.from({ length: parts }, () => []);
  users.forEach((u, i) => out[i % parts]?.push(u));
  return out;
}

/** Returns false when the plumbing broke (server, phones, fewer calls than asked). */
export async function measureCallMemory(o: CallMemoryOptions): Promise<boolean> {
  const nCallees = Math.ceil(o.calls / o.perCallee);
  // Every call must be up before the first one's hold ends (with 10 s to read the figures).
  const rate = Math.max(o.ratePerCaller, Math.ceil(o.perCallee / Math.max(1, o.holdSec - 15)));
  const users = makeUsers(nCallees + o.calls, 200000);
  const callees = users.slice(0, nCallees);
  const callers = users.slice(nCallees);
  const dataDir = makeTempDir('bench-calls-memory');
  const configFile = join(dataDir, 'bench-config.json');
  // Room for perCallee calls on each callee (call waiting is on by default).
  writeFileSync(configFile, JSON.stringify({ calls: { maxCallsPerUser: 100 } }));
  const hook = new GcHookReader();
  let server: ServerProc | null = null;
  let phones: Phone[] = [];
  try {
    await importUsers(dataDir, users);
    server = await startServerProc({ dataDir, domain: o.domain, nodeArgs: gcHookArgs(), configFile, onOutput: (c) => hook.feed(c) });
    const srv = server;
    const sip: SipServer = { name: 'switchboard', host: srv.host, udpPort: srv.udpPort, domain: o.domain, output: () => srv.output() };
    const lifetime = o.holdSec + Math.ceil(o.perCallee / rate) + 120;
    const groups = split(callees, Math.min(o.phones, nCallees));
    for (const g of groups) {
      const port = await registerPhone({ server: sip, users: g, workDir: o.workDir });
      phones.push(await startPhone(port, lifetime, o.workDir, (o.holdSec + 30) * 1000));
    }
    const idle = await memoryLine(`${users.length} users, ${nCallees} callees registered, no calls`, srv, hook, o.log);
    const perCallee = split(callers, nCallees);
    const started = Date.now();
    const runs: Array<Promise<SippRun>> = callees.map((c, i) =>
      runUac({
        server: sip,
        scenario: 'call_uac.xml',
        callee: c.ext,
        callers: perCallee[i] ?? [],
        calls: perCallee[i]?.length ?? 0,
        rate,
        holdMs: o.holdSec * 1000,
        recvTimeoutMs: 20_000,
        workDir: o.workDir,
        timeoutMs: (lifetime + 30) * 1000,
        extraArgs: ['-timeout', `${lifetime}s`],
      }),
    );
    // Established = the server says connected; bounded by the hold (calls start ending then).
    let connected: number | null = null;
    const deadline = started + (o.holdSec - 5) * 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5000));
      const got = await connectedCalls(dataDir);
      if (typeof got === 'string') {
        o.log(`calls memory: status did not answer: ${got}`);
        continue;
      }
      connected = got;
      if (connected >= o.calls) break;
    }
    const upSec = ((Date.now() - started) / 1000).toFixed(0);
    o.log(`calls memory: ${connected ?? 'unknown'} calls connected on the server after ${upSec} s (wanted ${o.calls})`);
    const busy = await memoryLine(`${connected ?? '?'} established calls`, srv, hook, o.log);
    if (idle !== null && busy !== null && connected !== null && connected > 0) {
      const kb = (b: number): string => `${(b / 1024 / connected).toFixed(1)} KB`;
      o.log(`calls memory per established call: live heap ${kb(busy.heap - idle.heap)}, RSS ${kb(busy.rss - idle.rss)}`);
    }
    const results = await Promise.all(runs);
    const ok = results.reduce((n, r) => n + (r.stats?.successful ?? 0), 0);
    const failed = results.find((r) => r.code !== 0);
    o.log(`calls memory: ${ok}/${o.calls} calls completed (BYE answered) by ${nCallees} SIPp callers`);
    if (failed !== undefined) o.log(`calls memory: a caller failed (exit ${failed.code}): ${failed.stderr.trim().split('\n').filter((l) => !/^\d+m[\d.]+s /.test(l)).slice(-3).join(' | ')}\n${describeSipp(failed).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 5000));
    await memoryLine('5 s after every call ended', srv, hook, o.log);
    return connected === o.calls && ok === o.calls;
  } finally {
    const problem = await stopPhones(phones);
    phones = [];
    if (problem !== null) o.log(`calls memory: ${problem}`);
    if (server !== null) {
      const code = await server.stop();
      if (code !== 0) o.log(`switchboard exit code after SIGTERM: ${code}`);
    }
    removeDir(dataDir);
  }
}

// A Switchboard server as a child process in a data dir the caller owns (the
// interop harness deletes its dir on stop, but the memory bench must read the
// database after the server has shut down), plus /proc memory readings.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LOOPBACK, REPO_ROOT, SWITCHBOARD_BIN, appendCapped, freePort, stopChild } from '../../test/interop/harness.ts';

export interface ServerProc {
  pid: number;
  host: string;
  udpPort: number;
  output(): string;
  /** SIGTERM (SIGKILL after graceMs); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface ServerProcOptions {
  dataDir: string;
  domain: string;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  logLevel?: string;
  /** Sees everything the server writes to stdout and stderr, as it comes. */
  onOutput?: (chunk: string) => void;
}

/** UDP only on a free loopback port; resolves once the ready line is printed. */
export async function startServerProc(o: ServerProcOptions): Promise<ServerProc> {
  const udpPort = await freePort();
  const args = [
    ...(o.nodeArgs ?? []),
    SWITCHBOARD_BIN, 'start',
    '--data-dir', o.dataDir,
    '--domain', o.domain,
    '--sip-udp', `${LOOPBACK}:${udpPort}`,
    '--sip-tcp', `${LOOPBACK}:0`,
    '--sip-tls', `${LOOPBACK}:0`,
    '--log-level', o.logLevel ?? 'warn',
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const take = (c: string): void => {
    out = appendCapped(out, c);
    o.onOutput?.(c);
  };
  child.stdout.setEncoding('utf8').on('data', take);
  child.stderr.setEncoding('utf8').on('data', take);
  const output = (): string => out.slice(-8000);
  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    const poll = setInterval(() => {
      if (out.includes('Switchboard ready')) {
        clearTimeout(timer);
        clearInterval(poll);
        res();
      }
    }, 50);
    function fail(why: string): void {
      clearTimeout(timer);
      clearInterval(poll);
      void stopChild(child, 2000).then(() => rej(new Error(`switchboard did not start: ${why}\n${output()}`)));
    }
    child.once('exit', (code, sig) => fail(`exited early (code ${code}, signal ${sig})`));
  });
  return {
    pid: child.pid ?? -1,
    host: LOOPBACK,
    udpPort,
    output,
    async stop(graceMs = 30_000) {
      await stopChild(child, graceMs);
      return child.exitCode;
    },
  };
}

export interface ProcMemory {
  /** Resident set, bytes. */
  rss: number;
  /** Peak resident set, bytes. */
  hwm: number;
}

/** VmRSS and VmHWM from /proc/<pid>/status; null when the process is gone. */
export function procMemory(pid: number): ProcMemory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${key}:`));
    return Number(line?.slice(key.length + 1).trim().split(/\s+/)[0] ?? NaN) * 1024;
  };
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : null;
}

export interface GcEvent {
  kind: string;
  /** Heap used after the collection, MB as V8 prints it. */
  afterMb: number;
  /** Heap committed after the collection, MB. */
  committedMb: number;
}

/**
 * Follows `node --trace-gc` output, e.g. "Mark-Compact 850.2 (900.1) ->
 * 600.3 (700.4) MB, ...", and keeps the last full (mark-compact) collection:
 * the heap still reachable then is the live data, garbage excluded.
 */
export class GcTrace {
  lastFull: GcEvent | null = null;
  fullCount = 0;
  private partial = '';

  feed(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const at = line.indexOf('Mark-Compact');
      if (at < 0) continue;
      const m = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line.slice(at));
      if (m === null) continue;
      this.fullCount++;
      this.lastFull = { kind: line.includes('(reduce)') ? 'Mark-Compact (reduce)' : 'Mark-Compact', afterMb: Number(m[1]), committedMb: Number(m[2]) };
    }
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

// A Switchboard server as a child process in a data dir the caller owns (the
// interop harness deletes its dir on stop, but the memory bench must read the
// database after the server has shut down), plus /proc memory readings.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
  /** Added to this process's environment for the server. */
  env?: Record<string, string>;
  /** A JSON config file (`start --config`), e.g. for timer experiments. */
  configFile?: string;
  /** Sees everything the server writes to stdout and stderr, as it comes. */
  onOutput?: (chunk: string) => void;
  /** `--workers N` (default 1: one process). */
  workers?: number;
  /** Management listener host:port (default off); plain HTTP needs http.allowHttp in the config file. */
  http?: string;
  /** TCP and TLS listeners host:port (default off). */
  tcp?: string;
  tls?: string;
  /** Soft and hard open-file limit for the server (run under `prlimit`); default: this process's. */
  fileLimit?: number;
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
    '--sip-tcp', o.tcp ?? `${LOOPBACK}:0`,
    '--sip-tls', o.tls ?? `${LOOPBACK}:0`,
    // No management HTTPS (default 0.0.0.0:7071): loopback only, no port clashes.
    '--http', o.http ?? `${LOOPBACK}:0`,
    '--provisioning', `${LOOPBACK}:0`,
    '--log-level', o.logLevel ?? 'warn',
    ...(o.configFile === undefined ? [] : ['--config', o.configFile]),
    '--workers', String(o.workers ?? 1),
  ];
  const [cmd, argv] = o.fileLimit === undefined
    ? [process.execPath, args]
    : ['prlimit', [`--nofile=${o.fileLimit}:${o.fileLimit}`, process.execPath, ...args]];
  const child = spawn(cmd, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
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
  /**
   * Proportional set size, bytes (/proc/<pid>/smaps_rollup), or null where
   * the kernel does not give it: pages shared by several processes (the node
   * binary, mapped by each worker) count once over all of them, where RSS
   * counts them in each.
   */
  pss: number | null;
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
  let pss: number | null = null;
  try {
    const line = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n').find((l) => l.startsWith('Pss:'));
    const v = Number(line?.slice(4).trim().split(/\s+/)[0] ?? NaN) * 1024;
    if (Number.isFinite(v)) pss = v;
  } catch {
    // Older kernels have no smaps_rollup; PSS stays unknown.
  }
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm, pss } : null;
}

/** What bench/lib/gc-hook.mjs prints: process.memoryUsage() after full GCs. */
export interface HookMemory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
  /** Heap snapshot file, when BENCH_HEAP_SNAPSHOT_DIR was set. */
  snapshot: string | null;
}

/** node arguments that preload gc-hook.mjs (SIGUSR2 -> GC + memory line). */
export function gcHookArgs(): string[] {
  return ['--expose-gc', '--import', pathToFileURL(join(REPO_ROOT, 'bench', 'lib', 'gc-hook.mjs')).href];
}

/** Collects the hook's lines from a server's output, as they come. */
export class GcHookReader {
  private partial = '';
  private waiters: Array<(m: HookMemory) => void> = [];

  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const at = line.indexOf('bench-memory: ');
      if (at < 0) continue;
      try {
        const m = JSON.parse(line.slice(at + 14)) as HookMemory;
        for (const w of this.waiters.splice(0)) w(m);
      } catch {
        // A torn line: the next request gets a fresh one.
      }
    }
  }

  /** SIGUSR2 to pid, then the hook's answer; null after timeoutMs. */
  request(pid: number, timeoutMs = 30_000): Promise<HookMemory | null> {
    return new Promise((res) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        res(null);
      }, timeoutMs);
      const done = (m: HookMemory): void => {
        clearTimeout(timer);
        res(m);
      };
      this.waiters.push(done);
      try {
        process.kill(pid, 'SIGUSR2');
      } catch {
        clearTimeout(timer);
        res(null);
      }
    });
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

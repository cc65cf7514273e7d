// Process plumbing for the interop ring and the benchmarks: third-party
// tools found or reported missing, free loopback ports, temp dirs, and child
// processes with hard time limits. harness.ts re-exports all of it.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LOOPBACK = '127.0.0.1';

/** Debian package that ships each tool, for the failure message. */
const TOOL_PACKAGES: Record<string, string> = {
  sipp: 'sip-tester',
  baresip: 'baresip',
  sipsak: 'sipsak',
  kamailio: 'kamailio',
  linphonec: 'linphone-cli',
  svwar: 'sipvicious',
  svcrack: 'sipvicious',
  tshark: 'tshark',
  rtpengine: 'rtpengine',
  openssl: 'openssl',
  dnsmasq: 'dnsmasq-base',
};

/**
 * Absolute path of a third-party tool, or a thrown Error. Interop tests call
 * it from their fixture (harness.ts), whose error every test rethrows, so a
 * missing tool FAILS each test with the reason (never a skip: a skipped
 * interop ring looks green and proves nothing).
 */
export function requireTool(name: string): string {
  if (!/^[\w.+-]+$/.test(name)) throw new Error(`requireTool: not a program name: ${JSON.stringify(name)}`);
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    const pkg = TOOL_PACKAGES[name] ?? name;
    throw new Error(
      `interop tool missing: '${name}' is not on PATH. Install it with ` +
        `'apt-get install -y ${pkg}' (bash .ci/run installs every interop tool).`,
    );
  }
  return path;
}

const handedOut = new Set<number>();

function tcpFree(port: number): Promise<number | null> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(null));
    srv.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr !== null ? addr.port : null;
      srv.close(() => res(got));
    });
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createSocket('udp4');
    sock.once('error', () => {
      sock.close();
      res(false);
    });
    sock.bind({ address: LOOPBACK, port, exclusive: true }, () => sock.close(() => res(true)));
  });
}

/**
 * A loopback port free for both UDP and TCP (SIP uses the same number for
 * both), not handed out before by this process. Racy by nature, like every
 * free-port finder; bounded to 50 attempts. With a range, picks at random
 * in it (sipsak 0.9.8 mangles 5-digit ports in its Request-URI, so its tests
 * need a server on a 4-digit port). With span > 1 the next span-1 ports are
 * free for TCP too (a program that binds port+1 for TLS).
 */
export async function freePort(range?: { min: number; max: number }, span = 1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const want = range === undefined ? 0 : range.min + Math.floor(Math.random() * (range.max - range.min + 1));
    const port = await tcpFree(want);
    if (port === null || handedOut.has(port)) continue;
    if (!(await udpFree(port))) continue;
    let rest = true;
    for (let k = 1; k < span && rest; k++) rest = !handedOut.has(port + k) && (await tcpFree(port + k)) === port + k;
    if (!rest) continue;
    for (let k = 0; k < span; k++) handedOut.add(port + k);
    return port;
  }
  throw new Error('freePort: no port free for both UDP and TCP after 50 attempts');
}

/** Whether a process with this id exists (signal 0 tests without sending). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sb-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolve early (and SIGTERM the tool) once stdout+stderr match this. */
  until?: (output: string) => boolean;
  /** Called with the pid as soon as the child exists (CPU sampling). */
  onSpawn?: (pid: number) => void;
}

/** Keeps the tail of a long output: a tool that floods must not eat memory. */
const OUTPUT_CAP = 4 * 1024 * 1024;

export function appendCapped(buf: string, chunk: string): string {
  const next = buf + chunk;
  return next.length > OUTPUT_CAP ? next.slice(next.length - OUTPUT_CAP) : next;
}

function signal(child: ChildProcess, sig: NodeJS.Signals, group: boolean): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a child: SIGTERM, then SIGKILL after graceMs. Resolves on exit.
 * group: signal the child's whole process group (it was spawned detached),
 * so a tool run under a shell does not outlive the shell.
 */
export function stopChild(child: ChildProcess, graceMs = 5000, group = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const killer = setTimeout(() => signal(child, 'SIGKILL', group), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      res();
    });
    signal(child, 'SIGTERM', group);
  });
}

/**
 * Runs a tool with stdin closed and a hard time limit; never rejects for the
 * tool's own failure (the caller asserts on code/output), only if it cannot
 * be spawned at all.
 */
export function runTool(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const command = [cmd, ...args].join(' ');
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a time-out also stops what the tool started.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let matched = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stopChild(child, 2000, true);
    }, opts.timeoutMs);
    const check = (): void => {
      if (opts.until === undefined || matched) return;
      if (opts.until(stdout + stderr)) {
        matched = true;
        void stopChild(child, 2000, true);
      }
    };
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout = appendCapped(stdout, c);
      check();
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr = appendCapped(stderr, c);
      check();
    });
    child.once('spawn', () => {
      if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // A tool stopped by us after its success line is a success.
      const finalCode = matched && !timedOut ? 0 : code;
      res({ command, code: finalCode, signal, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
  });
}

/** One-paragraph summary of a run for assertion messages. */
export function describeRun(r: RunResult, tailChars = 3000): string {
  const tail = (s: string): string => (s.length > tailChars ? `…${s.slice(-tailChars)}` : s);
  return (
    `$ ${r.command}\nexit=${r.code} signal=${r.signal} timedOut=${r.timedOut} ` +
    `(${r.durationMs} ms)\n--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`
  );
}

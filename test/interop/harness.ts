// Shared plumbing for the interop ring and the benchmarks: free ports, temp
// dirs, child processes with hard time limits, and a Switchboard server run
// exactly as an operator would run it (its CLI, as a separate process), so
// the third-party tools talk to the real thing and not to an in-process fake.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestUser } from './users.ts';
import { switchboardUsersCsv } from './users.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SWITCHBOARD_BIN = join(REPO_ROOT, 'bin', 'switchboard.mjs');
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
};

/**
 * Absolute path of a third-party tool, or a thrown Error. Interop tests call
 * this inside the test body so a missing tool FAILS the test with the reason
 * (never a skip: a skipped interop ring looks green and proves nothing).
 */
export function requireTool(name: string): string {
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
 * need a server on a 4-digit port).
 */
export async function freePort(range?: { min: number; max: number }): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const want = range === undefined ? 0 : range.min + Math.floor(Math.random() * (range.max - range.min + 1));
    const port = await tcpFree(want);
    if (port === null || handedOut.has(port)) continue;
    if (!(await udpFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('freePort: no port free for both UDP and TCP after 50 attempts');
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

function append(buf: string, chunk: string): string {
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
      stdout = append(stdout, c);
      check();
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr = append(stderr, c);
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

/** Runs the switchboard CLI (not `start`) and throws with its output on failure. */
export async function switchboardCli(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  const r = await runTool(process.execPath, [SWITCHBOARD_BIN, ...args], { timeoutMs, cwd: REPO_ROOT });
  if (r.code !== 0) throw new Error(`switchboard CLI failed\n${describeRun(r)}`);
  return r;
}

export interface StartOptions {
  domain?: string;
  /** false disables the transport (port 0); default: UDP and TCP on, TLS on. */
  udp?: boolean;
  tcp?: boolean;
  tls?: boolean;
  /** Port for UDP and TCP; default a free one. */
  sipPort?: number;
  /** Imported through `user import` before the server starts. */
  users?: readonly TestUser[];
  readyTimeoutMs?: number;
  /** Extra arguments to `node` (e.g. --cpu-prof) */
  nodeArgs?: string[];
}

export interface SwitchboardHandle {
  readonly pid: number;
  readonly dataDir: string;
  readonly domain: string;
  readonly host: string;
  /** 0 when that transport is disabled. */
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly tlsPort: number;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves with the exit code (null if killed). */
  stop(): Promise<number | null>;
  addUser(user: TestUser): Promise<void>;
  importUsers(users: readonly TestUser[]): Promise<void>;
  listUsers(): Promise<string>;
  /** Writes the TLS root CA (PEM unless der) and returns the file path. */
  exportCa(der?: boolean): Promise<string>;
}

export async function importUsers(dataDir: string, users: readonly TestUser[]): Promise<void> {
  const file = join(dataDir, `import-${Date.now()}-${users.length}.csv`);
  writeFileSync(file, switchboardUsersCsv(users));
  await switchboardCli(['user', 'import', file, '--data-dir', dataDir], 120_000);
}

/**
 * Starts `switchboard start` in a fresh temp data dir on free loopback ports
 * and resolves once it printed its ready line. Rejects after readyTimeoutMs
 * (default 30 s) or on early exit, with the server's stdout and stderr.
 */
export async function startSwitchboard(opts: StartOptions = {}): Promise<SwitchboardHandle> {
  const domain = opts.domain ?? 'lab.test';
  const dataDir = makeTempDir('data');
  if (opts.users !== undefined && opts.users.length > 0) await importUsers(dataDir, opts.users);
  // UDP and TCP share a number, as on port 5060.
  const sipPort = opts.udp === false && opts.tcp === false ? 0 : (opts.sipPort ?? (await freePort()));
  const udpPort = opts.udp === false ? 0 : sipPort;
  const tcpPort = opts.tcp === false ? 0 : sipPort;
  const tlsPort = opts.tls === false ? 0 : await freePort();
  const args = [
    ...(opts.nodeArgs ?? []),
    SWITCHBOARD_BIN,
    'start',
    '--data-dir', dataDir,
    '--domain', domain,
    '--sip-udp', `${LOOPBACK}:${udpPort}`,
    '--sip-tcp', `${LOOPBACK}:${tcpPort}`,
    '--sip-tls', `${LOOPBACK}:${tlsPort}`,
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out = append(out, c)));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err = append(err, c)));
  const output = (): string => `--- server stdout ---\n${out.slice(-8000)}\n--- server stderr ---\n${err.slice(-8000)}`;
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;

  await new Promise<void>((res, rej) => {
    const fail = (why: string): void => {
      cleanup();
      void stopChild(child, 2000).then(() => rej(new Error(`Switchboard did not start: ${why}\n$ node ${args.join(' ')}\n${output()}`)));
    };
    const onData = (): void => {
      if (/^Switchboard ready/m.test(out)) {
        cleanup();
        res();
      }
    };
    const onExit = (code: number | null, signal: string | null): void => fail(`exited early (code ${code}, signal ${signal})`);
    const onError = (e: Error): void => fail(e.message);
    const timer = setTimeout(() => fail(`no 'Switchboard ready' line within ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  const handle: SwitchboardHandle = {
    pid: child.pid ?? -1,
    dataDir,
    domain,
    host: LOOPBACK,
    udpPort,
    tcpPort,
    tlsPort,
    output,
    async stop() {
      await stopChild(child, 5000);
      removeDir(dataDir);
      return child.exitCode;
    },
    async addUser(u) {
      const args = ['user', 'add', '--ext', u.ext, '--password', u.password, '--data-dir', dataDir];
      if (u.name !== undefined) args.push('--name', u.name);
      if (u.authUser !== undefined) args.push('--auth-user', u.authUser);
      await switchboardCli(args);
    },
    importUsers: (users) => importUsers(dataDir, users),
    async listUsers() {
      return (await switchboardCli(['user', 'list', '--data-dir', dataDir])).stdout;
    },
    async exportCa(der = false) {
      const file = join(dataDir, der ? 'ca.der' : 'ca.pem');
      await switchboardCli(['cert', 'export-ca', ...(der ? ['--der'] : []), '--out', file, '--data-dir', dataDir]);
      return file;
    },
  };
  return handle;
}

export interface Fixture<T> {
  /** For beforeAll: starts the resource, keeping (not throwing) any error. */
  setup(): Promise<void>;
  /** For each test: the resource, or throws the setup error so that every
   * test FAILS with it (a throwing beforeAll makes vitest report the tests
   * as skipped, and a skipped interop ring looks green). */
  get(): T;
  /** For afterAll. */
  teardown(): Promise<void>;
}

export function fixture<T>(start: () => Promise<T>, stop: (t: T) => Promise<void>): Fixture<T> {
  let value: { ok: true; v: T } | { ok: false; err: unknown } | undefined;
  return {
    async setup() {
      try {
        value = { ok: true, v: await start() };
      } catch (err) {
        value = { ok: false, err };
      }
    },
    get() {
      if (value === undefined) throw new Error('fixture used before its setup ran');
      if (!value.ok) throw value.err;
      return value.v;
    },
    async teardown() {
      const v = value;
      value = undefined;
      if (v?.ok === true) await stop(v.v);
    },
  };
}

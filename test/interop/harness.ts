// The interop harness: a Switchboard server run exactly as an operator would
// run it (its CLI, as a separate process) on free loopback ports in a temp
// data dir, so the third-party tools talk to the real thing and not to an
// in-process fake; plus the per-file fixture that turns a failed start into
// failed tests. Generic process plumbing lives in process.ts.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from './process.ts';
import { LOOPBACK, appendCapped, describeRun, freePort, makeTempDir, removeDir, runTool, stopChild } from './process.ts';
import type { TestUser } from './users.ts';
import { switchboardUsersCsv } from './users.ts';
import { withTestOverload } from '../lib/overload-config.ts';

export * from './process.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SWITCHBOARD_BIN = join(REPO_ROOT, 'bin', 'switchboard.mjs');

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
  /** Runs after the user import, before the server starts (e.g. trunk and
   * user settings through the CLI), with the data dir. */
  beforeStart?: (dataDir: string) => Promise<void>;
  /** Management HTTPS listener (`--http`); default off, so no server here
   * listens beyond loopback or fights another over the default port 7071. */
  http?: string;
  /** Written to a JSON file in the data dir and passed as `--config` (flags still win). */
  config?: Record<string, unknown>;
  /** The provisioning HTTPS listener, HOST:PORT; default off. */
  provisioning?: string;
  /** `--workers N`: worker processes sharing the SIP ports (default: the CLI's default). */
  workers?: number;
  /** Loopback address the SIP listeners bind (default 127.0.0.1): several nodes on one port number. */
  host?: string;
  /** Port for TLS; default a free one. */
  tlsPort?: number;
  /** Use this data directory (e.g. on a small tmpfs) instead of a fresh temp one; it is left in place by stop(). */
  dataDir?: string;
  /** Sees everything the server writes to stdout and stderr, as it comes (log counting). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Runs the server inside this network namespace (`ip netns exec`, which execs: the pid is the server's). */
  netns?: string;
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
  /** SIGKILL now, as a crash or power loss would; the data dir stays until stop(). */
  kill(): Promise<void>;
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
  const owned = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? makeTempDir('data');
  try {
    return await launch(dataDir, domain, opts, owned);
  } catch (err) {
    if (owned) removeDir(dataDir);
    throw err;
  }
}

async function launch(dataDir: string, domain: string, opts: StartOptions, ownsDataDir: boolean): Promise<SwitchboardHandle> {
  if (opts.users !== undefined && opts.users.length > 0) await importUsers(dataDir, opts.users);
  if (opts.beforeStart !== undefined) await opts.beforeStart(dataDir);
  // UDP and TCP share a number, as on port 5060.
  const sipPort = opts.udp === false && opts.tcp === false ? 0 : (opts.sipPort ?? (await freePort()));
  const udpPort = opts.udp === false ? 0 : sipPort;
  const tcpPort = opts.tcp === false ? 0 : sipPort;
  const tlsPort = opts.tls === false ? 0 : (opts.tlsPort ?? (await freePort()));
  const host = opts.host ?? LOOPBACK;
  const args = [
    ...(opts.nodeArgs ?? []),
    SWITCHBOARD_BIN,
    'start',
    '--data-dir', dataDir,
    '--domain', domain,
    '--sip-udp', `${host}:${udpPort}`,
    '--sip-tcp', `${host}:${tcpPort}`,
    '--sip-tls', `${host}:${tlsPort}`,
    '--http', opts.http ?? `${LOOPBACK}:0`,
    '--provisioning', opts.provisioning ?? `${LOOPBACK}:0`,
  ];
  if (opts.workers !== undefined) args.push('--workers', String(opts.workers));
  {
    // No OPTIONS keepalive unless a test asks for it: a SIPp phone (uas_*.xml) takes an OPTIONS for a
    // call of its own and fails it ("unexpected message"), then never answers the INVITE it waits for.
    // Voicemail coverage and music on hold are off unless a test is about them (they change what callers get);
    // the overload limit is one for a shared CPU unless a test sets it (test/lib/overload-config.ts).
    const config = {
      ...opts.config,
      registrar: { keepaliveSec: 0, ...(opts.config?.registrar as object | undefined) },
      voicemail: { enabled: false, ...(opts.config?.voicemail as object | undefined) },
      calls: { musicOnHold: false, ...(opts.config?.calls as object | undefined) },
      sip: withTestOverload(opts.config?.sip as object | undefined),
    };
    const file = join(dataDir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const [cmd, cmdArgs] = opts.netns === undefined ? [process.execPath, args] : ['ip', ['netns', 'exec', opts.netns, process.execPath, ...args]];
  const child = spawn(cmd, cmdArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out = appendCapped(out, c);
    opts.onOutput?.(c, 'stdout');
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err = appendCapped(err, c);
    opts.onOutput?.(c, 'stderr');
  });
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
    host,
    udpPort,
    tcpPort,
    tlsPort,
    output,
    async stop() {
      await stopChild(child, 5000);
      if (ownsDataDir) removeDir(dataDir);
      return child.exitCode;
    },
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((res) => {
        child.once('exit', () => res());
        child.kill('SIGKILL');
      });
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

// Starts and stops a real rtpengine for tests and the benchmarks: userspace
// only (--table=-1, no kernel module), on loopback, in the foreground, with
// its media ports in a private block so it does not fight the built-in
// relay's default range (20000-29999) or another rtpengine.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { LOOPBACK, appendCapped, freePort, requireTool, stopChild } from '../interop/process.ts';

export interface RtpengineStartOptions {
  /** Media port block; default a random 200-port block in 40000-49999. */
  portMin?: number;
  portMax?: number;
  /** ng control port; default a free one. */
  ngPort?: number;
  /** Seconds a deleted call stays queryable; default 0, so delete is visible at once. */
  deleteDelay?: number;
  /** rtpengine -L (0-7); default 5 (notice). */
  logLevel?: number;
  /** Worker threads; default rtpengine's own (one per CPU). */
  threads?: number;
  extraArgs?: readonly string[];
  readyTimeoutMs?: number;
  /**
   * Command run in front of rtpengine that execs it (e.g. the bench's nice/taskset
   * pinning), so the child's pid is still rtpengine's own.
   */
  prefix?: readonly string[];
}

export interface RtpengineProcess {
  readonly pid: number;
  readonly host: string;
  readonly ngPort: number;
  readonly portMin: number;
  readonly portMax: number;
  /** What rtpengine printed so far (for failure messages). */
  output(): string;
  /** SIGTERM, SIGKILL after 3 s; resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** One ng ping with its own socket; true when pong came back within timeoutMs. */
export function pingRtpengine(host: string, port: number, timeoutMs = 200): Promise<boolean> {
  return new Promise((res) => {
    const sock = createSocket('udp4');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      res(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (m) => done(m.toString('latin1') === 'probe d6:result4:ponge'));
    sock.send(Buffer.from('probe d7:command4:pinge', 'latin1'), port, host);
  });
}

/**
 * Starts rtpengine and resolves once it answers ping. Throws (so the calling
 * test FAILS, never skips) when rtpengine is not installed, exits early, or
 * is not ready in time, with its output in the message.
 */
export async function startRtpengine(opts: RtpengineStartOptions = {}): Promise<RtpengineProcess> {
  const bin = requireTool('rtpengine');
  const ngPort = opts.ngPort ?? (await freePort());
  const portMin = opts.portMin ?? 40000 + 200 * Math.floor(Math.random() * 50);
  const portMax = opts.portMax ?? portMin + 199;
  const args = [
    // Ignore /etc/rtpengine/rtpengine.conf: the packaged one names interfaces and a kernel table.
    '--config-file=none',
    `--interface=${LOOPBACK}`,
    `--listen-ng=${LOOPBACK}:${ngPort}`,
    '--table=-1',
    '--foreground',
    '--log-stderr',
    `--log-level=${opts.logLevel ?? 5}`,
    `--port-min=${portMin}`,
    `--port-max=${portMax}`,
    `--delete-delay=${opts.deleteDelay ?? 0}`,
    ...(opts.threads === undefined ? [] : [`--num-threads=${opts.threads}`]),
    ...(opts.extraArgs ?? []),
  ];
  const cmd = [...(opts.prefix ?? []), bin, ...args];
  const child: ChildProcess = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const collect = (c: Buffer): void => {
    out = appendCapped(out, c.toString('utf8'));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  // A test runner that dies must not leave rtpengine holding ports.
  const onExit = (): void => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopChild(child, 3000, true).then(() => {
      process.off('exit', onExit);
    });
    return stopping;
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    const gone = spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
    if (gone || Date.now() > deadline) {
      await stop();
      const why = spawnError ? `could not run: ${spawnError.message}` : gone ? `exited (code ${child.exitCode}, signal ${child.signalCode})` : 'did not answer ping in time';
      throw new Error(`rtpengine ${why}\n$ ${cmd.join(' ')}\n${out}`);
    }
    if (await pingRtpengine(LOOPBACK, ngPort)) break;
  }
  return {
    pid: child.pid!,
    host: LOOPBACK,
    ngPort,
    portMin,
    portMax,
    output: () => out,
    stop,
  };
}

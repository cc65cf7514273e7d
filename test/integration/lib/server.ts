import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configSchema } from '../../../src/config/schema.ts';
import type { ConfigInput } from '../../../src/config/schema.ts';
import { Server } from '../../../src/server.ts';
import { formatHostPort } from '../../../src/lib/net.ts';
import type { Logger } from '../../../src/lib/log.ts';
import { ManualClock } from '../../../src/lib/time.ts';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import type { TimerQueue } from '../../../src/lib/timer-queue.ts';
import { withTestOverload } from '../../lib/overload-config.ts';

/** A port free for both UDP and TCP on the host, so one number serves both listeners. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const srv = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, host, () => resolve((srv.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((r) => srv.close(() => r()));
    if (ok) await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
  throw new Error('no free port');
}

export interface LogEntry {
  level: string;
  obj: object;
  msg?: string;
}

/** Collects log lines so tests can assert on what was (and was not) logged. */
export function captureLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  return { entries, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export interface TestServer {
  server: Server;
  host: string;
  sipPort: number;
  tlsPort: number;
  dataDir: string;
  log: ReturnType<typeof captureLogger>;
  /** The server's timer queue: a ManualTimerQueue with `manualTime`, else the real one. */
  timers: TimerQueue;
  /**
   * Moves manual time forward by `ms`, firing every timer that falls due
   * (transaction retransmissions, call timers, expiry sweeps), then lets
   * the I/O those timers started run (a macrotask turn). Throws without `manualTime`.
   */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

const created: string[] = [];
let cleanupHooked = false;

/** A fresh data directory, removed when the test process exits. */
export function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchboard-test-'));
  created.push(dir);
  if (!cleanupHooked) {
    cleanupHooked = true;
    process.once('exit', () => {
      for (const d of created) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export interface TestServerOptions {
  config?: ConfigInput;
  dataDir?: string;
  host?: string;
  sipPort?: number;
  tlsPort?: number;
  http?: boolean;
  /** Start the provisioning HTTPS server on a fresh port (off otherwise). */
  provisioning?: boolean;
  /**
   * Server time (its clock and timers) moves only through advance(): a
   * ManualTimerQueue whose clock starts at Date.now(), so stored epoch times
   * stay sensible. Sockets, polls of the store and the relay stay on real time.
   */
  manualTime?: boolean;
  /** The overload control's sampling queue (ServerOptions.overloadTimers): a ManualTimerQueue drives its probe's wait. */
  overloadTimers?: TimerQueue;
}

/**
 * Starts a real server in this process on fresh loopback ports. The
 * management HTTP server stays off unless `http` is true (then on a fresh
 * port, HTTPS unless config.http.allowHttp).
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  // freePort() can only say a port was free a moment ago: a socket of a test
  // running beside this one may take it before the server binds. Ports we
  // chose ourselves are then chosen again.
  const ours = opts.sipPort === undefined && opts.tlsPort === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (!ours || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

async function startOnce(opts: TestServerOptions): Promise<TestServer> {
  const host = opts.host ?? '127.0.0.1';
  const sipPort = opts.sipPort ?? (await freePort(host));
  const tlsPort = opts.tlsPort ?? (await freePort(host));
  const dataDir = opts.dataDir ?? tempDataDir();
  const hp = (p: number) => formatHostPort(host, p);
  const input = opts.config ?? {};
  const config = configSchema.parse({
    ...input,
    // No OPTIONS keepalive unless a test asks for it: SIPp phones (uas_*.xml) fail a call on the
    // OPTIONS they did not expect and then miss the INVITE (see test/interop/harness.ts).
    registrar: { keepaliveSec: 0, ...input.registrar },
    // Voicemail coverage and music on hold change what callers get (a mailbox instead of 486, music
    // instead of a plain hold): off unless a test is about them.
    voicemail: { enabled: false, ...input.voicemail },
    calls: { musicOnHold: false, ...input.calls },
    // A test driving the overload control's clock (overloadTimers) is about it: the production limit.
    sip: { domain: 'test.local', ...(opts.overloadTimers ? input.sip : withTestOverload(input.sip)), udp: hp(sipPort), tcp: hp(sipPort), tls: hp(tlsPort) },
    http: { ...input.http, listen: hp(opts.http ? await freePort(host) : 0) },
    // The provisioning server (default 0.0.0.0:7443) only when a test asks for it, on a fresh loopback port.
    provisioning: { ...input.provisioning, listen: input.provisioning?.listen ?? hp(opts.provisioning ? await freePort(host) : 0) },
    // The relay on loopback: never a wildcard bind in tests.
    media: { ...input.media, relay: { host: host.includes(':') ? '::1' : '127.0.0.1', portMin: 30000, portMax: 39999, ...input.media?.relay } },
  });
  const log = captureLogger();
  // The ports above are the test's: settings saved through the API must not move them.
  const pinnedSettings = ['sip.udp', 'sip.tcp', 'sip.tls'];
  const manual = opts.manualTime ? new ManualTimerQueue({ clock: new ManualClock(Date.now()) }) : undefined;
  const server = await Server.start({ config, dataDir, logger: log, directoryPollMs: 50, pinnedSettings, timers: manual, overloadTimers: opts.overloadTimers });
  const advance = async (ms: number): Promise<void> => {
    if (!manual) throw new Error('advance() needs startTestServer({ manualTime: true })');
    manual.advance(ms);
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return { server, host, sipPort, tlsPort, dataDir, log, timers: server.timers, advance, stop: () => server.stop() };
}

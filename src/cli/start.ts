import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { configSchema } from '../config/schema.ts';
import type { Config } from '../config/schema.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, resolveDataDir } from './common.ts';
import { WORKER_ENV } from '../cluster/ipc.ts';
import { workerCount } from '../cluster/member.ts';
import { formatHostPort } from '../lib/net.ts';

interface StartOptions {
  config?: string;
  dataDir?: string;
  sipUdp?: string;
  sipTcp?: string;
  sipTls?: string;
  domain?: string;
  logLevel?: string;
  http?: string;
  provisioning?: string;
  workers?: string;
  store?: string;
  nodeName?: string;
  peers?: string;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the server in the foreground')
    .option('--config <file>', 'JSON config file')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .option('--sip-udp <host:port>', 'UDP listener (port 0 = off)')
    .option('--sip-tcp <host:port>', 'TCP listener (port 0 = off)')
    .option('--sip-tls <host:port>', 'TLS listener (port 0 = off)')
    .option('--domain <name>', 'SIP domain and digest realm')
    .option('--http <host:port>', 'management HTTPS server: REST API, CA download (port 0 = off; default 0.0.0.0:7071)')
    .option('--provisioning <host:port>', 'provisioning HTTPS server: phone files, root CA (port 0 = off; default 0.0.0.0:7443)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--workers <n>', 'worker processes sharing the SIP ports: 1-63, or auto (one per core)', 'auto')
    .option('--node-name <name>', 'this node among several sharing a PostgreSQL store (default: the host name)')
    .option('--peers <uris>', 'the other nodes, comma-separated, e.g. sip:10.0.0.2:5061;transport=tls')
    .action(async (opts: StartOptions) => {
      // First of all: a SIGHUP (logrotate, an operator) must never stop the server, not even while it starts.
      const hangups = new Hangups();
      const config = await loadConfig(opts);
      const dataDir = resolveDataDir(opts.dataDir);
      // Loaded here, not at the top: every other command starts in a fraction of the time without the server's modules.
      const { default: pino } = await import('pino');
      const logger = pino({ level: config.log.level, base: undefined });
      /** Re-reads the config file; the log level applies at once, and is the part every process of a cluster does alike. */
      const reloadConfig = async (): Promise<Config> => {
        const next = await loadConfig(opts);
        logger.level = next.log.level;
        return next;
      };
      const reloadServer = (server: import('../server.ts').Server) => async (): Promise<import('../server.ts').ReloadReport> => {
        const next = await reloadConfig();
        const r = await server.reload(next);
        logger.info({
          logLevel: next.log.level, fingerprint: r.fingerprint, renewed: r.renewed ?? undefined,
          restartNeeded: r.restartNeeded.length > 0 ? r.restartNeeded : undefined,
        }, r.restartNeeded.length > 0 ? `reloaded; these settings apply at the next start: ${r.restartNeeded.join(', ')}` : 'reloaded');
        return r;
      };
      // A reload asked over the control socket (`switchboard cert ...`) is a SIGHUP's, in the same queue.
      const useReload = (server: import('../server.ts').Server): void => {
        hangups.use(reloadServer(server));
        server.requestReload = () => hangups.request();
      };
      hangups.logTo(logger);
      await keepServingThroughBugs(logger);
      const worker = process.env[WORKER_ENV.worker];
      if (worker !== undefined) {
        // Forked by a supervisor (below): it told us who we are in the environment.
        const { runWorker } = await import('../cluster/worker.ts');
        const member = {
          worker: Number(worker),
          workers: Number(process.env[WORKER_ENV.workers]),
          secret: Buffer.from(process.env[WORKER_ENV.secret] ?? '', 'hex'),
        };
        await runWorker({
          config, dataDir, logger: logger.child({ worker: member.worker }), pinnedSettings: pinnedSettings(opts), member,
          onStarted: useReload,
        });
        return;
      }
      // An uploaded backup (web UI) replaces the data before any process opens it.
      await (await import('../ops/backup.ts')).applyStagedRestore(dataDir, logger);
      let workers: number;
      try {
        workers = workerCount(opts.workers);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (workers > 1) {
        await supervise(config, dataDir, workers, logger, hangups, reloadConfig);
        return;
      }
      // Not loaded by a supervisor, which runs no server of its own: its memory counts beside every worker's.
      const { Server } = await import('../server.ts');
      const server = await Server.start({ config, dataDir, logger, pinnedSettings: pinnedSettings(opts), trimHeap: true });
      useReload(server);
      // Printed once, on the first start, and never logged: only its hash is stored.
      const adminPassword = server.takeInitialAdminPassword();
      if (adminPassword) process.stdout.write(`Initial admin password: ${adminPassword}\n`);
      const listeners = server.listening().map((l) => `${l.transport} ${formatHostPort(l.address, l.port)}`);
      if (server.http) {
        const a = server.http.address();
        listeners.push(`${server.config.http.allowHttp ? 'http' : 'https'} ${formatHostPort(a.address, a.port)}`);
      }
      if (server.provisioning) listeners.push(`provisioning ${formatHostPort(server.provisioning.https.address, server.provisioning.https.port)}`);
      // Listening for the signal before saying ready: a script may send it the moment it reads the line.
      const signalled = waitForSignal();
      process.stdout.write(`Switchboard ready: ${listeners.join(', ')} (domain ${server.config.sip.domain}, data ${dataDir})\n`);
      await signalled;
      try {
        await server.stop();
      } finally {
        exitAfterStop();
      }
    });
}

/** Runs `workers` worker processes on the shared ports until SIGTERM/SIGINT. */
async function supervise(
  config: Config, dataDir: string, workers: number, logger: import('../lib/log.ts').Logger, hangups: Hangups, reloadConfig: () => Promise<Config>,
): Promise<void> {
  const { Supervisor } = await import('../cluster/supervisor.ts');
  const signalled = waitForSignal();
  const supervisor = new Supervisor({
    config, dataDir, workers, logger,
    argv: process.argv.slice(2),
    onReload: async () => void (await reloadConfig()),
    onReady: (ready) => {
      const admin = ready.find((r) => r.adminPassword)?.adminPassword;
      if (admin) process.stdout.write(`Initial admin password: ${admin}\n`);
      const listeners = ready[0]!.listeners.map((l) => `${l.transport} ${formatHostPort(l.address, l.port)}`);
      const http = ready.find((r) => r.http)?.http;
      if (http) listeners.push(`${http.scheme} ${formatHostPort(http.address, http.port)}`);
      const provisioning = ready.find((r) => r.provisioning)?.provisioning;
      if (provisioning) listeners.push(`provisioning ${formatHostPort(provisioning.address, provisioning.port)}`);
      process.stdout.write(`Switchboard ready: ${listeners.join(', ')} (domain ${config.sip.domain}, data ${dataDir}, ${workers} workers)\n`);
    },
  });
  // Each worker reloads itself (its listeners, its identity) when the supervisor, having taken its own log level
  // and renewed a due identity once for all, asks it to.
  hangups.use(() => supervisor.reload());
  await Promise.race([supervisor.start(), signalled]);
  await signalled;
  try {
    await supervisor.stop();
  } finally {
    exitAfterStop();
  }
}

/** Whatever a failed stop leaves open (a socket, a timer) must not keep a half-stopped server alive. */
function exitAfterStop(): void {
  setTimeout(() => process.exit(), 5000).unref();
}

/** Config file first, then command-line overrides, all through the one schema. */
export async function loadConfig(opts: StartOptions): Promise<Config> {
  let raw: Record<string, unknown> = {};
  if (opts.config) {
    let text: string;
    try {
      text = await readFile(opts.config, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read config file ${opts.config}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`config file ${opts.config} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError('config file must hold a JSON object');
  }
  const sip = { ...((raw.sip as Record<string, unknown> | undefined) ?? {}) };
  if (opts.sipUdp !== undefined) sip.udp = opts.sipUdp;
  if (opts.sipTcp !== undefined) sip.tcp = opts.sipTcp;
  if (opts.sipTls !== undefined) sip.tls = opts.sipTls;
  if (opts.domain !== undefined) sip.domain = opts.domain;
  const log = { ...((raw.log as Record<string, unknown> | undefined) ?? {}) };
  if (opts.logLevel !== undefined) log.level = opts.logLevel;
  const http = { ...((raw.http as Record<string, unknown> | undefined) ?? {}) };
  if (opts.http !== undefined) http.listen = opts.http;
  const provisioning = { ...((raw.provisioning as Record<string, unknown> | undefined) ?? {}) };
  if (opts.provisioning !== undefined) provisioning.listen = opts.provisioning;
  const store = { ...((raw.store as Record<string, unknown> | undefined) ?? {}) };
  if (opts.store !== undefined) store.url = opts.store;
  const node = { ...((raw.node as Record<string, unknown> | undefined) ?? {}) };
  if (opts.nodeName !== undefined) node.name = opts.nodeName;
  if (opts.peers !== undefined) node.peers = opts.peers.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const parsed = configSchema.safeParse({ ...raw, sip, log, http, provisioning, store, node });
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new CliError(`invalid setting ${first.path.join('.') || '(top level)'}: ${first.message}`);
  }
  return parsed.data;
}

/** Settings given on the command line win over values saved through the API. */
function pinnedSettings(opts: StartOptions): string[] {
  const given: [unknown, string][] = [[opts.sipUdp, 'sip.udp'], [opts.sipTcp, 'sip.tcp'], [opts.sipTls, 'sip.tls'], [opts.domain, 'sip.domain']];
  return given.filter(([v]) => v !== undefined).map(([, key]) => key);
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}

/**
 * SIGHUP reloads (issue 11 item 2) and never stops the process: Node's
 * default for it is to exit, so the handler goes in before anything else.
 * Until the server is up a SIGHUP is only noted; reloads run one at a time,
 * and one that fails leaves the old settings running.
 */
class Hangups {
  private reload: (() => Promise<unknown>) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** The outcome of the latest run, for request(). */
  private last: { value: unknown } | { error: Error } = { error: new Error('no reload ran') };
  private log: import('../lib/log.ts').Logger | undefined;

  constructor() {
    process.on('SIGHUP', () => this.signalled());
  }

  logTo(log: import('../lib/log.ts').Logger): void {
    this.log = log;
  }

  use(reload: () => Promise<unknown>): void {
    this.reload = reload;
  }

  /**
   * A reload asked for by a command (the control socket): runs like a
   * SIGHUP, or once more after the one running, and resolves with its
   * result; rejects with the error that left the old settings running.
   */
  async request<T>(): Promise<T> {
    if (this.reload === undefined) throw new Error('the server is still starting');
    this.signalled();
    await this.running;
    if ('error' in this.last) throw this.last.error;
    return this.last.value as T;
  }

  private signalled(): void {
    if (this.reload === undefined) {
      this.log?.warn({}, 'SIGHUP while starting: ignored (send it again once the server is ready)');
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run();
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        this.last = { value: await this.reload!() };
      } catch (err) {
        this.last = { error: err as Error };
        this.log?.error({ error: (err as Error).message }, 'reload failed: still running with the previous settings');
      }
    } while (this.again);
    this.running = undefined;
  }
}

/**
 * A promise nobody caught is a bug in one request's handling; Node's default
 * (exit) would end every call and registration this process holds with it.
 * It is logged, with its stack, once a minute per message, and the server
 * goes on. Thrown exceptions keep Node's default: after one, the process state
 * is unknown, and the supervisor or systemd restarts it.
 */
async function keepServingThroughBugs(log: import('../lib/log.ts').Logger): Promise<void> {
  const { OncePerInterval } = await import('../lib/log.ts');
  const once = new OncePerInterval(60_000);
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    const suppressed = once.take(err.message);
    if (suppressed >= 0) log.error({ err, suppressed }, 'unhandled rejection (a bug): the server goes on');
  });
}

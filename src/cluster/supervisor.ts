// The supervisor of `switchboard start --workers N`: prepares what the
// workers share (certificates, the database schema, a secret for digest
// nonces), forks one worker per core on the same SIP ports (SO_REUSEPORT),
// restarts a worker that dies, answers `switchboard status` for all of them
// (and `switchboard gateway` from worker 1, which runs the gateway's lines),
// and stops them all on SIGTERM/SIGINT. It handles no SIP itself.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/log.ts';
import { ensureCertificates } from '../security/certs.ts';
import { listenIps, siteAddresses } from '../server-config.ts';
import { openStoreAt } from '../store/open.ts';
import { ControlSocket, controlSocketPath } from '../pbx/status/control-socket.ts';
import type { ControlBans, ControlReload, ControlStatus } from '../pbx/status/control-socket.ts';
import type { BanTarget } from '../security/bans.ts';
import type { ExtensionDetail } from '../model/extension-detail.ts';
import { mergeStatus } from './status.ts';
import { WORKER_ENV } from './ipc.ts';
import { workerAllocator } from './allocator.ts';
import type { FromWorker, ToWorker } from './ipc.ts';

export interface SupervisorOptions {
  config: Config;
  dataDir: string;
  workers: number;
  logger: Logger;
  /** The command line the workers are started with (the same `start` command). */
  argv: readonly string[];
  /** Called once every worker is ready. */
  onReady: (ready: Extract<FromWorker, { type: 'ready' }>[]) => void;
  /** The supervisor's own part of a reload asked over the control socket (as of a SIGHUP: the config file, the log level). */
  onReload?: () => Promise<void>;
}

/** A reload re-reads certificates and, when one is due, issues a new identity (RSA generation): more than a status question. */
const RELOAD_TIMEOUT_MS = 30_000;

/** Restarts allowed within RESTART_WINDOW_MS before the supervisor gives up (a worker that cannot start). */
const MAX_RESTARTS = 5;
/** How long a stop waits for a worker to end its calls (its own drain awaits answers up to 2 s). */
const DRAIN_WAIT_MS = 5_000;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;
const STATUS_TIMEOUT_MS = 3_000;

/** Fails when a SIP port is taken: with SO_REUSEPORT the workers would otherwise share it with whoever holds it. */
async function checkPortsFree(config: Config): Promise<void> {
  const sip = config.sip;
  const probes: Promise<void>[] = [];
  if (sip.udp.port !== 0) {
    probes.push(new Promise((resolve, reject) => {
      const s = dgram.createSocket(net.isIPv6(sip.udp.host) ? 'udp6' : 'udp4');
      s.once('error', (err) => reject(new Error(`SIP UDP ${sip.udp.host}:${sip.udp.port}: ${err.message}`)));
      s.bind(sip.udp.port, sip.udp.host, () => s.close(() => resolve()));
    }));
  }
  for (const [name, a] of [['TCP', sip.tcp], ['TLS', sip.tls]] as const) {
    if (a.port === 0) continue;
    probes.push(new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once('error', (err) => reject(new Error(`SIP ${name} ${a.host}:${a.port}: ${err.message}`)));
      s.listen(a.port, a.host, () => s.close(() => resolve()));
    }));
  }
  await Promise.all(probes);
}

interface Slot {
  worker: number;
  child: ChildProcess | undefined;
  ready: Extract<FromWorker, { type: 'ready' }> | undefined;
  /** Set while a stop waits for this worker to have ended its calls. */
  drained?: () => void;
}

export class Supervisor {
  private readonly slots: Slot[] = [];
  private readonly secret = randomBytes(32).toString('hex');
  private readonly restarts: number[] = [];
  private readonly control: ControlSocket;
  private stopping = false;
  private announced = false;
  private statusSeq = 0;
  private readonly pending = new Map<number, (answer: Extract<FromWorker, { type: 'status' }>) => void>();
  private readonly bansPending = new Map<number, (answer: Extract<FromWorker, { type: 'bans' }>) => void>();
  private readonly extensionPending = new Map<number, (answer: Extract<FromWorker, { type: 'extension' }>) => void>();
  private readonly gatewayPending = new Map<number, (answer: Extract<FromWorker, { type: 'gateway' }>) => void>();
  private readonly reloadPending = new Map<number, (answer: Extract<FromWorker, { type: 'reload' }>) => void>();
  private failure: ((err: Error) => void) | undefined;
  private reloading: Promise<unknown> = Promise.resolve();

  /** The C allocator the workers start with (allocator.ts). */
  private readonly allocator = workerAllocator(process.env);

  constructor(private readonly opts: SupervisorOptions) {
    // Worker 1 holds the administrator login locks and asks the other workers for their SIP bans.
    const bans: ControlBans = {
      list: async () => (await this.askBans(undefined)).bans ?? [],
      lift: async (target) => (await this.askBans(target)).lifted ?? 0,
    };
    this.control = new ControlSocket(
      controlSocketPath(opts.dataDir), () => this.status(), opts.logger, bans, (extension) => this.askExtension(extension), () => this.reload(),
      () => siteAddresses(opts.config), () => opts.config,
    );
    // Worker 1 runs the handset gateway's lines.
    this.control.gateway = {
      status: async () => (await this.askGateway(undefined)).status!,
      reregister: async (extensions) => (await this.askGateway({ extensions: extensions && [...extensions] })).lines ?? 0,
    };
  }

  /** Prepares the shared state and starts every worker; resolves once all are ready. */
  async start(): Promise<void> {
    const { config, dataDir } = this.opts;
    await checkPortsFree(config);
    // Made once here, not raced by N workers: the certificates and the schema.
    await this.prepareCertificates();
    await (await openStoreAt(config.store.url, dataDir)).close();
    this.opts.logger.info({ allocator: this.allocator.name }, `workers run on ${this.allocator.name}`);
    const allReady = new Promise<void>((resolve, reject) => {
      this.failure = reject;
      this.readyCheck = resolve;
    });
    for (let w = 1; w <= this.opts.workers; w++) {
      const slot: Slot = { worker: w, child: undefined, ready: undefined };
      this.slots.push(slot);
      this.spawn(slot);
    }
    await allReady;
    await this.control.start();
  }

  /**
   * Stops every worker and waits for them: first each ends its calls while
   * all transports still run (a BYE, and its answer, may pass through another
   * worker's connection to the phone), then each stops and flushes its
   * registrations.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.drainWorkers();
    const failed: string[] = [];
    await Promise.all(this.slots.map((slot) => new Promise<void>((resolve) => {
      const child = slot.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', (code, signal) => {
        // The worker logged why (e.g. registrations it could not write); the exit status carries it.
        if (code !== 0) failed.push(`worker ${slot.worker} (${signal ?? `exit ${code}`})`);
        resolve();
      });
      child.kill('SIGTERM');
    })));
    await this.control.stop();
    if (failed.length > 0) throw new Error(`stopped with errors: ${failed.join(', ')} did not stop cleanly`);
  }

  /** Asks every running worker to end its calls; waits for all (a worker that does not say so within DRAIN_WAIT_MS is stopped all the same). */
  private async drainWorkers(): Promise<void> {
    const running = this.slots.filter((s) => s.child && s.child.connected && s.child.exitCode === null && s.child.signalCode === null);
    await Promise.all(running.map((slot) => new Promise<void>((resolve) => {
      const timer = setTimeout(done, DRAIN_WAIT_MS);
      const child = slot.child!;
      function done(): void {
        clearTimeout(timer);
        child.off('exit', done);
        slot.drained = undefined;
        resolve();
      }
      slot.drained = done;
      child.once('exit', done);
      try {
        child.send({ type: 'drain' } satisfies ToWorker);
      } catch {
        done();
      }
    })));
  }

  private readyCheck: () => void = () => {};

  private spawn(slot: Slot): void {
    const env = {
      ...process.env,
      ...(this.allocator.preload === undefined ? {} : { LD_PRELOAD: this.allocator.preload }),
      [WORKER_ENV.worker]: String(slot.worker),
      [WORKER_ENV.workers]: String(this.opts.workers),
      [WORKER_ENV.secret]: this.secret,
    };
    const child = fork(process.argv[1]!, [...this.opts.argv], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    slot.child = child;
    slot.ready = undefined;
    child.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    child.once('exit', (code, signal) => this.onExit(slot, child, code, signal));
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      slot.ready = msg;
      if (!this.announced && this.slots.every((s) => s.ready)) {
        this.announced = true;
        this.opts.onReady(this.slots.map((s) => s.ready!));
        this.readyCheck();
      } else if (this.announced) {
        this.opts.logger.info({ worker: slot.worker, pid: slot.child?.pid }, 'worker restarted');
      }
    } else if (msg.type === 'status') {
      this.pending.get(msg.id)?.(msg);
    } else if (msg.type === 'bans') {
      this.bansPending.get(msg.id)?.(msg);
    } else if (msg.type === 'extension') {
      this.extensionPending.get(msg.id)?.(msg);
    } else if (msg.type === 'gateway') {
      this.gatewayPending.get(msg.id)?.(msg);
    } else if (msg.type === 'reload') {
      this.reloadPending.get(msg.id)?.(msg);
    } else if (msg.type === 'drained') {
      slot.drained?.();
    }
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child || this.stopping) return;
    this.opts.logger.error({ worker: slot.worker, pid: child.pid, code, signal }, 'worker exited');
    if (!this.announced) {
      // A worker that cannot start (a port, the database) will not start on a retry either.
      this.failure?.(new Error(`worker ${slot.worker} exited during start-up (code ${code}, signal ${signal})`));
      this.stopping = true;
      void this.stop();
      return;
    }
    const now = Date.now();
    while (this.restarts.length > 0 && now - this.restarts[0]! > RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length >= MAX_RESTARTS) {
      this.opts.logger.error({ worker: slot.worker }, `workers died ${MAX_RESTARTS} times within ${RESTART_WINDOW_MS / 1000} s: stopping`);
      process.kill(process.pid, 'SIGTERM');
      return;
    }
    this.restarts.push(now);
    setTimeout(() => {
      if (!this.stopping) this.spawn(slot);
    }, RESTART_DELAY_MS).unref();
  }

  /** Every worker's status, merged: calls and parked calls from all, each extension as the busiest worker sees it. */
  private async status(): Promise<ControlStatus> {
    const answers = await Promise.all(this.slots.map((slot) => this.ask(slot)));
    const got = answers.filter((a): a is Extract<FromWorker, { type: 'status' }> => a !== undefined);
    if (got.length === 0) throw new Error('no worker answered');
    return { status: mergeStatus(got.map((a) => a.status)), workers: got.map((a) => a.summary) };
  }

  /** The certificate set the workers load: an identity that is missing or due is issued here, once, not by each worker. */
  private async prepareCertificates(): Promise<void> {
    const { config, dataDir } = this.opts;
    await ensureCertificates(dataDir, { hostName: os.hostname(), ipAddresses: listenIps(config), sipDomain: config.sip.domain });
  }

  /**
   * A reload (SIGHUP, or asked over the control socket) in every running
   * worker, each presenting the identity on its own listeners; fails when one
   * of them fails or does not answer. Listeners are reported once per name:
   * every worker loads the same files, renewed here first so that they do.
   */
  reload(): Promise<ControlReload> {
    // One at a time (a SIGHUP and a command together): two would each issue an identity.
    const run = this.reloading.catch(() => undefined).then(() => this.reloadNow());
    this.reloading = run;
    return run;
  }

  private async reloadNow(): Promise<ControlReload> {
    await this.opts.onReload?.();
    await this.prepareCertificates();
    const running = this.slots.filter((s) => s.child?.connected && s.ready);
    if (running.length === 0) throw new Error('no worker is running');
    const reports = await Promise.all(running.map((slot) => this.askReload(slot)));
    const listeners = new Map<string, ControlReload['listeners'][number]>();
    for (const r of reports) for (const l of r.listeners) if (!listeners.has(l.name)) listeners.set(l.name, l);
    const first = reports[0]!;
    return { ...first, restartNeeded: [...new Set(reports.flatMap((r) => r.restartNeeded))], listeners: [...listeners.values()], workers: reports.length };
  }

  private askReload(slot: Slot): Promise<ControlReload> {
    const id = ++this.statusSeq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reloadPending.delete(id);
        reject(new Error(`worker ${slot.worker} did not answer`));
      }, RELOAD_TIMEOUT_MS);
      this.reloadPending.set(id, (answer) => {
        clearTimeout(timer);
        this.reloadPending.delete(id);
        if (answer.report) resolve(answer.report);
        else reject(new Error(`worker ${slot.worker}: ${answer.error ?? 'no answer'}`));
      });
      slot.child!.send({ type: 'reload', id } satisfies ToWorker);
    });
  }

  private askBans(lift: BanTarget | undefined): Promise<Extract<FromWorker, { type: 'bans' }>> {
    const child = this.slots[0]?.child;
    if (!child?.connected || !this.slots[0]?.ready) return Promise.reject(new Error('worker 1 is not running'));
    const id = ++this.statusSeq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.bansPending.delete(id);
        reject(new Error('worker 1 did not answer'));
      }, STATUS_TIMEOUT_MS);
      this.bansPending.set(id, (answer) => {
        clearTimeout(timer);
        this.bansPending.delete(id);
        if (answer.error !== undefined) reject(new Error(answer.error));
        else resolve(answer);
      });
      child.send({ type: 'bans', id, ...(lift && { lift }) } satisfies ToWorker);
    });
  }

  /** Worker 1 (the management worker) gathers one extension's detail from every worker. */
  private askExtension(extension: string): Promise<ExtensionDetail | undefined> {
    const child = this.slots[0]?.child;
    if (!child?.connected || !this.slots[0]?.ready) return Promise.reject(new Error('worker 1 is not running'));
    const id = ++this.statusSeq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.extensionPending.delete(id);
        reject(new Error('worker 1 did not answer'));
      }, STATUS_TIMEOUT_MS);
      this.extensionPending.set(id, (answer) => {
        clearTimeout(timer);
        this.extensionPending.delete(id);
        if (answer.error !== undefined) reject(new Error(answer.error));
        else resolve(answer.detail ?? undefined);
      });
      child.send({ type: 'extension', id, extension } satisfies ToWorker);
    });
  }

  /** Worker 1's gateway status, or its count of lines asked to re-register. */
  private askGateway(reregister: { extensions?: string[] } | undefined): Promise<Extract<FromWorker, { type: 'gateway' }>> {
    const child = this.slots[0]?.child;
    if (!child?.connected || !this.slots[0]?.ready) return Promise.reject(new Error('worker 1 (the handset gateway\'s lines) is not running'));
    const id = ++this.statusSeq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.gatewayPending.delete(id);
        reject(new Error('worker 1 (the handset gateway\'s lines) did not answer'));
      }, STATUS_TIMEOUT_MS);
      this.gatewayPending.set(id, (answer) => {
        clearTimeout(timer);
        this.gatewayPending.delete(id);
        if (answer.error !== undefined) reject(new Error(answer.error));
        else resolve(answer);
      });
      child.send({ type: 'gateway', id, ...(reregister && { reregister }) } satisfies ToWorker);
    });
  }

  private ask(slot: Slot): Promise<Extract<FromWorker, { type: 'status' }> | undefined> {
    const child = slot.child;
    if (!child?.connected || !slot.ready) return Promise.resolve(undefined);
    const id = ++this.statusSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, STATUS_TIMEOUT_MS);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(answer);
      });
      child.send({ type: 'status', id } satisfies ToWorker);
    });
  }
}

import os from 'node:os';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { Logger } from './sip/log.ts';
import type { Config } from './config/schema.ts';
import { TransportLayer } from './sip/transport/layer.ts';
import type { ListenAddress } from './sip/transport/layer.ts';
import { TimerQueue } from './sip/timer-queue.ts';
import { systemClock } from './sip/clock.ts';
import { TransactionLayer } from './sip/transaction/layer.ts';
import { DigestServer } from './sip/digest.ts';
import { AuthGuard } from './security/auth-guard.ts';
import { ensureCertificates } from './security/certs.ts';
import type { CertificateSet } from './security/certs.ts';
import { describeTlsError, parseClientHello, tlsClientOptions, tlsServerOptions } from './security/tls-policy.ts';
import { openStore } from './store/sqlite/database.ts';
import type { Store } from './store/types.ts';
import { Directory } from './pbx/directory/directory.ts';
import { LocationService } from './pbx/registrar/location.ts';
import { Registrar } from './pbx/registrar/registrar.ts';
import { Authenticator } from './pbx/auth/authenticator.ts';
import { handleRequest } from './pbx/requests.ts';
import type { RequestContext } from './pbx/requests.ts';
import { ALLOWED_METHODS } from './pbx/requests.ts';
import { CallEngine } from './pbx/call/engine.ts';
import { TrunkTable } from './pbx/trunks/trunk-table.ts';
import { TransportPolicy } from './security/transport-policy.ts';
import type { User } from './store/types.ts';
import type { Inbound } from './sip/transport/types.ts';
import { SystemMediaSettings } from './pbx/media/profile.ts';
import { MediaRelay } from './media/relay.ts';
import { NgClient } from './media/rtpengine.ts';
import { TrunkRegistrar } from './pbx/trunks/trunk-registration.ts';
import { StatusService } from './pbx/status/status.ts';
import { ControlSocket, controlSocketPath } from './pbx/status/control-socket.ts';
import type { LocationEvents } from './pbx/registrar/location.ts';
import { AlarmCenter } from './ops/alarms.ts';
import type { HealthReport } from './ops/health.ts';
import { WriteBehindWatch, createOps } from './ops/ops.ts';
import type { Ops } from './ops/ops.ts';
import { createSyslogLogger } from './ops/syslog.ts';
import type { SyslogLogger } from './ops/syslog.ts';
import { configWithStoredSettings, startManagement } from './api/management.ts';
import type { ApiServer, ExtraRoutes } from './api/management.ts';
import { builtInRoutes } from './api/builtin-routes.ts';
import { rollbackAfter } from './store/sqlite/admin.ts';

export interface ServerOptions {
  config: Config;
  dataDir: string;
  logger: Logger;
  /** Directory poll period; tests shorten it. */
  directoryPollMs?: number;
  /** Setting keys ("sip.udp") the command line gave: values saved through the API do not override them. */
  pinnedSettings?: readonly string[];
  /** More routes on the management HTTP server (e.g. /metrics, /healthz, the web UI). */
  httpRoutes?: readonly ExtraRoutes[];
}

/**
 * One Switchboard instance, composed from its parts at start-up. Nothing here
 * is global: tests start several in one process on their own ports.
 */
export class Server {
  /** Calls in progress, for metrics; the call engine replaces this. */
  activeCalls: () => number = () => 0;
  private ops!: Ops;
  calls!: CallEngine;
  trunks!: TrunkTable;
  trunkRegistrar!: TrunkRegistrar;
  systemMedia!: SystemMediaSettings;
  /** The built-in media relay (undefined with the rtpengine backend). */
  relay: MediaRelay | undefined;
  private rtpengine: NgClient | undefined;
  /** Live extensions and calls (CLI status, web UI). */
  status!: StatusService;
  private control!: ControlSocket;
  private syslog: SyslogLogger | undefined;
  /** The management web server (REST API); null when http.listen has port 0. */
  http: ApiServer | null = null;
  private initialAdminPassword: string | null = null;

  private constructor(
    readonly config: Config,
    readonly transport: TransportLayer,
    readonly transactions: TransactionLayer,
    readonly store: Store,
    readonly directory: Directory,
    readonly location: LocationService,
    readonly guard: AuthGuard,
    readonly alarms: AlarmCenter,
    readonly certificates: CertificateSet,
    private readonly timers: TimerQueue,
    private readonly sweeper: NodeJS.Timeout,
    private readonly log: Logger,
  ) {}

  static async start(opts: ServerOptions): Promise<Server> {
    const { dataDir } = opts;
    // Settings saved through the API apply from the start after they were saved.
    const config = configWithStoredSettings(opts.config, dataDir, opts.pinnedSettings ?? [], opts.logger);
    const sip = config.sip;
    const clock = systemClock;
    const now = () => clock.now();
    // Remote syslog first, so start-up messages reach the collector too.
    const syslog = config.log.syslog ? await createSyslogLogger(opts.logger, config.log.syslog) : undefined;
    const log = syslog ?? opts.logger;
    const alarms = new AlarmCenter({ log });
    const writeBehind = new WriteBehindWatch(alarms, now);

    const certificates = await ensureCertificates(dataDir, {
      hostName: os.hostname(),
      ipAddresses: listenIps(config),
      sipDomain: sip.domain,
    });
    if (certificates.identityRenewed) {
      log.info({ reason: certificates.identityReason, fingerprint: certificates.fingerprintSha256 }, 'TLS identity certificate issued');
    }
    for (const w of certificates.warnings) log.warn({ warning: w }, 'certificate warning');

    const store = openStore(dataDir, {
      onError: (err) => {
        log.error({ err }, 'registration write-behind failed');
        writeBehind.failed(err);
      },
    });
    const directory = new Directory(store.users, log);
    directory.start(opts.directoryPollMs);
    const locationEvents: LocationEvents = {};
    const location = new LocationService(store.registrations, now, locationEvents);
    const restored = location.load();

    const a = config.auth;
    const rule = (maxFailures: number) => ({ maxFailures, windowMs: a.windowSec * 1000, banMs: a.banSec * 1000 });
    const guard = new AuthGuard({
      now,
      pair: rule(a.pairFailures),
      user: rule(a.userFailures),
      ip: rule(a.sourceFailures),
      onBan: (ban) => {
        log.warn({ ban }, 'authentication failures: temporary ban');
        alarms.banned(ban);
      },
      onFailure: (ip, username) => alarms.authFailed(ip, username),
    });
    const digest = new DigestServer({ realm: a.realm ?? sip.domain, nonceTtlMs: a.nonceTtlSec * 1000, algorithms: a.algorithms, now });
    const authenticator = new Authenticator(digest, guard, directory);
    const transportPolicy = new TransportPolicy(sip.strictSips, sip.localNetworks);
    // Filled in once the media settings exist (their transport key is polled with them).
    let systemTransport = (): 'any' | 'tls' => config.media.transport;
    const transportRefusal = (user: User | undefined, inbound: Inbound): string | undefined =>
      transportPolicy.refusal(inbound.source.transport, inbound.source.address, (user?.media.transport ?? systemTransport()) === 'tls');
    const registrar = new Registrar({ ...config.registrar, domain: sip.domain }, location, authenticator, now, transportRefusal);
    // A removed or disabled user keeps no registrations: nothing may be routed to them.
    directory.onUserChanged = (extension, user) => {
      if (!user || !user.enabled) location.removeAll(registrar.aorFor(extension));
    };

    const transport = new TransportLayer({
      udp: enabled(sip.udp),
      tcp: enabled(sip.tcp),
      tls: enabled(sip.tls),
      advertisedAddress: sip.advertisedAddress,
      parseLimits: {
        maxMessageBytes: sip.limits.maxMessageBytes,
        maxHeaders: sip.limits.maxHeaders,
        maxHeaderLineBytes: sip.limits.maxHeaderLineBytes,
      },
      streamLimits: {
        maxConnectionsPerSource: sip.limits.maxConnectionsPerSource,
        maxConnections: sip.limits.maxConnections,
        idleTimeoutMs: sip.limits.idleTimeoutSec * 1000,
        connectTimeoutMs: 10_000,
      },
      tlsServerOptions: tlsServerOptions(certificates, { legacyTls: sip.legacyTls }),
      // Outbound TLS (trunks, phones without a live connection): verified against our own CA and the system's roots.
      tlsClientOptions: tlsClientOptions(certificates, { legacyTls: sip.legacyTls, rejectUnauthorized: true, extraCas: tls.rootCertificates }),
      describeHandshakeError: (err, hello) =>
        describeTlsError(err, { clientHello: hello ? parseClientHello(hello) : null, legacyTls: sip.legacyTls }),
      onProblem: (kind, detail, source) => {
        if (kind === 'tls-handshake') alarms.tlsHandshakeFailed(source, detail);
      },
      logger: log,
    });
    const timers = new TimerQueue();
    const requestContext: RequestContext = {
      registrar,
      calls: undefined as unknown as CallEngine, // set below, before the transport starts
      findInviteForCancel: (cancel) => transactions.findInviteServerTransactionForCancel(cancel),
    };
    const transactions: TransactionLayer = new TransactionLayer({
      sender: transport,
      timers,
      clock,
      t1: sip.timers.t1Ms,
      t2: sip.timers.t2Ms,
      t4: sip.timers.t4Ms,
      onRequest: (req, tx, inbound) => handleRequest(requestContext, req, tx, inbound),
    });
    const systemMedia = new SystemMediaSettings(config.media, store.admin.settings, log);
    systemTransport = () => systemMedia.current.transport;
    systemMedia.start(opts.directoryPollMs ?? 1000);
    const r = config.media.relay;
    const relay = config.media.backend === 'builtin'
      ? new MediaRelay({ host: r.host, advertiseAddress: r.advertisedAddress ?? mediaAddress(config), portMin: r.portMin, portMax: r.portMax }, { logger: log })
      : undefined;
    let rtpengine: NgClient | undefined;
    if (config.media.backend === 'rtpengine') {
      const ng = splitHostPort(config.media.rtpengineNg ?? '127.0.0.1:2223');
      rtpengine = await NgClient.open({ host: ng.host, port: ng.port, logger: log });
    }
    const trunks = new TrunkTable(store.trunks, log);
    await trunks.start(opts.directoryPollMs);
    const calls = new CallEngine({
      ctx: {
        settings: { domain: sip.domain, ...config.calls, defaultCodecs: config.calls.codecs },
        transactions,
        sender: transport,
        timers,
        log,
        now,
        commonHeaders: {
          allow: { name: 'allow', value: ALLOWED_METHODS.join(', ') },
          supported: { name: 'supported', value: '100rel, timer' },
        },
      },
      directory,
      location,
      authenticator,
      trunks,
      cdrs: store.cdrs,
      aorFor: (ext) => registrar.aorFor(ext),
      media: { system: () => systemMedia.current, relay, rtpengine },
      transportRefusal,
      localEndpoint: (t) => transport.localEndpoint(t),
    });
    requestContext.calls = calls;
    transport.onInbound = (inbound) => transactions.receive(inbound);
    try {
      await transport.start();
    } catch (err) {
      trunks.stop();
      directory.stop();
      store.close();
      await syslog?.close();
      throw err;
    }
    // Registrations to trunks start once the listeners are up, and follow every trunk change.
    const trunkRegistrar = new TrunkRegistrar({ transactions, timers, log, now, localEndpoint: (t) => transport.localEndpoint(t) });
    trunks.onReload = (entries) => trunkRegistrar.sync(entries);
    trunkRegistrar.sync(trunks.list());
    const status = new StatusService({
      directory, location, calls, trunkRegistrar, now,
      aorFor: (ext) => registrar.aorFor(ext),
      mediaSecurity: (user) => user?.media.security ?? systemMedia.current.security,
    });
    locationEvents.onChange = (aor, bindings) => {
      status.bindingsChanged(aor);
      calls.bindingsChanged(aor, bindings);
    };
    const control = new ControlSocket(controlSocketPath(dataDir), status, log);
    await control.start();
    const sweeper = setInterval(() => {
      location.sweep();
      alarms.sweep();
      writeBehind.check(store.registrations.pending);
    }, 5_000);
    sweeper.unref();
    log.info({ restoredBindings: restored, users: directory.size }, 'state restored');
    const server = new Server(config, transport, transactions, store, directory, location, guard, alarms, certificates, timers, sweeper, log);
    server.syslog = syslog;
    server.calls = calls;
    server.trunks = trunks;
    server.trunkRegistrar = trunkRegistrar;
    server.systemMedia = systemMedia;
    server.relay = relay;
    server.rtpengine = rtpengine;
    server.status = status;
    server.control = control;
    server.activeCalls = () => calls.activeCount;
    server.ops = createOps(
      { config, transport, transactions, location, guard, registrations: store.registrations, db: store.db, alarms, syslog, activeCalls: () => server.activeCalls() },
      writeBehind,
    );
    try {
      const mgmt = await startManagement({
        config, baseConfig: opts.config, pinnedSettings: opts.pinnedSettings ?? [], store, admin: store.admin, systemMedia,
        dryRun: (fn) => rollbackAfter(store.db, fn), certificates, log, now, extraRoutes: [...builtInRoutes(server, now), ...(opts.httpRoutes ?? [])],
      });
      server.http = mgmt?.http ?? null;
      server.initialAdminPassword = mgmt?.initialAdminPassword ?? null;
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /**
   * The generated password of the first administrator, once: set on the first
   * start with the management server on, null afterwards and on later starts.
   */
  takeInitialAdminPassword(): string | null {
    const pw = this.initialAdminPassword;
    this.initialAdminPassword = null;
    return pw;
  }

  /** Prometheus text exposition of this server's metrics; serve with metricsContentType. */
  metrics(): Promise<string> {
    return this.ops.metrics.render();
  }

  get metricsContentType(): string {
    return this.ops.metrics.contentType;
  }

  /** Listeners, database and write-behind queue: 'ok' or 'degraded' with the failing check. */
  health(): HealthReport {
    return this.ops.health();
  }

  /** Listening endpoints with their real ports. */
  listening(): { transport: string; address: string; port: number }[] {
    return this.transport.listening();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.http?.close();
    // Calls end first, so their parties hear a BYE and their records reach the store.
    this.calls.close();
    this.trunks.stop();
    this.trunkRegistrar.stop();
    this.systemMedia.stop();
    await this.relay?.close();
    this.rtpengine?.close();
    this.status.close();
    await this.control.stop();
    await this.transport.stop();
    this.directory.stop();
    this.transactions.close();
    this.timers.close();
    // Flushes the write-behind queue: every registration accepted so far survives the restart.
    this.store.close();
    this.ops.metrics.close();
    this.log.info({}, 'stopped');
    await this.syslog?.close();
  }
}

/**
 * The address the relay writes into SDP when it binds a wildcard: the SIP
 * advertised address, else a SIP listener's explicit address, else this
 * host's first external IPv4 address (loopback as a last resort).
 */
function mediaAddress(config: Config): string | undefined {
  if (config.media.relay.host !== '0.0.0.0' && config.media.relay.host !== '::') return undefined;
  if (config.sip.advertisedAddress) return config.sip.advertisedAddress;
  for (const a of [config.sip.udp, config.sip.tcp, config.sip.tls]) if (a.port !== 0 && a.host !== '0.0.0.0' && a.host !== '::') return a.host;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (!i.internal && i.family === 'IPv4') return i.address;
  }
  return '127.0.0.1';
}

function splitHostPort(s: string): { host: string; port: number } {
  const colon = s.lastIndexOf(':');
  const host = s.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host, port: Number(s.slice(colon + 1)) };
}

function enabled(addr: ListenAddress): ListenAddress | undefined {
  return addr.port === 0 ? undefined : addr;
}

/** Addresses the identity certificate must name: the explicit listen addresses and this host's own. */
function listenIps(config: Config): string[] {
  const ips = new Set<string>();
  for (const a of [config.sip.udp, config.sip.tcp, config.sip.tls]) {
    if (a.port !== 0 && a.host !== '0.0.0.0' && a.host !== '::') ips.add(a.host);
  }
  if (config.sip.advertisedAddress) ips.add(config.sip.advertisedAddress);
  const h = config.http.listen;
  if (h.port !== 0 && isIP(h.host) !== 0 && h.host !== '0.0.0.0' && h.host !== '::') ips.add(h.host);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (!i.internal) ips.add(i.address.split('%')[0]!);
  }
  return [...ips];
}

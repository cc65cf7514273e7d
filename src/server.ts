import os from 'node:os';
import type { Logger } from './lib/log.ts';
import type { Config } from './config/schema.ts';
import { ComponentList, Late } from './lib/components.ts';
import { listenIps, mediaAddress, nodeName, rtpengineAddress, settingsNeedingRestart, sipTlsOptions, siteAddresses, transportConfig } from './server-config.ts';
import { TransportLayer } from './sip/transport/layer.ts';
import { TimerQueue } from './lib/timer-queue.ts';
import type { TimerHandle } from './lib/timer-queue.ts';
import { systemClock } from './lib/time.ts';
import type { Clock } from './lib/time.ts';
import type { Endpoint } from './sip/message.ts';
import { TransactionLayer } from './sip/transaction/layer.ts';
import { OverloadControl, isProbeShaped, probeRequest } from './sip/overload.ts';
import { OverloadFeedback } from './sip/overload-client.ts';
import { DigestServer } from './sip/digest.ts';
import { AuthGuard } from './security/auth-guard.ts';
import { ALLOWED_USERS_PER_ADDRESS, TrustRecorder } from './security/trust-recorder.ts';
import { LoginLimiter } from './security/admin-auth.ts';
import { BanBoard, banAuditTarget, localSipBans } from './security/bans.ts';
import { ensureCertificates } from './security/certs.ts';
import type { CertificateSet } from './security/certs.ts';
import { applyToConsumers } from './security/tls-consumers.ts';
import type { ListenerChange, TlsConsumer } from './security/tls-consumers.ts';
import { isPostgresUrl, openStoreAt } from './store/open.ts';
import type { ChangeWatcher, Store, User } from './store/types.ts';
import { StoreWriteError } from './store/write-health.ts';
import { StoreFileNotice } from './store/sqlite/file-checks.ts';
import { Directory } from './pbx/directory/directory.ts';
import { LocationService } from './pbx/registrar/location.ts';
import type { LiveBinding } from './pbx/registrar/location.ts';
import { Registrar } from './pbx/registrar/registrar.ts';
import { Authenticator } from './pbx/auth/authenticator.ts';
import { RegistrationHealth } from './pbx/registrar/registration-health.ts';
import type { ContactProber } from './pbx/registrar/contact-prober.ts';
import { contactProber, followBindings, healthObserver, localReporter, tlsFailed } from './pbx/status/extension-health.ts';
import { ExtensionView } from './pbx/status/extension-view.ts';
import { pbxCore, pbxScreen, servePbx } from './pbx/requests.ts';
import { CallEngine } from './pbx/call/engine.ts';
import { TrunkTable } from './pbx/trunks/trunk-table.ts';
import { FeatureTables } from './pbx/routing/feature-tables.ts';
import { MediaServer } from './pbx/apps/media-server.ts';
import { PortPool } from './media/port-pool.ts';
import type { MediaClock } from './media/media-clock.ts';
import { TransportPolicy } from './security/transport-policy.ts';
import { TrustedPeers } from './security/trusted-peers.ts';
import type { TlsPeer } from './sip/transport/tls-peer.ts';
import type { Inbound } from './sip/transport/types.ts';
import { SystemMediaSettings } from './pbx/media/profile.ts';
import { MediaRelay } from './media/relay.ts';
import { srtpEngine } from './media/srtp-engine.ts';
import { NgClient } from './media/rtpengine.ts';
import { TrunkRegistrar } from './pbx/trunks/trunk-registration.ts';
import { TrunkHealth } from './pbx/trunks/trunk-health.ts';
import { PeerLinks } from './pbx/peers/peer-links.ts';
import { StatusService, overloadStatus } from './pbx/status/status.ts';
import type { ControlBans, WorkerSummary } from './pbx/status/control-socket.ts';
import { ControlSocket, controlSocketPath } from './pbx/status/control-socket.ts';
import { AlarmCenter } from './ops/alarms.ts';
import { CertificateWatch } from './ops/cert-watch.ts';
import { connectionCaps, openFileLimit } from './ops/file-limit.ts';
import type { HealthReport } from './ops/health.ts';
import { WriteBehindWatch, createOps } from './ops/ops.ts';
import type { Ops } from './ops/ops.ts';
import { createSyslogLogger } from './ops/syslog.ts';
import type { SyslogLogger } from './ops/syslog.ts';
import { configWithStoredSettings, managementTls, startManagement } from './api/management.ts';
import type { ApiServer, ExtraRoutes } from './api/management.ts';
import { builtInRoutes } from './api/builtin-routes.ts';
import { systemSource } from './api/system-source.ts';
import { redact } from './api/context.ts';
import { LogRing } from './lib/log-ring.ts';
import { ClusterNode } from './cluster/node.ts';
import { HeapTrim } from './lib/heap-trim.ts';
import { clusterRelayPorts, holdsSingletons, SINGLETONS_WORKER } from './cluster/member.ts';
import { MwiService, serveMwi } from './pbx/mwi/mwi-service.ts';
import { gatewayCountsSource } from './gateway/mwi.ts';
import { startProvisioningServer, type ProvisioningServer } from './provisioning/server.ts';
import { buildSite } from './provisioning/site.ts';
import { GatewayCalls } from './gateway/calls.ts';
import { upstreamRefer } from './gateway/transfer.ts';
import { GatewayComponent } from './gateway/component.ts';
import { GatewayRoster } from './gateway/roster.ts';
import { HandsetRecorder } from './gateway/handset-info.ts';
import { gatewayControl } from './gateway/control.ts';
import { ProxyHops } from './gateway/hops.ts';
import { createSipResolver } from './sip/dns.ts';
import { gatewayStatusRoutes } from './api/routes/gateway-status.ts';

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
  /**
   * Epoch milliseconds for every "now" of the server: registration expiry,
   * bans, nonces, alarms, call records, the store's timestamps. Defaults to
   * the clock of `timers` when given (manual time then moves both), else the
   * system clock. A clock given without `timers` leaves timers on real time.
   */
  clock?: Clock;
  /**
   * Timers of transactions, calls, trunk registrations and the expiry sweep.
   * Defaults to a TimerQueue on the monotonic clock. Tests pass a
   * ManualTimerQueue whose ManualClock starts at Date.now(), so stored
   * epoch times stay sensible. The server closes it on stop.
   */
  timers?: TimerQueue;
  /** This server is one worker of several on the same ports (src/cluster/). */
  cluster?: ClusterMember;
  /**
   * The overload control's sampling (default: its own real-time queue, since a
   * wait in the socket is real). Tests pass a ManualTimerQueue to make the
   * probe's wait what they need.
   */
  overloadTimers?: TimerQueue;
  /**
   * Runs a memory-reducing collection when V8 holds much freed heap
   * (src/lib/heap-trim.ts): for a process of its own (`switchboard start`),
   * not for tests that run many servers in one process.
   */
  trimHeap?: boolean;
  /** The media server's clock (tests: a ManualMediaClock); a real one by default. */
  mediaClock?: MediaClock;
}

/** What a worker of a cluster is told by the supervisor (src/cluster/supervisor.ts). */
export interface ClusterMember {
  /** This worker's number, 1..workers; it is also the owner number of src/sip/owner.ts. */
  worker: number;
  workers: number;
  /** Shared by the workers: a digest nonce any of them issued, every one accepts. */
  secret: Buffer;
}

/** What compose() hands the Server besides its parts. */
interface ServerExtras {
  syslog: SyslogLogger | undefined;
  writeBehind: WriteBehindWatch;
  /** Reads (or renews) the TLS identity; the server hands it to its TLS consumers. */
  reloadIdentity: () => Promise<CertificateSet>;
  /** Every listener presenting the identity (SIP TLS, HTTPS...): what a reload updates. */
  tlsConsumers: TlsConsumer[];
  /** The certificate alarms' checks, run again after each reload (undefined in a worker that raises no alarms). */
  certificateWatch: CertificateWatch | undefined;
  /** The config as given at start (file and flags, before settings saved through the API): what a reload compares with. */
  startConfig: Config;
  logRing: LogRing;
}

export interface ReloadReport {
  /** SHA-256 fingerprint of the identity now offered. */
  fingerprint: string;
  /** Why a new identity was issued during the reload, or null when the one on disk was kept. */
  renewed: string | null;
  /** Settings of the new config that differ from the running one and apply only at the next start. */
  restartNeeded: string[];
  /** Each listener presenting an identity: its fingerprint before the reload and now. */
  listeners: ListenerChange[];
}

/** How long a stop waits for the answers to the BYEs that end its calls. */
const DRAIN_MS = 2_000;

/** How often expired bindings and alarms are swept, and the write-behind queue looked at. */
const SWEEP_MS = 5_000;

/** The parts a running server exposes (tests, the management routes), built in dependency order by compose(). */
export interface ServerParts {
  /**
   * Ends every call (BYE, answers awaited up to 2 s) and refuses new ones, the
   * rest still running: a cluster's workers all do this before any of them
   * stops, as a BYE may leave through another worker's connection.
   */
  readonly drainCalls: () => Promise<void>;
  readonly config: Config;
  readonly clock: Clock;
  readonly timers: TimerQueue;
  /** The certificate set in use; each reload replaces it. */
  certificates: CertificateSet;
  readonly store: Store;
  readonly alarms: AlarmCenter;
  readonly guard: AuthGuard;
  /** Every lockout in force, SIP (every worker's in a cluster) and administrator logins, to list and lift. */
  readonly bans: BanBoard;
  /** The same, lifting as `switchboard bans lift` does: logged and audited as the command line's. */
  readonly commandLineBans: ControlBans;
  readonly directory: Directory;
  readonly location: LocationService;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  /** Sheds new requests when the process falls behind; undefined when sip.overload.enabled is off. */
  readonly overload: OverloadControl | undefined;
  /** Trunks' RFC 7339 feedback; undefined when sip.overload.trunkFeedback is off. */
  readonly trunkOverload: OverloadFeedback | undefined;
  readonly systemMedia: SystemMediaSettings;
  /** The built-in media relay (undefined with the rtpengine backend). */
  readonly relay: MediaRelay | undefined;
  readonly trunks: TrunkTable;
  /** Hunt groups and short codes as routing reads them (poll() after a store change for it to apply at once). */
  readonly featureTables: FeatureTables;
  readonly trunkRegistrar: TrunkRegistrar;
  /** Each trunk's state from its OPTIONS probes and registration (probing only on a lone server or worker 1). */
  readonly trunkHealth: TrunkHealth;
  readonly calls: CallEngine;
  /** Live extensions and calls (CLI status, web UI). */
  readonly status: StatusService;
  /** In a cluster: this worker's link, router and view of the others (undefined for a lone server). */
  readonly cluster: ClusterNode | undefined;
  /** SIP links to the other nodes sharing the store (undefined without node.peers). */
  readonly peers: PeerLinks | undefined;
  /** Extension detail and the status list of every extension (every worker's view on the management worker). */
  readonly extensions: ExtensionView;
  /** OPTIONS keepalive of this worker's UDP contacts (undefined when registrar.keepaliveSec is 0). */
  readonly prober: ContactProber | undefined;
  /** Message waiting indication (RFC 3842): this worker's message-summary subscriptions and unsolicited NOTIFYs. */
  readonly mwi: MwiService;
  /** The media server of this process: voicemail, IVR menus, conference rooms, music on hold (src/pbx/apps/). */
  readonly mediaServer: MediaServer;
  /** The handset gateway's calls (issue 15): the gateway component attaches its lines manager to it. */
  readonly gatewayCalls: GatewayCalls;
  /** The handset gateway (issue 15): `lines` once it runs (on a lone server or worker 1). */
  readonly gateway: GatewayComponent;
}

// The class carries its parts as properties (server.store, server.calls...):
// declared once in ServerParts, copied in by the constructor.
export interface Server extends ServerParts {}

/**
 * One Switchboard instance: a list of components started in order and
 * stopped in reverse (src/lib/components.ts). Nothing here is global: tests
 * start several in one process on their own ports and their own time.
 */
export class Server {
  /** Calls in progress, for metrics; tests replace it to drive the gauge. */
  activeCalls: () => number;
  /** The management web server (REST API); null when http.listen has port 0. */
  http: ApiServer | null = null;
  /** The provisioning server (phone files); null when provisioning.listen has port 0 or on a worker without singletons. */
  provisioning: ProvisioningServer | null = null;
  private initialAdminPassword: string | null = null;
  private readonly ops: Ops;
  private readonly reloadIdentity: () => Promise<CertificateSet>;
  private readonly tlsConsumers: TlsConsumer[];
  private readonly certificateWatch: CertificateWatch | undefined;
  private readonly startConfig: Config;
  /** One reload at a time: a request during one waits for it and runs after it. */
  private reloading: Promise<unknown> = Promise.resolve();
  /**
   * What a reload request from the control socket runs (`switchboard cert ...`
   * and the API's changes ask for one): `switchboard start` sets it to the
   * SIGHUP reload (config file re-read, log level); by default the identity
   * only, against the start's config.
   */
  requestReload: () => Promise<ReloadReport> = () => this.reload(this.startConfig);

  private constructor(
    parts: ServerParts,
    private readonly components: ComponentList,
    extra: ServerExtras,
  ) {
    Object.assign(this, parts);
    this.reloadIdentity = extra.reloadIdentity;
    this.tlsConsumers = extra.tlsConsumers;
    this.certificateWatch = extra.certificateWatch;
    this.startConfig = extra.startConfig;
    this.activeCalls = () => parts.calls.activeCount;
    if (parts.cluster) {
      parts.cluster.localMetrics = () => this.ops.metrics.registry.getMetricsAsJSON();
      parts.cluster.localSummary = () => this.workerSummary();
      parts.cluster.localLogs = () => extra.logRing.list();
    }
    const { config, transport, transactions, overload, location, guard, alarms, store, peers, trunkHealth, prober, mwi, gateway } = parts;
    const gatewayMetrics = () => gateway.lines && { ...gateway.lines.tally(), ...gateway.lines.counters };
    const voicemail = holdsSingletons(parts.cluster?.worker) ? () => mwi.totals : undefined;
    this.ops = createOps(
      { config, transport, transactions, overload, location, guard, registrations: store.registrations, storeProblem: () => store.problem(), alarms, syslog: extra.syslog, activeCalls: () => this.activeCalls(), peers, trunks: trunkHealth, prober, voicemail, gateway: gatewayMetrics },
      extra.writeBehind,
    );
  }

  /** What this process holds, as `switchboard status` and /api/status list each worker of a cluster. */
  workerSummary(): WorkerSummary {
    return {
      worker: this.cluster?.worker ?? 1,
      pid: process.pid,
      calls: this.calls.activeCount,
      bindings: this.location.count,
      connections: this.transport.connectionCount(),
      forwarded: this.cluster?.router.forwarded ?? 0,
      overload: overloadStatus(this.overload?.state, this.trunkOverload?.list() ?? []),
    };
  }

  static async start(opts: ServerOptions): Promise<Server> {
    // One plain line per component: the store names what it could not write (StoreWriteError), a stack adds nothing.
    const components = new ComponentList({
      onStopError: (name, err) => opts.logger.error({ component: name, code: (err as { code?: unknown }).code }, `${name} did not stop cleanly: ${(err as Error).message ?? String(err)}`),
    });
    try {
      return await compose(opts, components);
    } catch (err) {
      // Whatever started before the failure (listeners, the database) is released, newest first.
      await components.stop();
      throw err;
    }
  }

  /** @internal For compose(): the management routes need the server object before the last components start. */
  static create(parts: ServerParts, components: ComponentList, extra: ServerExtras): Server {
    return new Server(parts, components, extra);
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

  /** Prometheus text exposition of this server's metrics (every worker's, labelled, in a cluster); serve with metricsContentType. */
  metrics(): Promise<string> {
    return this.cluster ? this.cluster.metrics() : this.ops.metrics.render();
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

  /** Names of the running components in start order; they stop in reverse. */
  get componentNames(): string[] {
    return this.components.names;
  }

  /**
   * SIGHUP (issue 11 item 2): the TLS identity is read again (renewed when it
   * is due) and new handshakes on SIP and HTTPS use it, established
   * connections keep theirs; the settings in `next` that only a restart
   * applies are named. The log level is the caller's (it owns the logger).
   * Never stops anything. @throws when the identity cannot be loaded (the old one stays)
   */
  reload(next: Config): Promise<ReloadReport> {
    // Two at once (a SIGHUP and a CLI command) would race on the listeners: the later waits.
    const run = this.reloading.catch(() => undefined).then(() => this.reloadNow(next));
    this.reloading = run;
    return run;
  }

  private async reloadNow(next: Config): Promise<ReloadReport> {
    const identity = await this.reloadIdentity();
    const listeners = applyToConsumers(this.tlsConsumers, this.certificates, identity);
    this.certificates = identity;
    await this.certificateWatch?.check();
    return {
      fingerprint: identity.fingerprintSha256,
      renewed: identity.identityRenewed ? identity.identityReason : null,
      restartNeeded: settingsNeedingRestart(this.startConfig, next),
      listeners,
    };
  }

  /**
   * A listener that presents the TLS identity (the provisioning server's
   * HTTPS, for one): each reload hands it the new certificate set.
   */
  addTlsConsumer(consumer: TlsConsumer): void {
    this.tlsConsumers.push(consumer);
  }

  /** Stops every component; @throws naming what did not stop cleanly (after stopping the rest). */
  async stop(): Promise<void> {
    await this.components.stop();
    const failed = this.components.failedStops;
    if (failed.length > 0) throw new Error(`stopped with errors: ${failed.map((f) => `${f.name}: ${(f.err as Error).message ?? String(f.err)}`).join('; ')}`);
  }

  /** @internal Management component: the HTTP server and the first start's password. */
  attachHttp(http: ApiServer | null, initialAdminPassword: string | null): void {
    this.http = http;
    this.initialAdminPassword = initialAdminPassword;
  }

  /** @internal */
  closeMetrics(): void {
    this.ops.metrics.close();
  }
}

/**
 * Builds the parts in dependency order, then lists them as components: the
 * start order is the order of that list and stop() runs it backwards. Only
 * what must exist before anything can be built (syslog, the database, the
 * rtpengine socket) is opened up front, as the first components.
 */
async function compose(opts: ServerOptions, components: ComponentList): Promise<Server> {
  const { dataDir } = opts;
  // Settings saved through the API apply from the start after they were saved.
  const config = await configWithStoredSettings(opts.config, dataDir, opts.pinnedSettings ?? [], opts.logger);
  const sip = config.sip;
  const timers = opts.timers ?? new TimerQueue();
  const clock = opts.clock ?? (opts.timers ? opts.timers.clock : systemClock);
  const now = () => clock.now();
  const pollMs = opts.directoryPollMs;

  // Remote syslog first, so start-up messages reach the collector too, and last
  // to close, so the final line does. Its record timestamps stay on real time:
  // they say when a line was written, not where the server's clock stands.
  const syslog = config.log.syslog
    ? await components.open('syslog', () => createSyslogLogger(opts.logger, config.log.syslog!), (s) => s.close())
    : undefined;
  // Warnings and errors are also kept for the System page's log view, secrets replaced.
  const logRing = new LogRing(redact);
  const log = logRing.tee(syslog ?? opts.logger);
  components.add({ name: 'log', stop: () => log.info({}, 'stopped') });
  const alarms = new AlarmCenter({ log, now });
  const writeBehind = new WriteBehindWatch(alarms, now);

  const certificateOptions = { hostName: config.provisioning.fqdn ?? os.hostname(), ipAddresses: listenIps(config), sipDomain: sip.domain };
  const certificates = await ensureCertificates(dataDir, certificateOptions);
  // The identity the SIP listener presents now (a reload replaces it).
  let sipIdentity = certificates;
  if (certificates.identityRenewed) {
    log.info({ reason: certificates.identityReason, fingerprint: certificates.fingerprintSha256 }, 'TLS identity certificate issued');
  }
  for (const w of certificates.warnings) log.warn({ warning: w }, 'certificate warning');

  // Closing flushes the write-behind queue: every registration accepted so far survives the restart.
  const store = await components.open('store', () => openStoreAt(config.store.url, dataDir, {
    now,
    onError: (err) => {
      if (err instanceof StoreWriteError) {
        // Once when an outage starts and once a minute while it lasts (write-health.ts): no stack, the cause's code.
        log.error({ code: err.code }, err.message);
        writeBehind.failed(err);
      } else if (err instanceof StoreFileNotice) {
        log.warn({}, err.message);
      } else {
        log.error({ err }, 'store error');
      }
    },
    onWriteRecovered: (what, failedForMs) => {
      log.warn({ failedForSec: Math.round(failedForMs / 1000) }, `${what} go through again`);
      writeBehind.recovered();
    },
  }), (s) => s.close());
  const rtpengine = config.media.backend === 'rtpengine'
    ? await components.open('rtpengine', () => NgClient.open({ ...rtpengineAddress(config), logger: log }), (c) => c.close())
    : undefined;

  // The location index is built before the status feed and the call engine
  // that follow its changes (both read it), so they subscribe here once built.
  const bindingListeners: ((aor: string, bindings: readonly LiveBinding[]) => void)[] = [];
  // A worker of a cluster shares the SIP ports with the others and hands them
  // what is theirs over the link: messages of their transactions and dialogs,
  // bytes for their connections, and every registration change.
  const member = opts.cluster;
  let cluster: ClusterNode | undefined;
  const location = new LocationService(store.registrations, now, {
    onChange: (aor, bindings) => {
      for (const l of bindingListeners) l(aor, bindings);
    },
    onPublish: member && ((change) => cluster?.publishLocation(change)),
  });
  const directory = new Directory(store.users, log);
  const systemMedia = new SystemMediaSettings(config.media, store.admin.settings, log);

  const a = config.auth;
  const rule = (maxFailures: number) => ({ maxFailures, windowMs: a.windowSec * 1000, banMs: a.banSec * 1000 });
  // Addresses where each user authenticated: its allow-list when it is under attack, kept across restarts.
  let trustErrorLoggedAt = -Infinity;
  const trustRecorder = new TrustRecorder(store.admin.trustedSources, {
    now,
    onError: (err) => {
      if (now() - trustErrorLoggedAt < 60_000) return;
      trustErrorLoggedAt = now();
      log.error({ err: err.message }, 'could not write the addresses users authenticated from (retrying)');
    },
  });
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
    onTrusted: (ip, username) => trustRecorder.add('sip', username, ip),
    // Read once per ban, after the packet that tripped it (SQLite answers synchronously).
    loadAllowList: async (username) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return (await store.admin.trustedSources.list('sip', username, trustRecorder.since())).map((x) => x.address);
    },
    loadAllowedUsers: async (ip) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return store.admin.trustedSources.subjectsAt('sip', ip, trustRecorder.since(), ALLOWED_USERS_PER_ADDRESS);
    },
  });
  const digest = new DigestServer({ realm: a.realm ?? sip.domain, nonceTtlMs: a.nonceTtlSec * 1000, algorithms: a.algorithms, now, secret: opts.cluster?.secret });
  // Each user's last refusals and last sighting in this worker (the extension detail).
  const health = new RegistrationHealth(now);
  // Trusted servers (D-06): read before the TLS listener starts, which asks for client certificates while the list is not empty.
  const trustedPeers = new TrustedPeers(sip.trustedPeers, store.admin.settings, log, (active) => {
    const sipTls = sipTlsOptions(config, sipIdentity, active);
    transport.setTlsOptions(sipTls.tlsServerOptions, sipTls.tlsClientOptions);
    log.info({ requestClientCertificates: active }, active
      ? 'SIP TLS listener: asking new connections for client certificates (trusted peers); connections already open stay unverified'
      : 'SIP TLS listener: no trusted peers, client certificates no longer asked for');
  });
  await trustedPeers.poll();
  // Once per connection (its TlsPeer lives as long as it does): which trusted server speaks over it.
  const peersLogged = new WeakSet<TlsPeer>();
  const authenticator = new Authenticator(digest, guard, directory, healthObserver(health, now), (source) => {
    const name = trustedPeers.match(source.tlsPeer);
    if (name !== undefined && !peersLogged.has(source.tlsPeer!)) {
      peersLogged.add(source.tlsPeer!);
      log.info({ peer: name, address: source.address, port: source.port }, 'trusted server connected over mutual TLS: its requests need no digest');
    }
    return name;
  });
  const transportPolicy = new TransportPolicy(sip.strictSips, sip.localNetworks);
  const transportRefusal = (user: User | undefined, inbound: Inbound): string | undefined =>
    transportPolicy.refusal(inbound.source.transport, inbound.source.address, (user?.media.transport ?? systemMedia.current.transport) === 'tls');
  const node = nodeName(config);
  const registrar = new Registrar({ ...config.registrar, domain: sip.domain, node }, location, authenticator, now, transportRefusal, (source) => transport.trustFlow(source));
  // A removed or disabled user keeps no registrations: nothing may be routed to them.
  directory.onUserChanged = (extension, user) => {
    if (!user || !user.enabled) location.removeAll(registrar.aorFor(extension));
    if (!user) health.forget(extension);
  };

  // Each process (each worker of a cluster) cuts its caps from its own open-file limit.
  const fileLimit = openFileLimit();
  const caps = connectionCaps(fileLimit.soft, sip.limits);
  log.info({ ...caps, hardFileLimit: fileLimit.hard, raisedBy: fileLimit.raised }, 'connection budget');
  const transportSettings = transportConfig(config, certificates, alarms, log, caps, trustedPeers.active);
  const transport = new TransportLayer({
    ...transportSettings,
    onProblem: (kind, detail, source) => {
      transportSettings.onProblem?.(kind, detail, source);
      if (kind === 'tls-handshake') tlsFailed(health, source, detail);
    },
    reusePort: member !== undefined,
    remoteConnections: member && {
      send: (owner, data, dest, fallback) => cluster?.sendOver(owner, data, dest, fallback),
    },
  });
  // The transaction layer hands requests to the user-agent core, whose handlers
  // (registrar, call engine) are added once those exist; requests only flow
  // once the transport starts, after everything is built.
  const core = pbxCore();
  // A wait in the socket is real even when the server's time is not: the overload control runs on its own real-time queue.
  const overloadTimers = opts.overloadTimers ?? new TimerQueue();
  const oc = sip.overload;
  const overload = oc.enabled
    ? new OverloadControl({
      timers: overloadTimers,
      sampleMs: oc.sampleMs,
      maxDelayMs: oc.maxDelayMs,
      retryAfterSec: oc.retryAfterSec,
      ocValidityMs: oc.ocValidityMs,
      sendProbe: (callId) => {
        const local = transport.localEndpoint('udp');
        if (local === undefined) return false;
        return transport.sendOwn(probeRequest(callId, local), local);
      },
    })
    : undefined;
  const trunks = new TrunkTable(store.trunks, log);
  // Requests from a trunk peer or another node of ours carry no credentials: both are trusted by address.
  let peers: PeerLinks | undefined;
  // Their connections keep their slots when connections run short, as a registered phone's do.
  const trusted = {
    fromSource: (source: Endpoint) => {
      const known = trunks.fromSource(source) ?? peers?.fromSource(source);
      if (known !== undefined) transport.trustFlow(source);
      return known;
    },
    invite: (req: Parameters<GatewayCalls['fromUpstream']>[0], inbound: Inbound) => gatewayCalls.fromUpstream(req, inbound),
  };
  const transactions = new TransactionLayer({
    sender: transport,
    timers,
    clock,
    t1: sip.timers.t1Ms,
    t2: sip.timers.t2Ms,
    t4: sip.timers.t4Ms,
    admission: overload,
    screen: pbxScreen(core, authenticator, trusted, (req, inbound, rejection) => calls.authFailed(req, inbound, rejection)),
    onRequest: core.onRequest,
  });
  core.transactions = transactions;
  // What this process takes in: the overload probe is its own (it measured the wait), the rest goes to the transactions.
  const deliver = overload === undefined
    ? (inbound: Inbound) => transactions.receive(inbound)
    : (inbound: Inbound) => {
      if (!overload.isProbe(inbound.message)) transactions.receive(inbound);
    };
  transport.onInbound = deliver;
  // The probes (this worker's or another's) are not SIP traffic: not in the message counters.
  if (overload !== undefined) transport.isOwnMessage = isProbeShaped;

  const r = config.media.relay;
  // The relay keeps its own (real) clock: re-latching measures gaps between packets that really arrive.
  // Each worker of a cluster relays on its own slice of the port range.
  const ports = member ? clusterRelayPorts(r.portMin, r.portMax, member.worker, member.workers) : { portMin: r.portMin, portMax: r.portMax };
  const relay = config.media.backend === 'builtin'
    ? new MediaRelay({ host: r.host, advertiseAddress: r.advertisedAddress ?? mediaAddress(config), ...ports }, { logger: log })
    : undefined;
  if (relay !== undefined) {
    const engine = srtpEngine();
    log.info({ engine: engine.name, why: engine.why }, `media relay: SRTP engine ${engine.name}`);
  }
  const featureTables = new FeatureTables(store, log);
  const localEndpoint = (t: Endpoint['transport']) => transport.localEndpoint(t);
  const n = config.node;
  peers = n.peers.length === 0 ? undefined : new PeerLinks({
    self: node, peers: n.peers, keepaliveMs: n.keepaliveSec * 1000, domain: sip.domain, transactions, timers, now, log, localEndpoint,
    onState: (l) => (l.state === 'down' ? alarms.peerLinkDown(l.uri, l.node, l.reason) : l.state === 'up' ? alarms.peerLinkUp(l.uri) : undefined),
  });
  const trunkRegistrar = new TrunkRegistrar({ transactions, timers, log, now, localEndpoint });
  // One worker probes (the one that registers and raises the alarms); the others learn the down set over the link.
  const trunkHealth = new TrunkHealth({
    config: config.trunkHealth, transactions, timers, log, now, domain: sip.domain, localEndpoint, registrations: () => trunkRegistrar.status(),
    onTransition: (t) => alarms.trunkState(t.trunk, t.state, t.reason),
    onRemoved: (name) => alarms.trunkState(name, 'removed', ''),
    onDownSet: (down) => {
      trunks.setDown(down);
      cluster?.publishTrunksDown(down);
    },
    onChange: (t) => status.trunkChanged(t),
  });
  trunkRegistrar.onChange = () => trunkHealth.registrationsChanged();
  // On the calls' clock: a trunk's oc-validity runs out on the same time as the calls it limits.
  const trunkOverload = oc.trunkFeedback ? new OverloadFeedback(timers.clock) : undefined;
  // The media server (issue 13): voicemail, IVR menus, conference rooms and
  // music on hold, answering calls the engine routes to it; its endpoints
  // take ports from the relay's pool (a pool of their own with rtpengine).
  const mediaServer = new MediaServer({
    log, timers, clock, now, domain: sip.domain,
    // Where the B2BUA's UDP socket is bound (not the address it advertises): the media server binds beside it.
    server: () => {
      const udp = transport.localEndpoint('udp');
      return udp && { address: config.sip.udp.host, port: udp.port };
    },
    pool: relay?.pool ?? new PortPool({ host: r.host, ...ports }),
    advertiseAddress: relay?.advertiseAddress ?? r.advertisedAddress ?? mediaAddress(config) ?? r.host,
    suites: config.media.suites,
    voicemail: store.voicemail,
    voicemailConfig: config.voicemail,
    users: store.users,
    directory,
    audioFiles: store.audioFiles,
    tables: featureTables,
    mediaClock: opts.mediaClock,
  });
  // Issue 15: handset calls go upstream through their lines (the gateway component attaches its lines manager).
  const gatewayCalls: GatewayCalls = new GatewayCalls({
    directory, localEndpoint, log, media: () => systemMedia.current,
    callsOf: (ext): number => calls.callsOf(ext), maxCallsPerUser: () => config.calls.maxCallsPerUser,
  });
  const calls = new CallEngine({
    ctx: {
      settings: { domain: sip.domain, ...config.calls, defaultCodecs: config.calls.codecs },
      transactions,
      sender: transport,
      timers,
      log,
      now,
      commonHeaders: {
        allow: core.allowHeader,
        supported: core.supportedHeader,
      },
      trunkOverload,
    },
    directory,
    location,
    authenticator,
    trunks,
    cdrs: store.cdrs,
    aorFor: (ext) => registrar.aorFor(ext),
    media: { system: () => systemMedia.current, relay, rtpengine },
    transportRefusal,
    trustFlow: (source) => transport.trustFlow(source),
    localEndpoint,
    dialogs: core.dialogs,
    huntGroups: featureTables,
    shortCodes: featureTables,
    users: store.users,
    peers,
    apps: { routing: mediaServer.routing, numbers: mediaServer.numbers, musicOnHold: () => config.calls.musicOnHold },
    firstStages: [gatewayCalls.stage],
    handedOver: (req, inbound, targets) => gatewayCalls.handedOver(req, inbound, targets),
  });
  calls.subscribe(gatewayCalls.onCall);
  calls.hooks.refer = upstreamRefer(() => gatewayCalls.lines, () => calls.ctx, calls.hooks.refer, (key) => calls.legByDialog(key));
  servePbx(core, registrar, calls, peers);
  const vm = config.voicemail;
  const mwi = new MwiService({
    voicemail: store.voicemail, userByExtension: (ext) => directory.byExtension(ext), aorFor: (ext) => registrar.aorFor(ext),
    transactions, timers, dialogs: core.dialogs, domain: sip.domain, localEndpoint, voicemailNumber: vm.number, log,
    limits: { minExpiresSec: vm.mwiMinExpiresSec, maxExpiresSec: vm.mwiMaxExpiresSec, defaultExpiresSec: vm.mwiDefaultExpiresSec },
  });
  // A gateway user's mailbox is upstream: every worker's notifier answers its phones from there (issue 15 item 4).
  mwi.addCountsSource(gatewayCountsSource(store.gateway));
  serveMwi(core, authenticator, mwi);
  // SIGTERM drains (issue 11 item 2): every call ends with a BYE the phones
  // see (not a 481 after the restart), and the answers are awaited briefly
  // while the transport still runs; what stays unanswered is said. Again
  // later, it finds nothing left to end.
  const drainCalls = async (): Promise<void> => {
    const ended = calls.activeCount;
    calls.close();
    if (ended === 0) return;
    const deadline = Date.now() + DRAIN_MS;
    while (transactions.awaitingAnswers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const unanswered = transactions.awaitingAnswers;
    if (unanswered === 0) log.info({ calls: ended }, `ended ${ended} call(s) at shutdown; every BYE answered`);
    else log.warn({ calls: ended, unanswered }, `ended ${ended} call(s) at shutdown; ${unanswered} request(s) unanswered after ${DRAIN_MS} ms`);
  };
  const status = new StatusService({
    directory, location, calls, trunkHealth, peers, now,
    overload: () => overloadStatus(overload?.state, trunkOverload?.list() ?? []),
    aorFor: (ext) => registrar.aorFor(ext),
    mediaSecurity: (user) => user?.media.security ?? systemMedia.current.security,
  });
  bindingListeners.push((aor) => status.bindingsChanged(aor), (aor, bindings) => calls.bindingsChanged(aor, bindings));
  const prober = contactProber(config.registrar, { transactions, timers, now, localEndpoint, domain: sip.domain });
  followBindings(prober, registrar, bindingListeners);
  const probeBinding = registrar.onLocalBinding;
  // B-14: a gateway user's handset model and firmware from its User-Agent (aor = sip:<extension>@<domain>).
  const handsets = new HandsetRecorder({ repo: store.gateway, now, log });
  registrar.onLocalBinding = (b) => {
    probeBinding?.(b);
    mwi.localBinding(b);
    if (b.userAgent !== null) handsets.registered(b.aor.slice(b.aor.indexOf(':') + 1, b.aor.indexOf('@')), b.userAgent);
  };
  bindingListeners.push((aor, bindings) => mwi.bindingsChanged(aor, bindings));
  const reportHealth = localReporter({
    health, prober, calls, status, now, aorFor: (ext) => registrar.aorFor(ext), registered: (ext) => location.isRegistered(registrar.aorFor(ext)),
    conferences: () => mediaServer.conferences.list(), worker: member?.worker,
  });
  // Issue 15: a gateway user's calls, and calls to a line, are taken by the worker that runs the lines.
  const gatewayRoster = member && new GatewayRoster({ repo: store.gateway, pollMs });
  if (member) {
    cluster = new ClusterNode({
      worker: member.worker, workers: member.workers, dataDir, log, now,
      transport, deliver, location, calls, featureTables, directory, status, guard, trunks,
      pinned: (req) => (gatewayRoster!.concerns(req.from.uri.user, req.uri.user) ? SINGLETONS_WORKER : 0),
    });
    cluster.localHealth = reportHealth;
    // Every message first goes to the worker that owns it (the probe of another worker's overload control too).
    transport.onInbound = (inbound) => cluster!.router.receive(inbound);
  }
  const extensions = new ExtensionView({
    directory, location, status, cdrs: store.cdrs, voicemail: store.voicemail, now, aorFor: (ext) => registrar.aorFor(ext),
    gather: async <T>(q: Parameters<typeof reportHealth>[0]) => (cluster ? cluster.health<T>(q) : [reportHealth(q) as T]),
  });
  // Administrator logins are served (and so locked) by the management server only: a lone server or worker 1.
  const limiter = new LoginLimiter(config.http.lockout, now);
  const bans = new BanBoard(cluster?.sipBans ?? localSipBans(guard), limiter);
  // `switchboard bans lift` (the control socket; in a cluster the supervisor asks worker 1): logged and audited like a reset-password.
  const commandLineBans: ControlBans = {
    list: () => bans.list(),
    lift: async (target) => {
      const lifted = await bans.lift(target);
      if (lifted > 0) {
        log.info({ target, lifted }, 'ban lifted from the command line');
        await store.admin.audit.append({ at: now(), actor: '-', sourceIp: null, action: 'lift ban (command line)', target: banAuditTarget(target), before: target, after: null });
      }
      return lifted;
    },
  };
  // The Server object exists once the components below have started; a reload asked before that is refused.
  let started: Server | undefined;
  const control = new ControlSocket(controlSocketPath(dataDir), () => ({ status: status.snapshot() }), log, commandLineBans, (ext) => extensions.detail(ext), () => {
    if (!started) throw new Error('the server is still starting');
    return started.requestReload();
  }, () => siteAddresses(config), () => config);
  // Expiry and clock alarms (EC-12): by the worker that raises the alarms shown (a lone server, or worker 1).
  const certificateWatch = holdsSingletons(member?.worker)
    ? new CertificateWatch({ dataDir, site: () => siteAddresses(config), now, timers, alarms, log, devices: store.devices })
    : undefined;
  // The handset gateway (issue 15): the process holding the singletons registers the lines; answers to its requests come back to it.
  const gateway = new GatewayComponent({
    dataDir, repo: store.gateway, transactions, dialogs: core.dialogs, flows: transport, timers, now, log, alarms, localEndpoint, certificates, pollMs,
    hops: new ProxyHops(createSipResolver({ now, maxCacheSec: 3600, negativeCacheSec: 30 }), now, log),
    handsetRegistered: (ext) => location.isRegistered(registrar.aorFor(ext)),
  });

  // Every listener that presents the identity; a reload hands each the new set (Server.addTlsConsumer adds more).
  const tlsConsumers: TlsConsumer[] = [{
    name: 'SIP TLS',
    // A-17: the telephony identity when there is one.
    fingerprint: (set) => set.telephony?.fingerprintSha256 ?? set.fingerprintSha256,
    apply: (set) => {
      sipIdentity = set;
      const sipTls = sipTlsOptions(config, set, trustedPeers.active);
      transport.setTlsOptions(sipTls.tlsServerOptions, sipTls.tlsClientOptions);
      // The gateway's lines are SIP TLS clients with the same identity (MTLS, D-06) and the same trusted CAs.
      gateway.certificatesChanged(set);
    },
  }];

  let restored = 0;
  const heapTrim = opts.trimHeap
    ? new HeapTrim({
      onTrim: (before, after, pauseMs) => log.info({
        rssBefore: before.rss, rssAfter: after.rss, heapBefore: before.heapTotal, heapAfter: after.heapTotal, pauseMs: Math.round(pauseMs),
      }, 'freed heap handed back to the system'),
    })
    : undefined;
  let otherNodes: ChangeWatcher | undefined;
  let sweep: TimerHandle | undefined;
  let writeBehindCheck: NodeJS.Timeout | undefined;
  let heapCheck: NodeJS.Timeout | undefined;
  // Stop order is this list backwards: calls end (their parties hear a BYE and
  // their records reach the store) while the transport still runs, trunks
  // unregister before it closes, the timers go after the transactions.
  components.add(
    { name: 'timers', stop: () => timers.close() },
    // Stops after the transport (nothing new to record), before the store closes.
    { name: 'trusted addresses', stop: () => trustRecorder.close() },
    { name: 'transactions', stop: () => transactions.close() },
    {
      // Started before the load so no write of another node sharing the
      // database (PostgreSQL) falls in between; it waits for the load.
      name: 'location',
      start: async () => {
        const loading = location.load();
        // Workers sharing one SQLite file learn each other's registrations over their link, at once;
        // only other nodes (on a shared PostgreSQL) need the store's feed.
        if (member !== undefined && !isPostgresUrl(config.store.url)) {
          restored = await loading;
          return;
        }
        otherNodes = store.registrations.watch(async (aors) => {
          await loading;
          const t = now();
          for (const aor of aors) location.mirror(aor, await store.registrations.loadAor(aor, t));
        }, { intervalMs: pollMs });
        restored = await loading;
      },
      stop: () => otherNodes?.stop(),
    },
    // The directory, media settings and trunk table poll the store on real
    // time: they pick up what other processes wrote, which no manual clock knows of.
    { name: 'directory', start: () => directory.start(pollMs), stop: () => directory.stop() },
    { name: 'media settings', start: () => systemMedia.start(pollMs ?? 1000), stop: () => systemMedia.stop() },
    { name: 'trusted peers', start: () => trustedPeers.start(pollMs ?? 1000), stop: () => trustedPeers.stop() },
    { name: 'trunk table', start: () => trunks.start(pollMs), stop: () => trunks.stop() },
    { name: 'hunt groups and short codes', start: () => featureTables.start(pollMs), stop: () => featureTables.stop() },
    // A worker of a cluster, before the listeners: its first calls are placed knowing the gateway users.
    { name: 'gateway roster', start: () => gatewayRoster?.start(), stop: () => gatewayRoster?.stop() },
    { name: 'relay', stop: () => relay?.close() },
    // The link is up before the listeners, so a worker never refuses what another hands it.
    { name: 'worker link', start: () => cluster?.start(), stop: () => cluster?.stop() },
    {
      // The users and bindings are loaded, their garbage is behind us; and no
      // socket listens yet, so the pause is no queue for the overload control
      // to shed from (it would turn away the first phones after every start).
      name: 'heap trim',
      start: () => heapTrim?.trimNow(),
    },
    { name: 'transport', start: () => transport.start(), stop: () => transport.stop() },
    {
      // Its probes go through the listening UDP socket.
      name: 'overload control',
      start: () => overload?.start(),
      stop: () => {
        overload?.stop();
        overloadTimers.close();
      },
    },
    { name: 'peer links', start: () => peers?.start(), stop: () => peers?.stop() },
    { name: 'contact probes', start: () => prober?.start(), stop: () => prober?.stop() },
    {
      // Registrations to trunks start once the listeners are up, and follow every trunk change.
      name: 'trunk registrations',
      start: () => {
        if (!holdsSingletons(member?.worker)) return;
        trunks.onReload = (entries) => {
          trunkRegistrar.sync(entries);
          trunkHealth.sync(entries);
        };
        trunkRegistrar.sync(trunks.list());
        trunkHealth.sync(trunks.list());
      },
      stop: () => {
        trunks.onReload = undefined;
        trunkHealth.stop();
        trunkRegistrar.stop();
      },
    },
    {
      name: 'gateway lines',
      start: async () => {
        if (!holdsSingletons(member?.worker)) return;
        await gateway.start();
        const lines = gateway.lines!;
        gatewayCalls.attach(lines);
        control.gateway = gatewayControl(lines);
      },
      stop: () => {
        gatewayCalls.attach(undefined);
        return gateway.stop();
      },
    },
    {
      // Every worker follows the mailboxes (its subscriptions and phones may be anyone's); NOTIFYs need the transport.
      name: 'mwi',
      start: () => mwi.start(pollMs, holdsSingletons(member?.worker)),
      stop: () => mwi.close(),
    },
    // After the listeners (it binds beside the UDP one); stopped once the calls have drained.
    { name: 'media server', start: () => mediaServer.start(), stop: () => mediaServer.stop() },
    { name: 'calls', stop: drainCalls },
    { name: 'status', stop: () => status.close() },
    {
      name: 'certificate alarms',
      start: () => certificateWatch?.start(),
      stop: () => certificateWatch?.stop(),
    },
    // In a cluster the supervisor answers on the control socket, asking each worker.
    { name: 'control socket', start: () => (member ? undefined : control.start().then(() => {})), stop: () => control.stop() },
    {
      // Expiry is feature logic: on the injected timers, so manual time sweeps
      // too. The write-behind queue is real I/O, so it is looked at on real time.
      name: 'sweeper',
      start: () => {
        const tick = () => {
          location.sweep();
          alarms.sweep();
          sweep = timers.schedule(SWEEP_MS, tick);
        };
        sweep = timers.schedule(SWEEP_MS, tick);
        writeBehindCheck = setInterval(() => writeBehind.check(store.registrations.pending), SWEEP_MS);
        writeBehindCheck.unref();
        if (heapTrim) {
          // Never while a call is up: the pause (up to ~1 s) would be a gap in the media this process relays.
          heapCheck = setInterval(() => {
            // The trim's pause queued the overload probes: no load to shed for.
            if (calls.activeCount === 0 && heapTrim.check()) overload?.excusePause();
          }, SWEEP_MS);
          heapCheck.unref();
        }
      },
      stop: () => {
        timers.cancel(sweep);
        clearInterval(writeBehindCheck);
        clearInterval(heapCheck);
      },
    },
  );
  await components.start();
  log.info({ restoredBindings: restored, users: directory.size }, 'state restored');

  const server = Server.create({
    config, clock, timers, certificates, store, alarms, guard, bans, commandLineBans, directory, location, transport, transactions, overload, trunkOverload,
    systemMedia, relay, trunks, featureTables, trunkRegistrar, trunkHealth, calls, status, cluster, peers, extensions, prober, drainCalls, mwi, mediaServer, gateway, gatewayCalls,
  }, components, {
    syslog,
    writeBehind,
    logRing,
    startConfig: opts.config,
    reloadIdentity: async () => {
      const fresh = await ensureCertificates(dataDir, certificateOptions);
      log.info({ fingerprint: fresh.fingerprintSha256, renewed: fresh.identityRenewed ? fresh.identityReason : undefined }, 'TLS identity reloaded');
      return fresh;
    },
    tlsConsumers,
    certificateWatch,
  });
  // The management routes read the server's parts (status, metrics, provisioning), so they come last and close first.
  components.add(
    { name: 'metrics', stop: () => server.closeMetrics() },
    {
      // Phone files (issue 14): one listener, like the management server, on a lone server or worker 1.
      name: 'provisioning',
      start: async () => {
        if (!holdsSingletons(member?.worker) || config.provisioning.listen.port === 0) return;
        const provisioning = await startProvisioningServer({
          config, store, certificates: server.certificates, dataDir, log, now, maxConnections: caps.httpConnections,
          site: (provisioningPorts, identity) => buildSite({
            config, media: () => systemMedia.current, certificates: () => identity, provisioningPorts: () => provisioningPorts,
            sipPorts: () => Object.fromEntries(transport.listening().map((l) => [l.transport, l.port])),
          }),
        });
        server.provisioning = provisioning;
        server.addTlsConsumer({ name: 'HTTPS provisioning', fingerprint: (set) => set.fingerprintSha256, apply: (set) => provisioning.setIdentity(set) });
      },
      stop: () => server.provisioning?.close(),
    },
    {
      name: 'management',
      start: async () => {
        if (!holdsSingletons(member?.worker)) return;
        const mgmt = await startManagement({
          config, baseConfig: opts.config, pinnedSettings: opts.pinnedSettings ?? [], store, admin: store.admin, systemMedia, limiter, bans,
          certificates, log, now, extraRoutes: [...builtInRoutes(server, now), gatewayStatusRoutes(() => gateway.lines), ...(opts.httpRoutes ?? [])], maxConnections: caps.httpConnections,
          system: systemSource(server, { dataDir, logRing, caps, node, startedAt: now(), workers: member?.workers ?? 1 }),
        });
        server.attachHttp(mgmt?.http ?? null, mgmt?.initialAdminPassword ?? null);
        if (mgmt && !config.http.allowHttp) {
          server.addTlsConsumer({ name: 'HTTPS management', fingerprint: (set) => set.fingerprintSha256, apply: (set) => mgmt.http.setTls(managementTls(set)) });
        }
      },
      stop: () => server.http?.close(),
    },
  );
  await components.start();
  started = server;
  return server;
}

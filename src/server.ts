import os from 'node:os';
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
import { describeTlsError, parseClientHello, tlsServerOptions } from './security/tls-policy.ts';
import { openStore } from './store/sqlite/database.ts';
import type { Store } from './store/types.ts';
import { Directory } from './pbx/directory/directory.ts';
import { LocationService } from './pbx/registrar/location.ts';
import { Registrar } from './pbx/registrar/registrar.ts';
import { Authenticator } from './pbx/auth/authenticator.ts';
import { handleRequest } from './pbx/requests.ts';
import type { RequestContext } from './pbx/requests.ts';

export interface ServerOptions {
  config: Config;
  dataDir: string;
  logger: Logger;
  /** Directory poll period; tests shorten it. */
  directoryPollMs?: number;
}

/**
 * One Switchboard instance, composed from its parts at start-up. Nothing here
 * is global: tests start several in one process on their own ports.
 */
export class Server {
  private constructor(
    readonly config: Config,
    readonly transport: TransportLayer,
    readonly transactions: TransactionLayer,
    readonly store: Store,
    readonly directory: Directory,
    readonly location: LocationService,
    readonly guard: AuthGuard,
    readonly certificates: CertificateSet,
    private readonly timers: TimerQueue,
    private readonly sweeper: NodeJS.Timeout,
    private readonly log: Logger,
  ) {}

  static async start(opts: ServerOptions): Promise<Server> {
    const { config, dataDir, logger: log } = opts;
    const sip = config.sip;
    const clock = systemClock;
    const now = () => clock.now();

    const certificates = await ensureCertificates(dataDir, {
      hostName: os.hostname(),
      ipAddresses: listenIps(config),
      sipDomain: sip.domain,
    });
    if (certificates.identityRenewed) {
      log.info({ reason: certificates.identityReason, fingerprint: certificates.fingerprintSha256 }, 'TLS identity certificate issued');
    }
    for (const w of certificates.warnings) log.warn({ warning: w }, 'certificate warning');

    const store = openStore(dataDir, { onError: (err) => log.error({ err }, 'registration write-behind failed') });
    const directory = new Directory(store.users, log);
    directory.start(opts.directoryPollMs);
    const location = new LocationService(store.registrations, now);
    const restored = location.load();

    const a = config.auth;
    const rule = (maxFailures: number) => ({ maxFailures, windowMs: a.windowSec * 1000, banMs: a.banSec * 1000 });
    const guard = new AuthGuard({
      now,
      pair: rule(a.pairFailures),
      user: rule(a.userFailures),
      ip: rule(a.sourceFailures),
      onBan: (ban) => log.warn({ ban }, 'authentication failures: temporary ban'),
    });
    const digest = new DigestServer({ realm: a.realm ?? sip.domain, nonceTtlMs: a.nonceTtlSec * 1000, algorithms: a.algorithms, now });
    const authenticator = new Authenticator(digest, guard, directory);
    const registrar = new Registrar({ ...config.registrar, domain: sip.domain }, location, authenticator, now);
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
      describeHandshakeError: (err, hello) =>
        describeTlsError(err, { clientHello: hello ? parseClientHello(hello) : null, legacyTls: sip.legacyTls }),
      logger: log,
    });
    const timers = new TimerQueue();
    const requestContext: RequestContext = {
      registrar,
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
    transport.onInbound = (inbound) => transactions.receive(inbound);
    try {
      await transport.start();
    } catch (err) {
      directory.stop();
      store.close();
      throw err;
    }
    const sweeper = setInterval(() => location.sweep(), 5_000);
    sweeper.unref();
    log.info({ restoredBindings: restored, users: directory.size }, 'state restored');
    return new Server(config, transport, transactions, store, directory, location, guard, certificates, timers, sweeper, log);
  }

  /** Listening endpoints with their real ports. */
  listening(): { transport: string; address: string; port: number }[] {
    return this.transport.listening();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    await this.transport.stop();
    this.directory.stop();
    this.transactions.close();
    this.timers.close();
    // Flushes the write-behind queue: every registration accepted so far survives the restart.
    this.store.close();
    this.log.info({}, 'stopped');
  }
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
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (!i.internal) ips.add(i.address.split('%')[0]!);
  }
  return [...ips];
}

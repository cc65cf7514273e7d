// Composition of the operations parts for one Server: metrics and health read
// from the parts the server already has; nothing here runs on the SIP path.
import type { Config } from '../config/schema.ts';
import type { TransportLayer } from '../sip/transport/layer.ts';
import type { TransactionLayer } from '../sip/transaction/layer.ts';
import type { OverloadControl } from '../sip/overload.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import type { LocationService } from '../pbx/registrar/location.ts';
import type { RegistrationRepository } from '../store/types.ts';
import type { AlarmCenter } from './alarms.ts';
import { health } from './health.ts';
import type { HealthReport } from './health.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import type { SyslogLogger } from './syslog.ts';

export interface OpsParts {
  config: Config;
  transport: TransportLayer;
  transactions: TransactionLayer;
  /** Undefined while overload control is off. */
  overload: OverloadControl | undefined;
  location: LocationService;
  guard: AuthGuard;
  registrations: RegistrationRepository;
  /** Why the database cannot take writes now (Store.problem). */
  storeProblem: () => string | undefined;
  alarms: AlarmCenter;
  syslog: SyslogLogger | undefined;
  /** Links to the other nodes; undefined without node.peers. */
  peers?: { list(): { uri: string; node: string | null; state: string }[] } | undefined;
  /** OPTIONS keepalive of UDP contacts; undefined while it is off. */
  prober?: { stats(): Readonly<Record<string, number>> } | undefined;
  /** The call engine's count (read at scrape time). */
  activeCalls: () => number;
  /** Trunk health: each trunk's state and its failures since start (empty where nothing probes). */
  trunks?: { status(): { trunk: string; state: string }[]; failures: ReadonlyMap<string, { down: number; refused: number }> };
  /** Voicemail messages by folder (one worker of a cluster reports them: they are the store's, not the worker's). */
  voicemail?: () => { new: number; saved: number } | undefined;
  /** The gateway's lines (where they run). */
  gateway?: () => { registered: number; failed: number; total: number; registrationsSent: number; failovers: number } | undefined;
}

/**
 * Tracks registration write-behind failures: the store reports them through
 * onError; the queue draining (seen by the server's sweeper) ends them.
 */
export class WriteBehindWatch {
  failingSince: number | undefined;

  constructor(private readonly alarms: AlarmCenter, private readonly now: () => number) {}

  failed(err: Error): void {
    this.failingSince ??= this.now();
    this.alarms.writeBehindFailed(err);
  }

  /** Writes go through again (the store's first successful write after the outage). */
  recovered(): void {
    if (this.failingSince === undefined) return;
    this.failingSince = undefined;
    this.alarms.writeBehindRecovered();
  }

  /** Call periodically with the queue length. */
  check(pending: number): void {
    if (pending === 0) this.recovered();
  }
}

export interface Ops {
  metrics: Metrics;
  health(): HealthReport;
}

export function createOps(p: OpsParts, watch: WriteBehindWatch): Ops {
  const metrics = createMetrics({
    registrations: () => ({ bindings: p.location.count, aors: p.location.aorCount }),
    activeCalls: p.activeCalls,
    transactions: () => p.transactions.counters,
    overload: () => p.overload?.state,
    transport: () => ({ stats: p.transport.stats, messages: p.transport.messages, connections: p.transport.connectionCount() }),
    auth: () => p.guard.stats(),
    alarms: () => p.alarms.counts(),
    writeBehindPending: () => p.registrations.pending,
    syslog: p.syslog ? () => p.syslog?.stats : undefined,
    peers: p.peers ? () => p.peers!.list() : undefined,
    trunks: p.trunks,
    probes: p.prober ? () => p.prober!.stats() : undefined,
    voicemail: p.voicemail,
    gateway: p.gateway,
  });
  const sip = p.config.sip;
  const expectedListeners = (['udp', 'tcp', 'tls'] as const).filter((t) => sip[t].port !== 0);
  return {
    metrics,
    health: () =>
      health({
        expectedListeners,
        listening: () => p.transport.listening(),
        database: p.storeProblem,
        writeBehind: () => ({ pending: p.registrations.pending, failingSince: watch.failingSince }),
      }),
  };
}

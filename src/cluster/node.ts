// One worker's part in a cluster, composed in one place: the link to the
// other workers, the router that hands them their messages, the registration
// changes and call activity they must see, and where new requests go.
import type { LogLine } from '../lib/log-ring.ts';
import type { Endpoint, SipRequest } from '../sip/message.ts';
import type { TransportLayer } from '../sip/transport/layer.ts';
import type { Inbound } from '../sip/transport/types.ts';
import type { Logger } from '../lib/log.ts';
import type { LocationChange, LocationService } from '../pbx/registrar/location.ts';
import type { CallEngine } from '../pbx/call/engine.ts';
import type { FeatureTables } from '../pbx/routing/feature-tables.ts';
import type { TrunkTable } from '../pbx/trunks/trunk-table.ts';
import type { Directory } from '../pbx/directory/directory.ts';
import type { StatusService, StatusSnapshot } from '../pbx/status/status.ts';
import type { WorkerSummary } from '../pbx/status/control-socket.ts';
import type { ActiveBan, AuthGuard } from '../security/auth-guard.ts';
import type { HealthQuery } from '../pbx/status/extension-report.ts';
import type { SipBanSource } from '../security/bans.ts';
import { ClusterStatus, mergeOverload } from './status.ts';
import type { StatusReport, StatusRequest } from './status.ts';
import { holdsSingletons } from './member.ts';
import { WorkerLink } from './link.ts';
import { ForwardedPeers } from './forwarded-peers.ts';
import { WorkerRouter } from './router.ts';
import { ClusterActivity } from './activity.ts';
import type { ActivityUpdate } from './activity.ts';
import { placeRequest } from './placement.ts';
import { clusterSocketDir } from './member.ts';
import { labelWorker, renderCluster } from './metrics.ts';
import type { MetricsJson } from './metrics.ts';

/** How long the metrics page waits for the other workers' samples. */
const METRICS_WAIT_MS = 2_000;

export interface ClusterNodeDeps {
  worker: number;
  workers: number;
  dataDir: string;
  log: Logger;
  now: () => number;
  transport: TransportLayer;
  /** Takes a message this worker owns (the transaction layer, behind the overload probe's filter). */
  deliver: (inbound: Inbound) => void;
  location: LocationService;
  calls: CallEngine;
  featureTables: FeatureTables;
  directory: Directory;
  status: StatusService;
  /** This worker's SIP auth guard: each worker counts and bans on its own. */
  guard: AuthGuard;
  /** Its routing's trunk table: the management worker probes the trunks and tells the others which are down. */
  trunks?: TrunkTable;
  /** The worker a new INVITE must go to (placement.ts), or 0. */
  pinned?: (req: SipRequest) => number;
}

/** A ban query or lift sent to every worker, and each one's answer. */
interface BansRequest { id: number; lift?: { ip?: string; username?: string } }
interface BansAnswer { id: number; bans: ActiveBan[]; lifted: number }

/** The worker that runs the management server, and so hears every worker's status. */
const MANAGER = 1;

export class ClusterNode {
  readonly link: WorkerLink;
  readonly router: WorkerRouter;
  readonly activity: ClusterActivity;
  private readonly forwardedPeers = new ForwardedPeers();
  /** On the management worker: every worker's live status; elsewhere undefined. */
  readonly status: ClusterStatus | undefined;
  private unsubscribe: (() => void) | undefined;
  /** While the management worker watches: our subscription to the local status. */
  private offStatus: (() => void) | undefined;
  /** This worker's own samples (the server's registry), set once the server exists. */
  localMetrics: (() => Promise<MetricsJson>) | undefined;
  private metricsSeq = 0;
  private readonly metricsWaits = new Map<number, (worker: number, json: MetricsJson) => void>();
  /** What this worker holds (the server's workerSummary), set once the server exists. */
  localSummary: (() => WorkerSummary) | undefined;
  private readonly summaryWaits = new Map<number, (summary: WorkerSummary) => void>();
  private readonly bansWaits = new Map<number, (worker: number, answer: BansAnswer) => void>();
  /** On the management worker: the trunks it found down, told again to a worker that (re)starts. */
  private trunksDown: readonly string[] = [];
  /** This worker's refusals, probes and calls of extensions (extension-report.ts), set once the server exists. */
  localHealth: ((q: HealthQuery) => unknown) | undefined;
  private readonly healthWaits = new Map<number, (answer: unknown) => void>();
  /** This worker's recent warnings and errors (the server's log ring), set once the server exists. */
  localLogs: (() => LogLine[]) | undefined;
  private readonly logsWaits = new Map<number, (worker: number, lines: LogLine[]) => void>();

  constructor(private readonly deps: ClusterNodeDeps) {
    const { transport, location, calls, workers } = deps;
    this.link = new WorkerLink({
      dir: clusterSocketDir(deps.dataDir),
      self: deps.worker,
      log: deps.log,
      onFrame: (from, frame) => {
        if (frame.kind === 'inbound') transport.receiveForwarded(frame.data, this.forwardedPeers.adopt(frame.source));
        else if (frame.kind === 'send') transport.sendForOwner(frame.data, frame.dest, frame.fallback);
        else if (frame.topic === 'location') {
          location.applyRemote(frame.body as LocationChange);
        } else if (frame.topic === 'activity') {
          const update = frame.body as ActivityUpdate;
          this.activity.apply(from, update);
          // A worker that (re)started knows nothing of ours yet.
          if (update.kind === 'hello') {
            this.activity.republish(calls.parking.slotNames());
            this.status?.restarted(from);
            if (this.trunksDown.length > 0) this.link.send(from, { kind: 'json', topic: 'trunks-down', body: this.trunksDown });
            // A management worker that (re)started has nobody watching yet: it asks when it has.
            if (from === MANAGER) this.stopReporting();
            // Nor does it know of trunks down yet: it tells when its probes find one.
            if (from === MANAGER) deps.trunks?.setDown([]);
          }
        } else if (frame.topic === 'trunks-down') {
          if (Array.isArray(frame.body)) deps.trunks?.setDown(frame.body.map(String));
        } else if (frame.topic === 'rotary') {
          const { number, extension } = frame.body as { number: string; extension: string | null };
          deps.featureTables.applyLastMember(number, extension);
        } else if (frame.topic === 'status') {
          this.status?.apply(from, frame.body as StatusReport);
        } else if (frame.topic === 'status?') {
          const request = frame.body as StatusRequest;
          if (request.kind === 'query') this.report({ kind: 'answer', id: request.id, snapshot: deps.status.snapshot() });
          else if (request.on) this.startReporting();
          else this.stopReporting();
        } else if (frame.topic === 'metrics?') {
          const { id } = frame.body as { id: number };
          void this.localMetrics?.().then((json) => this.link.send(from, { kind: 'json', topic: 'metrics', body: { id, json } }));
        } else if (frame.topic === 'metrics') {
          const { id, json } = frame.body as { id: number; json: MetricsJson };
          this.metricsWaits.get(id)?.(from, json);
        } else if (frame.topic === 'summary?') {
          const { id } = frame.body as { id: number };
          const summary = this.localSummary?.();
          if (summary) this.link.send(from, { kind: 'json', topic: 'summary', body: { id, summary } });
        } else if (frame.topic === 'summary') {
          const { id, summary } = frame.body as { id: number; summary: WorkerSummary };
          this.summaryWaits.get(id)?.(summary);
        } else if (frame.topic === 'health?') {
          const { id, q } = frame.body as { id: number; q: HealthQuery };
          this.link.send(from, { kind: 'json', topic: 'health', body: { id, answer: this.localHealth?.(q) ?? null } });
        } else if (frame.topic === 'health') {
          const { id, answer } = frame.body as { id: number; answer: unknown };
          if (answer !== null) this.healthWaits.get(id)?.(answer);
        } else if (frame.topic === 'logs?') {
          const { id } = frame.body as { id: number };
          this.link.send(from, { kind: 'json', topic: 'logs', body: { id, lines: this.localLogs?.() ?? [] } });
        } else if (frame.topic === 'logs') {
          const { id, lines } = frame.body as { id: number; lines: LogLine[] };
          this.logsWaits.get(id)?.(from, lines);
        } else if (frame.topic === 'bans?') {
          this.link.send(from, { kind: 'json', topic: 'bans', body: this.localBans(frame.body as BansRequest) });
        } else if (frame.topic === 'bans') {
          const answer = frame.body as BansAnswer;
          this.bansWaits.get(answer.id)?.(from, answer);
        }
      },
    });
    this.status = holdsSingletons(deps.worker)
      ? new ClusterStatus(deps.status, {
        self: deps.worker,
        workers,
        ask: (to, request) => this.link.send(to, { kind: 'json', topic: 'status?', body: request }),
      })
      : undefined;
    this.activity = new ClusterActivity((update) => this.link.broadcast(workers, { kind: 'json', topic: 'activity', body: update }));
    this.router = new WorkerRouter({
      workers,
      now: deps.now,
      local: deps.deliver,
      forward: (to, source, data) => this.link.send(to, { kind: 'inbound', source, data }),
      place: (req) => placeRequest(req, {
        activity: this.activity,
        shortCode: (dialled) => deps.featureTables.match(dialled),
        user: (ext) => deps.directory.byExtension(ext),
        room: (number) => deps.featureTables.roomByNumber(number) !== undefined,
        workers,
        pinned: deps.pinned,
      }),
    });
    // A rotary group turns on from the member rung last on any worker.
    deps.featureTables.onLastMember = (number, extension) => this.link.broadcast(workers, { kind: 'json', topic: 'rotary', body: { number, extension } });
    calls.parking.onChange = () => this.activity.onSlots(calls.parking.slotNames());
    calls.parking.takenElsewhere = (slot) => this.activity.slotAt(slot) !== 0;
  }

  /** Before the SIP listeners: a worker never refuses what another hands it. */
  async start(): Promise<void> {
    await this.link.start();
    this.unsubscribe = this.deps.calls.subscribe((call, ended) => this.activity.onCall(call, ended));
    this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'activity', body: { kind: 'hello' } satisfies ActivityUpdate });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.stopReporting();
    await this.link.close();
  }

  /** A contact changed here: every other worker takes the change (the newer write of a contact wins). */
  publishLocation(change: LocationChange): void {
    this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'location', body: change });
  }

  /** The management worker's trunk probes found these trunks down: no worker sends calls to them. */
  publishTrunksDown(down: readonly string[]): void {
    this.trunksDown = down;
    this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'trunks-down', body: down });
  }

  /**
   * Every worker's samples in one page, labelled worker="N"; a worker that
   * does not answer within METRICS_WAIT_MS is left out (its samples are
   * missing, not zero).
   */
  async metrics(): Promise<string> {
    const own = this.localMetrics ? labelWorker(await this.localMetrics(), this.deps.worker) : [];
    const id = ++this.metricsSeq;
    const others = new Map<number, MetricsJson>();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, METRICS_WAIT_MS);
      this.metricsWaits.set(id, (worker, json) => {
        others.set(worker, labelWorker(json, worker));
        if (others.size >= this.deps.workers - 1) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'metrics?', body: { id } });
    });
    this.metricsWaits.delete(id);
    return renderCluster([own, ...others.values()]);
  }

  get worker(): number {
    return this.deps.worker;
  }

  /**
   * What every worker holds now, by worker number: ours, and each other's
   * as it answers over the link within METRICS_WAIT_MS (one that does not is
   * left out, not shown as empty).
   */
  async summaries(): Promise<WorkerSummary[]> {
    const out = new Map<number, WorkerSummary>();
    const own = this.localSummary?.();
    if (own) out.set(own.worker, own);
    const id = ++this.metricsSeq;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, METRICS_WAIT_MS);
      this.summaryWaits.set(id, (summary) => {
        out.set(summary.worker, summary);
        if (out.size >= this.deps.workers) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'summary?', body: { id } });
    });
    this.summaryWaits.delete(id);
    return [...out.values()].sort((a, b) => a.worker - b.worker);
  }

  /**
   * Every worker's SIP bans (each worker's guard counts on its own), a
   * lift applied by each: ours, and the others' as they answer within
   * METRICS_WAIT_MS.
   */
  readonly sipBans: SipBanSource = {
    list: async () => mergeBans(await this.askBans(undefined)),
    lift: async (target) => (await this.askBans(target)).reduce((n, [, a]) => n + a.lifted, 0),
  };

  private localBans(request: BansRequest): BansAnswer {
    const lifted = request.lift ? this.deps.guard.unban(request.lift) : 0;
    return { id: request.id, bans: this.deps.guard.activeBans(), lifted };
  }

  private async askBans(lift: BansRequest['lift']): Promise<Array<[number, BansAnswer]>> {
    const id = ++this.metricsSeq;
    const out = new Map<number, BansAnswer>([[this.deps.worker, this.localBans({ id, lift })]]);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, METRICS_WAIT_MS);
      this.bansWaits.set(id, (worker, answer) => {
        out.set(worker, answer);
        if (out.size >= this.deps.workers) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'bans?', body: { id, lift } satisfies BansRequest });
    });
    this.bansWaits.delete(id);
    return [...out.entries()].sort((a, b) => a[0] - b[0]);
  }

  /**
   * Every worker's answer to a health query: ours first, then the others'
   * as they answer within METRICS_WAIT_MS (one that does not is left out).
   */
  async health<T>(q: HealthQuery): Promise<T[]> {
    const out: unknown[] = [];
    const own = this.localHealth?.(q);
    if (own !== undefined) out.push(own);
    const id = ++this.metricsSeq;
    let others = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, METRICS_WAIT_MS);
      this.healthWaits.set(id, (answer) => {
        out.push(answer);
        if (++others >= this.deps.workers - 1) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'health?', body: { id, q } });
    });
    this.healthWaits.delete(id);
    return out as T[];
  }

  /** Every worker's recent warnings and errors, each line marked with its worker, oldest first (as they answer within METRICS_WAIT_MS). */
  async logs(): Promise<LogLine[]> {
    const mark = (worker: number, lines: LogLine[]) => lines.map((l) => ({ ...l, worker }));
    const out = new Map<number, LogLine[]>([[this.deps.worker, mark(this.deps.worker, this.localLogs?.() ?? [])]]);
    const id = ++this.metricsSeq;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, METRICS_WAIT_MS);
      this.logsWaits.set(id, (worker, lines) => {
        out.set(worker, mark(worker, lines));
        if (out.size >= this.deps.workers) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.link.broadcast(this.deps.workers, { kind: 'json', topic: 'logs?', body: { id } });
    });
    this.logsWaits.delete(id);
    return [...out.values()].flat().sort((a, b) => a.at - b.at);
  }

  /** The live status of the whole cluster with each worker as it is now (for GET /api/status on the management worker). */
  async snapshot(): Promise<StatusSnapshot> {
    const status = this.status ?? this.deps.status;
    const workers = await this.summaries();
    const overload = mergeOverload(workers.map((w) => w.overload));
    return { ...(await status.snapshot()), ...(overload ? { overload } : {}), workers };
  }

  /** The management worker watches: our snapshot, then every status event as it happens. */
  private startReporting(): void {
    this.offStatus ??= this.deps.status.subscribe((event) => this.report({ kind: 'event', event }));
    this.report({ kind: 'snapshot', snapshot: this.deps.status.snapshot() });
  }

  /** Nobody watches: the status service computes no events for us (it has no listener). */
  private stopReporting(): void {
    this.offStatus?.();
    this.offStatus = undefined;
  }

  private report(report: StatusReport): void {
    this.link.send(MANAGER, { kind: 'json', topic: 'status', body: report });
  }

  /** Bytes for a connection worker `owner` holds. */
  sendOver(owner: number, data: Buffer, dest: Endpoint, fallback: Endpoint | undefined): void {
    this.link.send(owner, { kind: 'send', dest, fallback, data });
  }
}

/** One entry per ban, with the workers holding it and the latest end among them. */
function mergeBans(answers: Array<[number, BansAnswer]>): Array<ActiveBan & { workers: number[] }> {
  const byKey = new Map<string, ActiveBan & { workers: number[] }>();
  for (const [worker, answer] of answers) {
    for (const b of answer.bans) {
      const key = `${b.scope}\0${b.ip ?? ''}\0${b.username ?? ''}`;
      const seen = byKey.get(key);
      if (!seen) byKey.set(key, { ...b, workers: [worker] });
      else {
        seen.workers.push(worker);
        seen.untilMs = Math.max(seen.untilMs, b.untilMs);
        if (b.renewals !== undefined && b.renewals > (seen.renewals ?? -1)) {
          seen.renewals = b.renewals;
          seen.attackSinceMs = b.attackSinceMs;
        }
      }
    }
  }
  return [...byKey.values()];
}

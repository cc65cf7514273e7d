// Live status of a whole cluster, for the management server (worker 1): its
// own StatusService plus what every other worker reports. Reports cost every
// worker CPU on each call change, so they flow only while someone looks:
// while the management worker has status listeners (the web UI's live view)
// it asks the others to watch, and each then sends its snapshot followed by
// its status events as they happen; a one-off snapshot (REST, the Users page)
// asks each worker for its own. The web UI's live view, the REST status and
// `switchboard status` then show every worker's calls. Overload state
// changes every 100 ms, so it is asked for when wanted (ClusterNode.snapshot)
// and merged here.
import type { ExtensionStatus, OverloadStatus, StatusEvent, StatusListener, StatusService, StatusSnapshot } from '../pbx/status/status.ts';
import type { PeerLinkStatus } from '../pbx/peers/peer-links.ts';

/** What a worker tells the management worker: while watched, its snapshot then its events; an answer to a query. */
export type StatusReport =
  | { kind: 'event'; event: StatusEvent }
  | { kind: 'snapshot'; snapshot: StatusSnapshot }
  | { kind: 'answer'; id: number; snapshot: StatusSnapshot };

/** What the management worker asks of the others: to report as things change (or to stop), or one snapshot now. */
export type StatusRequest = { kind: 'watch'; on: boolean } | { kind: 'query'; id: number };

/**
 * Snapshots of several workers as one: calls and parked calls from all, each
 * extension as the busiest worker sees it, overload as mergeOverload() puts it.
 */
export function mergeStatus(parts: readonly StatusSnapshot[]): StatusSnapshot {
  const extensions = new Map<string, ExtensionStatus>();
  for (const p of parts) for (const e of p.extensions) mergeExtension(extensions, e);
  const overload = mergeOverload(parts.map((p) => p.overload));
  return {
    at: Math.max(...parts.map((p) => p.at)),
    extensions: [...extensions.values()].sort((a, b) => a.extension.length - b.extension.length || (a.extension < b.extension ? -1 : 1)),
    calls: parts.flatMap((p) => p.calls),
    trunks: parts.flatMap((p) => p.trunks),
    parked: parts.flatMap((p) => p.parked),
    ...(parts.some((p) => p.peers) ? { peers: mergePeers(parts) } : {}),
    ...(overload ? { overload } : {}),
  };
}

/**
 * Several workers' overload states as the cluster's: counters summed, the
 * lowest admitted shares and the longest wait (the worker that is furthest
 * behind is the one an operator must see), each trunk at its strongest
 * reduction. Undefined when no worker reported one.
 */
export function mergeOverload(parts: readonly (OverloadStatus | undefined)[]): OverloadStatus | undefined {
  const known = parts.filter((p): p is OverloadStatus => p !== undefined);
  if (known.length === 0) return undefined;
  const trunks = new Map<string, OverloadStatus['trunks'][number]>();
  for (const p of known) {
    for (const t of p.trunks) {
      const seen = trunks.get(t.trunk);
      if (!seen) trunks.set(t.trunk, { ...t });
      else {
        seen.reduction = Math.max(seen.reduction, t.reduction);
        seen.until = Math.max(seen.until, t.until);
        seen.shed += t.shed;
      }
    }
  }
  const sum = (f: (p: OverloadStatus) => number): number => known.reduce((n, p) => n + f(p), 0);
  return {
    enabled: known.some((p) => p.enabled),
    receiveDelayMs: Math.max(...known.map((p) => p.receiveDelayMs)),
    admitted: Math.min(...known.map((p) => p.admitted)),
    admittedUnauthenticated: Math.min(...known.map((p) => p.admittedUnauthenticated)),
    refused: sum((p) => p.refused),
    dropped: sum((p) => p.dropped),
    ocFeedback: sum((p) => p.ocFeedback),
    trunks: [...trunks.values()],
  };
}

/** Every worker probes each link itself: a link is as the worker that heard from it last sees it. */
function mergePeers(parts: readonly StatusSnapshot[]): PeerLinkStatus[] {
  const byUri = new Map<string, PeerLinkStatus>();
  for (const p of parts) {
    for (const l of p.peers ?? []) {
      const seen = byUri.get(l.uri);
      if (!seen || (l.state === 'up' && seen.state !== 'up')) byUri.set(l.uri, l);
    }
  }
  return [...byUri.values()];
}

function mergeExtension(into: Map<string, ExtensionStatus>, e: ExtensionStatus): void {
  const seen = into.get(e.extension);
  if (!seen) {
    into.set(e.extension, { ...e });
    return;
  }
  seen.calls += e.calls;
  if (e.state === 'connected' || (e.state === 'ringing' && seen.state === 'idle')) seen.state = e.state;
}

/**
 * Whether another worker's view of an extension adds anything to ours: its
 * calls there. Registrations are the same in every worker (each holds every
 * binding), so an idle extension is kept once, in our own view, not once
 * per worker (with a million registered users that copy was ~250 MiB).
 */
function busy(e: ExtensionStatus): boolean {
  return e.calls > 0 || e.state !== 'idle';
}

interface Remote {
  /** Its snapshot without the extensions: those are in `extensions`, and only while busy there. */
  snapshot: StatusSnapshot;
  calls: Map<string, StatusSnapshot['calls'][number]>;
  extensions: Map<string, ExtensionStatus>;
}

export interface ClusterStatusOptions {
  /** This worker (the management worker) and how many there are: the others are 1..workers but self. */
  self: number;
  workers: number;
  /** Sends a request to worker `to`. */
  ask: (to: number, request: StatusRequest) => void;
  /** How long a snapshot waits for the other workers; one that has not answered by then is left out. */
  waitMs?: number;
}

const WAIT_MS = 2_000;

export class ClusterStatus implements Pick<StatusService, 'subscribe' | 'extension'> {
  /** While watching: each other worker's snapshot and the events since. */
  private readonly remotes = new Map<number, Remote>();
  private readonly listeners = new Set<StatusListener>();
  /** Snapshots waiting for every other worker's first report. */
  private readonly syncWaiters = new Set<() => void>();
  private readonly queries = new Map<number, (worker: number, snapshot: StatusSnapshot) => void>();
  private querySeq = 0;
  private readonly waitMs: number;

  constructor(
    private readonly local: StatusService,
    private readonly opts: ClusterStatusOptions,
  ) {
    this.waitMs = opts.waitMs ?? WAIT_MS;
  }

  /** Whether the other workers are asked to report as things change. */
  get watching(): boolean {
    return this.listeners.size > 0;
  }

  /** A report from worker `worker`; listeners hear its events as if they were ours. */
  apply(worker: number, report: StatusReport): void {
    if (report.kind === 'answer') {
      this.queries.get(report.id)?.(worker, report.snapshot);
      return;
    }
    // A report that crossed a "stop watching" on the link.
    if (!this.watching) return;
    if (report.kind === 'snapshot') {
      const s = report.snapshot;
      this.remotes.set(worker, {
        snapshot: { ...s, extensions: [] },
        calls: new Map(s.calls.map((c) => [c.ref, c])),
        extensions: new Map(s.extensions.filter(busy).map((e) => [e.extension, e])),
      });
      if (this.synced()) for (const done of [...this.syncWaiters]) done();
      return;
    }
    const r = this.remotes.get(worker);
    if (!r) return; // its snapshot comes first
    const ev = report.event;
    if (ev.type === 'trunk') {
      // Only the probing (management) worker has trunk states; nothing of them is kept per worker.
    } else if (ev.type === 'call') {
      if (ev.ended) r.calls.delete(ev.call.ref);
      else r.calls.set(ev.call.ref, ev.call);
    } else if (busy(ev.extension)) {
      r.extensions.set(ev.extension.extension, ev.extension);
    } else {
      r.extensions.delete(ev.extension.extension);
    }
    for (const l of this.listeners) l(ev.type === 'extension' ? { type: 'extension', extension: this.extension(ev.extension.extension) } : ev);
  }

  /** Worker `worker` (re)started: what it said before went with it; while watching, it is asked to report too. */
  restarted(worker: number): void {
    this.remotes.delete(worker);
    if (this.watching) this.opts.ask(worker, { kind: 'watch', on: true });
  }

  /**
   * Every worker's status now. While watching, from the reports (once every
   * worker has sent its snapshot); otherwise each worker is asked for its own.
   */
  async snapshot(): Promise<StatusSnapshot> {
    if (!this.watching) return this.query();
    await this.whenSynced();
    return this.merged();
  }

  /** One extension as the busiest worker sees it; other workers' part is known only while watching. */
  extension(ext: string): ExtensionStatus {
    const merged = new Map<string, ExtensionStatus>();
    mergeExtension(merged, this.local.extension(ext));
    for (const r of this.remotes.values()) {
      const e = r.extensions.get(ext);
      if (e) mergeExtension(merged, e);
    }
    return merged.get(ext)!;
  }

  subscribe(listener: StatusListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.everyOther((w) => this.opts.ask(w, { kind: 'watch', on: true }));
    const off = this.local.subscribe((ev) => listener(ev.type === 'extension' ? { type: 'extension', extension: this.extension(ev.extension.extension) } : ev));
    return () => {
      off();
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.everyOther((w) => this.opts.ask(w, { kind: 'watch', on: false }));
      this.remotes.clear();
      for (const done of [...this.syncWaiters]) done();
    };
  }

  private merged(): StatusSnapshot {
    const parts = [this.local.snapshot()];
    for (const r of this.remotes.values()) {
      // A worker's overload in the snapshot it reported when the watch began is stale: ClusterNode.snapshot asks each.
      parts.push({ ...r.snapshot, calls: [...r.calls.values()], extensions: [...r.extensions.values()], overload: undefined });
    }
    return mergeStatus(parts);
  }

  private synced(): boolean {
    return this.remotes.size >= this.opts.workers - 1;
  }

  private whenSynced(): Promise<void> {
    if (this.synced()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.syncWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.waitMs);
      this.syncWaiters.add(done);
    });
  }

  private query(): Promise<StatusSnapshot> {
    const id = ++this.querySeq;
    const got = new Map<number, StatusSnapshot>();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.queries.delete(id);
        resolve(mergeStatus([this.local.snapshot(), ...got.values()]));
      };
      const timer = setTimeout(done, this.waitMs);
      this.queries.set(id, (worker, snapshot) => {
        got.set(worker, snapshot);
        if (got.size >= this.opts.workers - 1) done();
      });
      if (this.opts.workers <= 1) done();
      else this.everyOther((w) => this.opts.ask(w, { kind: 'query', id }));
    });
  }

  private everyOther(fn: (worker: number) => void): void {
    for (let w = 1; w <= this.opts.workers; w++) if (w !== this.opts.self) fn(w);
  }
}

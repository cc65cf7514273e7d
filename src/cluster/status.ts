// Live status of a whole cluster, for the management server (worker 1): its
// own StatusService plus what every other worker reports — each sends its
// status events over the link as they happen, and its whole snapshot when it
// or the management worker (re)starts. The web UI's live view, the REST
// status and `switchboard status` then show every worker's calls; overload
// state changes every 100 ms, so it is asked for when wanted instead
// (ClusterNode.snapshot) and merged here.
import type { ExtensionStatus, OverloadStatus, StatusEvent, StatusListener, StatusService, StatusSnapshot } from '../pbx/status/status.ts';
import type { PeerLinkStatus } from '../pbx/peers/peer-links.ts';

/** What a worker tells the management worker. */
export type StatusReport = { kind: 'event'; event: StatusEvent } | { kind: 'snapshot'; snapshot: StatusSnapshot };

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

interface Remote {
  snapshot: StatusSnapshot;
  calls: Map<string, StatusSnapshot['calls'][number]>;
  extensions: Map<string, ExtensionStatus>;
}

export class ClusterStatus implements Pick<StatusService, 'snapshot' | 'subscribe' | 'extension'> {
  private readonly remotes = new Map<number, Remote>();
  private readonly listeners = new Set<StatusListener>();

  constructor(private readonly local: StatusService) {}

  /** A report from worker `worker`; listeners hear its events as if they were ours. */
  apply(worker: number, report: StatusReport): void {
    if (report.kind === 'snapshot') {
      const s = report.snapshot;
      this.remotes.set(worker, {
        snapshot: s,
        calls: new Map(s.calls.map((c) => [c.ref, c])),
        extensions: new Map(s.extensions.map((e) => [e.extension, e])),
      });
      return;
    }
    const r = this.remotes.get(worker);
    if (!r) return; // its snapshot comes first
    const ev = report.event;
    if (ev.type === 'call') {
      if (ev.ended) r.calls.delete(ev.call.ref);
      else r.calls.set(ev.call.ref, ev.call);
    } else {
      r.extensions.set(ev.extension.extension, ev.extension);
    }
    for (const l of this.listeners) l(ev.type === 'extension' ? { type: 'extension', extension: this.extension(ev.extension.extension) } : ev);
  }

  /** Worker `worker` (re)started: what it said before went with it. */
  forget(worker: number): void {
    this.remotes.delete(worker);
  }

  snapshot(): StatusSnapshot {
    const parts = [this.local.snapshot()];
    for (const r of this.remotes.values()) {
      // A worker's overload in its start-up snapshot is long stale: only ours is current here (ClusterNode.snapshot asks each).
      parts.push({ ...r.snapshot, calls: [...r.calls.values()], extensions: [...r.extensions.values()], overload: undefined });
    }
    return mergeStatus(parts);
  }

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
    const off = this.local.subscribe((ev) => listener(ev.type === 'extension' ? { type: 'extension', extension: this.extension(ev.extension.extension) } : ev));
    return () => {
      this.listeners.delete(listener);
      off();
    };
  }
}

// Live status of a whole cluster, for the management server (worker 1): its
// own StatusService plus what every other worker reports — each sends its
// status events over the link as they happen, and its whole snapshot when it
// or the management worker (re)starts. The web UI's live view, the REST
// status and `switchboard status` then show every worker's calls.
import type { ExtensionStatus, StatusEvent, StatusListener, StatusService, StatusSnapshot } from '../pbx/status/status.ts';

/** What a worker tells the management worker. */
export type StatusReport = { kind: 'event'; event: StatusEvent } | { kind: 'snapshot'; snapshot: StatusSnapshot };

/** Snapshots of several workers as one: calls and parked calls from all, each extension as the busiest worker sees it. */
export function mergeStatus(parts: readonly StatusSnapshot[]): StatusSnapshot {
  const extensions = new Map<string, ExtensionStatus>();
  for (const p of parts) for (const e of p.extensions) mergeExtension(extensions, e);
  return {
    at: Math.max(...parts.map((p) => p.at)),
    extensions: [...extensions.values()].sort((a, b) => a.extension.length - b.extension.length || (a.extension < b.extension ? -1 : 1)),
    calls: parts.flatMap((p) => p.calls),
    trunks: parts.flatMap((p) => p.trunks),
    parked: parts.flatMap((p) => p.parked),
  };
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

export class ClusterStatus implements Pick<StatusService, 'snapshot' | 'subscribe' | 'extension'> {
  private readonly remotes = new Map<number, Remote>();
  private readonly listeners = new Set<StatusListener>();

  constructor(private readonly local: StatusService) {}

  /** A report from worker `worker`; listeners hear its events as if they were ours. */
  apply(worker: number, report: StatusReport): void {
    if (report.kind === 'snapshot') {
      const s = report.snapshot;
      this.remotes.set(worker, {
        snapshot: { ...s, extensions: [] },
        calls: new Map(s.calls.map((c) => [c.ref, c])),
        extensions: new Map(s.extensions.filter(busy).map((e) => [e.extension, e])),
      });
      return;
    }
    const r = this.remotes.get(worker);
    if (!r) return; // its snapshot comes first
    const ev = report.event;
    if (ev.type === 'call') {
      if (ev.ended) r.calls.delete(ev.call.ref);
      else r.calls.set(ev.call.ref, ev.call);
    } else if (busy(ev.extension)) {
      r.extensions.set(ev.extension.extension, ev.extension);
    } else {
      r.extensions.delete(ev.extension.extension);
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
      parts.push({ ...r.snapshot, calls: [...r.calls.values()], extensions: [...r.extensions.values()] });
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

// What the workers of a cluster tell each other about the calls they hold:
// per extension, whether it is in a call there and whether it is ringing
// there, and which park slots are taken there. A new request that is about
// one of those (a second call of a user, an unpark, a pickup) is then taken
// by the worker that holds it (placement.ts), so features that join calls
// always find both calls on one worker. Placement asks only "any there?", so
// a worker counts its own calls and tells the others only when an extension
// passes between none and some: a callee taking its fifth call at once costs
// the cluster nothing.
import type { CallView } from '../pbx/call/context.ts';

/** One extension on one worker, as the others hear of it. */
export interface ExtensionActivity {
  extension: string;
  /** It is caller or callee of a call there. */
  inCall: boolean;
  /** A call is ringing it there (not yet answered). */
  ringing: boolean;
}

/** One extension's calls on this worker. */
interface Counts {
  extension: string;
  calls: number;
  ringing: number;
}

/** What a worker says: one extension changed, or its whole list of park slots. */
export type ActivityUpdate = { kind: 'extension'; activity: ExtensionActivity } | { kind: 'slots'; slots: string[] } | { kind: 'hello' };

interface Counted {
  parties: string[];
  ringing: string | undefined;
}

export class ClusterActivity {
  private readonly local = new Map<string, Counts>();
  private readonly counted = new WeakMap<CallView, Counted>();
  private readonly peers = new Map<number, Map<string, ExtensionActivity>>();
  private readonly peerSlots = new Map<number, Set<string>>();

  constructor(private readonly publish: (update: ActivityUpdate) => void) {}

  /** A call of this worker changed (CallEngine.subscribe): recount its parties, tell the others what moved. */
  onCall(call: CallView, ended: boolean): void {
    const before = this.counted.get(call) ?? { parties: [], ringing: undefined };
    const now: Counted = ended ? { parties: [], ringing: undefined } : {
      parties: [call.caller.user?.extension, call.callee.user?.extension].filter((e): e is string => e !== undefined),
      ringing: call.state === 'ringing' || call.state === 'routing' ? call.callee.user?.extension : undefined,
    };
    if (ended) this.counted.delete(call);
    else this.counted.set(call, now);
    // What each touched extension was before (as the others see it), so that only real changes are told.
    const changed = new Map<string, number>();
    for (const e of before.parties) this.bump(e, 'calls', -1, changed);
    for (const e of now.parties) this.bump(e, 'calls', 1, changed);
    if (before.ringing !== undefined) this.bump(before.ringing, 'ringing', -1, changed);
    if (now.ringing !== undefined) this.bump(now.ringing, 'ringing', 1, changed);
    for (const [e, was] of changed) {
      const a = this.local.get(e)!;
      if (a.calls === 0 && a.ringing === 0) this.local.delete(e);
      if (seen(a) !== was) this.publish({ kind: 'extension', activity: told(a) });
    }
  }

  /** This worker's park slots changed. */
  onSlots(slots: string[]): void {
    this.publish({ kind: 'slots', slots });
  }

  /** Everything this worker holds, for a worker that (re)started and knows nothing yet. */
  republish(slots: string[]): void {
    for (const a of this.local.values()) this.publish({ kind: 'extension', activity: told(a) });
    this.publish({ kind: 'slots', slots });
  }

  apply(worker: number, update: ActivityUpdate): void {
    if (update.kind === 'slots') {
      this.peerSlots.set(worker, new Set(update.slots));
      return;
    }
    if (update.kind === 'hello') {
      // It (re)started: what it said before is gone with its calls.
      this.peers.delete(worker);
      this.peerSlots.delete(worker);
      return;
    }
    let m = this.peers.get(worker);
    if (!m) this.peers.set(worker, (m = new Map()));
    const a = update.activity;
    if (!a.inCall && !a.ringing) m.delete(a.extension);
    else m.set(a.extension, a);
  }

  /** Another worker holding calls of `ext` when this one holds none, else 0. */
  callsAt(ext: string): number {
    if (this.local.has(ext)) return 0;
    return this.findPeer((m) => m.get(ext)?.inCall === true);
  }

  /** Another worker where `ext` is ringing when it is not ringing here, else 0. */
  ringingAt(ext: string): number {
    if ((this.local.get(ext)?.ringing ?? 0) > 0) return 0;
    return this.findPeer((m) => m.get(ext)?.ringing === true);
  }

  /** Another worker where some extension `inGroup` accepts is ringing, when none is here, else 0. */
  ringingWhere(inGroup: (ext: string) => boolean): number {
    for (const a of this.local.values()) if (a.ringing > 0 && inGroup(a.extension)) return 0;
    return this.findPeer((m) => {
      for (const a of m.values()) if (a.ringing && inGroup(a.extension)) return true;
      return false;
    });
  }

  /** The worker holding park slot `slot`, 0 when none does (or this one). */
  slotAt(slot: string): number {
    for (const [w, slots] of this.peerSlots) if (slots.has(slot)) return w;
    return 0;
  }

  private findPeer(test: (m: Map<string, ExtensionActivity>) => boolean): number {
    for (const [w, m] of this.peers) if (test(m)) return w;
    return 0;
  }

  private bump(ext: string, field: 'calls' | 'ringing', by: number, changed: Map<string, number>): void {
    let a = this.local.get(ext);
    if (!a) this.local.set(ext, (a = { extension: ext, calls: 0, ringing: 0 }));
    if (!changed.has(ext)) changed.set(ext, seen(a));
    a[field] = Math.max(0, a[field] + by);
  }
}

/** What the other workers know of an extension here, as one number to compare: in a call (1), ringing (2). */
function seen(a: Counts): number {
  return (a.calls > 0 ? 1 : 0) | (a.ringing > 0 ? 2 : 0);
}

function told(a: Counts): ExtensionActivity {
  return { extension: a.extension, inCall: a.calls > 0, ringing: a.ringing > 0 };
}

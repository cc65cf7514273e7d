// Live system status: registered extensions (where, with what, and whether
// idle, ringing or in a call) and active calls, as a snapshot and as a stream
// of changes. The CLI reads it through the control socket and the web UI over
// a WebSocket; both get the same objects. Registration refreshes arrive at
// thousands per second, so extension changes are coalesced before they are
// sent to listeners.
import type { CallView } from '../call/context.ts';
import type { LegMediaStats } from '../call/media.ts';
import type { User } from '../../store/types.ts';
import type { CallEngine } from '../call/engine.ts';
import type { Directory } from '../directory/directory.ts';
import type { LiveBinding, LocationService } from '../registrar/location.ts';
import type { TrunkHealthStatus } from '../trunks/trunk-health.ts';
import type { PeerLinkStatus } from '../peers/peer-links.ts';
import type { ParkedCall } from '../features/park.ts';
import type { OverloadState } from '../../sip/overload.ts';
import type { PeerReduction } from '../../sip/overload-client.ts';
import type { OverloadStatus } from '../../model/status.ts';
import type { WorkerSummary } from './control-socket.ts';

export type { OverloadStatus };

export type ExtensionState = 'idle' | 'ringing' | 'connected';

export interface ContactStatus {
  contact: string;
  transport: string;
  address: string;
  port: number;
  userAgent: string | null;
  expiresAt: number;
  /** The node holding the phone (several nodes on one store); null: this one, before names. */
  node?: string | null;
}

export interface ExtensionStatus {
  extension: string;
  name: string;
  registered: boolean;
  contacts: ContactStatus[];
  state: ExtensionState;
  /** Calls the extension is in (any state). */
  calls: number;
  /** What its media security makes of its calls: "SRTP" (Enforced), "SRTP/RTP" (Best Effort), "RTP" (SPEC A-22). */
  mediaStream: string;
}

export interface CallStatus {
  ref: string;
  state: CallView['state'];
  direction: CallView['direction'];
  caller: string;
  callerName: string;
  callee: string;
  calleeExtension: string | null;
  trunk: string | null;
  /** The media server application that answered (voicemail, ivr, conference, moh); null for a phone or trunk. */
  app: string | null;
  startedAt: number;
  answeredAt: number | null;
  /** Seconds since answer (or since start while ringing). */
  durationSec: number;
  codec: string | null;
  held: boolean;
  /** "SRTP Direct Media", "RTP relayed", "SRTP-RTP relayed" ... */
  connectionType: string;
  /** Per leg (caller, callee): media stream and, for relayed calls, packets, loss and jitter. */
  legs: { caller: LegStatus; callee: LegStatus };
}

export interface LegStatus {
  stream: string;
  packetsIn: number | null;
  packetsOut: number | null;
  lost: number | null;
  lossPercent: number | null;
  jitterMs: number | null;
}

export interface StatusSnapshot {
  at: number;
  extensions: ExtensionStatus[];
  calls: CallStatus[];
  /** Every enabled trunk's state (probes and registration); in a cluster the probing worker's. */
  trunks: TrunkHealthStatus[];
  /** Calls waiting in park slots (SPEC AC-12), by slot. */
  parked: ParkedCall[];
  /** Links to the other nodes (absent on a lone node). */
  peers?: PeerLinkStatus[];
  /** Overload control now (in a cluster: the workers together). */
  overload?: OverloadStatus;
  /** In a cluster: each worker. */
  workers?: WorkerSummary[];
}

/** The overload status of one process: its own control (undefined when off) and the trunks' RFC 7339 feedback. */
export function overloadStatus(state: OverloadState | undefined, trunks: readonly PeerReduction[]): OverloadStatus {
  return {
    enabled: state !== undefined,
    receiveDelayMs: state?.delayMs ?? 0,
    admitted: state?.admitted ?? 1,
    admittedUnauthenticated: state?.admittedUnauthenticated ?? 1,
    refused: state?.refused ?? 0,
    dropped: state?.dropped ?? 0,
    ocFeedback: state?.ocFeedback ?? 0,
    trunks: trunks.map((t) => ({ trunk: t.peer, reduction: t.reduction, until: t.until, shed: t.shed })),
  };
}

export type StatusEvent =
  | { type: 'extension'; extension: ExtensionStatus }
  | { type: 'call'; call: CallStatus; ended: boolean }
  | { type: 'trunk'; trunk: TrunkHealthStatus };

export type StatusListener = (event: StatusEvent) => void;

export interface StatusDeps {
  directory: Directory;
  location: LocationService;
  calls: CallEngine;
  trunkHealth: { status(): TrunkHealthStatus[] };
  peers?: { list(): PeerLinkStatus[] };
  /** AOR of an extension, and the extension of an AOR (the registrar's mapping). */
  aorFor(extension: string): string;
  now(): number;
  /** The media security that applies to a user now (its own over the system's). */
  mediaSecurity(user: User | undefined): 'disabled' | 'best-effort' | 'enforced';
  /** How long extension changes are gathered before listeners hear of them (ms). */
  coalesceMs?: number;
  /** This process's overload status, for the snapshot. */
  overload?: () => OverloadStatus;
}

export class StatusService {
  private readonly listeners = new Set<StatusListener>();
  private readonly dirty = new Set<string>();
  /** The users each call was last reported with. */
  private readonly parties = new WeakMap<CallView, string[]>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: StatusDeps) {
    this.unsubscribe = deps.calls.subscribe((call, ended) => this.onCall(call, ended));
  }

  /** Hook for the location service: called on every binding change (cheap: marks the AOR). */
  bindingsChanged(aor: string): void {
    if (this.listeners.size === 0) return;
    const ext = extensionOfAor(aor);
    if (ext !== undefined) this.markDirty(ext);
  }

  subscribe(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): StatusSnapshot {
    const now = this.deps.now();
    const extensions = new Map<string, ExtensionStatus>();
    for (const b of this.deps.location.all()) {
      if (b.expiresAt <= now) continue;
      const ext = extensionOfAor(b.aor);
      if (ext === undefined || extensions.has(ext)) continue;
      extensions.set(ext, this.extension(ext));
    }
    for (const call of this.deps.calls.calls()) {
      for (const u of [call.caller.user, call.callee.user]) if (u && !extensions.has(u.extension)) extensions.set(u.extension, this.extension(u.extension));
    }
    const list = [...extensions.values()].sort((a, b) => a.extension.length - b.extension.length || (a.extension < b.extension ? -1 : 1));
    return {
      at: now,
      extensions: list,
      calls: [...this.deps.calls.calls()].map((c) => callStatus(c, now)),
      trunks: this.deps.trunkHealth.status(),
      parked: this.deps.calls.parking.list(),
      ...(this.deps.peers ? { peers: this.deps.peers.list() } : {}),
      ...(this.deps.overload ? { overload: this.deps.overload() } : {}),
    };
  }

  /** A trunk's state or round trip changed (trunk health): listeners hear it at once (a handful per probe period). */
  trunkChanged(trunk: TrunkHealthStatus): void {
    for (const l of this.listeners) l({ type: 'trunk', trunk });
  }

  /** Status of one extension now. */
  extension(ext: string): ExtensionStatus {
    const now = this.deps.now();
    const user = this.deps.directory.byExtension(ext);
    const bindings = this.deps.location.lookup(this.deps.aorFor(ext));
    let state: ExtensionState = 'idle';
    let calls = 0;
    for (const c of this.deps.calls.calls()) {
      if (c.caller.user?.extension !== ext && c.callee.user?.extension !== ext) continue;
      calls++;
      if (c.state === 'connected') state = 'connected';
      else if (state === 'idle' && c.state !== 'ended') state = 'ringing';
    }
    return {
      extension: ext,
      name: user?.name ?? '',
      registered: bindings.length > 0,
      contacts: bindings.filter((b) => b.expiresAt > now).map(contactStatus),
      state,
      calls,
      mediaStream: MEDIA_STREAM[this.deps.mediaSecurity(user)],
    };
  }

  close(): void {
    this.unsubscribe();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.listeners.clear();
  }

  private onCall(call: CallView, ended: boolean): void {
    if (this.listeners.size === 0) return;
    this.emit({ type: 'call', call: callStatus(call, this.deps.now()), ended });
    // A transfer or park changes a call's parties: whoever left it changes state too.
    const before = this.parties.get(call);
    const now: string[] = [];
    for (const u of [call.caller.user, call.callee.user]) if (u) now.push(u.extension);
    for (const ext of now) this.markDirty(ext);
    if (before) for (const ext of before) if (!now.includes(ext)) this.markDirty(ext);
    if (ended) this.parties.delete(call);
    else this.parties.set(call, now);
  }

  private markDirty(ext: string): void {
    this.dirty.add(ext);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), this.deps.coalesceMs ?? 100);
    this.flushTimer.unref();
  }

  private flush(): void {
    this.flushTimer = undefined;
    const list = [...this.dirty];
    this.dirty.clear();
    for (const ext of list) this.emit({ type: 'extension', extension: this.extension(ext) });
  }

  private emit(event: StatusEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken listener (a closed socket) must not stop the others.
      }
    }
  }
}

const MEDIA_STREAM = { disabled: 'RTP', 'best-effort': 'SRTP/RTP', enforced: 'SRTP' } as const;

export function extensionOfAor(aor: string): string | undefined {
  const colon = aor.indexOf(':');
  const at = aor.indexOf('@');
  return colon >= 0 && at > colon ? aor.slice(colon + 1, at) : undefined;
}

function contactStatus(b: LiveBinding): ContactStatus {
  return { contact: b.contactUri, transport: b.transport, address: b.sourceAddress, port: b.sourcePort, userAgent: b.userAgent, expiresAt: b.expiresAt, node: b.node ?? null };
}

export function callStatus(c: CallView, now: number): CallStatus {
  const since = c.answeredAt ?? c.startedAt;
  const stats = c.mediaStats();
  return {
    ref: c.ref,
    state: c.state,
    direction: c.direction,
    caller: c.caller.number,
    callerName: c.caller.name,
    callee: c.callee.number,
    calleeExtension: c.callee.user?.extension ?? null,
    trunk: c.callee.trunk ?? null,
    app: c.callee.app ?? null,
    startedAt: c.startedAt,
    answeredAt: c.answeredAt ?? null,
    durationSec: Math.max(0, Math.round((now - since) / 1000)),
    codec: c.codec ?? null,
    held: c.held,
    connectionType: c.connectionType,
    legs: { caller: legStatus(c.streams.a, stats?.a), callee: legStatus(c.streams.b, stats?.b) },
  };
}

function legStatus(stream: string, s: LegMediaStats | undefined): LegStatus {
  return {
    stream,
    packetsIn: s?.packetsIn ?? null,
    packetsOut: s?.packetsOut ?? null,
    lost: s?.lost ?? null,
    lossPercent: s?.lossPercent ?? null,
    jitterMs: s?.jitterMs ?? null,
  };
}

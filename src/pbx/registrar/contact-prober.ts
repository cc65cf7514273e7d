// Reachability of the phones registered over UDP (RFC 3261 §11): an OPTIONS
// to each contact once per interval, so a phone that went away shows
// "unreachable" within about a minute instead of "Idle" until its
// registration runs out. Any answer, even 404 or 405, proves it is there.
// The binding stays: an unreachable phone is shown (and counted), not
// unregistered. Each worker probes the contacts registered through it (the
// phone's answers come back to the same worker's socket), spread evenly over
// the interval and with a bound on probes in flight, so 100 000 contacts are
// a steady trickle, not a burst.
import type { TimerHandle, TimerQueue } from '../../lib/timer-queue.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import { sendUacRequest } from '../../sip/ua/uac.ts';
import { optionsRequest } from '../../sip/ua/options.ts';
import { generateCallId, generateTag } from '../../sip/ids.ts';
import { newVia } from '../../sip/dialog.ts';
import { parseUri } from '../../sip/uri.ts';
import type { ProbeState, Reachability } from '../../model/extension-detail.ts';
import type { LiveBinding } from './location.ts';

export interface ContactProberDeps {
  transactions: UacTransport;
  timers: TimerQueue;
  now: () => number;
  localEndpoint: (t: 'udp') => { address: string; port: number } | undefined;
  domain: string;
  /** Each contact is asked once per interval. */
  intervalMs: number;
  /** A probe unanswered this long makes the contact unreachable (its transaction gives up then). */
  timeoutMs: number;
  /** Probes in flight at most (default 1000). */
  maxOutstanding?: number;
}

/** One probed contact, flat (100,000 of them in a worker): its ProbeState is built only when asked for. */
interface Probe {
  aor: string;
  contactUri: string;
  updatedAt: number;
  address: string;
  port: number;
  busy: boolean;
  state: Reachability;
  /** -1: never probed. */
  lastProbeAt: number;
  /** -1: no answer. */
  rttMs: number;
  /** When the state began; -1 while unknown. */
  since: number;
}

const UNKNOWN: ProbeState = Object.freeze({ state: 'unknown', lastProbeAt: null, rttMs: null, since: null });

function view(p: Probe): ProbeState {
  if (p.state === 'unknown') return UNKNOWN;
  return { state: p.state, lastProbeAt: p.lastProbeAt < 0 ? null : p.lastProbeAt, rttMs: p.rttMs < 0 ? null : p.rttMs, since: p.since < 0 ? null : p.since };
}

export class ContactProber {
  /** AOR -> its probes: one (the usual case, no array) or several. */
  private readonly byAor = new Map<string, Probe | Probe[]>();
  private size = 0;
  private outstanding = 0;
  private cursor: Iterator<Probe> | undefined;
  private credit = 0;
  private timer: TimerHandle | undefined;
  private readonly tickMs: number;
  private readonly maxOutstanding: number;
  private readonly tag = generateTag();
  private readonly counts: Record<Reachability, number> = { reachable: 0, unreachable: 0, unknown: 0 };

  constructor(private readonly deps: ContactProberDeps) {
    this.tickMs = Math.max(10, Math.min(1000, Math.floor(deps.intervalMs / 10)));
    this.maxOutstanding = deps.maxOutstanding ?? 1000;
  }

  start(): void {
    this.timer = this.deps.timers.schedule(this.tickMs, () => this.tick());
  }

  stop(): void {
    this.deps.timers.cancel(this.timer);
    this.timer = undefined;
  }

  /** A binding registered through this worker: UDP ones without a Path are probed (others answer for themselves over their flow). */
  track(b: LiveBinding): void {
    if (b.transport !== 'udp' || b.path.length > 0) {
      this.untrack(b.aor, b.contactUri);
      return;
    }
    const p = this.find(b.aor, b.contactUri);
    if (p) {
      // A refresh (every REGISTER): nothing allocated unless the phone moved.
      p.updatedAt = b.updatedAt;
      p.address = b.sourceAddress;
      p.port = b.sourcePort;
      return;
    }
    const probe: Probe = {
      aor: b.aor, contactUri: b.contactUri, updatedAt: b.updatedAt, address: b.sourceAddress, port: b.sourcePort,
      busy: false, state: 'unknown', lastProbeAt: -1, rttMs: -1, since: -1,
    };
    const held = this.byAor.get(b.aor);
    if (held === undefined) this.byAor.set(b.aor, probe);
    else if (Array.isArray(held)) held.push(probe);
    else this.byAor.set(b.aor, [held, probe]);
    this.size++;
    this.counts.unknown++;
  }

  /**
   * The AOR's bindings as they now are: contacts gone (expired, removed) or
   * registered again through another worker (a newer write than ours) are
   * no longer ours to probe.
   */
  bindingsChanged(aor: string, bindings: readonly LiveBinding[]): void {
    // Called for every binding change of every AOR (other workers' too): nothing to do costs nothing.
    if (!this.byAor.has(aor)) return;
    for (const p of [...this.probes(aor)]) {
      const b = bindings.find((x) => x.contactUri === p.contactUri);
      if (!b || b.updatedAt !== p.updatedAt) this.untrack(aor, p.contactUri);
    }
  }

  /** A contact's reachability; unknown for contacts this worker does not probe. */
  state(aor: string, contactUri: string): ProbeState {
    const p = this.find(aor, contactUri);
    return p ? view(p) : UNKNOWN;
  }

  /** Every probed contact's state, for other workers' answers: [aor, contact, state]. */
  states(aor: string): Array<[string, ProbeState]> {
    return this.probes(aor).map((p) => [p.contactUri, view(p)]);
  }

  /** AORs with at least one unreachable contact (for the status list). */
  unreachableAors(): string[] {
    const out: string[] = [];
    for (const [aor, held] of this.byAor) {
      for (const p of Array.isArray(held) ? held : [held]) {
        if (p.state === 'unreachable') {
          out.push(aor);
          break;
        }
      }
    }
    return out;
  }

  /** Contacts probed here by state (the metric). */
  stats(): Readonly<Record<Reachability, number>> {
    return this.counts;
  }

  private untrack(aor: string, contactUri: string): void {
    const held = this.byAor.get(aor);
    const p = this.find(aor, contactUri);
    if (held === undefined || p === undefined) return;
    if (!Array.isArray(held) || held.length === 1) this.byAor.delete(aor);
    else held.splice(held.indexOf(p), 1);
    this.size--;
    this.counts[p.state]--;
  }

  /** Probes its share of the contacts: over one interval, each once. */
  private tick(): void {
    this.timer = this.deps.timers.schedule(this.tickMs, () => this.tick());
    // In whole milliseconds of contacts (no rounding drift): each tick earns size x tickMs, a probe costs intervalMs.
    const interval = this.deps.intervalMs;
    this.credit = Math.min(this.size * interval, this.credit + this.size * this.tickMs);
    let budget = this.size;
    while (this.credit >= interval && this.outstanding < this.maxOutstanding && budget-- > 0) {
      const p = this.next();
      if (!p) break;
      this.credit -= interval;
      if (!p.busy) this.probe(p);
    }
  }

  /** Round robin over every contact; the iterators of Map live through insertions and deletions. */
  private next(): Probe | undefined {
    for (let pass = 0; pass < 2; pass++) {
      if (!this.cursor) this.cursor = this.all();
      const r = this.cursor.next();
      if (!r.done) return r.value;
      this.cursor = undefined;
    }
    return undefined;
  }

  private *all(): Generator<Probe> {
    for (const held of this.byAor.values()) {
      if (Array.isArray(held)) yield* [...held];
      else yield held;
    }
  }

  private probes(aor: string): readonly Probe[] {
    const held = this.byAor.get(aor);
    return held === undefined ? [] : Array.isArray(held) ? held : [held];
  }

  private find(aor: string, contactUri: string): Probe | undefined {
    const held = this.byAor.get(aor);
    if (held === undefined || !Array.isArray(held)) return held?.contactUri === contactUri ? held : undefined;
    return held.find((p) => p.contactUri === contactUri);
  }

  private probe(p: Probe): void {
    const local = this.deps.localEndpoint('udp');
    const uri = parseUri(p.contactUri);
    if (!local || !uri) return;
    const toUri = parseUri(p.aor) ?? uri;
    const req = optionsRequest({
      uri: p.contactUri, to: toUri, fromUser: 'switchboard', domain: this.deps.domain, tag: this.tag, callId: generateCallId(), cseq: 1,
      via: newVia('udp', local),
    });
    const sent = this.deps.now();
    p.busy = true;
    this.outstanding++;
    const done = (state: Reachability, rttMs: number | null): void => {
      p.busy = false;
      this.outstanding--;
      // Untracked meanwhile: the counts no longer include it.
      if (this.find(p.aor, p.contactUri) === p) {
        this.counts[p.state]--;
        this.counts[state]++;
      }
      if (p.state !== state) p.since = this.deps.now();
      p.state = state;
      p.lastProbeAt = sent;
      p.rttMs = rttMs ?? -1;
    };
    sendUacRequest(req, {
      transactions: this.deps.transactions,
      dest: { transport: 'udp', address: p.address, port: p.port },
      timeoutMs: this.deps.timeoutMs,
      // Any final answer, 404 and 405 included, comes from the phone (§11: it may refuse OPTIONS).
      onFinal: () => done('reachable', this.deps.now() - sent),
      onFailure: () => done('unreachable', null),
    });
  }
}

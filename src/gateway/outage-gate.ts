// Long outages of the upstream (B-01, B-02, B-30): once every target of a
// scope (the proxies, or one registrar domain) is blacklisted, one line at a
// time probes, in turn, paced by the wait the caller gives (lines.ts: 5 s,
// never past the blacklist timeout); the other lines wait. The first answer of any kind ends the
// outage and every waiting line goes at once (through the pending slots).
// Without it, with one pending registration, each line's retry waited for
// every other line's Timer F: lines × Timer F between two tries of a line.
import type { Logger } from '../lib/log.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';

interface Scope {
  down: boolean;
  /** The line whose attempt is the probe now. */
  prober: string | undefined;
  /** Probes without an answer since the outage began (given to the pacing). */
  failures: number;
  /** Until it fires, no new probe: the pacing wait after a failed one. */
  timer: TimerHandle | undefined;
  /** Waiting lines in arrival order (a Map keeps insertion order: the head is the next probe). */
  waiting: Map<string, { wait: Promise<void>; go: () => void }>;
}

export class OutageGate {
  private readonly scopes = new Map<string, Scope>();

  constructor(
    private readonly timers: TimerQueue,
    /** The wait before the next probe after `failures` probes without an answer. */
    private readonly pace: (failures: number) => number,
    private readonly log: Logger,
  ) {}

  /** Whether the lines of `scope` are waiting for a probe's answer. */
  isDown(scope: string): boolean {
    return this.scopes.get(scope)?.down === true;
  }

  /** Whether `id` may send now: the scope is up, or `id` is (or becomes, when the turn is open) its probe. */
  mayTry(scope: string, id: string): boolean {
    const s = this.scopes.get(scope);
    if (!s?.down || s.prober === id) return true;
    if (s.prober !== undefined || s.timer !== undefined) return false;
    s.prober = id;
    s.waiting.delete(id);
    return true;
  }

  /** Resolves when `id` may try (call after mayTry said no): its turn to probe, or the outage ended. */
  wait(scope: string, id: string): Promise<void> {
    const s = this.scopes.get(scope);
    if (!s?.down) return Promise.resolve();
    const queued = s.waiting.get(id);
    if (queued) return queued.wait;
    let go!: () => void;
    const wait = new Promise<void>((r) => (go = r));
    s.waiting.set(id, { wait, go });
    return wait;
  }

  /**
   * An attempt of `id` got no answer. `allBlacklisted`: every target of the
   * scope is now, which begins an outage. In one, the probe's failure (or
   * the first of the outage) passes the turn on after the pacing wait.
   */
  noAnswer(scope: string, id: string, allBlacklisted: boolean): void {
    let s = this.scopes.get(scope);
    if (!s?.down) {
      if (!allBlacklisted) return;
      if (!s) this.scopes.set(scope, (s = { down: false, prober: undefined, failures: 0, timer: undefined, waiting: new Map() }));
      s.down = true;
      s.failures = 0;
      this.log.warn({ scope: scopeName(scope) }, `gateway lines: no proxy of ${scopeName(scope)} answers; one line at a time probes while the others wait`);
    } else if (s.prober !== id && (s.prober !== undefined || s.timer !== undefined)) {
      return; // an attempt sent before the outage was known, not the probe
    }
    s.prober = undefined;
    s.failures++;
    const scopeState = s;
    this.timers.cancel(s.timer);
    s.timer = this.timers.schedule(this.pace(s.failures), () => {
      scopeState.timer = undefined;
      this.nextProbe(scopeState);
    });
  }

  /** Some target of the scope answered (anything, even a refusal): the outage is over; every waiting line goes. */
  answered(scope: string): void {
    const s = this.scopes.get(scope);
    if (!s?.down) return;
    const n = s.waiting.size;
    this.log.info({ scope: scopeName(scope), waiting: n }, `gateway lines: ${scopeName(scope)} answers again; ${n} waiting line(s) register now`);
    this.scopes.delete(scope);
    this.release(s);
  }

  /** The line went away: out of the queue, and its probe turn passes on. */
  leave(scope: string, id: string): void {
    const s = this.scopes.get(scope);
    if (!s) return;
    s.waiting.get(id)?.go();
    s.waiting.delete(id);
    if (s.prober === id) {
      s.prober = undefined;
      if (s.timer === undefined) this.nextProbe(s);
    }
  }

  /** Settings or proxies changed (blacklists start afresh), or stop: every waiting line goes. */
  clear(): void {
    for (const s of this.scopes.values()) this.release(s);
    this.scopes.clear();
  }

  private nextProbe(s: Scope): void {
    const head = s.waiting.entries().next();
    if (head.done) return; // the turn stays open: the next line to ask probes
    const [id, w] = head.value;
    s.waiting.delete(id);
    s.prober = id;
    w.go();
  }

  private release(s: Scope): void {
    this.timers.cancel(s.timer);
    s.timer = undefined;
    s.down = false;
    s.prober = undefined;
    for (const w of s.waiting.values()) w.go();
    s.waiting.clear();
  }
}

function scopeName(scope: string): string {
  return scope === '' ? 'the proxies' : `domain ${scope}`;
}

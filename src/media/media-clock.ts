// The 20 ms media clock. A process makes one (the app host component owns it
// and hands it to every endpoint and mixer: no global singleton); they all
// run on its ticks, in three phases per tick: RECEIVE
// (endpoints take this tick's frame out of their jitter buffers: recording,
// digit detection), MIX (conferences sum those frames) and SEND (endpoints
// encode and send one frame each). Playout thus follows the clock, not packet
// arrival, and a mixer sees every participant's frame of the same tick.
//
// The real clock schedules each tick against a monotonic time line (next =
// start + n·20 ms), so timer lateness does not accumulate; after a stall it
// runs at most a few catch-up ticks and then re-anchors instead of bursting.

export const FRAME_MS = 20;
export const FRAME_SAMPLES = 160;

export const PHASE_RECEIVE = 0;
export const PHASE_MIX = 1;
export const PHASE_SEND = 2;
export type ClockPhase = typeof PHASE_RECEIVE | typeof PHASE_MIX | typeof PHASE_SEND;

export type TickHandler = () => void;

export interface MediaClock {
  /** Calls `fn` in `phase` of every tick until the returned function is called. */
  subscribe(phase: ClockPhase, fn: TickHandler): () => void;
  /** Ticks run so far. */
  readonly ticks: number;
}

/** Subscriber lists per phase, copied on change so a handler may (un)subscribe during a tick. */
class Subscribers {
  private phases: TickHandler[][] = [[], [], []];
  onError: (err: unknown) => void = () => {};

  add(phase: ClockPhase, fn: TickHandler): () => void {
    this.phases[phase] = [...this.phases[phase]!, fn];
    this.changed();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.phases[phase] = this.phases[phase]!.filter((f) => f !== fn);
      this.changed();
    };
  }

  get count(): number {
    return this.phases[0]!.length + this.phases[1]!.length + this.phases[2]!.length;
  }

  run(): void {
    for (let p = 0; p < 3; p++) {
      const list = this.phases[p]!;
      for (let i = 0; i < list.length; i++) {
        try {
          list[i]!();
        } catch (err) {
          this.onError(err); // one endpoint's bug must not stop every other call's audio
        }
      }
    }
  }

  changed(): void {}
}

/** For tests: time moves only when tick() is called. */
export class ManualMediaClock implements MediaClock {
  private readonly subs = new Subscribers();
  ticks = 0;

  subscribe(phase: ClockPhase, fn: TickHandler): () => void {
    return this.subs.add(phase, fn);
  }

  /** Runs `n` ticks (20 ms each). */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.ticks++;
      this.subs.run();
    }
  }

  /** Handler exceptions are rethrown in tests rather than swallowed. */
  set onError(fn: (err: unknown) => void) {
    this.subs.onError = fn;
  }
}

/** At most this many ticks (100 ms) are run back to back after the event loop stalled; beyond that, skip. */
const MAX_CATCH_UP = 5;

export class RealMediaClock implements MediaClock {
  private readonly subs = new Subscribers();
  private timer: NodeJS.Timeout | null = null;
  private anchor = 0;
  private due = 0;
  ticks = 0;
  /** Ticks skipped after stalls (re-anchored). */
  skipped = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    onError: (err: unknown) => void = () => {},
  ) {
    this.subs.onError = onError;
    this.subs.changed = () => this.startOrStop();
  }

  subscribe(phase: ClockPhase, fn: TickHandler): () => void {
    return this.subs.add(phase, fn);
  }

  private startOrStop(): void {
    if (this.subs.count > 0 && this.timer === null) {
      this.anchor = this.now();
      this.due = 1;
      this.schedule();
    } else if (this.subs.count === 0 && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private schedule(): void {
    const wait = this.anchor + this.due * FRAME_MS - this.now();
    this.timer = setTimeout(this.fire, Math.max(0, wait));
    this.timer.unref(); // sockets keep the process alive, not the clock
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = this.now();
    let runs = 0;
    while (this.anchor + this.due * FRAME_MS <= now && runs < MAX_CATCH_UP) {
      this.ticks++;
      this.due++;
      runs++;
      this.subs.run();
    }
    const behind = Math.floor((now - this.anchor) / FRAME_MS) - this.due + 1;
    if (behind > 0) {
      this.skipped += behind;
      this.due += behind;
    }
    if (this.subs.count > 0 && this.timer === null) this.schedule();
  };
}

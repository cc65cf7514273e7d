// B-01 "max pending registrations": at most N REGISTER exchanges in flight;
// the rest wait in order. A slot not given back within holdMs is taken back,
// so a lost answer can never stall every line behind it.
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';

export class PendingSlots {
  private inFlight = new Map<string, TimerHandle>();
  private readonly waiting: { id: string; go: () => void }[] = [];
  /** The wait of each queued id: asked again (a refresh while queued), the same wait is shared, so no slot is taken twice. */
  private readonly queuedIds = new Map<string, Promise<void>>();
  private head = 0;

  constructor(private readonly timers: TimerQueue, private limit: number, private holdMs: number) {}

  /** A new limit applies at once (a higher one lets waiters go now); a new hold time to slots taken from now on. */
  setLimit(limit: number, holdMs = this.holdMs): void {
    this.limit = limit;
    this.holdMs = holdMs;
    this.next();
  }

  /** Resolves when `id` may send; one slot per id (asking again while holding one resolves at once). */
  take(id: string): Promise<void> {
    if (this.inFlight.has(id)) return Promise.resolve();
    if (this.inFlight.size < this.limit && this.head === this.waiting.length) {
      this.hold(id);
      return Promise.resolve();
    }
    const queued = this.queuedIds.get(id);
    if (queued) return queued;
    const wait = new Promise<void>((go) => this.waiting.push({ id, go: () => {
      this.queuedIds.delete(id);
      go();
    } }));
    this.queuedIds.set(id, wait);
    return wait;
  }

  /** The exchange of `id` ended (answered, failed, or the line went away). */
  release(id: string): void {
    const t = this.inFlight.get(id);
    if (t === undefined) {
      this.drop(id);
      return;
    }
    this.timers.cancel(t);
    this.inFlight.delete(id);
    this.next();
  }

  get pending(): number {
    return this.inFlight.size;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  private hold(id: string): void {
    this.inFlight.set(id, this.timers.schedule(this.holdMs, () => this.release(id)));
  }

  private next(): void {
    while (this.inFlight.size < this.limit && this.head < this.waiting.length) {
      const w = this.waiting[this.head++]!;
      if (this.inFlight.has(w.id)) {
        w.go();
        continue;
      }
      this.hold(w.id);
      w.go();
    }
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }

  /** A line removed while queued: let its waiter run (it will find the line gone) without a slot. */
  private drop(id: string): void {
    for (let i = this.head; i < this.waiting.length; i++) {
      if (this.waiting[i]!.id === id) {
        const [w] = this.waiting.splice(i, 1);
        w!.go();
        return;
      }
    }
  }
}

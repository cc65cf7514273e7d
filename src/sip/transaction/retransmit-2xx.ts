import type { TimerHandle, TimerQueue } from '../../lib/timer-queue.ts';

export interface Retransmitter2xxOptions {
  timers: TimerQueue;
  t1?: number;
  t2?: number;
  /** Sends the 2xx again (InviteServerTransaction.respond while "accepted", the transport afterwards). */
  send: () => void;
  /** No ACK within 64*T1: the UAS should end the dialog with a BYE (RFC 3261 §13.3.1.4). */
  onTimeout?: () => void;
}

function onTick(r: Retransmitter2xx): void {
  r.tick();
}

/**
 * The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4): the INVITE server
 * transaction no longer retransmits 2xx (RFC 6026), so the dialog layer runs
 * one of these per answered INVITE: re-send at T1, 2T1, ... capped at T2,
 * until stop() (the ACK arrived) or 64*T1 have passed. It runs on every
 * transport, since a reliable first hop does not make the path reliable.
 * The first transmission is the caller's; this only schedules the re-sends.
 */
export class Retransmitter2xx {
  private readonly timers: TimerQueue;
  private readonly t2: number;
  private readonly deadline: number;
  private readonly send: () => void;
  private readonly onTimeout: (() => void) | undefined;
  private handle: TimerHandle | undefined;
  private interval: number;
  private stopped = false;
  /** Re-sends so far. */
  retransmissions = 0;

  constructor(options: Retransmitter2xxOptions) {
    this.timers = options.timers;
    const t1 = options.t1 ?? 500;
    this.t2 = options.t2 ?? 4000;
    this.send = options.send;
    this.onTimeout = options.onTimeout;
    this.deadline = this.timers.clock.now() + 64 * t1;
    this.interval = t1;
    this.handle = this.timers.schedule(t1, onTick, this);
  }

  get active(): boolean {
    return !this.stopped;
  }

  /** The ACK arrived (or the dialog ended): no more re-sends, no timeout. */
  stop(): void {
    this.stopped = true;
    this.timers.cancel(this.handle);
    this.handle = undefined;
  }

  tick(): void {
    this.handle = undefined;
    if (this.stopped) return;
    const now = this.timers.clock.now();
    // Within a millisecond counts as due: the real queue may fire that early.
    if (this.deadline - now < 1) {
      this.stopped = true;
      this.onTimeout?.();
      return;
    }
    this.retransmissions++;
    this.send();
    // send() may have led to stop() (a synchronous transport failure the caller reacted to).
    if (this.stopped) return;
    this.interval = Math.min(2 * this.interval, this.t2);
    this.handle = this.timers.schedule(Math.min(this.interval, this.deadline - now), onTick, this);
  }
}

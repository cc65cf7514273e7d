import type { SipResponse } from '../message.ts';
import type { TimerHandle } from '../../lib/timer-queue.ts';
import type { PreparedMessage } from '../transport/types.ts';
import { buildAck } from './build.ts';
import { ClientTxBase } from './client.ts';
import type { InviteClientState } from './types.ts';

function onTimerA(tx: InviteClientTx): void {
  tx.timerA();
}
function onTimeoutTimer(tx: InviteClientTx): void {
  tx.timerB();
}
function onTerminateTimer(tx: InviteClientTx): void {
  tx.terminate();
}

/**
 * RFC 3261 §17.1.1 INVITE client transaction as amended by RFC 6026:
 *
 *   calling --1xx--> proceeding          (timers A and B stop)
 *   calling|proceeding --2xx--> accepted --timer M (64*T1)--> terminated
 *   calling|proceeding --300-699--> completed (ACK sent) --timer D--> terminated
 *   calling --timer B--> terminated (onTimeout)
 *
 * Timer A doubles on every retransmission with no T2 cap (§17.1.1.2; the cap
 * applies to E and G only), so UDP sends at 0, T1, 3T1, 7T1 ... until B.
 * In "accepted" every 2xx (retransmissions and other forks) reaches the TU,
 * which sends the ACK for 2xx itself; in "completed" a retransmitted non-2xx
 * is answered with the same ACK and absorbed.
 */
export class InviteClientTx extends ClientTxBase {
  readonly kind = 'invite' as const;
  state: InviteClientState = 'calling';
  private timerAHandle: TimerHandle | undefined;
  private timer: TimerHandle | undefined;
  private cancelTimer: TimerHandle | undefined;
  private interval = 0;
  /** The ACK for our non-2xx, as bytes: re-sent for each retransmission of that response. */
  private ack: PreparedMessage | undefined;

  protected arm(): void {
    const ctx = this.ctx;
    if (!this.reliable) {
      this.interval = ctx.t1;
      this.timerAHandle = ctx.timers.schedule(ctx.t1, onTimerA, this);
    }
    this.timer = ctx.timers.schedule(this.timeoutMs, onTimeoutTimer, this);
  }

  timerA(): void {
    this.timerAHandle = undefined;
    if (this.state !== 'calling') return;
    this.retransmitRequest();
    if (this.isTerminated()) return;
    this.interval *= 2;
    this.timerAHandle = this.ctx.timers.schedule(this.interval, onTimerA, this);
  }

  /** Timer B, or the CANCEL grace period. */
  timerB(): void {
    if (this.state === 'calling' || this.state === 'proceeding') this.timedOut();
  }

  override startCancelTimeout(): void {
    if (this.cancelTimer || (this.state !== 'calling' && this.state !== 'proceeding')) return;
    this.cancelTimer = this.ctx.timers.schedule(64 * this.ctx.t1, onTimeoutTimer, this);
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    const state = this.state;
    if (state === 'calling' || state === 'proceeding') {
      if (status < 200) {
        if (state === 'calling') {
          this.state = 'proceeding';
          // Timer B only guards "calling": once the far end answers, the TU decides how long to ring.
          this.stopTimers(false);
          this.requestDone();
        }
        this.handlers.onResponse(response);
        return;
      }
      this.finalDelivered = true;
      this.requestDone();
      this.stopTimers(true);
      if (status < 300) {
        this.state = 'accepted';
        this.timer = this.ctx.timers.schedule(64 * this.ctx.t1, onTerminateTimer, this);
      } else {
        this.state = 'completed';
        const ack = this.prepare(buildAck(this.request, response));
        this.ack = ack;
        if (ack !== undefined) this.transmit(ack);
        if (!this.isTerminated()) {
          if (this.reliable) this.terminate();
          else this.timer = this.ctx.timers.schedule(this.ctx.timerD, onTerminateTimer, this);
        }
      }
      this.handlers.onResponse(response);
      return;
    }
    if (state === 'accepted' && status >= 200 && status < 300) {
      this.handlers.onResponse(response);
      return;
    }
    if (state === 'completed' && status >= 300 && this.ack) {
      this.ctx.counters.retransmissionsAnswered++;
      this.transmit(this.ack);
      return;
    }
    this.ctx.counters.retransmissionsAbsorbed++;
  }

  private stopTimers(includingCancel: boolean): void {
    const timers = this.ctx.timers;
    timers.cancel(this.timerAHandle);
    timers.cancel(this.timer);
    this.timerAHandle = undefined;
    this.timer = undefined;
    if (includingCancel) {
      timers.cancel(this.cancelTimer);
      this.cancelTimer = undefined;
    }
  }

  override terminate(): void {
    this.ack = undefined;
    super.terminate();
  }

  protected clearTimers(): void {
    this.stopTimers(true);
  }
}

import type { Endpoint, SipRequest, SipResponse } from '../message.ts';
import type { TimerHandle } from '../../lib/timer-queue.ts';
import { createResponse } from '../serializer.ts';
import type { TxContext } from './context.ts';
import { ServerTxBase } from './server.ts';
import type { InviteServerState, InviteServerTransaction } from './types.ts';

function onTrying(tx: InviteServerTx): void {
  tx.tryingDue();
}
function onTimerG(tx: InviteServerTx): void {
  tx.timerG();
}
function onTimerH(tx: InviteServerTx): void {
  tx.timerH();
}
function onTerminateTimer(tx: InviteServerTx): void {
  tx.terminate();
}

/**
 * RFC 3261 §17.2.1 INVITE server transaction as amended by RFC 6026:
 *
 *   proceeding --1xx--> proceeding
 *   proceeding --2xx--> accepted  --timer L (64*T1)--> terminated
 *   proceeding --300-699--> completed --ACK--> confirmed --timer I--> terminated
 *                           completed --timer H--> terminated (onTimeout)
 *
 * In "accepted" the TU retransmits the 2xx itself (see Retransmitter2xx);
 * respond() still accepts further 2xx so those go through here, retransmitted
 * INVITEs are absorbed, and ACKs go to the TU.
 *
 * Unlike the non-INVITE kind this is also the TU's handle, request and last
 * response included, for its whole life: a CANCEL lookup hands it back to the
 * TU in any state. Retransmissions (timer G, retransmitted INVITEs, the TU's
 * 2xx re-sends) still go out as the bytes kept from the first send.
 */
export class InviteServerTx extends ServerTxBase implements InviteServerTransaction {
  readonly kind = 'invite' as const;
  state: InviteServerState = 'proceeding';
  lastResponse: SipResponse | undefined = undefined;
  // Only one of trying / G+H / I / L runs at a time, except G with H.
  private retransmit: TimerHandle | undefined;
  private timer: TimerHandle | undefined;
  private interval = 0;

  constructor(
    ctx: TxContext,
    key: string,
    readonly request: SipRequest,
    source: Endpoint,
  ) {
    super(ctx, key, source);
  }

  /** Sends 100 Trying after `delayMs` unless the TU answered first; 0 sends it now. */
  scheduleTrying(delayMs: number): void {
    if (delayMs <= 0) this.tryingDue();
    else this.timer = this.ctx.timers.schedule(delayMs, onTrying, this);
  }

  tryingDue(): void {
    this.timer = undefined;
    if (this.state !== 'proceeding' || this.lastResponse) return;
    const trying = createResponse(this.request, 100, 'Trying');
    this.lastResponse = trying;
    this.transmit(trying);
  }

  receiveRetransmission(): void {
    if (this.state === 'proceeding' || this.state === 'completed') this.answerRetransmission();
    else this.ctx.counters.retransmissionsAbsorbed++;
  }

  /**
   * An ACK matched this transaction. Returns true when it was absorbed (ACK
   * for our non-2xx), false when it belongs to the TU (ACK for a 2xx sent
   * with the INVITE's branch, seen in "accepted").
   */
  receiveAck(): boolean {
    switch (this.state) {
      case 'accepted':
        return false;
      case 'completed':
        this.state = 'confirmed';
        this.clearTimers();
        if (this.reliable) this.terminate();
        else this.timer = this.ctx.timers.schedule(this.ctx.t4, onTerminateTimer, this);
        return true;
      case 'confirmed':
        this.ctx.counters.retransmissionsAbsorbed++;
        return true;
      default:
        // An ACK before any final response is meaningless; drop it.
        return true;
    }
  }

  respond(response: SipResponse): boolean {
    const status = response.status;
    if (status < 100) return false;
    if (this.state === 'accepted') {
      if (status < 200 || status >= 300) return false;
      // The same object again is the TU's 2xx retransmission: the bytes already made will do.
      if (response !== this.lastResponse || !this.resend()) this.transmit(response);
      this.lastResponse = response;
      return true;
    }
    if (this.state !== 'proceeding') return false;
    this.lastResponse = response;
    if (status < 200) {
      // The TU answered, so the automatic 100 is no longer wanted.
      this.clearTimers();
      this.transmit(response);
      return true;
    }
    this.clearTimers();
    const ctx = this.ctx;
    this.state = status < 300 ? 'accepted' : 'completed';
    this.transmit(response);
    if (this.isTerminated()) return true;
    if (this.state === 'accepted') {
      this.timer = ctx.timers.schedule(64 * ctx.t1, onTerminateTimer, this);
      return true;
    }
    if (!this.reliable) {
      this.interval = ctx.t1;
      this.retransmit = ctx.timers.schedule(ctx.t1, onTimerG, this);
    }
    this.timer = ctx.timers.schedule(64 * ctx.t1, onTimerH, this);
    return true;
  }

  timerG(): void {
    this.retransmit = undefined;
    if (this.state !== 'completed' || !this.resend()) return;
    this.ctx.counters.retransmissionsSent++;
    if (this.isTerminated()) return;
    this.interval = Math.min(2 * this.interval, this.ctx.t2);
    this.retransmit = this.ctx.timers.schedule(this.interval, onTimerG, this);
  }

  timerH(): void {
    this.timer = undefined;
    if (this.state !== 'completed') return;
    this.ctx.counters.timeouts++;
    const onTimeout = this.onTimeout;
    this.terminate();
    onTimeout?.();
  }

  protected clearTimers(): void {
    const timers = this.ctx.timers;
    timers.cancel(this.retransmit);
    timers.cancel(this.timer);
    this.retransmit = undefined;
    this.timer = undefined;
  }
}

import type { Endpoint, SipRequest, SipResponse } from '../message.ts';
import type { TimerHandle } from '../timer-queue.ts';
import type { TxContext } from './context.ts';
import type { InviteServerState, NonInviteServerState, NonInviteServerTransaction, ServerTransaction } from './types.ts';

/** Shared plumbing of both server transaction kinds (RFC 3261 §17.2). */
export abstract class ServerTxBase implements ServerTransaction {
  abstract readonly kind: 'invite' | 'non-invite';
  abstract state: InviteServerState | NonInviteServerState;
  lastResponse: SipResponse | undefined = undefined;
  readonly createdAt: number;
  protected readonly reliable: boolean;
  onTransportError?: (err: Error) => void;
  onTimeout?: () => void;
  onTerminated?: () => void;

  constructor(
    protected readonly ctx: TxContext,
    readonly key: string,
    readonly request: SipRequest,
    readonly source: Endpoint,
  ) {
    this.createdAt = ctx.clock.now();
    this.reliable = ctx.sender.isReliable(source.transport);
  }

  abstract respond(response: SipResponse): boolean;
  /** A retransmission of the request that created this transaction arrived. */
  abstract receiveRetransmission(): void;
  protected abstract clearTimers(): void;

  /** A method, not a property test, so TypeScript does not keep a narrowing across a send that may fail. */
  isTerminated(): boolean {
    return this.state === 'terminated';
  }

  protected transmit(response: SipResponse): void {
    this.ctx.sender.send(response, this.source, this.sendFailed);
  }

  /** Re-sends the last response because the client retransmitted its request. */
  protected answerRetransmission(): void {
    const last = this.lastResponse;
    if (!last) {
      this.ctx.counters.retransmissionsAbsorbed++;
      return;
    }
    this.ctx.counters.retransmissionsAnswered++;
    this.transmit(last);
  }

  // An arrow property so each send does not allocate a fresh callback.
  private readonly sendFailed = (err: Error): void => {
    if (this.state === 'terminated') return;
    this.ctx.counters.transportErrors++;
    this.terminate();
    this.onTransportError?.(err);
  };

  /** Ends the transaction: timers cancelled, no longer matched. Idempotent. */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.clearTimers();
    this.ctx.release(this, 'server');
    this.onTerminated?.();
  }
}

function onTimerJ(tx: NonInviteServerTx): void {
  tx.terminate();
}

function onUnanswered(tx: NonInviteServerTx): void {
  tx.unanswered();
}

/**
 * RFC 3261 §17.2.2 non-INVITE server transaction: Trying -> Proceeding ->
 * Completed -> Terminated, timer J = 64*T1 on unreliable transports, 0 on
 * reliable ones.
 *
 * The RFC has no timer for a TU that never answers; the client gives up after
 * timer F (64*T1), so a guard timer of the same length ends the transaction
 * then instead of keeping it (and its request) forever.
 */
export class NonInviteServerTx extends ServerTxBase implements NonInviteServerTransaction {
  readonly kind = 'non-invite' as const;
  state: NonInviteServerState = 'trying';
  private timer: TimerHandle | undefined;

  start(): void {
    this.timer = this.ctx.timers.schedule(64 * this.ctx.t1, onUnanswered, this);
  }

  receiveRetransmission(): void {
    if (this.state === 'trying') this.ctx.counters.retransmissionsAbsorbed++;
    else if (this.state !== 'terminated') this.answerRetransmission();
  }

  respond(response: SipResponse): boolean {
    const state = this.state;
    if (state === 'completed' || state === 'terminated' || response.status < 100) return false;
    this.lastResponse = response;
    if (response.status < 200) {
      this.state = 'proceeding';
      this.transmit(response);
      return true;
    }
    this.state = 'completed';
    this.ctx.timers.cancel(this.timer);
    this.timer = undefined;
    this.transmit(response);
    // A synchronous send failure has already terminated us.
    if (this.isTerminated()) return true;
    if (this.reliable) this.terminate();
    else this.timer = this.ctx.timers.schedule(64 * this.ctx.t1, onTimerJ, this);
    return true;
  }

  unanswered(): void {
    this.timer = undefined;
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.ctx.counters.unansweredServer++;
    this.terminate();
  }

  protected clearTimers(): void {
    this.ctx.timers.cancel(this.timer);
    this.timer = undefined;
  }
}

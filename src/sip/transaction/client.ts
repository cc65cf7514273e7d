import type { Endpoint, SipRequest, SipResponse } from '../message.ts';
import type { TimerHandle } from '../../lib/timer-queue.ts';
import type { PreparedMessage } from '../transport/types.ts';
import type { TxContext } from './context.ts';
import type {
  ClientHandlers,
  ClientTransaction,
  InviteClientState,
  NonInviteClientState,
} from './types.ts';

export interface ClientOptions {
  /** Overrides timer B / F (64*T1) for this request, e.g. a configured "client transaction timeout". */
  timeoutMs?: number;
}

/** Shared plumbing of both client transaction kinds (RFC 3261 §17.1). */
export abstract class ClientTxBase implements ClientTransaction {
  abstract readonly kind: 'invite' | 'non-invite';
  abstract state: InviteClientState | NonInviteClientState;
  readonly createdAt: number;
  protected readonly reliable: boolean;
  /** Set once a final response went to the TU: later transport errors are not the TU's business. */
  protected finalDelivered = false;
  private starting = false;
  /** The request's bytes, made once for every (re)transmission; dropped when no more can be due. */
  private prepared: PreparedMessage | undefined = undefined;

  constructor(
    protected readonly ctx: TxContext,
    readonly key: string,
    readonly branch: string,
    readonly request: SipRequest,
    readonly dest: Endpoint,
    protected readonly handlers: ClientHandlers,
    protected readonly timeoutMs: number,
  ) {
    this.createdAt = ctx.clock.now();
    this.reliable = ctx.sender.isReliable(dest.transport);
  }

  abstract receiveResponse(response: SipResponse): void;
  protected abstract clearTimers(): void;
  protected abstract arm(): void;

  /** Sends the request for the first time and starts the timers. */
  start(): void {
    this.starting = true;
    this.prepared = this.prepare(this.request);
    if (this.prepared !== undefined) this.transmit(this.prepared);
    this.starting = false;
    if (!this.isTerminated()) this.arm();
  }

  startCancelTimeout(): void {}

  isTerminated(): boolean {
    return this.state === 'terminated';
  }

  /** Undefined when the message cannot be serialized (the transaction has ended then). */
  protected prepare(message: SipRequest): PreparedMessage | undefined {
    return this.ctx.sender.prepare(message, this.dest, this.sendFailed);
  }

  protected transmit(prepared: PreparedMessage): void {
    this.ctx.sender.sendPrepared(prepared, this.sendFailed);
  }

  /** Timer A/E: the request again, as the same bytes. */
  protected retransmitRequest(): void {
    if (this.prepared === undefined) return;
    this.ctx.counters.retransmissionsSent++;
    this.transmit(this.prepared);
  }

  /** A final response came: the request is never sent again. */
  protected requestDone(): void {
    this.prepared = undefined;
  }

  private readonly sendFailed = (err: Error): void => {
    if (this.isTerminated()) return;
    this.ctx.counters.transportErrors++;
    this.terminate();
    if (this.finalDelivered) return;
    // Never call back into the TU before sendRequest has returned the transaction.
    if (this.starting) queueMicrotask(() => this.handlers.onTransportError(err));
    else this.handlers.onTransportError(err);
  };

  /** Timer B/F (or the CANCEL grace period) ran out before a final response. */
  protected timedOut(): void {
    this.ctx.counters.timeouts++;
    this.terminate();
    this.handlers.onTimeout();
  }

  terminate(): void {
    if (this.isTerminated()) return;
    this.state = 'terminated';
    this.prepared = undefined;
    this.clearTimers();
    this.ctx.release(this, 'client');
  }
}

function onTimerE(tx: NonInviteClientTx): void {
  tx.timerE();
}
function onTimerF(tx: NonInviteClientTx): void {
  tx.timerF();
}
function onTimerK(tx: NonInviteClientTx): void {
  tx.terminate();
}

/**
 * RFC 3261 §17.1.2 non-INVITE client transaction: Trying -> Proceeding ->
 * Completed -> Terminated. Timer E retransmits (T1 doubling to T2, T2 once a
 * provisional came) on unreliable transports, F = 64*T1 times out, K = T4
 * absorbs response retransmissions (0 on reliable transports).
 */
export class NonInviteClientTx extends ClientTxBase {
  readonly kind = 'non-invite' as const;
  state: NonInviteClientState = 'trying';
  private timerEHandle: TimerHandle | undefined;
  private timer: TimerHandle | undefined;
  private interval = 0;

  protected arm(): void {
    const ctx = this.ctx;
    if (!this.reliable) {
      this.interval = ctx.t1;
      this.timerEHandle = ctx.timers.schedule(ctx.t1, onTimerE, this);
    }
    this.timer = ctx.timers.schedule(this.timeoutMs, onTimerF, this);
  }

  timerE(): void {
    this.timerEHandle = undefined;
    const state = this.state;
    if (state !== 'trying' && state !== 'proceeding') return;
    this.retransmitRequest();
    if (this.isTerminated()) return;
    this.interval = state === 'trying' ? Math.min(2 * this.interval, this.ctx.t2) : this.ctx.t2;
    this.timerEHandle = this.ctx.timers.schedule(this.interval, onTimerE, this);
  }

  timerF(): void {
    this.timer = undefined;
    if (this.state === 'trying' || this.state === 'proceeding') this.timedOut();
  }

  receiveResponse(response: SipResponse): void {
    const state = this.state;
    if (state === 'completed' || state === 'terminated') {
      this.ctx.counters.retransmissionsAbsorbed++;
      return;
    }
    if (response.status < 200) {
      this.state = 'proceeding';
      this.handlers.onResponse(response);
      return;
    }
    this.state = 'completed';
    this.finalDelivered = true;
    this.requestDone();
    this.clearTimers();
    if (this.reliable) this.terminate();
    else this.timer = this.ctx.timers.schedule(this.ctx.t4, onTimerK, this);
    this.handlers.onResponse(response);
  }

  protected clearTimers(): void {
    const timers = this.ctx.timers;
    timers.cancel(this.timerEHandle);
    timers.cancel(this.timer);
    this.timerEHandle = undefined;
    this.timer = undefined;
  }
}

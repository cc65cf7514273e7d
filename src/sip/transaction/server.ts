import type { Endpoint, SipRequest, SipResponse } from '../message.ts';
import type { TimerHandle } from '../../lib/timer-queue.ts';
import type { PreparedMessage } from '../transport/types.ts';
import type { TxContext } from './context.ts';
import type { InviteServerState, NonInviteServerState, NonInviteServerTransaction } from './types.ts';

/**
 * Shared plumbing of both server transaction kinds (RFC 3261 §17.2): the part
 * the layer's matching map holds. Of the responses it keeps only the bytes of
 * the last one sent and where they went, which is all a retransmitted request
 * needs; request and response objects belong to the TU's view of it.
 */
export abstract class ServerTxBase {
  abstract readonly kind: 'invite' | 'non-invite';
  abstract state: InviteServerState | NonInviteServerState;
  readonly createdAt: number;
  protected readonly reliable: boolean;
  /** The last response as sent. */
  protected prepared: PreparedMessage | undefined = undefined;
  onTransportError?: (err: Error) => void;
  onTimeout?: () => void;
  onTerminated?: () => void;

  constructor(
    protected readonly ctx: TxContext,
    readonly key: string,
    readonly source: Endpoint,
  ) {
    this.createdAt = ctx.clock.now();
    this.reliable = ctx.sender.isReliable(source.transport);
  }

  /** A retransmission of the request that created this transaction arrived. */
  abstract receiveRetransmission(): void;
  protected abstract clearTimers(): void;

  /** A method, not a property test, so TypeScript does not keep a narrowing across a send that may fail. */
  isTerminated(): boolean {
    return this.state === 'terminated';
  }

  /** Serializes and sends a response, keeping the bytes for retransmissions. */
  protected transmit(response: SipResponse): void {
    const sender = this.ctx.sender;
    const prepared = sender.prepare(response, this.source, this.sendFailed);
    // Undefined: it could not be serialized, and sendFailed has ended the transaction.
    if (prepared === undefined) return;
    this.prepared = prepared;
    sender.sendPrepared(prepared, this.sendFailed);
  }

  /** Sends the last response's bytes again; false when nothing was sent yet. */
  protected resend(): boolean {
    const prepared = this.prepared;
    if (prepared === undefined) return false;
    this.ctx.sender.sendPrepared(prepared, this.sendFailed);
    return true;
  }

  /** Re-sends the last response because the client retransmitted its request. */
  protected answerRetransmission(): void {
    if (this.resend()) this.ctx.counters.retransmissionsAnswered++;
    else this.ctx.counters.retransmissionsAbsorbed++;
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
    this.prepared = undefined;
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
 * It never holds the request: the TU gets a NonInviteServerView holding it,
 * so at 3,000 REGISTERs/s the ~200,000 transactions waiting out timer J keep
 * a key, a timer and the response bytes each, not the parsed messages.
 *
 * The RFC has no timer for a TU that never answers; the client gives up after
 * timer F (64*T1), so a guard timer of the same length ends the transaction
 * then instead of keeping it forever.
 */
export class NonInviteServerTx extends ServerTxBase {
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

/**
 * The TU's handle on a non-INVITE server transaction: the request and the
 * last response live here, the state machine in the NonInviteServerTx the
 * layer holds. Once the TU lets go of this object, both can be collected
 * while the transaction itself waits out timer J.
 */
export class NonInviteServerView implements NonInviteServerTransaction {
  lastResponse: SipResponse | undefined = undefined;

  constructor(
    private readonly tx: NonInviteServerTx,
    readonly request: SipRequest,
  ) {}

  get kind(): 'non-invite' {
    return 'non-invite';
  }
  get state(): NonInviteServerState {
    return this.tx.state;
  }
  get source(): Endpoint {
    return this.tx.source;
  }
  get createdAt(): number {
    return this.tx.createdAt;
  }

  respond(response: SipResponse): boolean {
    if (!this.tx.respond(response)) return false;
    this.lastResponse = response;
    return true;
  }

  get onTransportError(): ((err: Error) => void) | undefined {
    return this.tx.onTransportError;
  }
  set onTransportError(f: ((err: Error) => void) | undefined) {
    this.tx.onTransportError = f;
  }
  get onTimeout(): (() => void) | undefined {
    return this.tx.onTimeout;
  }
  set onTimeout(f: (() => void) | undefined) {
    this.tx.onTimeout = f;
  }
  get onTerminated(): (() => void) | undefined {
    return this.tx.onTerminated;
  }
  set onTerminated(f: (() => void) | undefined) {
    this.tx.onTerminated = f;
  }
}

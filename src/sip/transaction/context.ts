import type { Clock } from '../../lib/time.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { MessageSender } from '../transport/types.ts';
import type { TransactionCounters } from './types.ts';

/** What every transaction needs from the layer that owns it (internal). */
export interface TxContext {
  readonly sender: MessageSender;
  readonly timers: TimerQueue;
  readonly clock: Clock;
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** Timer D on unreliable transports (RFC 3261: at least 32 s). */
  readonly timerD: number;
  readonly counters: TransactionCounters;
  /** Called once when a transaction reaches "terminated", to drop it from the matching maps. */
  release(tx: { key: string; kind: 'invite' | 'non-invite' }, side: 'server' | 'client'): void;
}

// The timer queue lives in src/lib/timer-queue.ts (transactions, calls, trunk
// registrations and the server's sweeper share one); this name stays for the
// SIP library's own modules and for code not yet moved over.
export type { TimerHandle, TimerQueueOptions } from '../lib/timer-queue.ts';
export { ManualTimerQueue, TimerQueue } from '../lib/timer-queue.ts';

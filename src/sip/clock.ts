// The clocks live in src/lib/time.ts (every layer uses them); this name stays
// for the SIP library's own modules and for code not yet moved over.
export type { Clock } from '../lib/time.ts';
export { ManualClock, monotonicClock, systemClock } from '../lib/time.ts';

// The log helpers live in src/lib/log.ts (every layer uses them); this name
// stays for the SIP library's own modules and for code not yet moved over.
export type { Logger } from '../lib/log.ts';
export { OncePerInterval, silentLogger } from '../lib/log.ts';

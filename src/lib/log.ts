// Every layer logs through this minimal interface, so none depends on a
// logging package and media, ops or the API need not import the SIP library
// for a type; pino loggers satisfy it as they are.
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * Lets an event through once per key per interval, so a flood of bad packets
 * from one source produces one log line per interval instead of one per packet.
 * A total cap per interval covers floods from many (spoofed) sources. The key
 * map is bounded: when it is full, it is cleared, which at worst logs an event
 * a little early.
 */
export class OncePerInterval {
  private readonly last = new Map<string, number>();
  private suppressed = new Map<string, number>();
  private windowStart = -Infinity;
  private passedInWindow = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
    /** Events let through per interval across all keys. */
    private readonly maxPerInterval = 100,
  ) {}

  /** Returns the number of suppressed events since the last pass (>= 0) when the event may be logged, or -1. */
  take(key: string): number {
    const t = this.now();
    const prev = this.last.get(key);
    if (t - this.windowStart >= this.intervalMs) {
      this.windowStart = t;
      this.passedInWindow = 0;
    }
    if ((prev !== undefined && t - prev < this.intervalMs) || this.passedInWindow >= this.maxPerInterval) {
      if (this.suppressed.size >= this.maxKeys) this.suppressed.clear();
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return -1;
    }
    this.passedInWindow++;
    if (this.last.size >= this.maxKeys) {
      this.last.clear();
      this.suppressed.clear();
    }
    this.last.set(key, t);
    const n = this.suppressed.get(key) ?? 0;
    this.suppressed.delete(key);
    return n;
  }
}

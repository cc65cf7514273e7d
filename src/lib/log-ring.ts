// The last warnings and errors the process logged, kept in memory for the
// system page's log view: a fixed number of lines (the oldest dropped), each
// line's fields cleaned of secrets and cut to a bounded length when logged.
import type { Logger } from './log.ts';

export interface LogLine {
  at: number;
  level: 'warn' | 'error';
  msg: string;
  /** The line's fields as JSON, secrets replaced, at most FIELDS_MAX characters. */
  fields: string;
  /** The worker of a cluster that logged it (set when gathered). */
  worker?: number;
}

export const LOG_RING_SIZE = 200;
const FIELDS_MAX = 600;
const MSG_MAX = 300;

/** Errors have no enumerable fields: their message and code are what a reader needs. */
function plain(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, code: (value as { code?: unknown }).code };
  if (typeof value === 'bigint') return String(value);
  return value;
}

export class LogRing {
  private readonly lines: (LogLine | undefined)[];
  private next = 0;

  constructor(
    /** Replaces secret fields (the API's redact). */
    private readonly clean: (obj: unknown) => unknown,
    private readonly now: () => number = Date.now,
    readonly size = LOG_RING_SIZE,
  ) {
    this.lines = new Array<LogLine | undefined>(size);
  }

  push(level: LogLine['level'], obj: object, msg: string | undefined): void {
    let fields: string;
    try {
      fields = JSON.stringify(this.clean(JSON.parse(JSON.stringify(obj, plain) ?? '{}'))) ?? '{}';
    } catch {
      fields = '{}';
    }
    if (fields.length > FIELDS_MAX) fields = `${fields.slice(0, FIELDS_MAX)}…`;
    const text = msg ?? (obj as { msg?: unknown }).msg;
    this.lines[this.next] = { at: this.now(), level, msg: typeof text === 'string' ? text.slice(0, MSG_MAX) : '', fields };
    this.next = (this.next + 1) % this.size;
  }

  /** Oldest first. */
  list(): LogLine[] {
    const out: LogLine[] = [];
    for (let i = 0; i < this.size; i++) {
      const l = this.lines[(this.next + i) % this.size];
      if (l) out.push(l);
    }
    return out;
  }

  /** A logger that logs to `inner` and keeps its warnings and errors here. */
  tee(inner: Logger): Logger {
    return {
      error: (obj, msg) => {
        this.push('error', obj, msg);
        inner.error(obj, msg);
      },
      warn: (obj, msg) => {
        this.push('warn', obj, msg);
        inner.warn(obj, msg);
      },
      info: (obj, msg) => inner.info(obj, msg),
      debug: (obj, msg) => inner.debug(obj, msg),
    };
  }
}

// Reads a server's stdout/stderr as it comes: counts lines (pino JSON, one
// event per line) by level, spots stack traces, keeps a tail for failure
// reports. The network fuzzer judges log volume with it: bad input must be
// logged once per source per interval, never per packet.

export interface LogCounts {
  lines: number;
  /** pino levels 50 (error) and 60 (fatal). */
  errors: number;
  warnings: number;
  stackTraces: number;
}

const LEVEL = /"level":(\d+)/;
/** A V8 stack frame, in a JSON string ("\n    at f (file:1:2)") or on a line of its own. */
const STACK_FRAME = /(?:\\n|^)\s+at .+:\d+:\d+\)?/;

export class LogWatch {
  /** The unfinished last line of each stream. */
  private readonly partial = { stdout: '', stderr: '' };
  private readonly tail: string[] = [];
  readonly counts: LogCounts = { lines: 0, errors: 0, warnings: 0, stackTraces: 0 };
  /** The first line with a stack trace or at error level, for the report. */
  firstBad?: string;

  /** @param ignore lines that are the harness's own (e.g. a memory hook's), not the server's log */
  constructor(private readonly ignore?: RegExp, private readonly tailLines = 500) {}

  feed(chunk: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const lines = (this.partial[stream] + chunk).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) if (line !== '' && this.ignore?.test(line) !== true) this.line(line);
  }

  private line(line: string): void {
    const c = this.counts;
    c.lines++;
    this.tail.push(line.length > 4000 ? `${line.slice(0, 4000)}... (${line.length} chars)` : line);
    if (this.tail.length > this.tailLines) this.tail.shift();
    // Lines that are not pino's (the ready line, Node's own crash report) count as info; their stack frames are caught below.
    const level = Number(LEVEL.exec(line)?.[1] ?? 30);
    let bad = false;
    if (level >= 50) {
      c.errors++;
      bad = true;
    } else if (level === 40) c.warnings++;
    if (STACK_FRAME.test(line) || line.includes('"stack":')) {
      c.stackTraces++;
      bad = true;
    }
    if (bad) this.firstBad ??= line.slice(0, 4000);
  }

  /** A copy of the counts, to subtract later. */
  snapshot(): LogCounts {
    return { ...this.counts };
  }

  tailText(): string {
    return [...this.tail, this.partial.stdout, this.partial.stderr].filter((l) => l !== '').join('\n');
  }
}

/** Counts between two snapshots. */
export function countsSince(now: LogCounts, before: LogCounts): LogCounts {
  return {
    lines: now.lines - before.lines,
    errors: now.errors - before.errors,
    warnings: now.warnings - before.warnings,
    stackTraces: now.stackTraces - before.stackTraces,
  };
}

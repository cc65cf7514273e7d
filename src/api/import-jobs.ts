// Imports too big to answer while the request waits run as jobs: POST
// answers 202 with the job, GET shows its progress and, once done, its
// report a page at a time (a report of 450,000 rows is not one answer, nor
// one JSON.stringify on the event loop SIP shares). One import job runs at a
// time; the last few finished ones are kept for an hour. A server that stops
// stops its job between two rows and waits for it, so nothing is written
// after the store closes.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Logger } from '../lib/log.ts';
import type { importJobSchema, importReportSchema } from './schemas.ts';

type Report = z.output<typeof importReportSchema>;
export type ReportRow = Report['rows'][number];
export type ImportJobView = z.output<typeof importJobSchema>;

const KEEP_FINISHED = 5;
const KEEP_MS = 60 * 60_000;

export interface ImportJob {
  readonly id: string;
  readonly dryRun: boolean;
  readonly total: number;
  readonly startedAt: number;
  state: 'running' | 'done' | 'failed';
  finishedAt: number | null;
  /** Whether rows were written (run's answer); null while running or after a failure. */
  applied: boolean | null;
  /** Report rows so far, in file order: their count is the progress. */
  readonly rows: ReportRow[];
  error?: string;
}

export function summaryOf(rows: readonly ReportRow[]): Report['summary'] {
  const summary = { add: 0, update: 0, error: 0 };
  for (const r of rows) summary[r.action]++;
  return summary;
}

export class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();
  private readonly stops = new Map<string, { abort: AbortController; ended: Promise<void> }>();

  constructor(private readonly now: () => number, private readonly log: Logger) {}

  /** The job that is running, if any. */
  running(): ImportJob | undefined {
    for (const j of this.jobs.values()) if (j.state === 'running') return j;
    return undefined;
  }

  /** Starts run in the background; it appends report rows to the job's rows as it goes and gives up once signal aborts. */
  start(dryRun: boolean, total: number, run: (rows: ReportRow[], signal: AbortSignal) => Promise<boolean>): ImportJob {
    this.forgetOld();
    const job: ImportJob = { id: randomUUID(), dryRun, total, startedAt: this.now(), state: 'running', finishedAt: null, applied: null, rows: [] };
    this.jobs.set(job.id, job);
    this.log.info({ job: job.id, rows: total, dryRun }, 'user import started');
    const abort = new AbortController();
    const ended = run(job.rows, abort.signal).then(
      (applied) => {
        job.state = 'done';
        job.applied = applied;
        this.log.info({ job: job.id, ...summaryOf(job.rows), dryRun }, 'user import finished');
      },
      (err: unknown) => {
        job.state = 'failed';
        job.error = (err as Error).message;
        this.log.error({ job: job.id, done: job.rows.length, rows: total, err }, 'user import failed');
      },
    ).finally(() => {
      job.finishedAt = this.now();
      this.stops.delete(job.id);
    });
    this.stops.set(job.id, { abort, ended });
    return job;
  }

  /** Stops the running job (it fails with the reason) and waits for it to end. */
  async close(reason = 'the server is stopping'): Promise<void> {
    const running = [...this.stops.values()];
    for (const s of running) s.abort.abort(new Error(`stopped: ${reason}`));
    await Promise.all(running.map((s) => s.ended));
  }

  get(id: string): ImportJob | undefined {
    this.forgetOld();
    return this.jobs.get(id);
  }

  /** The job with a page of its report rows (only those with action, when given). */
  view(job: ImportJob, page: { offset: number; limit: number; action?: ReportRow['action'] }): ImportJobView {
    const { action, ...at } = page;
    const rows = action ? job.rows.filter((r) => r.action === action) : job.rows;
    return {
      id: job.id,
      state: job.state,
      dryRun: job.dryRun,
      total: job.total,
      done: job.rows.length,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      applied: job.applied,
      ...(job.error === undefined ? {} : { error: job.error }),
      summary: summaryOf(job.rows),
      rows: { total: rows.length, ...at, items: rows.slice(at.offset, at.offset + at.limit) },
    };
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter((j) => j.finishedAt !== null);
    const cutoff = this.now() - KEEP_MS;
    finished.forEach((j, i) => {
      if (j.finishedAt! < cutoff || i < finished.length - KEEP_FINISHED) this.jobs.delete(j.id);
    });
  }
}

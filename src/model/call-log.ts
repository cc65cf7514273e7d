// The call log: the record of every call attempt as the API, the CLI and
// the CSV export show it — its filters, its schema and the CSV columns
// (the words for statuses are call-words.ts, which the web UI shares).
import { z } from 'zod';
import { stringify } from 'csv-stringify/sync';
import { cellText } from './user-csv.ts';
import { statusWords, talkSeconds } from './call-words.ts';
import type { Cdr, CdrQuery, CdrRepository } from '../store/types.ts';
import { inSlices } from '../lib/slices.ts';

export const CALL_DIRECTION_VALUES = ['internal', 'inbound', 'outbound'] as const;
export const CALL_DISPOSITION_VALUES = ['answered', 'no-answer', 'busy', 'cancelled', 'rejected', 'failed'] as const;

/** A time bound: epoch ms, or an ISO 8601 date or date-time ("2026-12-07", "2026-12-07T08:00Z"). */
const timeBound = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const ms = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be a date and time (2026-12-07T08:00Z) or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

const STATUS_ERROR = 'must be a SIP status code from 100 to 699, such as 403 or 408';

/** The filters of the call log (API query, CLI options), without paging. */
export const callFilterShape = {
  extension: z.string().min(1).max(64).optional().describe('calls this extension placed or received'),
  kind: z.enum(['placed', 'received', 'missed']).optional().describe('with extension: placed by it, answered by it, or missed by it'),
  since: timeBound.optional().describe('calls that started at or after this time: epoch ms or ISO 8601'),
  until: timeBound.optional().describe('calls that started before this time: epoch ms or ISO 8601'),
  direction: z.enum(CALL_DIRECTION_VALUES).optional(),
  disposition: z.enum(CALL_DISPOSITION_VALUES).optional().describe('how the call ended for the caller; rejected = refused'),
  status: z.coerce.number({ error: STATUS_ERROR }).int({ error: STATUS_ERROR }).min(100, { error: STATUS_ERROR }).max(699, { error: STATUS_ERROR }).optional().describe('final SIP status the caller got, e.g. 403 or 408'),
  trunk: z.string().min(1).max(64).optional(),
  search: z.string().trim().min(1).max(64).optional().describe("part of the caller's or callee's number or the caller's name"),
};

const filters = z.object(callFilterShape).strict();
export type CallFilter = z.output<typeof filters>;

/** The store query of validated filters. */
export function cdrQueryOf(f: CallFilter): CdrQuery {
  const q: CdrQuery = {};
  for (const [k, v] of Object.entries(f)) if (v !== undefined && k in callFilterShape) (q as Record<string, unknown>)[k] = v;
  return q;
}

const mediaSideSchema = z.object({
  address: z.string().nullable().describe('where the side sent RTP from (address:port), latched by the relay or from its SDP'),
  stream: z.string().describe('"SRTP" or "RTP"'),
  packetsIn: z.number().int().nullable().describe('relayed calls only'),
  packetsOut: z.number().int().nullable(),
  lost: z.number().int().nullable(),
  lossPercent: z.number().nullable(),
  jitterMs: z.number().nullable(),
});

export const cdrSchema = z.object({
  id: z.number().int(),
  callRef: z.string(),
  direction: z.enum(CALL_DIRECTION_VALUES),
  caller: z.string(),
  callerName: z.string(),
  callerExtension: z.string().nullable(),
  callee: z.string(),
  calleeExtension: z.string().nullable(),
  trunk: z.string().nullable(),
  startedAt: z.number().int(),
  answeredAt: z.number().int().nullable(),
  endedAt: z.number().int(),
  disposition: z.enum(CALL_DISPOSITION_VALUES),
  status: z.number().int(),
  reason: z.string().describe('why, in words: the reason phrase the caller got or what refused the attempt'),
  codec: z.string().nullable(),
  legs: z.array(z.object({ target: z.string(), status: z.number().int(), callId: z.string(), reason: z.string().optional() }))
    .describe('every attempt to reach the callee (a fork to a phone, or a trunk) with its final status'),
  segments: z.array(z.object({ a: z.string(), b: z.string(), startedAt: z.number().int(), endedAt: z.number().int() }))
    .describe('who talked to whom: one entry per pairing of a transferred, parked or picked-up call'),
  media: z.object({ connectionType: z.string(), caller: mediaSideSchema, callee: mediaSideSchema }).nullable()
    .describe('media of the answered call when it ended; packet counts, loss and jitter where the server relayed it'),
});

export const CALL_CSV_COLUMNS = [
  'id', 'startedAt', 'direction', 'caller', 'callerName', 'callee', 'calleeExtension', 'trunk', 'disposition', 'status',
  'reason', 'talkSeconds', 'codec', 'answeredAt', 'endedAt', 'callRef', 'legs', 'callerMedia', 'calleeMedia',
] as const;

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

function mediaText(m: NonNullable<Cdr['media']>['caller'] | undefined): string {
  if (!m) return '';
  const stats = m.packetsIn === null ? '' : ` in ${m.packetsIn} out ${m.packetsOut} lost ${m.lost} (${m.lossPercent}%) jitter ${m.jitterMs} ms`;
  return `${m.address ?? '?'} ${m.stream}${stats}`;
}

/** CSV rows of call records (header first unless header is false); cells that look like formulas are guarded. */
export function callsToCsv(calls: readonly Cdr[], header = true): string {
  const rows = calls.map((c) => [
    c.id, iso(c.startedAt), c.direction, c.caller, c.callerName, c.callee, c.calleeExtension, c.trunk, c.disposition, c.status,
    statusWords(c.status, c.reason), talkSeconds(c), c.codec, iso(c.answeredAt), iso(c.endedAt), c.callRef,
    c.legs.map((l) => `${l.target} ${statusWords(l.status, l.reason ?? '')}`).join(' | '),
    mediaText(c.media?.caller), mediaText(c.media?.callee),
  ].map(cellText));
  return stringify(header ? [[...CALL_CSV_COLUMNS], ...rows] : rows, { record_delimiter: 'windows' });
}

/** Records per store read of an export: one indexed query each; the event loop turns between slices. */
const EXPORT_PAGE = 500;

/**
 * The whole selection as CSV (BOM and header first), a page of records at a
 * time: keyset paging, so a big log costs no OFFSET scans, and a long export
 * never holds the event loop for more than a slice.
 */
export async function* callsCsv(cdrs: Pick<CdrRepository, 'list'>, query: CdrQuery): AsyncGenerator<string> {
  yield '\ufeff' + callsToCsv([], true);
  yield* inSlices(csvPages(cdrs, query));
}

async function* csvPages(cdrs: Pick<CdrRepository, 'list'>, query: CdrQuery): AsyncGenerator<string> {
  let after: CdrQuery['after'];
  for (;;) {
    const page = await cdrs.list({ ...query, after, offset: 0, limit: EXPORT_PAGE });
    if (page.length === 0) return;
    yield callsToCsv(page, false);
    const last = page[page.length - 1]!;
    after = { startedAt: last.startedAt, id: last.id };
    if (page.length < EXPORT_PAGE) return;
  }
}

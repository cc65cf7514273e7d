// /api/calls: the call log (call detail records), filtered and paged, one
// record by id, and the CSV export of everything a filter selects.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { CALL_CSV_COLUMNS, callFilterShape, callsCsv, cdrQueryOf, cdrSchema } from '../../model/call-log.ts';
import { StoreError } from '../../store/errors.ts';
import type { CdrQuery, CdrRepository } from '../../store/types.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import { listOf, paging } from '../schemas.ts';

const FILTERS_DOC = 'Filters combine (AND): since/until (epoch ms or ISO 8601) on the start time, extension (caller or callee; ' +
  'kind narrows to placed, received or missed), direction, disposition, status (final SIP status, e.g. 403 or 408), trunk, and ' +
  "search (part of the caller's or callee's number or the caller's name). Newest first.";

const listQuery = z.object({ ...paging, ...callFilterShape, format: z.enum(['json', 'csv']).default('json').describe('csv: the export, as GET /api/calls.csv') }).strict();
const csvQuery = z.object(callFilterShape).strict();
const idParams = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

export function callRoutes(t: RouteTable, ctx: ApiContext): void {
  const cdrs = (): CdrRepository => {
    if (!ctx.store.cdrs) throw new ApiError(503, 'unavailable', 'this store has no call records');
    return ctx.store.cdrs;
  };
  /** Store refusals of a filter are the client's mistake. */
  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StoreError && err.code === 'invalid') throw new ApiError(400, 'validation', err.message);
      throw err;
    }
  };
  const sendCsv = (reply: FastifyReply, query: CdrQuery) => {
    void reply.header('content-disposition', 'attachment; filename="calls.csv"');
    void reply.header('cache-control', 'no-store');
    void reply.type('text/csv; charset=utf-8');
    return Readable.from(callsCsv(cdrs(), query), { objectMode: false });
  };

  t.add({
    method: 'GET', url: '/api/calls', tag: 'calls', access: 'read',
    summary: 'The call log: call detail records, newest first',
    description: `Every call attempt past authentication, refused ones included (with their SIP status and reason). ${FILTERS_DOC} ` +
      'format=csv answers the whole selection as CSV (paging ignored), as GET /api/calls.csv does.',
    query: listQuery,
    response: { description: 'a page of call records (with format=csv: the CSV file)', schema: listOf(cdrSchema) },
    errors: [400],
    handler: async (req) => {
      const { offset, limit, format, ...filters } = req.query;
      const query = cdrQueryOf(filters);
      if (format === 'csv') return sendCsv(req.reply, query);
      return guarded(async () => ({
        total: await cdrs().count(query), offset, limit, items: await cdrs().list({ ...query, offset, limit }),
      }));
    },
  });

  t.add({
    method: 'GET', url: '/api/calls.csv', tag: 'calls', access: 'read',
    summary: 'Export the call log as CSV',
    description: `The calls the filters select, newest first, written as they are read. ${FILTERS_DOC} ` +
      `Columns: ${CALL_CSV_COLUMNS.join(', ')}. A cell that starts like a spreadsheet formula is written with a ' in front.`,
    query: csvQuery,
    response: { description: 'the file', contentTypes: ['text/csv'] },
    errors: [400],
    handler: async (req) => sendCsv(req.reply, cdrQueryOf(req.query)),
  });

  t.add({
    method: 'GET', url: '/api/calls/:id', tag: 'calls', access: 'read',
    summary: 'One call record',
    description: 'With its legs (every attempt to reach the callee and its status) and the media of each side.',
    params: idParams,
    response: { description: 'the call record', schema: cdrSchema },
    errors: [404],
    handler: async (req) => {
      const cdr = await cdrs().get(req.params.id);
      if (!cdr) throw new ApiError(404, 'not-found', `no call record ${req.params.id}`);
      return cdr;
    },
  });
}

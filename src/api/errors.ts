// One error shape for every answer of the API: {error, message?, issues?}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isStoreError, isStoreOutage } from '../store/errors.ts';
import { describeStoreError } from '../store/write-health.ts';
import type { Logger } from '../lib/log.ts';

export type IssueLocation = 'body' | 'query' | 'params';

export interface Issue {
  /** Dotted path of the field, e.g. "extension" or "codecs.0"; '' for the whole value. */
  path: string;
  in?: IssueLocation;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** Stable machine-readable code, e.g. 'validation', 'csrf', 'password-change-required'. */
    readonly code: string,
    message: string,
    readonly extra: { issues?: Issue[]; role?: string; retryAfterSec?: number } = {},
  ) {
    super(message);
  }
}

export function zodIssues(error: z.ZodError, where: IssueLocation): Issue[] {
  const out: Issue[] = [];
  for (const i of error.issues) {
    const base = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ path: base ? `${base}.${k}` : k, in: where, message: `unknown field "${k}"` });
    } else {
      out.push({ path: base, in: where, message: i.message });
    }
  }
  return out;
}

export function validationError(issues: Issue[]): ApiError {
  const first = issues[0];
  const msg = first ? `${first.path || first.in || 'request'}: ${first.message}` : 'invalid request';
  return new ApiError(400, 'validation', msg, { issues });
}

/** StoreError's field names the input field at fault, so it maps to an issue directly. */
function fromStoreError(err: Error & { code: string; field: string }): ApiError {
  const issues = [{ path: err.field, in: 'body' as const, message: err.message }];
  if (err.code === 'duplicate' || err.code === 'conflict') return new ApiError(409, err.code, err.message, { issues });
  if (err.code === 'not-found') return new ApiError(404, 'not-found', err.message);
  return new ApiError(400, 'validation', err.message, { issues });
}

const OUTAGE_LOG_INTERVAL_MS = 60_000;
let lastOutageLogAt = -Infinity;

export function toApiError(err: unknown, log: Logger, req: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  if (isStoreError(err)) return fromStoreError(err);
  if (isStoreOutage(err)) {
    // Every request fails alike during an outage: logged once a minute, not once per request with a stack.
    const t = Date.now();
    if (t - lastOutageLogAt >= OUTAGE_LOG_INTERVAL_MS) {
      lastOutageLogAt = t;
      log.error({ code: (err as { code?: unknown }).code, method: req.method, url: req.routeOptions.url ?? '(none)' },
        `management API: database cannot take writes: ${describeStoreError(err as Error)}`);
    }
    return new ApiError(503, 'database-unavailable', `the database cannot take this now: ${describeStoreError(err as Error)}`, { retryAfterSec: 30 });
  }
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own refusals: malformed JSON, unsupported media type, body too large.
    const code = fe.statusCode === 413 ? 'too-large' : fe.statusCode === 415 ? 'unsupported-media-type' : 'bad-request';
    return new ApiError(fe.statusCode, code, fe.message);
  }
  log.error({ err, method: req.method, url: req.routeOptions.url ?? '(none)' }, 'management API request failed');
  return new ApiError(500, 'internal', 'internal error');
}

export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  if (e.extra.retryAfterSec !== undefined) void reply.header('retry-after', String(e.extra.retryAfterSec));
  const body: Record<string, unknown> = { error: e.code, message: e.message };
  if (e.extra.issues) body.issues = e.extra.issues;
  if (e.extra.role) body.role = e.extra.role;
  return reply.code(e.status).type('application/json; charset=utf-8').send(body);
}

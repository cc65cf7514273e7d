// GET /metrics (Prometheus text) and GET /healthz on the management server
// (issue 5 item 6). Both answer without a session: Prometheus and load
// balancers have no login. /metrics can be closed with http.metricsToken: then
// it wants "Authorization: Bearer <token>", which Prometheus sends from its
// scrape config (authorization: credentials). Health reveals nothing secret
// and stays open so probes need no configuration.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { HealthReport } from '../ops/health.ts';
import { z } from 'zod';
import { ApiError } from './errors.ts';
import type { ExtraRoutes } from './http-server.ts';
import type { RouteTable } from './route.ts';

export interface OpsRouteDeps {
  metrics(): Promise<string>;
  metricsContentType(): string;
  health(): HealthReport;
  /** When set, /metrics needs this bearer token. */
  metricsToken?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares hashes so neither the token's length nor its prefix leaks through timing. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
});

export function opsRoutes(deps: OpsRouteDeps): ExtraRoutes {
  return (app: FastifyInstance, t: RouteTable) => {
    t.add({
      method: 'GET', url: '/metrics', tag: 'operations', access: 'public',
      summary: 'Metrics in the Prometheus text format',
      description: 'Registrations, active calls, transactions, SIP messages by method and status, authentication ' +
        'failures, bans, alarms. Open unless http.metricsToken is set; then send "Authorization: Bearer <token>".',
      response: { description: 'the exposition', contentTypes: ['text/plain'] },
      errors: [401],
      handler: async (req) => {
        if (deps.metricsToken !== undefined && !bearerMatches(req.raw.headers.authorization, deps.metricsToken)) {
          void req.reply.header('www-authenticate', 'Bearer realm="metrics"');
          throw new ApiError(401, 'unauthenticated', 'GET /metrics needs the bearer token of http.metricsToken');
        }
        const text = await deps.metrics();
        void req.reply.type(deps.metricsContentType()).header('cache-control', 'no-store');
        return text;
      },
    });

    // Mounted directly: the table answers one status per route, this one has two (200 and 503) with one body.
    app.get('/healthz', { config: { api: { access: 'public', duringPasswordChange: true } } }, async (_req, reply) => {
      const report = deps.health();
      return reply.code(report.status === 'ok' ? 200 : 503).header('cache-control', 'no-store').send(report);
    });
    t.routes.push({
      method: 'GET', url: '/healthz', tag: 'operations', access: 'public',
      summary: 'Health: listeners, database, registration write-behind',
      description: '200 when every check passes, 503 with the same body when one fails.',
      response: { description: 'all checks pass', schema: healthSchema },
      errors: [503],
      handler: () => undefined,
    });
  };
}

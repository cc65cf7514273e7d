// Route definitions: one object per route carries its access rule, its zod
// schemas and its handler. Registering it both mounts it on fastify and
// records it for the OpenAPI document, so the document cannot miss a route.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AdminAccount, AdminSession } from '../store/admin-types.ts';
import { validationError, zodIssues, type IssueLocation } from './errors.ts';

/**
 * public: anyone. session: any logged-in account (the session routes).
 * read: any role. write: role admin. security: role security-admin.
 */
export type Access = 'public' | 'session' | 'read' | 'write' | 'security';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteMeta {
  access: Access;
  /** Allowed while the account must change its password. */
  duringPasswordChange: boolean;
  /** Allowed (reading) to a session past its idle timeout that a status page keeps open (session-watch.ts). */
  watch?: boolean;
}

export interface Principal {
  account: AdminAccount;
  session: AdminSession;
  /** Idle, but kept open by a page watching the status: reads of the status routes only. */
  watchOnly: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    api?: RouteMeta;
  }
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ApiRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
  ip: string;
  raw: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
> {
  method: Method;
  /** Fastify syntax: '/api/users/:ext'. */
  url: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  duringPasswordChange?: boolean;
  /** See RouteMeta.watch. */
  watch?: boolean;
  params?: PS;
  query?: QS;
  body?: BS;
  /**
   * Rules beyond the body schema that depend on stored settings (a user's
   * extension pattern and password strength): checked with the schema, on
   * the body as sent, so one answer lists every problem.
   */
  bodyRules?: (body: unknown, params: Out<PS>) => Promise<{ path: string; message: string }[]>;
  /** For the document only, when the handler reads a body of several media types itself. */
  docBody?: Record<string, z.ZodType>;
  bodyLimit?: number;
  response: {
    status?: number;
    description: string;
    /** JSON body schema; omit for non-JSON answers and for 204. */
    schema?: z.ZodType;
    /** Media types when not JSON, e.g. text/csv. */
    contentTypes?: readonly string[];
  };
  /** Error statuses worth listing besides the ones the access rule implies. */
  errors?: readonly number[];
  handler: (req: ApiRequest<Out<PS>, Out<QS>, Out<BS>>) => unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRouteDef = RouteDef<any, any, any>;

function parsePart(schema: z.ZodType | undefined, value: unknown, where: IssueLocation): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!r.success) throw validationError(zodIssues(r.error, where));
  return r.data;
}

/** The body by its schema and rules, every problem of both in one error. */
async function parseBody(
  schema: z.ZodType, value: unknown, rules: ((body: unknown) => Promise<{ path: string; message: string }[]>) | undefined,
): Promise<unknown> {
  const r = schema.safeParse(value);
  // A rule speaks for its field in the administrator's terms: it replaces the schema's words there.
  const ruled = rules ? await rules(value) : [];
  const issues = [
    ...(r.success ? [] : zodIssues(r.error, 'body')).filter((i) => !ruled.some((x) => x.path === i.path)),
    ...ruled.map((i) => ({ ...i, in: 'body' as const })),
  ];
  if (issues.length > 0) throw validationError(issues);
  return r.data;
}

export class RouteTable {
  readonly routes: AnyRouteDef[] = [];

  constructor(readonly app: FastifyInstance) {}

  add<PS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, BS extends z.ZodType | undefined = undefined>(
    def: RouteDef<PS, QS, BS>,
  ): void {
    this.routes.push(def as AnyRouteDef);
    const meta: RouteMeta = { access: def.access, duringPasswordChange: def.duringPasswordChange ?? false, watch: def.watch };
    this.app.route({
      method: def.method,
      url: def.url,
      bodyLimit: def.bodyLimit,
      config: { api: meta },
      handler: async (request, reply) => {
        const params = parsePart(def.params, request.params, 'params') as Out<PS>;
        const req = {
          params,
          query: parsePart(def.query, request.query, 'query'),
          body: def.body ? await parseBody(def.body, request.body, def.bodyRules && ((b) => def.bodyRules!(b, params))) : request.body,
          principal: request.principal,
          ip: request.ip,
          raw: request,
          reply,
        } as ApiRequest<Out<PS>, Out<QS>, Out<BS>>;
        const result = await def.handler(req);
        if (reply.sent) return reply;
        const status = def.response.status ?? 200;
        if (status === 204 || result === undefined) return reply.code(status === 200 ? 204 : status).send();
        return reply.code(status).send(result);
      },
    });
  }
}

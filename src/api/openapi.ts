// The OpenAPI 3.1 document, built from the route table: the zod schemas that
// validate each request are the schemas the document shows.
import { z } from 'zod';
import type { AnyRouteDef } from './route.ts';
import { errorSchema } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => {
    const { description, ...rest } = p;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const STATUS_TEXT: Record<number, string> = {
  400: 'invalid request: issues name each field and rule',
  401: 'not logged in, or the session ended',
  403: 'missing CSRF token, password change required, or a role is missing (role names it)',
  404: 'not found',
  409: 'conflicts with an existing object',
  413: 'body too large',
  423: 'locked after failed logins (Retry-After)',
  429: 'too many failed logins from this address (Retry-After)',
  503: 'not available in this installation',
};

function operation(r: AnyRouteDef): JsonSchema {
  const op: JsonSchema = {
    operationId: `${r.method.toLowerCase()}${r.url.replace(/[:/.-](\w)/g, (_m, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
    summary: r.summary,
    tags: [r.tag],
  };
  if (r.description) op.description = r.description;
  const role = r.access === 'write' ? 'admin' : r.access === 'security' ? 'security-admin' : null;
  if (role) op['x-required-role'] = role;
  const params = [...parameters(r.params, 'path'), ...parameters(r.query, 'query')];
  if (params.length > 0) op.parameters = params;
  if (r.body || r.docBody) {
    const content: Record<string, unknown> = {};
    if (r.body) content['application/json'] = { schema: jsonSchema(r.body, 'input') };
    for (const [type, s] of Object.entries(r.docBody ?? {})) content[type] = { schema: jsonSchema(s as z.ZodType, 'input') };
    op.requestBody = { required: true, content };
  }
  const ok: JsonSchema = { description: r.response.description };
  if (r.response.schema) ok.content = { 'application/json': { schema: jsonSchema(r.response.schema, 'output') } };
  else if (r.response.contentTypes) ok.content = Object.fromEntries(r.response.contentTypes.map((t) => [t, {}]));
  const responses: Record<string, unknown> = { [String(r.response.status ?? 200)]: ok };
  const errors = new Set<number>(r.errors ?? []);
  if (r.params || r.query || r.body) errors.add(400);
  if (r.access !== 'public') {
    errors.add(401);
    errors.add(403);
  }
  const err = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  for (const s of [...errors].sort()) responses[String(s)] = { description: STATUS_TEXT[s] ?? 'error', content: err };
  op.responses = responses;
  if (r.access === 'public') op.security = [];
  else op.security = [r.method === 'GET' ? { session: [] } : { session: [], csrf: [] }];
  return op;
}

export function openApiDocument(routes: readonly AnyRouteDef[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard management API',
      version,
      description: 'Log in with POST /api/session; send the csrfToken it returns as x-csrf-token on every request ' +
        'that is not GET. Roles: admin (configuration), security-admin (accounts, password policy, audit; reads ' +
        'everything), operator (reads). Errors are {error, message, issues?: [{path, in, message}]}.',
    },
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'sb_session' },
        csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
      },
    },
  };
}

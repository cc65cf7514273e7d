// The management web server: HTTPS with the server's identity certificate
// (plain HTTP only when http.allowHttp says so), the REST API under /api,
// the root CA download, and a hook for routes other parts add (/metrics,
// /healthz, the web UI, the live status feed).
import cookie from '@fastify/cookie';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { installAuth } from './auth.ts';
import type { SessionWatch } from './session-watch.ts';
import type { ApiContext } from './context.ts';
import { ApiError, sendError, toApiError } from './errors.ts';
import { RouteTable, type AnyRouteDef } from './route.ts';
import { adminRoutes } from './routes/admins.ts';
import { systemRoutes } from './routes/system.ts';
import { certificateRoutes } from './routes/certificates.ts';
import { banRoutes } from './routes/bans.ts';
import { publicRoutes } from './routes/ca.ts';
import { importExportRoutes } from './routes/import-export.ts';
import { sessionRoutes } from './routes/session.ts';
import { settingsRoutes } from './routes/settings.ts';
import { trustedPeerRoutes } from './routes/trusted-peers.ts';
import { trunkRoutes } from './routes/trunks.ts';
import { callRoutes } from './routes/calls.ts';
import { featureRoutes } from './routes/features.ts';
import { voicemailRoutes } from './routes/voicemail.ts';
import { appDataRoutes } from './routes/app-data.ts';
import { userRoutes } from './routes/users.ts';
import { WAV_TYPES } from './routes/audio.ts';

/**
 * Mounts more routes on the same server. Routes outside /api are public
 * unless they guard themselves; routes added through the table (access
 * rule, zod schemas) get the session, CSRF and role checks and appear in
 * the OpenAPI document.
 */
export type ExtraRoutes = (app: FastifyInstance, table: RouteTable, ctx: ApiContext) => void | Promise<void>;

export interface ApiServerOptions {
  ctx: ApiContext;
  host: string;
  port: number;
  /** HTTPS options (see tlsServerOptions); null serves plain HTTP. */
  tls: TlsOptions | null;
  extraRoutes?: readonly ExtraRoutes[];
  /** Connections held at once (more are closed at accept): the share of the open-file limit it was given. */
  maxConnections?: number;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** Routes declared through the route table, i.e. what the OpenAPI document lists. */
  readonly documented: readonly AnyRouteDef[];
  /** Every route mounted on fastify (HEAD twins left out). */
  readonly mounted: readonly { method: string; url: string }[];
  /** e.g. "https://127.0.0.1:7071" */
  readonly url: string;
  address(): { address: string; port: number };
  /** A new identity for new connections (certificate reload); open ones keep theirs. No-op over plain HTTP. */
  setTls(tls: TlsOptions): void;
  /** Sessions kept open by a watching status page (shown by tests and the status of the server). */
  readonly watching: SessionWatch;
  close(): Promise<void>;
}

const BODY_LIMIT = 1024 * 1024;
/** Whole request headers (and, over TLS, the handshake) within this long. */
const HEADERS_TIMEOUT_MS = 10_000;
/** A browser opens ~6 connections per origin; a quarter of the HTTPS share per address, at least this many. */
const MIN_PER_SOURCE = 8;

/**
 * At most perSource connections from one address at once (issue 11 item 1):
 * one address dripping bytes cannot hold every slot of the management
 * server. Refusals are logged once a minute.
 */
export function limitPerSource(server: import('node:net').Server, perSource: number, log: Pick<ApiContext['log'], 'warn'>, what = 'management server'): void {
  const open = new Map<string, number>();
  let lastLog = -Infinity;
  let refused = 0;
  server.on('connection', (socket: import('node:net').Socket) => {
    const from = socket.remoteAddress ?? '';
    const n = open.get(from) ?? 0;
    if (n >= perSource) {
      refused++;
      const t = Date.now();
      if (t - lastLog >= 60_000) {
        lastLog = t;
        log.warn({ source: from, perSource, refused }, `${what}: connections refused, too many from one address`);
      }
      socket.destroy();
      return;
    }
    open.set(from, n + 1);
    socket.once('close', () => {
      const left = (open.get(from) ?? 1) - 1;
      if (left <= 0) open.delete(from);
      else open.set(from, left);
    });
  });
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { ctx } = opts;
  const common: FastifyServerOptions = {
    logger: false, // requests carry passwords; the API logs through ctx.log, deliberately
    bodyLimit: BODY_LIMIT,
    requestTimeout: 60_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
  };
  const app = (opts.tls
    ? Fastify({ ...common, https: { ...opts.tls, handshakeTimeout: HEADERS_TIMEOUT_MS } } as FastifyHttpsOptions<HttpsServer>)
    : Fastify(common)) as unknown as FastifyInstance;
  const mounted: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') mounted.push({ method: m, url: r.url });
  });
  try {
    await app.register(cookie);
    // Before any route, so upgrade requests to plain routes are refused; the status feed only receives pongs.
    await app.register(websocket, { options: { maxPayload: 4096 } });
    // Imports arrive as CSV text; handlers see the string.
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
    // Audio uploads (greetings, menus' files, music) arrive as WAV bytes; each route sets its size limit.
    app.addContentTypeParser([...WAV_TYPES], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((err, req, reply) => sendError(reply, toApiError(err, ctx.log, req)));
    app.setNotFoundHandler((req, reply) => sendError(reply, new ApiError(404, 'not-found', `no route ${req.method} ${req.url.split('?', 1)[0]}`)));
    app.addHook('onSend', async (req, reply) => {
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('x-frame-options', 'DENY');
      void reply.header('referrer-policy', 'no-referrer');
      if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    });
    installAuth(app, ctx);

    const table = new RouteTable(app);
    publicRoutes(table, ctx);
    sessionRoutes(table, ctx);
    userRoutes(table, ctx);
    importExportRoutes(table, ctx);
    trunkRoutes(table, ctx);
    callRoutes(table, ctx);
    featureRoutes(table, ctx);
    voicemailRoutes(table, ctx);
    appDataRoutes(table, ctx);
    settingsRoutes(table, ctx);
    trustedPeerRoutes(table, ctx);
    adminRoutes(table, ctx);
    banRoutes(table, ctx);
    if (ctx.system) {
      systemRoutes(table, ctx, ctx.system);
      certificateRoutes(table, ctx, ctx.system);
    }
    for (const extra of opts.extraRoutes ?? []) await extra(app, table, ctx);

    if (opts.maxConnections !== undefined) {
      app.server.maxConnections = opts.maxConnections;
      limitPerSource(app.server, Math.max(MIN_PER_SOURCE, Math.ceil(opts.maxConnections / 4)), ctx.log);
    }
    // A client that drips its handshake or its headers gives its slot back within seconds, not minutes.
    app.server.headersTimeout = HEADERS_TIMEOUT_MS;
    await app.listen({ host: opts.host, port: opts.port });
    const address = () => {
      const a = app.server.address() as AddressInfo;
      return { address: a.address, port: a.port };
    };
    const a = address();
    const host = a.address.includes(':') ? `[${a.address}]` : a.address;
    return {
      app,
      documented: table.routes,
      mounted,
      url: `${opts.tls ? 'https' : 'http'}://${host}:${a.port}`,
      address,
      setTls: (tls) => {
        if (opts.tls) (app.server as HttpsServer).setSecureContext(tls);
      },
      watching: ctx.watching,
      close: () => app.close(),
    };
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}

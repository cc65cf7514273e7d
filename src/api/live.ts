// The live side of the management API (issue 5 item 5): the status snapshot,
// the alarm list, per-user activity for the Users page, and the WebSocket feed
// behind the System Status page. The feed sends a snapshot first, then every
// status change and alarm event as one JSON text message each.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AlarmCenter, AlarmEvent } from '../ops/alarms.ts';
import type { StatusEvent, StatusService, StatusSnapshot } from '../pbx/status/status.ts';
import type { AdminSessionRepository } from '../store/admin-types.ts';
import type { CdrRepository } from '../store/types.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import { ApiError } from './errors.ts';
import type { ExtraRoutes } from './http-server.ts';
import {
  alarmListSchema, statusSnapshotSchema, userActivityQuery, userActivitySchema,
} from './live-schemas.ts';
import type { RouteMeta, RouteTable } from './route.ts';
import type { SessionWatch, Watcher } from './session-watch.ts';

export interface LiveDeps {
  /** A lone server's status, or a cluster's (src/cluster/status.ts), whose snapshot waits for the other workers. */
  status: Pick<StatusService, 'subscribe' | 'extension'> & { snapshot(): StatusSnapshot | Promise<StatusSnapshot> };
  /** GET /api/status's answer when it needs asking around (a cluster: every worker now); status.snapshot() otherwise. */
  fullSnapshot?: () => Promise<StatusSnapshot>;
  alarms: Pick<AlarmCenter, 'list' | 'onEvent'>;
  /** To end the feed when its session is gone (logout, password change, idle expiry). */
  sessions: Pick<AdminSessionRepository, 'get'>;
  cdrs?: Pick<CdrRepository, 'list'>;
  /** Session inactivity limit (http.sessionIdleMinutes) in ms. */
  idleMs: number;
  /** Where pages say they are watching; an idle session being watched keeps its feed. Set by the route table's context. */
  watching?: SessionWatch;
  now: () => number;
  /** Bytes waiting to go to one client, beyond its snapshot, at which it is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Feed clients at once (default 64); more are refused with close code 1013. */
  maxClients?: number;
  /** How often sessions are re-checked and clients pinged (default 15 s). */
  checkIntervalMs?: number;
  /**
   * The server's timers, on whose clock (now) sessions are re-checked; pings
   * stay on real time, as they are about the network. Default: real timers.
   */
  timers?: Pick<TimerQueue, 'schedule' | 'cancel'>;
}

/** Close codes the web UI acts on. */
export const FEED_CLOSE = { sessionEnded: 4401, tooMany: 1013, shutdown: 1001 } as const;

/** The part of a ws WebSocket the feed uses (the package ships no types here). */
export interface FeedSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'close' | 'pong' | 'error' | 'message', listener: (...args: unknown[]) => void): void;
}

const OPEN = 1;

interface Client {
  socket: FeedSocket;
  sessionHash: string;
  alive: boolean;
  watcher?: Watcher;
  /** Bytes that may wait unsent: the snapshot (as big as the system) plus maxBufferedBytes. */
  limit: number;
}

/** Fans status and alarm events out to the connected clients; one subscription for all of them. */
export class LiveFeed {
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void)[] = [];
  private pinger: NodeJS.Timeout | undefined;
  private sessionCheck: TimerHandle | NodeJS.Timeout | undefined;
  /** Clients whose snapshot is still being gathered (a cluster's). */
  private joining = 0;
  private readonly maxBuffered: number;
  private readonly maxClients: number;

  constructor(private readonly deps: LiveDeps) {
    this.maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
    this.maxClients = deps.maxClients ?? 64;
  }

  get size(): number {
    return this.clients.size;
  }

  attach(socket: FeedSocket, sessionHash: string): void {
    if (this.clients.size + this.joining >= this.maxClients) {
      socket.close(FEED_CLOSE.tooMany, 'too many status clients');
      return;
    }
    // Subscribed before the snapshot is taken: in a cluster the subscription is what
    // makes the other workers report, and the snapshot waits for their first reports.
    if (this.unsubscribe.length === 0) this.start();
    const snapshot = this.deps.status.snapshot();
    if (!(snapshot instanceof Promise)) {
      this.join(socket, sessionHash, snapshot);
      if (this.clients.size === 0 && this.joining === 0) this.stop();
      return;
    }
    this.joining++;
    snapshot
      .then((s) => this.join(socket, sessionHash, s), () => socket.close(FEED_CLOSE.shutdown, 'status unavailable'))
      .finally(() => {
        this.joining--;
        if (this.clients.size === 0 && this.joining === 0) this.stop();
      });
  }

  /** Adds the client with its snapshot: every event from now on reaches it too. */
  private join(socket: FeedSocket, sessionHash: string, status: StatusSnapshot): void {
    // It went away while the snapshot was gathered.
    if (socket.readyState !== OPEN) return;
    const snapshot = JSON.stringify({ type: 'snapshot', status, alarms: this.deps.alarms.list() });
    const watching = this.deps.watching;
    const client: Client = { socket, sessionHash, alive: true, limit: snapshot.length + this.maxBuffered, watcher: watching?.add(sessionHash) };
    this.clients.add(client);
    socket.on('close', () => this.detach(client));
    socket.on('error', () => this.detach(client));
    socket.on('pong', () => (client.alive = true));
    // All the browser sends is whether its page is visible (maxPayload bounds it); anything else is ignored.
    socket.on('message', (data: unknown, isBinary: unknown) => {
      if (watching && client.watcher && !isBinary && Buffer.isBuffer(data) && data.length <= 16) watching.heard(client.watcher, data.toString('latin1'));
    });
    this.send(client, snapshot);
  }

  /** Closes every client (server shutdown). */
  close(): void {
    for (const c of [...this.clients]) {
      c.socket.close(FEED_CLOSE.shutdown, 'server stopping');
      this.detach(c);
    }
  }

  private start(): void {
    this.unsubscribe = [
      this.deps.status.subscribe((ev: StatusEvent) => this.broadcast(JSON.stringify(ev))),
      this.deps.alarms.onEvent((ev: AlarmEvent) => this.broadcast(JSON.stringify({ type: 'alarm', event: ev.type, alarm: ev.alarm }))),
    ];
    const every = this.deps.checkIntervalMs ?? 15_000;
    this.pinger = setInterval(() => this.ping(), every);
    this.pinger.unref();
    // A store that cannot be read now is read again on the next tick.
    const checkSessions = () => {
      this.checkSessions().catch(() => {});
      this.sessionCheck = this.deps.timers?.schedule(every, checkSessions);
    };
    if (this.deps.timers) this.sessionCheck = this.deps.timers.schedule(every, checkSessions);
    else (this.sessionCheck = setInterval(() => this.checkSessions().catch(() => {}), every)).unref();
  }

  private stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    clearInterval(this.pinger);
    if (this.deps.timers) this.deps.timers.cancel(this.sessionCheck as TimerHandle | undefined);
    else clearInterval(this.sessionCheck as NodeJS.Timeout | undefined);
    this.pinger = this.sessionCheck = undefined;
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c)) return;
    if (c.watcher) this.deps.watching?.remove(c.sessionHash, c.watcher);
    if (this.clients.size === 0 && this.joining === 0) this.stop();
  }

  private broadcast(text: string): void {
    for (const c of [...this.clients]) this.send(c, text);
  }

  private send(c: Client, text: string): void {
    if (c.socket.readyState !== OPEN) return;
    // A browser that stopped reading must not make the server hold an ever-growing queue:
    // drop it; it reconnects and starts again from a fresh snapshot.
    if (c.socket.bufferedAmount + text.length > c.limit) {
      this.detach(c);
      c.socket.terminate();
      return;
    }
    c.socket.send(text);
  }

  /** Ends feeds whose session is gone, or idle and not being watched. */
  private async checkSessions(): Promise<void> {
    const now = this.deps.now();
    for (const c of [...this.clients]) {
      const s = await this.deps.sessions.get(c.sessionHash);
      if (!s || (now - s.lastSeenAt >= this.deps.idleMs && !this.deps.watching?.isWatched(c.sessionHash))) {
        c.socket.close(FEED_CLOSE.sessionEnded, 'session ended');
        this.detach(c);
      }
    }
  }

  /** Drops clients that did not answer the last ping, and pings the others. */
  private ping(): void {
    for (const c of [...this.clients]) {
      if (!c.alive) {
        this.detach(c);
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      if (c.socket.readyState === OPEN) c.socket.ping();
    }
  }
}

/** Browsers send Origin with every WebSocket; a page of another site must not read the feed. */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (scripts, tests)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const READ: RouteMeta = { access: 'read', duringPasswordChange: false, watch: true };

export function liveRoutes(deps: LiveDeps): ExtraRoutes {
  return (app: FastifyInstance, t: RouteTable, ctx) => {
    const feed = new LiveFeed({ watching: ctx.watching, ...deps });
    app.addHook('preClose', (done) => {
      feed.close();
      done();
    });

    t.add({
      method: 'GET', url: '/api/status', tag: 'status', access: 'read', watch: true,
      summary: 'System status now',
      description: 'Registered extensions (address, user agent, transport, state), active calls (parties, ' +
        'duration, codec, connection type), trunks (state from OPTIONS probes and registration, since when, last ' +
        'round trip) and overload control (receive delay, admitted ' +
        'shares, shed requests, trunks\' RFC 7339 feedback); in a cluster also each worker with what it holds. ' +
        'GET /api/status/ws streams extensions, calls, trunks and alarms live (overload only as of its first snapshot): ' +
        'a WebSocket that sends {type:"snapshot",status,alarms} first, then {type:"extension"}, {type:"call"}, ' +
        '{type:"trunk",trunk} and {type:"alarm",event,alarm} messages.',
      response: { description: 'the snapshot', schema: statusSnapshotSchema },
      handler: () => deps.fullSnapshot?.() ?? deps.status.snapshot(),
    });

    t.add({
      method: 'GET', url: '/api/alarms', tag: 'status', access: 'read', watch: true,
      summary: 'Active alarms, most severe first',
      response: { description: 'the alarms', schema: alarmListSchema },
      handler: () => ({ items: deps.alarms.list() }),
    });

    t.add({
      method: 'GET', url: '/api/status/users', tag: 'status', access: 'read', watch: true,
      summary: 'Registration and latest activity of some users',
      description: 'For the Users list: device (user agent), registration, call state and the start of the newest call.',
      query: userActivityQuery,
      response: { description: 'one entry per extension asked for', schema: userActivitySchema },
      handler: async (req) => {
        const snapshot = await deps.status.snapshot();
        const active = snapshot.calls;
        const seen = new Map(snapshot.extensions.map((e) => [e.extension, e]));
        return {
          items: await Promise.all(req.query.extensions.map(async (ext) => {
            // Missing from the snapshot: neither registered nor in a call anywhere, which this worker's own view tells.
            const s = seen.get(ext) ?? deps.status.extension(ext);
            const newest = [...s.contacts].sort((a, b) => b.expiresAt - a.expiresAt)[0];
            let lastCallAt = (await deps.cdrs?.list({ extension: ext, limit: 1 }))?.[0]?.startedAt ?? null;
            for (const c of active) {
              if (c.caller !== ext && c.calleeExtension !== ext) continue;
              lastCallAt = Math.max(lastCallAt ?? 0, c.startedAt);
            }
            return {
              extension: ext,
              registered: s.registered,
              userAgent: newest?.userAgent ?? null,
              address: newest ? `${newest.address}:${newest.port}` : null,
              transport: newest?.transport ?? null,
              state: s.state,
              registeredUntil: newest?.expiresAt ?? null,
              lastCallAt,
            };
          })),
        };
      },
    });

    app.route({
      method: 'GET',
      url: '/api/status/ws',
      websocket: true,
      // The auth hook reads this: session cookie, password change done, any role.
      config: { api: READ },
      preValidation: async (req) => {
        if (!sameOrigin(req)) throw new ApiError(403, 'origin', 'the Origin header names another site');
      },
      handler: (socket, req) => {
        const principal = req.principal;
        if (!principal) {
          (socket as FeedSocket).close(FEED_CLOSE.sessionEnded, 'log in first');
          return;
        }
        feed.attach(socket as FeedSocket, principal.session.idHash);
      },
    });
    // Listed in the OpenAPI document like the table's routes; mounted above because it upgrades.
    t.routes.push({
      method: 'GET', url: '/api/status/ws', tag: 'status', access: 'read',
      summary: 'Live status feed (WebSocket)',
      description: 'Upgrade to a WebSocket with the session cookie. Messages are JSON texts: first ' +
        '{type:"snapshot",status,alarms}; then {type:"extension",extension}, {type:"call",call,ended} and ' +
        '{type:"alarm",event:"raised"|"updated"|"cleared",alarm}. Close codes: 4401 the session ended, 1013 too many ' +
        'clients; a client that falls more than 1 MiB behind is cut off. Reconnect to start again from a snapshot.',
      response: { status: 101, description: 'switching to the WebSocket protocol' },
      handler: () => undefined,
    });
  };
}

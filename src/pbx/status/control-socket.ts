// The server's local control socket: a Unix socket in the data directory
// (mode 0600) through which `switchboard status` on the same machine reads
// live state. One JSON request per line, one JSON answer per line; requests
// are small and bounded, anything else closes the connection.
import net from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.ts';
import type { Logger } from '../../lib/log.ts';
import type { StatusSnapshot } from './status.ts';
import type { OverloadStatus } from '../../model/status.ts';
import type { Ban, BanTarget } from '../../security/bans.ts';
import type { ExtensionDetail } from '../../model/extension-detail.ts';
import type { GatewayStatus } from '../../model/gateway.ts';
import type { ListenerChange } from '../../security/tls-consumers.ts';
import type { SiteAddresses } from '../../security/client-families.ts';

/** One extension's detail (`switchboard user show`): the server's ExtensionView, or the supervisor asking worker 1; undefined for no such user. */
export type ControlExtension = (extension: string) => Promise<ExtensionDetail | undefined>;

/** What a reload did (`switchboard cert ...` asks for one after changing the data directory). */
export interface ControlReload {
  /** SHA-256 fingerprint of the identity now offered. */
  fingerprint: string;
  /** Why a new identity was issued during the reload, or null. */
  renewed: string | null;
  /** Settings that apply only at the next start. */
  restartNeeded: string[];
  /** Each listener presenting an identity, before and after (in a cluster, each distinct one once). */
  listeners: ListenerChange[];
  /** Processes that reloaded (the workers of a cluster). */
  workers?: number;
}

/** Lockouts to list and lift (`switchboard bans`): the server's BanBoard, or the supervisor asking a worker. */
export interface ControlBans {
  list(): Promise<Ban[]>;
  /** @throws Error for a target that names no ban */
  lift(target: BanTarget): Promise<number>;
}

/** One worker of a cluster, as `switchboard status` lists it. */
export interface WorkerSummary {
  worker: number;
  pid: number;
  /** Calls this worker holds. */
  calls: number;
  /** Bindings in its location index (every worker holds every registration). */
  bindings: number;
  /** TCP/TLS connections it holds. */
  connections: number;
  /** Messages it handed to the worker that owns them. */
  forwarded: number;
  /** Its overload control and trunk feedback now. */
  overload?: OverloadStatus;
}

/** What the control socket answers to "status": the live status, and each worker in a cluster. */
export interface ControlStatus {
  status: StatusSnapshot;
  workers?: WorkerSummary[];
}

export const CONTROL_SOCKET = 'switchboard.sock';
const MAX_REQUEST = 4096;

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET);
}

/** Nothing answers on the control socket: no server runs on that data directory. */
export class NoControlSocketError extends Error {
  override name = 'NoControlSocketError';
}

/** The server took the request but did not answer in time. */
export class ControlSocketTimeout extends Error {
  override name = 'ControlSocketTimeout';
}

/** The server answered with an error. */
export class ControlRefusal extends Error {
  override name = 'ControlRefusal';
}

/**
 * One request over a control socket; resolves with the answer (`ok` true),
 * rejects with ControlRefusal (the server's error), NoControlSocketError
 * when nothing listens, ControlSocketTimeout, or the socket's own error.
 */
export function askControlSocket<T>(path: string, request: Record<string, unknown>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlSocketTimeout(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      try {
        const answer = JSON.parse(buf.slice(0, nl)) as T & { ok?: boolean; error?: string };
        if (!answer.ok) reject(new ControlRefusal(`the server refused the request: ${answer.error ?? 'no answer'}`));
        else resolve(answer);
      } catch {
        reject(new ControlRefusal('the server sent an unreadable answer'));
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new NoControlSocketError('no server is running') : err);
    });
  });
}

/** `switchboard gateway status|reregister` (issue 15): answered by the process that runs the gateway's lines. */
export interface ControlGateway {
  status(): GatewayStatus;
  /** Every line when no list is given; returns how many lines were asked to re-register. */
  reregister(extensions: readonly string[] | undefined): number;
}

export class ControlSocket {
  private server: net.Server | undefined;
  /** Set once the gateway runs in this process. */
  gateway: ControlGateway | undefined;

  constructor(
    private readonly path: string,
    private readonly status: () => ControlStatus | Promise<ControlStatus>,
    private readonly log: Logger,
    private readonly bans?: ControlBans,
    private readonly extension?: ControlExtension,
    /** The same reload as SIGHUP (in a cluster: the supervisor asking every worker). */
    private readonly reload?: () => Promise<ControlReload>,
    /** The addresses the running server names in its identity (`switchboard cert issue` proposes them). */
    private readonly site?: () => SiteAddresses,
    /**
     * The configuration the server runs with (start flags included), for
     * commands that render what it serves (`device add`, `provision render`).
     * The socket is the data directory owner's only, who can read the config anyway.
     */
    private readonly config?: () => Config,
  ) {}

  /** Starts listening; a path too long for a Unix socket or a busy path is logged, not fatal. */
  async start(): Promise<boolean> {
    if (Buffer.byteLength(this.path) > 100) {
      this.log.warn({ path: this.path }, 'control socket path too long: `switchboard status` will not reach this server');
      return false;
    }
    // A socket file left by a server that died is in the way; a live server would still answer on it.
    if (await this.answers()) {
      this.log.warn({ path: this.path }, 'another server answers on the control socket; not taking it over');
      return false;
    }
    const server = net.createServer((socket) => this.serve(socket));
    try {
      await rm(this.path, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => resolve());
      });
      await chmod(this.path, 0o600);
    } catch (err) {
      server.close();
      this.log.warn({ path: this.path, err: (err as Error).message }, 'control socket not available: `switchboard status` will not reach this server');
      return false;
    }
    this.server = server;
    return true;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    await rm(this.path, { force: true });
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const c = net.connect(this.path);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
  }

  private serve(socket: net.Socket): void {
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) return void socket.destroy();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.handle(line).then((answer) => {
          if (!socket.destroyed) socket.write(JSON.stringify(answer) + '\n');
        });
      }
    });
  }

  private async handle(line: string): Promise<unknown> {
    let req: { op?: unknown; target?: unknown; extension?: unknown; extensions?: unknown };
    try {
      req = JSON.parse(line) as { op?: unknown; target?: unknown; extension?: unknown; extensions?: unknown };
    } catch {
      return { error: 'request is not JSON' };
    }
    switch (req?.op) {
      case 'status':
        try {
          return { ok: true, ...(await this.status()) };
        } catch (err) {
          return { error: `status unavailable: ${(err as Error).message}` };
        }
      case 'extension': {
        const ext = req.extension;
        if (!this.extension || typeof ext !== 'string' || ext.length === 0 || ext.length > 64) return { error: 'extension: a user\'s extension' };
        try {
          const detail = await this.extension(ext);
          return detail ? { ok: true, detail } : { error: `no user ${ext}` };
        } catch (err) {
          return { error: `detail unavailable: ${(err as Error).message}` };
        }
      }
      case 'reload':
        if (!this.reload) return { error: 'unknown op' };
        try {
          return { ok: true, reload: await this.reload() };
        } catch (err) {
          return { error: `reload failed, the previous identity stays: ${(err as Error).message}` };
        }
      case 'site':
        if (!this.site) return { error: 'unknown op' };
        return { ok: true, site: this.site() };
      case 'config':
        if (!this.config) return { error: 'unknown op' };
        return { ok: true, config: this.config() };
      case 'bans':
        if (!this.bans) return { error: 'unknown op' };
        try {
          return { ok: true, bans: await this.bans.list() };
        } catch (err) {
          return { error: `bans unavailable: ${(err as Error).message}` };
        }
      case 'lift-ban': {
        if (!this.bans) return { error: 'unknown op' };
        const t = req.target as Partial<Record<keyof BanTarget, unknown>> | null;
        const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);
        const target = { kind: str(t?.kind), scope: str(t?.scope), user: str(t?.user), ip: str(t?.ip) };
        if (target.kind !== 'sip' && target.kind !== 'admin') return { error: 'kind: sip or admin' };
        try {
          return { ok: true, lifted: await this.bans.lift(target as BanTarget) };
        } catch (err) {
          return { error: (err as Error).message };
        }
      }
      case 'gateway-status':
        if (!this.gateway) return { error: 'the handset gateway does not run in this server' };
        return { ok: true, gateway: this.gateway.status() };
      case 'gateway-reregister': {
        if (!this.gateway) return { error: 'the handset gateway does not run in this server' };
        const list = req.extensions;
        if (list !== undefined && !(Array.isArray(list) && list.length <= 10_000 && list.every((e) => typeof e === 'string' && e.length > 0 && e.length <= 64))) {
          return { error: 'extensions: a list of extensions, or none for every line' };
        }
        return { ok: true, lines: this.gateway.reregister(list as string[] | undefined) };
      }
      default:
        return { error: 'unknown op' };
    }
  }
}

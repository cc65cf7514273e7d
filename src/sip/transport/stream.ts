import net from 'node:net';
import tls from 'node:tls';
import type { ParseLimits, TransportName } from '../message.ts';
import { frameStream } from '../parser.ts';
import { nextConnectionId } from '../owner.ts';
import { isWildcard } from '../../lib/net.ts';
import { ConnectionBudget } from './budget.ts';
import type { Slot } from './budget.ts';
import { certificateNames } from './tls-peer.ts';
import type { TlsPeer } from './tls-peer.ts';

export interface StreamLimits {
  /** Connections accepted from one IP address at once (see ConnectionBudget). */
  maxConnectionsPerSource: number;
  /** Connections held in all, inbound and outbound, by every transport sharing the budget. */
  maxConnections: number;
  /** A connection with no traffic for this long is closed (RFC 5626 keep-alives count as traffic). */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * A message must arrive whole within this long of its first byte (an
   * inbound connection's first message: of its accept), else the connection
   * is closed: headers or a declared body that never come hold a slot for nothing.
   */
  incompleteMessageMs: number;
  /** At most one keep-alive answer (pong) per connection per this long; a flood of pings gets no more. */
  keepalivePongMs: number;
}

/** For a process whose budget nobody derived (tests, embedding); the server derives its own (src/ops/file-limit.ts). */
export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxConnectionsPerSource: 128,
  maxConnections: 1_000,
  idleTimeoutMs: 900_000,
  connectTimeoutMs: 10_000,
  incompleteMessageMs: 30_000,
  keepalivePongMs: 1_000,
};

export interface StreamEvents {
  /** One framed SIP message (the bytes of exactly one message). */
  onMessage(data: Buffer, conn: Connection): void;
  /** Unrecoverable framing error: the connection is closed after this. */
  onFramingError(reason: string, conn: Connection): void;
  /** A refused or failed connection, a TLS handshake failure, ...: for rate-limited logging. */
  onConnectionProblem(kind: string, detail: string, remoteAddress: string): void;
  /**
   * Turns a failed TLS handshake into one log line, given the first bytes the
   * peer sent (its ClientHello), so the versions and suites we refused can be
   * named (SPEC EC-03). The SIP library leaves TLS policy to its user.
   */
  describeHandshakeError?(err: Error, clientHello: Buffer | undefined): string;
}

export interface Connection {
  readonly id: number;
  readonly transport: TransportName;
  readonly remoteAddress: string;
  readonly remotePort: number;
  write(data: Buffer, onError?: (err: Error) => void): void;
  close(): void;
  /** Its flow carried an authenticated request (e.g. a successful REGISTER): it is never evicted to make room. */
  trust(): void;
  /** Inbound TLS only: the identity its client certificate proved (verified against the listener's CAs), if it sent one. */
  readonly tlsPeer?: TlsPeer;
}

/** What an outbound flow (src/sip/transport/flow.ts) needs of its connection. */
export interface FlowConnection extends Connection {
  readonly open: boolean;
  /** Our side: the socket's local address and (ephemeral) port. */
  readonly localAddress: string;
  readonly localPort: number;
  /** Once, when it closes (with the socket's error, if one closed it); returns the unsubscribe. */
  onClosed(listener: (err?: Error) => void): () => void;
  /** Every read (a pong, a message): returns the unsubscribe. */
  onBytes(listener: () => void): () => void;
}

/** How openFlow connects: TLS options of its own (`key` names them for reuse), or a connection nobody shares. */
export interface FlowConnectOptions {
  tls?: { key: string; options: tls.ConnectionOptions };
  fresh?: boolean;
}

/** Ids of recently closed flow connections kept to refuse sends on them (bounded). */
const RETIRED_FLOWS_KEPT = 1024;

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * A TCP or TLS listener and every connection of that transport, inbound or
 * outbound. Connections are found by id (to answer over the connection a
 * request came in on) and by remote address:port (to reuse one for a new
 * request, RFC 3261 §18.1.1).
 */
export class StreamTransport {
  private server?: net.Server;
  private readonly byId = new Map<number, StreamConnection>();
  private readonly byRemote = new Map<string, StreamConnection>();
  /** Outbound connections opened with TLS options of their own, by "<tls key>|<address>|<port>": reused only by the same key. */
  private readonly byFlowKey = new Map<string, StreamConnection>();
  /**
   * Flow connections that closed: a request still addressed to one fails
   * instead of going out over a new connection with the default TLS options
   * (or sharing another's). Oldest forgotten first.
   */
  private readonly retiredFlows = new Set<number>();
  /** Connections holding part of a message, with the time its first byte came (see incompleteMessageMs). */
  private readonly unfinished = new Set<StreamConnection>();
  private deadlineSweep?: NodeJS.Timeout;
  private secureContext?: tls.SecureContext;
  /** Ask inbound TLS peers for a certificate (the server options' requestCert): mutual TLS for trusted servers (SPEC D-06). */
  private requestCert = false;
  /** Shared with the other stream transport of the process: TCP and TLS draw on one set of file descriptors. */
  readonly budget: ConnectionBudget;
  address = '';
  port = 0;

  constructor(
    readonly transport: 'tcp' | 'tls',
    private readonly events: StreamEvents,
    private readonly parseLimits: ParseLimits,
    private readonly limits: StreamLimits,
    private readonly tlsServerOptions?: tls.TlsOptions,
    private tlsClientOptions?: tls.ConnectionOptions,
    budget?: ConnectionBudget,
    /** Monotonic ms, for the incomplete-message deadline and the pong rate. */
    readonly now: () => number = performance.now.bind(performance),
  ) {
    this.budget = budget ?? new ConnectionBudget(limits, (kind, detail, source) => events.onConnectionProblem(kind, detail, source));
  }

  get connectionCount(): number {
    return this.byId.size;
  }

  /** reusePort: several processes listen on the same host:port and the kernel spreads connections over them. */
  start(host: string, port: number, reusePort = false): Promise<void> {
    // TLS listens on a plain TCP server and wraps each socket itself: Node's
    // tls.Server reports a failed handshake without the ClientHello, and the
    // refused versions and suites are what an operator needs to see (EC-03).
    // Admitting at TCP accept also keeps peers that never finish a handshake
    // inside the connection limits.
    const server = net.createServer({ noDelay: true }, (socket) =>
      this.transport === 'tls' ? this.acceptTls(socket) : this.accept(socket),
    );
    this.server = server;
    this.startDeadlineSweep();
    if (this.transport === 'tls') this.setTlsOptions(this.tlsServerOptions ?? {});
    server.on('error', (err) => this.events.onConnectionProblem('listener', err.message, host));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, reusePort }, () => {
        server.off('error', reject);
        const a = server.address() as net.AddressInfo;
        this.address = a.address;
        this.port = a.port;
        resolve();
      });
    });
  }

  private acceptTls(raw: net.Socket): void {
    const remote = normalizeAddress(raw.remoteAddress ?? '');
    // The handshake holds a slot from TCP accept: a peer that never finishes one is inside the budget too.
    const handshake: Slot = { remoteAddress: remote, inbound: true, evict: () => raw.destroy() };
    if (!this.budget.admit(handshake)) {
      raw.destroy();
      return;
    }
    let handedOver = false;
    raw.once('close', () => {
      if (!handedOver) this.budget.release(handshake);
    });
    raw.on('error', () => raw.destroy());
    raw.setTimeout(this.limits.connectTimeoutMs, () => raw.destroy());
    raw.once('data', (first: Buffer) => {
      // Paused before unshift: a flowing socket would hand the bytes to nobody.
      raw.pause();
      raw.unshift(first);
      const secure = new tls.TLSSocket(raw, {
        isServer: true,
        secureContext: this.secureContext,
        // A peer without a certificate, or with one we cannot verify, still connects (phones use digest).
        requestCert: this.requestCert,
        rejectUnauthorized: false,
      });
      secure.once('error', (err: Error) => {
        const detail = this.events.describeHandshakeError?.(err, first) ?? err.message;
        this.events.onConnectionProblem('tls-handshake', detail, remote);
        secure.destroy();
        raw.destroy();
      });
      secure.once('secure', () => {
        handedOver = true;
        raw.setTimeout(0);
        const conn = new StreamConnection(this, secure, 'tls', true, remote, raw.remotePort ?? 0);
        if (this.requestCert && chainVerified(secure)) conn.tlsPeer = { names: certificateNames(secure.getPeerCertificate()) };
        this.budget.replace(handshake, conn);
        this.register(conn);
      });
    });
  }

  private accept(socket: net.Socket): void {
    // Keyed like register() does: on a dual-stack listener every IPv4 peer arrives as ::ffff:a.b.c.d.
    const conn = new StreamConnection(this, socket, this.transport, true);
    if (!this.budget.admit(conn)) {
      socket.destroy();
      return;
    }
    this.register(conn);
  }

  private register(conn: StreamConnection): void {
    this.byId.set(conn.id, conn);
    if (conn.poolKey !== undefined) (conn.flowKeyed ? this.byFlowKey : this.byRemote).set(conn.poolKey, conn);
    if (conn.inbound) this.markUnfinished(conn);
  }

  /** @internal called by a connection when it closes. */
  forget(conn: StreamConnection): void {
    this.unfinished.delete(conn);
    if (this.byId.delete(conn.id)) {
      const pool = conn.flowKeyed ? this.byFlowKey : this.byRemote;
      if (conn.poolKey !== undefined && pool.get(conn.poolKey) === conn) pool.delete(conn.poolKey);
      this.budget.release(conn);
      if (conn.isFlow) {
        this.retiredFlows.add(conn.id);
        if (this.retiredFlows.size > RETIRED_FLOWS_KEPT) this.retiredFlows.delete(this.retiredFlows.values().next().value!);
      }
    }
  }

  /** A flow connection of ours that has closed (see retiredFlows). */
  isRetiredFlow(id: number): boolean {
    return this.retiredFlows.has(id);
  }

  /** @internal the connection now holds part of a message (or, inbound, owes its first one). */
  markUnfinished(conn: StreamConnection): void {
    conn.unfinishedSince = this.now();
    this.unfinished.add(conn);
  }

  /** @internal its last message is complete. */
  markFinished(conn: StreamConnection): void {
    conn.unfinishedSince = -1;
    this.unfinished.delete(conn);
  }

  /**
   * Closes every connection whose unfinished message is older than the
   * deadline; returns how many. Runs on a timer; tests with a manual clock call it.
   */
  expireIncomplete(): number {
    const limit = this.now() - this.limits.incompleteMessageMs;
    let n = 0;
    for (const conn of this.unfinished) {
      if (conn.unfinishedSince > limit) continue;
      n++;
      this.budget.hit('incomplete-message', `closed: no complete message within ${Math.round(this.limits.incompleteMessageMs / 1000)} s`, conn.remoteAddress);
      conn.close();
    }
    return n;
  }

  /** @internal a ping came; true when it may be answered (RFC 5626 §4.4.1 pong), at most once per keepalivePongMs. */
  mayPong(conn: StreamConnection): boolean {
    const now = this.now();
    if (conn.lastPongAt >= 0 && now - conn.lastPongAt < this.limits.keepalivePongMs) {
      this.budget.hit('keepalive-flood', 'keep-alive pings faster than one per ' + this.limits.keepalivePongMs + ' ms: not answered', conn.remoteAddress);
      return false;
    }
    conn.lastPongAt = now;
    return true;
  }

  /** @internal */
  get framing(): { parse: ParseLimits; idleMs: number } {
    return { parse: this.parseLimits, idleMs: this.limits.idleTimeoutMs };
  }

  /** @internal */
  get handlers(): StreamEvents {
    return this.events;
  }

  get(id: number): Connection | undefined {
    return this.byId.get(id);
  }

  findByRemote(address: string, port: number): Connection | undefined {
    return this.byRemote.get(remoteKey(address, port));
  }

  /** Reuses a connection to address:port or opens one; the callback gets it once usable. */
  connect(address: string, port: number, done: (err: Error | undefined, conn?: Connection) => void): void {
    const key = remoteKey(address, port);
    const existing = this.byRemote.get(key);
    if (existing) {
      existing.whenReady(done);
      return;
    }
    this.open(address, port, this.tlsClientOptions, key, false, done);
  }

  /**
   * A connection for an outbound flow (RFC 5626 §3): reused only by flows
   * with the same TLS key (none: the connections sends use), never when
   * `fresh`; the callback gets it after connect (TLS: after the handshake)
   * or the socket's error (TLS errors keep their code).
   */
  openFlow(address: string, port: number, opts: FlowConnectOptions, done: (err: Error | undefined, conn?: FlowConnection) => void): void {
    const keyed = this.transport === 'tls' && opts.tls !== undefined;
    const key = keyed ? `${opts.tls!.key}|${remoteKey(address, port)}` : remoteKey(address, port);
    const ready = (err: Error | undefined, conn?: Connection): void => {
      if (conn) (conn as StreamConnection).isFlow = true;
      done(err, conn as StreamConnection | undefined);
    };
    if (!opts.fresh) {
      const existing = (keyed ? this.byFlowKey : this.byRemote).get(key);
      if (existing) {
        existing.whenReady(ready);
        return;
      }
    }
    this.open(address, port, keyed ? opts.tls!.options : this.tlsClientOptions, opts.fresh ? undefined : key, keyed, ready);
  }

  private open(
    address: string, port: number, tlsOptions: tls.ConnectionOptions | undefined, poolKey: string | undefined, flowKeyed: boolean,
    done: (err: Error | undefined, conn?: Connection) => void,
  ): void {
    // From the address we listen on when it is a specific one: a multi-homed
    // host's peer then sees the address it knows us by (and trusts, for a
    // peer node or trunk), not whichever one the route picks.
    const bound = this.address !== '' && !isWildcard(this.address) && net.isIP(this.address) === net.isIP(address);
    const localAddress = bound ? this.address : undefined;
    const socket =
      this.transport === 'tls'
        // tls.connect hands localAddress to the socket's connect(); its type leaves it out.
        ? tls.connect({ ...tlsOptions, host: address, port, localAddress } as tls.ConnectionOptions)
        : net.connect({ host: address, port, noDelay: true, localAddress });
    const conn = new StreamConnection(this, socket, this.transport, false, address, port);
    conn.poolKey = poolKey;
    conn.flowKeyed = flowKeyed;
    // It may take the slot of a silent inbound one (see ConnectionBudget).
    if (!this.budget.admit(conn)) {
      socket.destroy();
      done(new Error('connection limit reached'));
      return;
    }
    this.startDeadlineSweep();
    this.register(conn);
    conn.whenReady(done);
    socket.setTimeout(this.limits.connectTimeoutMs);
  }

  /**
   * A new identity (certificate reload): handshakes from now on use it;
   * established connections keep theirs, so no phone loses its flow.
   */
  setTlsOptions(server: tls.TlsOptions, client?: tls.ConnectionOptions): void {
    if (this.transport !== 'tls') return;
    this.secureContext = tls.createSecureContext(server);
    this.requestCert = server.requestCert === true;
    if (client) this.tlsClientOptions = client;
  }

  private startDeadlineSweep(): void {
    if (this.deadlineSweep) return;
    const every = Math.max(50, Math.min(1_000, this.limits.incompleteMessageMs / 4));
    this.deadlineSweep = setInterval(() => this.expireIncomplete(), every);
    this.deadlineSweep.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.deadlineSweep);
    this.deadlineSweep = undefined;
    for (const c of [...this.byId.values()]) c.close();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function remoteKey(address: string, port: number): string {
  return `${address}|${port}`;
}

class StreamConnection implements FlowConnection, Slot {
  readonly id = nextConnectionId();
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Its key in the owner's byRemote (or, flowKeyed, byFlowKey); undefined: not reused (a fresh flow). */
  poolKey: string | undefined;
  flowKeyed = false;
  /** An outbound flow uses it (see StreamTransport.retiredFlows). */
  isFlow = false;
  /** Listeners of the flows on it; most connections have none. */
  private closeListeners: Set<(err?: Error) => void> | undefined;
  private byteListeners: Set<() => void> | undefined;
  /** Since when (owner's clock) part of a message waits here; -1: none. */
  unfinishedSince = -1;
  /** When we last answered a keep-alive ping; -1: never. */
  lastPongAt = -1;
  tlsPeer?: TlsPeer;
  /** It has sent a complete message. */
  private spoken = false;
  /** Unconsumed bytes live in pending[0, pendingLength); capacity grows by doubling, so dripped input stays linear. */
  private pending: Buffer | undefined;
  private pendingLength = 0;
  /** Where frameStream stopped searching in pending (see FrameResult.resumeAt). */
  private scanFrom = 0;
  private ready: boolean;
  private closed = false;
  /** Reading is paused until the peer takes what we already queued for it. */
  private throttled = false;
  private waiters: Array<(err: Error | undefined, conn?: Connection) => void> = [];

  constructor(
    private readonly owner: StreamTransport,
    private readonly socket: net.Socket,
    readonly transport: TransportName,
    /** Accepted (an inbound TLS socket arrives here with its handshake done), not opened by us. */
    readonly inbound: boolean,
    remoteAddress?: string,
    remotePort?: number,
  ) {
    this.remoteAddress = normalizeAddress(remoteAddress ?? socket.remoteAddress ?? '');
    this.remotePort = remotePort ?? socket.remotePort ?? 0;
    this.poolKey = remoteKey(this.remoteAddress, this.remotePort);
    // Inbound sockets are usable at once; outbound ones after connect/handshake.
    this.ready = inbound;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The error reaches whoever waits for the connection: a TLS handshake error keeps its code (e.g. CERT_HAS_EXPIRED).
    socket.on('error', (err: Error) => this.close(err));
    socket.on('close', () => this.close());
    socket.on('timeout', () => this.close(new Error(this.ready ? 'idle timeout' : 'connect timed out')));
    if (this.ready) socket.setTimeout(owner.framing.idleMs);
    else socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => this.onConnected());
  }

  private onConnected(): void {
    this.ready = true;
    this.socket.setTimeout(this.owner.framing.idleMs);
    const w = this.waiters;
    this.waiters = [];
    for (const cb of w) cb(undefined, this);
  }

  whenReady(cb: (err: Error | undefined, conn?: Connection) => void): void {
    if (this.closed) cb(new Error('connection closed'));
    else if (this.ready) cb(undefined, this);
    else this.waiters.push(cb);
  }

  get open(): boolean {
    return !this.closed;
  }

  get localAddress(): string {
    return normalizeAddress(this.socket.localAddress ?? '');
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  onClosed(listener: (err?: Error) => void): () => void {
    if (this.closed) {
      queueMicrotask(() => listener());
      return () => {};
    }
    (this.closeListeners ??= new Set()).add(listener);
    return () => this.closeListeners?.delete(listener);
  }

  onBytes(listener: () => void): () => void {
    (this.byteListeners ??= new Set()).add(listener);
    return () => this.byteListeners?.delete(listener);
  }

  private onData(chunk: Buffer): void {
    if (this.byteListeners !== undefined) for (const l of this.byteListeners) l();
    let buf: Buffer;
    if (this.pendingLength === 0) {
      buf = chunk; // the common case: whole messages in one read, no copy at all
      this.scanFrom = 0;
    } else {
      this.append(chunk);
      buf = this.pending!.subarray(0, this.pendingLength);
    }
    const limits = this.owner.framing.parse;
    let offset = 0;
    let scanFrom = this.scanFrom;
    while (offset < buf.length && !this.closed && !this.throttled) {
      const f = frameStream(buf, offset, limits, scanFrom);
      if (f.kind === 'need-more') {
        scanFrom = f.resumeAt ?? offset;
        break;
      }
      if (f.kind === 'keepalive') {
        // RFC 5626 §4.4.1: a double-CRLF ping gets a single-CRLF pong (a run of them, one at most).
        if (this.owner.mayPong(this)) this.write(CRLF);
        offset = scanFrom = f.end;
        continue;
      }
      if (f.kind === 'error') {
        this.owner.handlers.onFramingError(f.reason, this);
        this.close();
        return;
      }
      if (!this.spoken) {
        this.spoken = true;
        this.owner.budget.spoke(this);
      }
      this.owner.handlers.onMessage(buf.subarray(f.start, f.end), this);
      offset = scanFrom = f.end;
    }
    if (this.closed) return;
    const rest = buf.length - offset;
    if (rest === 0) {
      // Nothing owed any more (an inbound connection that only pinged still owes its first message).
      if (this.unfinishedSince >= 0 && (this.spoken || !this.inbound)) this.owner.markFinished(this);
      this.pendingLength = 0;
      if (this.pending && this.pending.length > 65_536) this.pending = undefined; // give back a grown buffer
      return;
    }
    // While throttled the rest may hold whole messages; it stops growing because reading is paused.
    if (!this.throttled && rest > limits.maxMessageBytes) {
      this.owner.handlers.onFramingError('message too large', this);
      this.close();
      return;
    }
    if (this.unfinishedSince < 0 && !this.throttled) this.owner.markUnfinished(this);
    // Keep the rest at the front of our own buffer (never pinning a socket chunk).
    if (buf === chunk) {
      this.pendingLength = 0;
      this.append(chunk.subarray(offset));
    } else if (offset > 0) {
      this.pending!.copyWithin(0, offset, this.pendingLength);
      this.pendingLength = rest;
    }
    this.scanFrom = Math.max(0, scanFrom - offset);
  }

  private append(data: Buffer): void {
    const need = this.pendingLength + data.length;
    if (!this.pending || this.pending.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, (this.pending?.length ?? 0) * 2, 4096));
      if (this.pending) this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    data.copy(this.pending, this.pendingLength);
    this.pendingLength = need;
  }

  write(data: Buffer, onError?: (err: Error) => void): void {
    if (this.closed) {
      onError?.(new Error('connection closed'));
      return;
    }
    const flushed = this.socket.write(data, (err) => {
      if (err) onError?.(err);
    });
    // A peer that sends requests (or pings) but never reads the answers would
    // otherwise make us queue them without bound: stop reading it until it
    // catches up. If it never does, the idle timeout closes the connection.
    if (!flushed && !this.throttled) {
      this.throttled = true;
      this.socket.pause();
      this.socket.once('drain', () => this.unthrottle());
    }
  }

  private unthrottle(): void {
    this.throttled = false;
    if (this.closed) return;
    if (this.pendingLength > 0) this.onData(EMPTY);
    if (!this.throttled && !this.closed) this.socket.resume();
  }

  trust(): void {
    this.owner.budget.trust(this);
  }

  /** Closed to make room for another connection. */
  evict(): void {
    this.close();
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.pendingLength = 0;
    this.socket.destroy();
    this.owner.forget(this);
    const w = this.waiters;
    this.waiters = [];
    for (const cb of w) cb(err ?? new Error('connection failed'));
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    this.byteListeners = undefined;
    if (listeners) for (const l of listeners) l(err);
  }
}

/**
 * The client certificate chains to a CA of the listener's context. tls.Server
 * sets `authorized` from this for its own sockets; a socket wrapped by hand
 * (see start()) gets no `authorized`, so ask the handle as tls.Server does.
 * Without a certificate the answer is an error, never null.
 */
function chainVerified(secure: tls.TLSSocket): boolean {
  const handle = (secure as unknown as { _handle?: { verifyError?(): Error | null } })._handle;
  return typeof handle?.verifyError === 'function' && handle.verifyError() === null;
}

/** "::ffff:127.0.0.1" (dual-stack sockets) is the IPv4 peer 127.0.0.1 for every purpose here. */
export function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.indexOf('.') > 0 ? a.slice(7) : a;
}

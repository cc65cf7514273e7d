import { isIP } from 'node:net';
import type tls from 'node:tls';
import type { Endpoint, ParseFailure, ParseLimits, SipMessage, SipRequest, TransportName, Via } from '../message.ts';
import { DEFAULT_PARSE_LIMITS } from '../message.ts';
import { parseMessage } from '../parser.ts';
import { createResponseFromHeaders, formatVia, serializeMessage } from '../serializer.ts';
import type { Logger } from '../../lib/log.ts';
import { OncePerInterval, silentLogger } from '../../lib/log.ts';
import { externalAddresses, isWildcard } from '../../lib/net.ts';
import type { Flow, FlowOpener, Inbound, InboundSource, MessageSender, PreparedMessage, TlsTarget } from './types.ts';
import { StreamFlow, UdpFlow, UdpPongs } from './flow.ts';
import { UdpListener } from './udp.ts';
import { DEFAULT_STREAM_LIMITS, StreamTransport, normalizeAddress } from './stream.ts';
import { MessageCounters } from './message-counters.ts';
import { localOwner, ownerOfConnection } from '../owner.ts';
import type { Connection, StreamLimits } from './stream.ts';
import { ConnectionBudget } from './budget.ts';
import type { LimitKind } from './budget.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface TransportConfig {
  udp?: ListenAddress;
  tcp?: ListenAddress;
  tls?: ListenAddress;
  /** Address to put in Via/Contact when a listener is bound to a wildcard address. */
  advertisedAddress?: string;
  parseLimits?: ParseLimits;
  streamLimits?: StreamLimits;
  tlsServerOptions?: tls.TlsOptions;
  tlsClientOptions?: tls.ConnectionOptions;
  /** One log line for a failed inbound TLS handshake, given the peer's first bytes (its ClientHello). */
  describeHandshakeError?: (err: Error, clientHello: Buffer | undefined) => string;
  /**
   * Bind the listeners with SO_REUSEPORT, beside the other workers of a
   * cluster on the same ports (src/cluster/); off by default, so a second
   * server on a port in use fails to start rather than sharing it.
   */
  reusePort?: boolean;
  /**
   * Connections other processes of the cluster hold (src/sip/owner.ts): a
   * message for one of them is handed over instead of sent from here.
   */
  remoteConnections?: RemoteConnections;
  /** Every transport problem (before log rate limiting), for alarms; must be cheap, it can run per bad packet. */
  onProblem?: (kind: string, detail: string, source: string) => void;
  /** Every connection limit hit (refused, evicted, deadline, keep-alive flood), for alarms; as cheap as onProblem. */
  onLimit?: (kind: LimitKind, detail: string, source: string) => void;
  /** Monotonic ms for the stream transports' deadlines (default performance.now). */
  now?: () => number;
  /**
   * A listener for one peer only (the media server's, beside ours): UDP
   * datagrams from any other source are dropped before they are parsed, so
   * not even a malformed one is answered.
   */
  acceptUdpFrom?: (source: Endpoint) => boolean;
  logger?: Logger;
}

export interface TransportStats {
  received: number;
  sent: number;
  malformed: number;
  oversized: number;
  sendErrors: number;
  tlsHandshakeFailures: number;
  /** Connection limit hits by kind (see ConnectionBudget). */
  limits: Readonly<Record<LimitKind, number>>;
}

type Local = Inbound['local'];

/** Sends bytes over a stream connection another process of the cluster holds. */
export interface RemoteConnections {
  /**
   * `dest.connectionId` names the connection; when the owner no longer has it,
   * it sends to `fallback` (a response's Via) or reports the failure.
   */
  send(owner: number, data: Buffer, dest: Endpoint, fallback: Endpoint | undefined): void;
}

/**
 * Owns every SIP listener, turns bytes into messages and messages into bytes,
 * and decides where responses go (RFC 3261 §18.2.2 with RFC 3581 rport):
 * over the connection the request came on, or to the source address and port
 * of the request over UDP.
 */
export class TransportLayer implements MessageSender, FlowOpener {
  onInbound: (inbound: Inbound) => void = () => {};
  readonly stats: TransportStats;
  /**
   * Messages by method and status, in and out: each once in a cluster (by the process that read it off the
   * wire, or made it), and not the process's own (isOwnMessage).
   */
  readonly messages = new MessageCounters();
  /**
   * Tells the messages a process of ours sends its own UDP listener (the
   * overload control's probe, sendOwn) from traffic: they are delivered like
   * any other but not counted in `messages`, which say what the server
   * exchanged with others (ten probes a second are not OPTIONS traffic).
   */
  isOwnMessage: ((message: SipMessage) => boolean) | undefined;
  private udp?: UdpListener;
  private readonly streams = new Map<TransportName, StreamTransport>();
  private readonly locals = new Map<TransportName, Local>();
  private readonly parseLimits: ParseLimits;
  private readonly log: Logger;
  private readonly logOnce = new OncePerInterval(60_000);
  /** Its own, so a flood of other problems never crowds out the line saying a limit was hit. */
  private readonly limitLogOnce = new OncePerInterval(60_000);
  /** TCP and TLS together: one process, one set of file descriptors. */
  private readonly budget: ConnectionBudget;
  private readonly udpPongs = new UdpPongs();

  constructor(private readonly config: TransportConfig) {
    this.parseLimits = config.parseLimits ?? DEFAULT_PARSE_LIMITS;
    this.log = config.logger ?? silentLogger;
    this.budget = new ConnectionBudget(config.streamLimits ?? DEFAULT_STREAM_LIMITS, (kind, detail, source) => this.limitHit(kind, detail, source));
    this.stats = { received: 0, sent: 0, malformed: 0, oversized: 0, sendErrors: 0, tlsHandshakeFailures: 0, limits: this.budget.hits };
  }

  async start(): Promise<void> {
    const c = this.config;
    if (c.udp) {
      const udp = new UdpListener(
        (data, address, port) => this.onDatagram(data, address, port),
        (err) => this.problem('udp-socket', err.message, c.udp!.host),
      );
      await udp.start(c.udp.host, c.udp.port, c.reusePort);
      this.udp = udp;
      this.locals.set('udp', { transport: 'udp', address: this.advertise(udp.address), port: udp.port });
    }
    for (const t of ['tcp', 'tls'] as const) {
      const listen = c[t];
      if (!listen) continue;
      const st = new StreamTransport(
        t,
        {
          onMessage: (data, conn) => this.onStreamMessage(data, conn),
          onFramingError: (reason, conn) => {
            this.stats.malformed++;
            this.problem('framing', reason, conn.remoteAddress);
          },
          onConnectionProblem: (kind, detail, remote) => this.problem(kind, detail, remote),
          describeHandshakeError: c.describeHandshakeError,
        },
        this.parseLimits,
        c.streamLimits ?? DEFAULT_STREAM_LIMITS,
        c.tlsServerOptions,
        c.tlsClientOptions,
        this.budget,
        c.now,
      );
      await st.start(listen.host, listen.port, c.reusePort);
      this.streams.set(t, st);
      this.locals.set(t, { transport: t, address: this.advertise(st.address), port: st.port });
    }
  }

  /** Swaps the TLS identity for new handshakes, in and out; live connections keep theirs. */
  setTlsOptions(server: tls.TlsOptions, client?: tls.ConnectionOptions): void {
    this.streams.get('tls')?.setTlsOptions(server, client);
  }

  async stop(): Promise<void> {
    await this.udp?.close();
    for (const s of this.streams.values()) await s.close();
  }

  /** Bound address and port of each listener (port is the real one when 0 was asked for). */
  listening(): Local[] {
    return [...this.locals.values()];
  }

  connectionCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.connectionCount;
    return n;
  }

  /**
   * The connection a request came over carried an authenticated request (a
   * successful REGISTER): it keeps its slot when the budget is tight. Only
   * for connections this process holds; a request handed over from another
   * worker of a cluster names one that worker keeps.
   */
  trustFlow(source: Endpoint): void {
    if (source.transport === 'udp' || source.connectionId === undefined || !this.isLocalConnection(source)) return;
    this.streams.get(source.transport)?.get(source.connectionId)?.trust();
  }

  /**
   * An outbound flow to dest (RFC 5626 §3; issue 15 contract in types.ts). A
   * TCP/TLS connection is shared only with flows of the same TLS key (and
   * with ordinary sends when there is no key), never when `fresh`; it counts
   * in the connection budget like any connection we open.
   */
  openFlow(dest: Endpoint, opts: { tls?: TlsTarget; fresh?: boolean } = {}): Promise<Flow> {
    if (dest.transport === 'udp') {
      const local = this.locals.get('udp');
      if (!this.udp || !local) return Promise.reject(new Error('UDP is not enabled'));
      const to: Endpoint = { transport: 'udp', address: dest.address, port: dest.port };
      return Promise.resolve(new UdpFlow(to, local, (data) => this.udp?.send(data, to.address, to.port, () => {}), this.udpPongs));
    }
    const st = this.streams.get(dest.transport);
    if (!st) return Promise.reject(new Error(`${dest.transport.toUpperCase()} is not enabled`));
    return new Promise((resolve, reject) => {
      st.openFlow(dest.address, dest.port, opts, (err, conn) => {
        if (err || !conn) reject(err ?? new Error('connect failed'));
        else resolve(new StreamFlow(conn));
      });
    });
  }

  isReliable(transport: TransportName): boolean {
    return transport !== 'udp';
  }

  localEndpoint(transport: TransportName): { address: string; port: number } | undefined {
    return this.locals.get(transport);
  }

  private advertise(bound: string): string {
    if (this.config.advertisedAddress) return this.config.advertisedAddress;
    if (!isWildcard(bound)) return bound;
    return externalAddresses('IPv4')[0] ?? '127.0.0.1';
  }

  private problem(kind: string, detail: string, source: string): void {
    if (kind === 'tls-handshake') this.stats.tlsHandshakeFailures++;
    if (this.config.onProblem) {
      try {
        this.config.onProblem(kind, detail, source);
      } catch (err) {
        this.log.error({ err }, 'transport problem hook failed');
      }
    }
    const suppressed = this.logOnce.take(`${kind}|${source}`);
    if (suppressed >= 0) this.log.warn({ kind, source, detail, suppressed }, 'SIP transport problem');
  }

  /**
   * One line per kind and interval however many connections and sources hit
   * it (an attack from many addresses must not write a line for each), with
   * the number left out since the last line.
   */
  private limitHit(kind: LimitKind, detail: string, source: string): void {
    if (this.config.onLimit) {
      try {
        this.config.onLimit(kind, detail, source);
      } catch (err) {
        this.log.error({ err }, 'transport limit hook failed');
      }
    }
    const suppressed = this.limitLogOnce.take(kind);
    if (suppressed >= 0) this.log.warn({ kind, source, detail, suppressed, budget: this.budget.limits, held: this.budget.count }, 'SIP connection limit hit');
  }

  private onDatagram(data: Buffer, address: string, port: number): void {
    this.stats.received++;
    const source: Endpoint = { transport: 'udp', address: normalizeAddress(address), port };
    if (this.config.acceptUdpFrom !== undefined && !this.config.acceptUdpFrom(source)) return;
    if (data.length > this.parseLimits.maxMessageBytes) {
      this.stats.oversized++;
      this.problem('oversized', `${data.length} bytes`, address);
      return;
    }
    // Bare CRLF datagrams are NAT keep-alives (RFC 5626 §3.5.1 allows STUN instead; both are ignored),
    // or the pong of a flow of ours.
    if (data.length <= 4 && isOnlyWhitespace(data)) {
      this.udpPongs.pong(source.address, source.port);
      return;
    }
    this.handle(parseMessage(data, { limits: this.parseLimits }), source, this.locals.get('udp')!, data);
  }

  private onStreamMessage(data: Buffer, conn: Connection): void {
    this.stats.received++;
    const source: InboundSource = {
      transport: conn.transport,
      address: conn.remoteAddress,
      port: conn.remotePort,
      connectionId: conn.id,
      tlsPeer: conn.tlsPeer,
    };
    this.handle(parseMessage(data, { limits: this.parseLimits, stream: true }), source, this.locals.get(conn.transport)!, data);
  }

  /**
   * A message another process of the cluster received for us (one whole
   * message, as it arrived): handled as if it had arrived here. `source`
   * keeps the sender's connection id, so answers go back over it, and the
   * TLS peer that connection proved (D-06).
   */
  receiveForwarded(data: Buffer, source: InboundSource): void {
    const local = this.locals.get(source.transport);
    if (!local) return;
    this.stats.received++;
    // Counted in `messages` by the process that read it off the wire.
    this.handle(parseMessage(data, { limits: this.parseLimits, stream: source.transport !== 'udp' }), source, local, data, false);
  }

  /**
   * Writes bytes another process of the cluster sent over a connection we
   * hold (RemoteConnections); to `fallback` when it has closed.
   */
  sendForOwner(data: Buffer, dest: Endpoint, fallback: Endpoint | undefined): void {
    const open = dest.connectionId !== undefined && this.streams.get(dest.transport)?.get(dest.connectionId);
    const to = open || fallback === undefined ? dest : fallback;
    // Counted in `messages` by the process that made it.
    this.transmit(data, to, undefined, undefined, false);
  }

  private handle(result: ReturnType<typeof parseMessage>, source: InboundSource, local: Local, data: Buffer, count = true): void {
    if (!result.ok) {
      this.reject(result, source);
      return;
    }
    const message = result.message;
    if (count && (this.isOwnMessage === undefined || !this.isOwnMessage(message))) this.messages.countIn(message);
    if (message.kind === 'request') markReceived(message, source);
    try {
      this.onInbound({ message, source, local, data });
    } catch (err) {
      // An application bug must not take the listener down with it.
      this.log.error({ err, callId: message.callId }, 'unhandled error processing SIP message');
    }
  }

  /** Answers an unparseable request with 400/505 when it can be answered; drops everything else. */
  private reject(failure: ParseFailure, source: Endpoint): void {
    this.stats.malformed++;
    this.problem('malformed', failure.reason, source.address);
    const r = failure.respondTo;
    if (!r || r.method === 'ACK') return;
    const response = createResponseFromHeaders(r.method, r.headers, failure.status, failure.reason);
    // The Via of a broken message cannot be trusted to route the answer: it goes back where the bytes came from.
    this.send(response, source, undefined, true);
  }

  /** @param exact send to dest as given, not to the response's Via (answers to unparseable requests). */
  send(message: SipMessage, dest: Endpoint, onError?: (err: Error) => void, exact = false): void {
    let data: Buffer;
    try {
      data = serializeMessage(message);
    } catch (err) {
      this.sendFailed(err as Error, onError);
      return;
    }
    let fallback: Endpoint | undefined;
    if (message.kind === 'response' && !exact) {
      if (dest.transport !== 'udp') fallback = viaDestination(message.via[0], dest);
      dest = this.responseDestination(message.via[0], dest);
    }
    this.transmit(data, dest, onError, fallback);
  }

  /** Sends a message of the process's own over UDP (see isOwnMessage), uncounted; false without a UDP listener. */
  sendOwn(message: SipMessage, dest: { address: string; port: number }): boolean {
    if (!this.udp) return false;
    this.stats.sent++;
    this.udp.send(serializeMessage(message), dest.address, dest.port, (err) => this.sendFailed(err, undefined));
    return true;
  }

  prepare(message: SipMessage, dest: Endpoint, onError?: (err: Error) => void): PreparedMessage | undefined {
    let data: Buffer;
    try {
      data = serializeMessage(message);
    } catch (err) {
      this.sendFailed(err as Error, onError);
      return undefined;
    }
    if (message.kind !== 'response') return { data, dest };
    const via = message.via[0];
    // Whether the connection is still open is decided at each send, as send() does.
    if (dest.transport !== 'udp' && dest.connectionId !== undefined) return { data, dest, fallback: settled(viaDestination(via, dest), dest) };
    return { data, dest: settled(viaDestination(via, dest), dest) };
  }

  sendPrepared(prepared: PreparedMessage, onError?: (err: Error) => void): void {
    let dest = prepared.dest;
    const fallback = prepared.fallback;
    if (fallback !== undefined && this.isLocalConnection(dest) && !this.streams.get(dest.transport)?.get(dest.connectionId!)) dest = fallback;
    this.transmit(prepared.data, dest, onError, fallback);
  }

  /** False for a connection another process of the cluster holds. */
  private isLocalConnection(dest: Endpoint): boolean {
    return dest.connectionId === undefined || ownerOfConnection(dest.connectionId) === localOwner();
  }

  private transmit(data: Buffer, dest: Endpoint, onError: ((err: Error) => void) | undefined, fallback?: Endpoint, count = true): void {
    const fail = (err: Error) => this.sendFailed(err, onError);
    if (dest.transport !== 'udp' && !this.isLocalConnection(dest) && this.config.remoteConnections) {
      this.stats.sent++;
      if (count) this.messages.countOut(data);
      this.config.remoteConnections.send(ownerOfConnection(dest.connectionId!), data, dest, fallback);
      return;
    }
    if (dest.transport === 'udp') {
      if (!this.udp) return fail(new Error('UDP is not enabled'));
      this.stats.sent++;
      if (count) this.messages.countOut(data);
      this.udp.send(data, dest.address, dest.port, fail);
      return;
    }
    const st = this.streams.get(dest.transport);
    if (!st) return fail(new Error(`${dest.transport.toUpperCase()} is not enabled`));
    const pinned = dest.connectionId !== undefined ? st.get(dest.connectionId) : undefined;
    if (pinned) {
      this.stats.sent++;
      if (count) this.messages.countOut(data);
      pinned.write(data, fail);
      return;
    }
    // A flow keeps its own connection (and TLS options): the app opens a new flow, we do not reconnect for it.
    if (dest.connectionId !== undefined && st.isRetiredFlow(dest.connectionId)) return fail(new Error('the flow has closed'));
    st.connect(dest.address, dest.port, (err, conn) => {
      if (err || !conn) return fail(err ?? new Error('connect failed'));
      this.stats.sent++;
      if (count) this.messages.countOut(data);
      conn.write(data, fail);
    });
  }

  /** The connection the request came on while it is open (RFC 3261 §18.2.2), else the top Via. */
  private responseDestination(via: Via | undefined, dest: Endpoint): Endpoint {
    if (dest.transport !== 'udp' && dest.connectionId !== undefined) {
      // Whether another process's connection is still open is for that process to find out.
      if (!this.isLocalConnection(dest) || this.streams.get(dest.transport)?.get(dest.connectionId)) return dest;
    }
    return viaDestination(via, dest);
  }

  private sendFailed(err: Error, onError?: (err: Error) => void): void {
    this.stats.sendErrors++;
    if (onError) onError(err);
    else this.problem('send', err.message, '-');
  }
}

function isOnlyWhitespace(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 13 && c !== 10 && c !== 32 && c !== 0) return false;
  }
  return true;
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: note in the top Via where the request really
 * came from, so responses (ours and any proxy's) find their way back through NAT.
 */
function markReceived(req: SipRequest, source: Endpoint): void {
  const top = req.via[0];
  if (!top) return;
  const hasRport = top.params.has('rport');
  const hostDiffers = stripBrackets(top.host) !== source.address;
  if (!hasRport && !hostDiffers) return;
  if (hostDiffers || hasRport) top.params.set('received', source.address);
  if (hasRport) top.params.set('rport', String(source.port));
  rewriteVias(req);
}

/** Re-renders the top Via after a change to it; headers[] is what gets serialized. */
function rewriteVias(msg: SipMessage): void {
  const headers = msg.headers;
  let first = -1;
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]!.name === 'via') {
      first = i;
      break;
    }
  }
  if (first < 0) return;
  // Usual case: the top Via stands alone on its line, so only that line changes.
  // Header objects may be shared with other messages: replace, never mutate.
  if (headers[first]!.value.indexOf(',') < 0) {
    headers[first] = { name: 'via', value: formatVia(msg.via[0]!) };
    return;
  }
  const rest = headers.filter((h, i) => i < first || h.name !== 'via');
  rest.splice(first, 0, ...msg.via.map((v) => ({ name: 'via', value: formatVia(v) })));
  msg.headers = rest;
}

function stripBrackets(host: string): string {
  return host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host;
}

/** The Via's received/rport (RFC 3581) or sent-by, as an endpoint; the fallback when unusable. */
function viaDestination(via: Via | undefined, fallback: Endpoint): Endpoint {
  if (!via) return fallback;
  const received = via.params.get('received');
  const rport = via.params.get('rport');
  const host = received ?? stripBrackets(via.host);
  const port = rport ? Number(rport) : (via.port ?? (fallback.transport === 'tls' ? 5061 : 5060));
  if (!isIP(host) || !(port > 0 && port < 65536)) return fallback;
  return { transport: fallback.transport, address: host, port };
}

/**
 * A prepared response may be kept for 32 s (timer J): when the Via names the
 * endpoint the request came from (the usual case), use that endpoint, so the
 * kept destination does not hold a slice of the request's text alive.
 */
function settled(to: Endpoint, source: Endpoint): Endpoint {
  if (to === source || to.address !== source.address) return to;
  return to.port === source.port ? source : { transport: to.transport, address: source.address, port: to.port };
}

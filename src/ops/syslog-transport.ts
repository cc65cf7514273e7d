// Delivery of formatted syslog messages to one collector. Nothing here ever
// blocks or throws into the logging caller: messages wait in a bounded queue
// while the collector is away (the oldest are dropped and counted when it
// fills), and the connection comes back by itself with exponential back-off.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../lib/log.ts';
import { octetCounted } from './syslog-format.ts';
import type { SyslogTarget } from './syslog-target.ts';

export interface SyslogTransportOptions {
  target: SyslogTarget;
  /** PEM of the CA trusted for the collector's certificate (tls); system CAs when absent. */
  ca?: string | Buffer;
  /** Messages held while the collector is unreachable or slow (default 1000). */
  maxQueue?: number;
  /** First reconnect delay, doubled per failure up to maxBackoffMs (defaults 500 ms, 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  connectTimeoutMs?: number;
  /** Where the transport reports its own trouble (never the syslog logger itself). */
  log: Logger;
}

export interface SyslogStats {
  /** Handed to the socket (a stream connection that dies may still lose the last of these). */
  sent: number;
  /** Dropped because the queue was full, a datagram send failed, or they were still queued at close. */
  dropped: number;
  queued: number;
  connected: boolean;
}

export interface SyslogTransport {
  send(message: Buffer): void;
  readonly stats: SyslogStats;
  /** Tries to deliver what is queued for up to timeoutMs, then closes. */
  close(timeoutMs?: number): Promise<void>;
}

export function createSyslogTransport(opts: SyslogTransportOptions): SyslogTransport {
  return opts.target.protocol === 'udp' ? new UdpSyslog(opts) : new StreamSyslog(opts);
}

/** A bounded FIFO of buffers; pushing onto a full queue drops the oldest. */
class BoundedQueue {
  private items: Buffer[] = [];
  private head = 0;
  constructor(private readonly max: number) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /** Returns true when an older item had to be dropped. */
  push(b: Buffer): boolean {
    this.items.push(b);
    if (this.length <= this.max) return false;
    this.head++;
    this.compact();
    return true;
  }

  peek(): Buffer | undefined {
    return this.items[this.head];
  }

  shift(): Buffer | undefined {
    const b = this.items[this.head];
    if (b !== undefined) this.head++;
    this.compact();
    return b;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

abstract class Base implements SyslogTransport {
  readonly stats: SyslogStats = { sent: 0, dropped: 0, queued: 0, connected: false };
  protected readonly queue: BoundedQueue;
  protected closing = false;
  private backoffMs: number;
  private retry: NodeJS.Timeout | undefined;
  /** Drops since the last report, so an outage logs one line when it starts and one when it ends. */
  private dropsReported = 0;
  private down = false;

  constructor(protected readonly opts: SyslogTransportOptions) {
    this.queue = new BoundedQueue(Math.max(1, opts.maxQueue ?? 1000));
    this.backoffMs = opts.minBackoffMs ?? 500;
  }

  abstract send(message: Buffer): void;
  abstract close(timeoutMs?: number): Promise<void>;
  protected abstract connect(): void;

  protected enqueue(b: Buffer): void {
    if (this.queue.push(b)) this.stats.dropped++;
    this.stats.queued = this.queue.length;
  }

  protected connected(): void {
    this.stats.connected = true;
    this.backoffMs = this.opts.minBackoffMs ?? 500;
    if (this.down) {
      this.down = false;
      const t = this.opts.target;
      this.opts.log.info({ target: `${t.protocol}://${t.host}:${t.port}`, dropped: this.stats.dropped - this.dropsReported }, 'syslog collector reachable again');
      this.dropsReported = this.stats.dropped;
    }
  }

  protected failed(detail: string): void {
    this.stats.connected = false;
    if (!this.down) {
      this.down = true;
      this.dropsReported = this.stats.dropped;
      const t = this.opts.target;
      this.opts.log.warn({ target: `${t.protocol}://${t.host}:${t.port}`, detail }, 'syslog collector unreachable; queueing messages');
    }
    if (this.closing || this.retry !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closing) this.connect();
    }, delay);
    this.retry.unref();
  }

  protected stopRetrying(): void {
    this.closing = true;
    clearTimeout(this.retry);
    this.retry = undefined;
  }
}

/** Datagrams handed to the kernel and not yet confirmed; beyond this they wait in the bounded queue. */
const MAX_INFLIGHT = 256;

/** RFC 5426: one message per datagram, sent on a connected socket (one DNS lookup, ICMP errors reported). */
class UdpSyslog extends Base {
  private socket: dgram.Socket | undefined;
  private inflight = 0;
  private idle: (() => void) | undefined;

  constructor(opts: SyslogTransportOptions) {
    super(opts);
    this.connect();
  }

  protected connect(): void {
    const t = this.opts.target;
    const socket = dgram.createSocket(net.isIPv6(t.host) ? 'udp6' : 'udp4');
    socket.unref();
    this.socket = socket;
    socket.on('error', (err) => {
      // An error before connect completes means the target did not resolve.
      if (!this.stats.connected && this.socket === socket) {
        this.socket = undefined;
        socket.close();
        this.failed(err.message);
      }
    });
    socket.connect(t.port, t.host, () => {
      if (this.socket !== socket) return;
      this.connected();
      for (let i = 0; i < MAX_INFLIGHT; i++) {
        const b = this.queue.shift();
        if (b === undefined) break;
        this.transmit(b);
      }
      this.stats.queued = this.queue.length;
    });
  }

  send(message: Buffer): void {
    if (this.closing) return;
    // The kernel queue is the bound while connected; our queue only covers start-up and DNS failures.
    if (!this.stats.connected || this.inflight >= MAX_INFLIGHT) this.enqueue(message);
    else this.transmit(message);
  }

  private transmit(b: Buffer): void {
    const socket = this.socket;
    if (!socket) {
      this.enqueue(b);
      return;
    }
    this.inflight++;
    socket.send(b, (err) => {
      this.inflight--;
      if (err) this.stats.dropped++;
      else this.stats.sent++;
      const next = this.socket === socket ? this.queue.shift() : undefined;
      this.stats.queued = this.queue.length;
      if (next !== undefined) this.transmit(next);
      else if (this.inflight === 0) this.idle?.();
    });
  }

  async close(timeoutMs = 1000): Promise<void> {
    this.stopRetrying();
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.stats.dropped += this.queue.length;
    this.stats.queued = 0;
    const s = this.socket;
    this.socket = undefined;
    this.stats.connected = false;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** RFC 6587 (TCP) and RFC 5425 (TLS): octet-counted frames on one long-lived connection. */
class StreamSyslog extends Base {
  private socket: net.Socket | undefined;
  private waitingForDrain = false;
  private flushed: (() => void) | undefined;

  constructor(opts: SyslogTransportOptions) {
    super(opts);
    this.connect();
  }

  protected connect(): void {
    const t = this.opts.target;
    const socket =
      t.protocol === 'tls'
        ? tls.connect({ host: t.host, port: t.port, ca: this.opts.ca, servername: net.isIP(t.host) ? undefined : t.host })
        : net.connect({ host: t.host, port: t.port });
    socket.unref();
    this.socket = socket;
    this.waitingForDrain = false;
    socket.setTimeout(this.opts.connectTimeoutMs ?? 10_000, () => socket.destroy(new Error('connect timed out')));
    socket.once(t.protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      this.connected();
      this.pump();
    });
    let reason = 'connection closed';
    socket.on('error', (err) => {
      reason = err.message;
    });
    // Collectors never send anything; reading keeps a half-closed peer from going unnoticed.
    socket.on('data', () => {});
    socket.on('end', () => socket.destroy());
    socket.once('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.failed(reason);
      this.flushed?.();
    });
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  send(message: Buffer): void {
    if (this.closing) return;
    this.enqueue(octetCounted(message));
    if (this.stats.connected && !this.waitingForDrain) this.pump();
  }

  /** Writes queued frames until the socket's buffer is full; 'drain' resumes. */
  private pump(): void {
    const socket = this.socket;
    if (!socket || !this.stats.connected) return;
    for (let b = this.queue.shift(); b !== undefined; b = this.queue.shift()) {
      this.stats.sent++;
      if (!socket.write(b)) {
        this.waitingForDrain = true;
        break;
      }
    }
    this.stats.queued = this.queue.length;
    if (this.queue.length === 0 && !this.waitingForDrain) this.flushed?.();
  }

  async close(timeoutMs = 1000): Promise<void> {
    this.stopRetrying();
    const socket = this.socket;
    if (socket && this.stats.connected && (this.queue.length > 0 || this.waitingForDrain)) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.flushed = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.stats.dropped += this.queue.length;
    this.stats.queued = 0;
    this.socket = undefined;
    this.stats.connected = false;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          socket.destroy();
          resolve();
        }, timeoutMs);
        socket.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        socket.end();
      });
    }
  }
}

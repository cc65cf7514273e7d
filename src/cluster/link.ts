// The local link between the workers of one machine: each worker listens on a
// Unix socket in the data directory (mode 0600, so only the server's own user
// can speak on it) and opens one connection to each other worker when it
// first has something for it. Frames carry whole SIP messages one worker
// hands to another (one that landed on the wrong worker, or one to send over
// a connection another worker holds) and the location changes every worker
// must see.
//
// Frame: u32 length of what follows, u8 kind, u16 header length, the header
// (JSON), the body (bytes of a SIP message, or nothing).

import net from 'node:net';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Endpoint } from '../sip/message.ts';
import type { InboundSource } from '../sip/transport/types.ts';
import type { Logger } from '../lib/log.ts';
import { OncePerInterval } from '../lib/log.ts';

export type LinkFrame =
  /** A message received here that another worker owns: handle it as received from `source` (with the TLS peer its connection proved, D-06). */
  | { kind: 'inbound'; source: InboundSource; data: Buffer }
  /** Bytes to write over `dest.connectionId`, which the receiver holds; to `fallback` once it is closed. */
  | { kind: 'send'; dest: Endpoint; fallback?: Endpoint; data: Buffer }
  /** Anything else, as JSON (location changes, status questions): `topic` names the consumer. */
  | { kind: 'json'; topic: string; body: unknown };

const KIND = { inbound: 1, send: 2, json: 3 } as const;
/** Larger than any SIP message we accept (sip.limits.maxMessageBytes) and any location update. */
const MAX_FRAME = 4 * 1024 * 1024;
/** Frames held for a worker that is not (yet) listening; beyond it they are dropped. */
const MAX_QUEUED = 10_000;
/** How long frames are held for a worker that is not listening (a start, a restart), and how often it is dialled meanwhile. */
const HOLD_MS = 10_000;
const REDIAL_MS = 50;

export interface WorkerLinkOptions {
  /** Directory of the sockets (under the data directory). */
  dir: string;
  /** This worker's number, 1..workers. */
  self: number;
  log: Logger;
  onFrame: (from: number, frame: LinkFrame) => void;
}

export function linkSocketPath(dir: string, worker: number): string {
  return join(dir, `w${worker}.sock`);
}

export function encodeFrame(frame: LinkFrame, from: number): Buffer {
  let header: unknown;
  let body: Buffer | undefined;
  switch (frame.kind) {
    case 'inbound':
      header = { from, source: frame.source };
      body = frame.data;
      break;
    case 'send':
      header = { from, dest: frame.dest, fallback: frame.fallback };
      body = frame.data;
      break;
    case 'json':
      header = { from, topic: frame.topic, body: frame.body };
      break;
  }
  const h = Buffer.from(JSON.stringify(header));
  const bodyLength = body?.length ?? 0;
  const out = Buffer.allocUnsafe(7 + h.length + bodyLength);
  out.writeUInt32BE(3 + h.length + bodyLength, 0);
  out[4] = KIND[frame.kind];
  out.writeUInt16BE(h.length, 5);
  h.copy(out, 7);
  body?.copy(out, 7 + h.length);
  return out;
}

/** Splits a byte stream into frames; throws on a frame no worker could have sent. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, each: (from: number, frame: LinkFrame) => void): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len < 3 || len > MAX_FRAME) throw new Error(`bad link frame length ${len}`);
      if (this.buf.length < 4 + len) return;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      const kind = frame[0];
      const hlen = frame.readUInt16BE(1);
      const header = JSON.parse(frame.toString('utf8', 3, 3 + hlen)) as Record<string, unknown>;
      // Copied out: the frame's buffer is the socket's chunk, which must not stay alive with it.
      const data = Buffer.from(frame.subarray(3 + hlen));
      const from = Number(header.from);
      if (kind === KIND.inbound) each(from, { kind: 'inbound', source: header.source as InboundSource, data });
      else if (kind === KIND.send) each(from, { kind: 'send', dest: header.dest as Endpoint, fallback: header.fallback as Endpoint | undefined, data });
      else if (kind === KIND.json) each(from, { kind: 'json', topic: String(header.topic), body: header.body });
      else throw new Error(`bad link frame kind ${kind}`);
    }
  }
}

interface Peer {
  socket: net.Socket | undefined;
  connected: boolean;
  queue: Buffer[];
  /** Writes are held until the end of this turn of the event loop and go out in one syscall. */
  corked: boolean;
  /** While the worker is not listening: when its held frames are given up. */
  holdUntil?: number;
}

export class WorkerLink {
  private server: net.Server | undefined;
  private readonly peers = new Map<number, Peer>();
  private readonly inbound = new Set<net.Socket>();
  private readonly logOnce = new OncePerInterval(60_000);
  /** Frames dropped because their worker could not be reached. */
  dropped = 0;

  constructor(private readonly opts: WorkerLinkOptions) {}

  get self(): number {
    return this.opts.self;
  }

  async start(): Promise<void> {
    const path = linkSocketPath(this.opts.dir, this.opts.self);
    if (Buffer.byteLength(path) > 100) throw new Error(`worker link socket path too long for a Unix socket: ${path} (use a shorter data directory)`);
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await rm(path, { force: true });
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    this.server = server;
  }

  /** Queues the frame for worker `to`; false when it had to be dropped. */
  send(to: number, frame: LinkFrame): boolean {
    if (to === this.opts.self) return false;
    const peer = this.peer(to);
    const bytes = encodeFrame(frame, this.opts.self);
    if (peer.connected) {
      const socket = peer.socket!;
      if (!peer.corked) {
        // A burst of registrations is a burst of frames: one write for all of them.
        peer.corked = true;
        socket.cork();
        setImmediate(() => {
          peer.corked = false;
          socket.uncork();
        });
      }
      socket.write(bytes);
      return true;
    }
    if (peer.queue.length >= MAX_QUEUED) {
      this.drop(to, 'queue full');
      return false;
    }
    peer.queue.push(bytes);
    return true;
  }

  /** To every other worker of `workers`. */
  broadcast(workers: number, frame: LinkFrame): void {
    for (let w = 1; w <= workers; w++) if (w !== this.opts.self) this.send(w, frame);
  }

  async close(): Promise<void> {
    for (const p of this.peers.values()) p.socket?.destroy();
    this.peers.clear();
    for (const s of this.inbound) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(linkSocketPath(this.opts.dir, this.opts.self), { force: true });
  }

  private peer(to: number): Peer {
    let peer = this.peers.get(to);
    if (peer) return peer;
    peer = { socket: undefined, connected: false, queue: [], corked: false };
    this.peers.set(to, peer);
    this.connect(to, peer);
    return peer;
  }

  private connect(to: number, peer: Peer): void {
    const socket = net.connect(linkSocketPath(this.opts.dir, to));
    peer.socket = socket;
    socket.setNoDelay?.(true);
    let retrying = false;
    socket.once('connect', () => {
      peer.connected = true;
      peer.holdUntil = undefined;
      for (const b of peer.queue) socket.write(b);
      peer.queue = [];
    });
    socket.on('data', () => {}); // nothing comes back on an outgoing connection
    socket.once('error', (err) => {
      // Not listening yet (its start-up, or a restart after a crash): its frames are held and
      // dialled again for a while, as they would be in any start order of the workers.
      const code = (err as NodeJS.ErrnoException).code;
      if (!peer.connected && (code === 'ENOENT' || code === 'ECONNREFUSED')) {
        const t = Date.now();
        peer.holdUntil ??= t + HOLD_MS;
        if (t < peer.holdUntil) {
          retrying = true;
          setTimeout(() => {
            if (this.peers.get(to) === peer) this.connect(to, peer);
          }, REDIAL_MS).unref();
          return;
        }
      }
      this.drop(to, err.message);
    });
    socket.once('close', () => {
      if (retrying) return;
      // The worker restarted or is gone: the next frame for it dials again.
      if (this.peers.get(to) === peer) this.peers.delete(to);
      if (peer.queue.length > 0) this.dropped += peer.queue.length;
    });
  }

  private accept(socket: net.Socket): void {
    this.inbound.add(socket);
    const reader = new FrameReader();
    const deliver = (from: number, frame: LinkFrame): void => {
      try {
        this.opts.onFrame(from, frame);
      } catch (err) {
        // A bug in whoever takes the frame must not close the link for the frames behind it.
        this.opts.log.error({ err, from }, 'worker link: frame handler failed');
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, deliver);
      } catch (err) {
        this.opts.log.error({ err }, 'worker link: unreadable frame, closing the connection');
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.inbound.delete(socket));
  }

  private drop(to: number, why: string): void {
    this.dropped++;
    const suppressed = this.logOnce.take(`${to}|${why}`);
    if (suppressed >= 0) this.opts.log.warn({ worker: to, why, suppressed }, 'worker link: frame not delivered');
  }
}

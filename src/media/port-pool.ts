// RTP/RTCP port pairs for the anchored relay: an even RTP port and the odd
// port above it (RFC 3550 §11), each bound as its own UDP socket. Ports that
// another process holds are skipped; ports this pool handed out are tracked so
// concurrent allocations never race for the same pair. The search starts where
// the previous one stopped, so a port just released is not reused at once
// (stray packets of the old call would land in the new one).
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';

export type MediaErrorCode = 'exhausted' | 'invalid' | 'closed';

/** Errors of src/media/ the caller is expected to handle (config mistakes, no ports left, use after close). */
export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export interface PortPoolOptions {
  /** Local address to bind (an IP literal; '0.0.0.0' or '::' for all). */
  host: string;
  portMin: number;
  portMax: number;
}

export const DEFAULT_PORT_MIN = 20000;
export const DEFAULT_PORT_MAX = 29999;

export interface PortPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: Socket;
  readonly rtcp: Socket;
  /** 4 or 6: the family of host, and so of every remote address these sockets talk to. */
  readonly family: 4 | 6;
}

/**
 * dgram resolves every send's address through dns.lookup, which costs a tick
 * and a few objects per packet even for an IP literal. Every address the relay
 * sends to is an IP checked when it was set (or a packet's source), so the
 * lookup can answer at once (a non-IP would fail in the send itself).
 */
function literalLookup(
  hostname: string,
  _options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, hostname, hostname.includes(':') ? 6 : 4);
}

function bindOne(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type, reuseAddr: false, lookup: literalLookup });
    const onError = (err: Error): void => {
      sock.close();
      reject(err);
    };
    sock.once('error', onError);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function closeSocket(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function isAddrInUse(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

export class PortPool {
  readonly host: string;
  readonly portMin: number;
  readonly portMax: number;
  readonly family: 4 | 6;
  /** First RTP port of the range (even) and the number of pairs in it. */
  readonly #first: number;
  readonly #pairs: number;
  /** RTP port → the pair handed out, or null while it is being bound. */
  readonly #taken = new Map<number, PortPair | null>();
  #cursor = 0;
  #closed = false;

  constructor(opts: PortPoolOptions) {
    const family = isIP(opts.host);
    if (family === 0) throw new MediaError('invalid', `media host must be an IP address, got '${String(opts.host)}'`);
    for (const [field, v] of [['portMin', opts.portMin], ['portMax', opts.portMax]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw new MediaError('invalid', `media ${field} must be an integer in 1..65535, got ${v}`);
    }
    this.host = opts.host;
    this.portMin = opts.portMin;
    this.portMax = opts.portMax;
    this.family = family === 6 ? 6 : 4;
    this.#first = opts.portMin % 2 === 0 ? opts.portMin : opts.portMin + 1;
    this.#pairs = Math.max(0, Math.floor((opts.portMax - this.#first + 1) / 2));
    if (this.#pairs === 0) {
      throw new MediaError('invalid', `media port range ${opts.portMin}-${opts.portMax} holds no even/odd RTP/RTCP pair`);
    }
  }

  /** Pairs the range can hold. */
  get capacity(): number {
    return this.#pairs;
  }

  /** Pairs handed out and not yet released. */
  get inUse(): number {
    return this.#taken.size;
  }

  /**
   * Binds the next free pair. Tries each pair of the range at most once, so
   * it is bounded by the range's size; fails with MediaError('exhausted')
   * when every pair is taken, by this pool or by other programs.
   */
  async allocate(): Promise<PortPair> {
    if (this.#closed) throw new MediaError('closed', 'media port pool is closed');
    const type = this.family === 6 ? 'udp6' : 'udp4';
    let busyElsewhere = 0;
    for (let tried = 0; tried < this.#pairs; tried++) {
      const rtpPort = this.#first + 2 * this.#cursor;
      this.#cursor = (this.#cursor + 1) % this.#pairs;
      if (this.#taken.has(rtpPort)) continue;
      this.#taken.set(rtpPort, null);
      let rtp: Socket | null = null;
      try {
        rtp = await bindOne(type, this.host, rtpPort);
        const rtcp = await bindOne(type, this.host, rtpPort + 1);
        if (this.#closed) {
          await Promise.all([closeSocket(rtp), closeSocket(rtcp)]);
          this.#taken.delete(rtpPort);
          throw new MediaError('closed', 'media port pool is closed');
        }
        const pair: PortPair = { rtpPort, rtcpPort: rtpPort + 1, rtp, rtcp, family: this.family };
        this.#taken.set(rtpPort, pair);
        return pair;
      } catch (err) {
        if (rtp !== null) await closeSocket(rtp);
        this.#taken.delete(rtpPort);
        if (err instanceof MediaError) throw err;
        if (!isAddrInUse(err)) {
          throw new MediaError('invalid', `cannot bind media port ${rtpPort} on ${this.host}: ${(err as Error).message}`);
        }
        busyElsewhere++;
      }
    }
    throw new MediaError(
      'exhausted',
      `no free RTP/RTCP port pair in ${this.portMin}-${this.portMax} on ${this.host} ` +
        `(${this.#taken.size} of ${this.#pairs} pairs in use by this server, ${busyElsewhere} busy elsewhere)`,
    );
  }

  /** Closes both sockets and gives the pair back once they are closed. Idempotent. */
  async release(pair: PortPair): Promise<void> {
    await Promise.all([closeSocket(pair.rtp), closeSocket(pair.rtcp)]);
    // A second release must not free the port for whoever holds it now.
    if (this.#taken.get(pair.rtpPort) === pair) this.#taken.delete(pair.rtpPort);
  }

  /** Refuses further allocations; pairs already out are released by their owners. */
  close(): void {
    this.#closed = true;
  }
}

// Outbound flows (RFC 5626 §3): one TCP/TLS connection, or a UDP 5-tuple on
// our listener, with the §4.4.1 double-CRLF keep-alive ping and its pong.
import type { Endpoint, TransportName } from '../message.ts';
import type { Flow } from './types.ts';
import type { FlowConnection } from './stream.ts';

const PING = Buffer.from('\r\n\r\n');

/** A flow over one stream connection: sends to `dest` go over exactly that connection. */
export class StreamFlow implements Flow {
  readonly transport: TransportName;
  readonly dest: Endpoint;
  readonly local: { address: string; port: number };

  constructor(private readonly conn: FlowConnection) {
    this.transport = conn.transport;
    this.dest = { transport: conn.transport, address: conn.remoteAddress, port: conn.remotePort, connectionId: conn.id };
    this.local = { address: conn.localAddress, port: conn.localPort };
  }

  get open(): boolean {
    return this.conn.open;
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.conn.onClosed(listener);
  }

  /** The write counts as traffic for the idle timeout, so a pinged flow stays open. */
  ping(): void {
    this.conn.write(PING);
  }

  onPong(listener: () => void): () => void {
    return this.conn.onBytes(listener);
  }

  close(): void {
    this.conn.close();
  }
}

/** Pong listeners of UDP flows by "<address>|<port>": looked up only for keep-alive datagrams. */
export class UdpPongs {
  private readonly byPeer = new Map<string, Set<() => void>>();

  add(address: string, port: number, listener: () => void): () => void {
    const key = `${address}|${port}`;
    let set = this.byPeer.get(key);
    if (!set) this.byPeer.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byPeer.get(key) === set) this.byPeer.delete(key);
    };
  }

  /** A keep-alive datagram (CRLF) came from address:port. */
  pong(address: string, port: number): void {
    if (this.byPeer.size === 0) return;
    const set = this.byPeer.get(`${address}|${port}`);
    if (set) for (const l of set) l();
  }
}

/** A flow on our UDP listener: it never closes; its ping is a CRLFCRLF datagram and a CRLF datagram back is its pong. */
export class UdpFlow implements Flow {
  readonly transport = 'udp' as const;
  readonly open = true;

  constructor(
    readonly dest: Endpoint,
    readonly local: { address: string; port: number },
    private readonly sendPing: (data: Buffer) => void,
    private readonly pongs: UdpPongs,
  ) {}

  onClose(): () => void {
    return () => {};
  }

  ping(): void {
    this.sendPing(PING);
  }

  onPong(listener: () => void): () => void {
    return this.pongs.add(this.dest.address, this.dest.port, listener);
  }

  /** The UDP listener is everyone's: nothing to close. */
  close(): void {}
}

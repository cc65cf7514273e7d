import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';

/** One UDP socket bound to host:port; hands every datagram up untouched. */
export class UdpListener {
  private socket?: dgram.Socket;
  address = '';
  port = 0;

  constructor(
    private readonly onDatagram: (data: Buffer, address: string, port: number) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** reusePort: several processes bind the same host:port and the kernel spreads flows over them (SO_REUSEPORT). */
  start(host: string, port: number, reusePort = false): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false, reusePort });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        // Large kernel buffers absorb bursts (thousands of REGISTERs at once from a
        // gateway restart) instead of dropping them while the event loop is busy.
        try {
          socket.setRecvBufferSize(8 * 1024 * 1024);
          socket.setSendBufferSize(8 * 1024 * 1024);
        } catch {
          // The kernel caps these; the defaults still work.
        }
        socket.on('error', this.onError);
        socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
        const a = socket.address();
        this.address = a.address;
        this.port = a.port;
        resolve();
      });
    });
  }

  send(data: Buffer, address: string, port: number, onError?: (err: Error) => void): void {
    if (!this.socket) {
      onError?.(new Error('UDP listener not started'));
      return;
    }
    this.socket.send(data, port, address, (err) => {
      if (err) onError?.(err);
    });
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}

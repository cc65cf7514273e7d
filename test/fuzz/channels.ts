// The network fuzzer's sockets: one UDP socket or one TCP/TLS connection
// each, bound to a loopback source address of its own (so the auth guard's
// bans on the attacker's address never touch the probes or the "user"
// channel). Stream channels reconnect when the server closes them, as it
// must after a framing error. Everything the server answers is read (a
// peer that never reads would stall the server's writes) and only the
// newest digest challenge is kept.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

export type ChannelTransport = 'udp' | 'tcp' | 'tls';

const CHALLENGE = /^(?:WWW|Proxy)-Authenticate:[ \t]*(Digest [^\r\n]*)/im;

export class Channel {
  private udp?: dgram.Socket;
  private stream?: net.Socket;
  private opening?: Promise<void>;
  /** The newest Digest challenge the server sent us. */
  challenge?: string;
  localPort = 0;
  sent = 0;
  received = 0;
  /** Times the server closed a stream channel (framing errors and limits). */
  closedByServer = 0;
  /** Times we gave up on a stream the server stopped reading (see network.ts MAX_STALL_MS). */
  stalls = 0;
  private waiters: Array<() => void> = [];
  /** Secrets this channel must never be sent (see watchFor); answers that held one. */
  private forbidden: Buffer[] = [];
  leaks = 0;

  constructor(
    readonly name: string,
    readonly transport: ChannelTransport,
    readonly localHost: string,
    readonly serverHost: string,
    readonly serverPort: number,
    private readonly tlsOptions: tls.ConnectionOptions = {},
  ) {}

  get open(): boolean {
    return this.udp !== undefined || (this.stream !== undefined && !this.stream.destroyed);
  }

  /** Opens the socket (again); resolves once it can carry bytes. */
  connect(timeoutMs = 5000): Promise<void> {
    if (this.open) return Promise.resolve();
    this.opening ??= this.doConnect(timeoutMs).finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async doConnect(timeoutMs: number): Promise<void> {
    if (this.transport === 'udp') {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => this.onData(m));
      s.on('error', () => {}); // ICMP unreachable and the like: the fuzzer does not care.
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.bind(0, this.localHost, () => res());
      });
      this.udp = s;
      this.localPort = s.address().port;
      return;
    }
    const opts = { host: this.serverHost, port: this.serverPort, localAddress: this.localHost };
    const socket = this.transport === 'tls' ? tls.connect({ ...opts, ...this.tlsOptions }) : net.connect(opts);
    socket.setNoDelay(true);
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => {
        socket.destroy();
        rej(new Error(`${this.name}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once(this.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        res();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        rej(err);
      });
    });
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.once('close', () => {
      if (this.stream === socket) this.closedByServer++;
    });
    this.stream = socket;
    this.localPort = socket.localPort ?? 0;
  }

  /** Counts in `leaks` every answer holding one of these (another device's password, a line password). */
  watchFor(secrets: readonly string[]): void {
    this.forbidden = secrets.map((x) => Buffer.from(x));
  }

  private onData(data: Buffer): void {
    this.received++;
    for (const f of this.forbidden) if (data.includes(f)) this.leaks++;
    // Cheap test first: most answers are not challenges.
    if (data.indexOf('Digest ') < 0) return;
    const m = CHALLENGE.exec(data.toString('latin1'));
    if (m) {
      this.challenge = m[1];
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves true once a challenge newer than this call arrived, false after timeoutMs. */
  nextChallenge(timeoutMs: number): Promise<boolean> {
    return new Promise((res) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        res(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        res(true);
      };
      this.waiters.push(done);
    });
  }

  /** Sends one message; false when a stream is closed (the caller reconnects) or its buffer is full. */
  send(data: Buffer): boolean {
    if (this.udp) {
      this.udp.send(data, this.serverPort, this.serverHost);
      this.sent++;
      return true;
    }
    const s = this.stream;
    if (!s || s.destroyed) return false;
    s.write(data);
    this.sent++;
    return true;
  }

  /** Bytes queued in our stream's buffer (backpressure), 0 for UDP. */
  get backlog(): number {
    return this.stream?.writableLength ?? 0;
  }

  close(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.destroy();
    this.udp?.close();
    this.udp = undefined;
  }
}

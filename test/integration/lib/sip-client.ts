import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Header, NameAddr, SipResponse, TransportName } from '../../../src/sip/message.ts';
import { parseMessage, frameStream } from '../../../src/sip/parser.ts';
import { createRequest, serializeMessage } from '../../../src/sip/serializer.ts';
import { parseUri } from '../../../src/sip/uri.ts';
import { getHeaders } from '../../../src/sip/headers.ts';
import { DigestClient } from '../../../src/sip/digest-client.ts';
import { DEFAULT_PARSE_LIMITS } from '../../../src/sip/message.ts';

/**
 * A small SIP client for integration tests: sends requests over a real
 * UDP/TCP/TLS socket and collects what comes back. Deliberately independent
 * of the server's transport and transaction code, so tests do not grade the
 * stack with itself more than they must (it does share the parser).
 */
export class TestClient {
  private udp?: dgram.Socket;
  private stream?: net.Socket;
  private pending = Buffer.alloc(0);
  private waiters: Array<{ match: (r: SipResponse) => boolean; resolve: (r: SipResponse) => void }> = [];
  readonly received: SipResponse[] = [];
  readonly raw: Buffer[] = [];
  localPort = 0;
  localAddress = '127.0.0.1';
  private cseq = 1;
  readonly callId = randomBytes(8).toString('hex');
  readonly fromTag = randomBytes(4).toString('hex');

  constructor(
    readonly transport: TransportName,
    readonly serverHost: string,
    readonly serverPort: number,
    private readonly tlsOptions: tls.ConnectionOptions = {},
    /** UDP only: bind this local port instead of an ephemeral one. */
    private readonly bindPort = 0,
    /** UDP only: send from this loopback address (another "machine") instead of 127.0.0.1 / ::1. */
    private readonly bindAddress?: string,
  ) {}

  async open(): Promise<this> {
    const family6 = this.serverHost.includes(':');
    if (this.transport === 'udp') {
      const s = dgram.createSocket(family6 ? 'udp6' : 'udp4');
      s.on('message', (m) => this.onBytes(m, true));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.bindPort, this.bindAddress ?? (family6 ? '::1' : '127.0.0.1'), () => resolve());
      });
      this.udp = s;
      this.localPort = s.address().port;
      this.localAddress = s.address().address;
      return this;
    }
    const socket =
      this.transport === 'tls'
        ? tls.connect({ host: this.serverHost, port: this.serverPort, ...this.tlsOptions })
        : net.connect({ host: this.serverHost, port: this.serverPort });
    await new Promise<void>((resolve, reject) => {
      socket.once(this.transport === 'tls' ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('data', (d: Buffer) => this.onBytes(d, false));
    socket.on('error', () => {});
    this.stream = socket;
    this.localPort = socket.localPort ?? 0;
    this.localAddress = socket.localAddress ?? '127.0.0.1';
    return this;
  }

  get closed(): boolean {
    return this.stream ? this.stream.destroyed || this.stream.readableEnded : false;
  }

  close(): void {
    this.udp?.close();
    this.stream?.destroy();
  }

  /** Sends raw bytes as they are (torture messages, garbage). */
  sendRaw(data: Buffer | string): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (this.udp) this.udp.send(b, this.serverPort, this.serverHost);
    else this.stream!.write(b);
  }

  private onBytes(data: Buffer, datagram: boolean): void {
    this.raw.push(data);
    if (datagram) {
      this.deliver(data, false);
      return;
    }
    this.pending = Buffer.concat([this.pending, data]);
    let offset = 0;
    for (;;) {
      const f = frameStream(this.pending, offset, DEFAULT_PARSE_LIMITS);
      if (f.kind === 'message') {
        this.deliver(this.pending.subarray(f.start, f.end), true);
        offset = f.end;
      } else if (f.kind === 'keepalive') offset = f.end;
      else break;
    }
    this.pending = this.pending.subarray(offset);
  }

  private deliver(bytes: Buffer, stream: boolean): void {
    const r = parseMessage(bytes, { stream });
    const res = r.ok ? r.message : roughResponse(bytes);
    if (!res || res.kind !== 'response') return;
    this.received.push(res);
    const i = this.waiters.findIndex((w) => w.match(res));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(res);
  }

  /** Resolves with the first final response matching, or rejects after timeoutMs. */
  waitFor(match: (r: SipResponse) => boolean, timeoutMs = 3000): Promise<SipResponse> {
    const already = this.received.find(match);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (r: SipResponse) => (clearTimeout(t), resolve(r)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error('timed out waiting for a SIP response'));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends a request and waits for its final response (matched by branch). */
  async request(
    method: string,
    opts: { uri?: string; user?: string; to?: string; headers?: Header[]; contact?: string | null; body?: Buffer; contentType?: string; callId?: string; cseq?: number } = {},
  ): Promise<SipResponse> {
    const branch = 'z9hG4bK' + randomBytes(8).toString('hex');
    const user = opts.user ?? 'anonymous';
    const hostPort = this.serverHost.includes(':') ? `[${this.serverHost}]:${this.serverPort}` : `${this.serverHost}:${this.serverPort}`;
    const uri = opts.uri ?? `sip:${hostPort}`;
    const aor = parseUri(opts.to ?? `sip:${user}@${hostPort}`)!;
    const local = this.localAddress.includes(':') ? `[${this.localAddress}]` : this.localAddress;
    const contactText = opts.contact === undefined ? `sip:${user}@${local}:${this.localPort};transport=${this.transport}` : opts.contact;
    const from: NameAddr = { uri: aor, params: new Map([['tag', this.fromTag]]) };
    const to: NameAddr = { uri: aor, params: new Map() };
    const seq = opts.cseq ?? this.cseq++;
    const req = createRequest({
      method,
      uri,
      from,
      to,
      callId: opts.callId ?? this.callId,
      cseq: seq,
      via: { protocol: 'SIP/2.0', transport: this.transport.toUpperCase(), host: local, port: this.localPort, params: new Map<string, string | null>([['branch', branch], ['rport', null]]) },
      contact: contactText === null ? undefined : { uri: parseUri(contactText)!, params: new Map() },
      headers: opts.headers,
      body: opts.body,
      contentType: opts.contentType,
    });
    this.sendRaw(serializeMessage(req));
    return this.waitFor((r) => r.status >= 200 && r.via[0]?.params.get('branch') === branch);
  }

  /** REGISTER with digest: sends, answers one 401 challenge, returns the last response. */
  async register(
    user: string,
    password: string,
    opts: { expires?: number; headers?: Header[]; contact?: string | null; authUser?: string; algorithm?: 'MD5' | 'SHA-256' } = {},
  ): Promise<SipResponse> {
    const extra: Header[] = [...(opts.headers ?? [])];
    if (opts.expires !== undefined) extra.push({ name: 'expires', value: String(opts.expires) });
    const first = await this.request('REGISTER', { user, headers: extra, contact: opts.contact });
    if (first.status !== 401) return first;
    const challenges = getHeaders(first, 'www-authenticate');
    const digest = new DigestClient({ username: opts.authUser ?? user, password });
    const chosen = opts.algorithm ? challenges.find((c) => c.includes(`algorithm=${opts.algorithm}`)) : digest.chooseChallenge(challenges);
    const hostPort = this.serverHost.includes(':') ? `[${this.serverHost}]:${this.serverPort}` : `${this.serverHost}:${this.serverPort}`;
    const authorization = digest.authorize(chosen!, 'REGISTER', `sip:${hostPort}`)!;
    return this.request('REGISTER', { user, headers: [...extra, { name: 'authorization', value: authorization }], contact: opts.contact });
  }
}

/**
 * A response our own parser refuses (the server copies broken headers of a
 * broken request into its 400, as RFC 3261 §8.2.6 says) is still worth seeing:
 * read the status line and Call-ID by hand.
 */
function roughResponse(bytes: Buffer): SipResponse | undefined {
  const text = bytes.toString('latin1');
  const m = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)\r\n/.exec(text);
  if (!m) return undefined;
  const callId = /^(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)/im.exec(text)?.[1]?.trim() ?? '';
  return {
    kind: 'response',
    status: Number(m[1]),
    reason: m[2]!,
    headers: [],
    body: Buffer.alloc(0),
    via: [],
    from: { uri: { scheme: 'sip', host: '', params: new Map(), headers: new Map() }, params: new Map() },
    to: { uri: { scheme: 'sip', host: '', params: new Map(), headers: new Map() }, params: new Map() },
    callId,
    cseq: { seq: 0, method: '' },
  };
}

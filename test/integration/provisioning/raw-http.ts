// A raw HTTP/1.1 client for hostile requests: the exact bytes written (no
// client normalising paths or refusing odd headers), from a chosen loopback
// source address, over TLS or plain TCP; and the digest arithmetic of
// RFC 7616 §3.4.1, written here from the RFC so the server's own code
// does not check itself.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

export interface RawAnswer {
  /** 0 when the server closed the connection without an HTTP answer. */
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

export interface RawTarget {
  port: number;
  /** TLS with this root; plain TCP when undefined. */
  ca?: string;
  /** Loopback source address; default 127.0.0.1. */
  from?: string;
}

/** Opens a connection (TLS handshake done) from target.from. */
export function connect(t: RawTarget, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port: t.port, localAddress: t.from ?? '127.0.0.1' };
    const s = t.ca !== undefined ? tls.connect({ ...opts, ca: t.ca, servername: undefined }) : net.connect(opts);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once(t.ca !== undefined ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Resolves when the socket is closed (by either side), with the bytes it received. */
export function untilClosed(s: net.Socket, timeoutMs = 15_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    if (s.destroyed) {
      resolve(Buffer.alloc(0));
      return;
    }
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

function parse(raw: Buffer): RawAnswer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  if (!m || end < 0) return { status: 0, headers: new Map(), body: text };
  const headers = new Map<string, string[]>();
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const c = line.indexOf(':');
    const k = line.slice(0, c).trim().toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), line.slice(c + 1).trim()]);
  }
  return { status: Number(m[1]), headers, body: text.slice(end + 4) };
}

/** Writes `data` on a fresh connection and reads until the server closes it (send Connection: close). */
export async function rawExchange(t: RawTarget, data: string | Buffer): Promise<RawAnswer> {
  let s: net.Socket;
  try {
    s = await connect(t);
  } catch {
    return { status: 0, headers: new Map(), body: '' };
  }
  const closed = untilClosed(s);
  s.write(data);
  return parse(await closed);
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function requestBytes(r: RawRequest): Buffer {
  const head = [`${r.method ?? 'GET'} ${r.path} HTTP/1.1`, 'Host: provisioning.test', 'Connection: close'];
  for (const [k, v] of Object.entries(r.headers ?? {})) head.push(`${k}: ${v}`);
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  if (r.body !== undefined && !Object.keys(r.headers ?? {}).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) head.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

export function rawRequest(t: RawTarget, r: RawRequest): Promise<RawAnswer> {
  return rawExchange(t, requestBytes(r));
}

export interface Challenge {
  realm: string;
  nonce: string;
  algorithm: string;
  stale: boolean;
}

/** The challenges of a 401, in the server's order. */
export function challenges(a: RawAnswer): Challenge[] {
  return (a.headers.get('www-authenticate') ?? []).map((v) => ({
    realm: /realm="([^"]*)"/.exec(v)?.[1] ?? '',
    nonce: /nonce="([^"]*)"/.exec(v)?.[1] ?? '',
    algorithm: /algorithm=([\w-]+)/.exec(v)?.[1] ?? 'MD5',
    stale: /stale=true/i.test(v),
  }));
}

export interface DigestInput {
  username: string;
  password: string;
  method: string;
  uri: string;
  challenge: Challenge;
  /** Default 1. */
  nc?: number;
  cnonce?: string;
}

/** An Authorization value with qop=auth (RFC 7616 §3.4.1). */
export function digestAuthorization(d: DigestInput): string {
  const alg = d.challenge.algorithm;
  const h = (s: string) => createHash(alg === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const nc = (d.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = d.cnonce ?? randomBytes(8).toString('hex');
  const ha1 = h(`${d.username}:${d.challenge.realm}:${d.password}`);
  const ha2 = h(`${d.method}:${d.uri}`);
  const response = h(`${ha1}:${d.challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${d.username}", realm="${d.challenge.realm}", nonce="${d.challenge.nonce}", uri="${d.uri}", ` +
    `algorithm=${alg}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`;
}

/**
 * A device's digest fetch as a phone makes it: unauthenticated request,
 * challenge, then the request with credentials (both from t.from).
 */
export async function digestRequest(t: RawTarget, r: RawRequest, username: string, password: string): Promise<RawAnswer> {
  const first = await rawRequest(t, r);
  const c = challenges(first)[0];
  if (first.status !== 401 || c === undefined) return first;
  const authorization = digestAuthorization({ username, password, method: r.method ?? 'GET', uri: r.path, challenge: c });
  return rawRequest(t, { ...r, headers: { ...r.headers, Authorization: authorization } });
}

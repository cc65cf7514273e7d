// A small HTTPS client for the management API tests: trusts only the
// server's own root CA (no rejectUnauthorized: false), keeps the session
// cookie, and sends the CSRF token on requests that change something.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import type { ConfigInput } from '../../../src/config/schema.ts';

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface RequestOptions {
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send the CSRF token (default true when one is known). */
  csrf?: boolean;
}

export class ApiClient {
  cookie: string | null = null;
  csrf: string | null = null;
  /** Every Set-Cookie header seen, for attribute checks. */
  readonly setCookies: string[] = [];

  constructor(readonly baseUrl: string, readonly ca: string | null, /** Connect from this loopback address (another "machine"). */ readonly localAddress?: string) {}

  request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.raw !== undefined) {
      payload = Buffer.from(opts.raw);
      headers['content-type'] = opts.contentType ?? 'text/csv';
    } else if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] = 'application/json';
    }
    if (payload) headers['content-length'] = String(payload.length);
    if (this.cookie) headers.cookie = `sb_session=${this.cookie}`;
    if (this.csrf && (opts.csrf ?? true) && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const local = this.localAddress === undefined ? {} : { localAddress: this.localAddress, agent: false };
      const req = mod.request(url, { method, headers, ...local, ...(url.protocol === 'https:' && this.ca ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          for (const c of [res.headers['set-cookie'] ?? []].flat()) this.takeCookie(c);
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, json });
        });
        res.on('error', reject);
      });
      req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private takeCookie(header: string): void {
    this.setCookies.push(header);
    const m = /^sb_session=([^;]*)/.exec(header);
    if (!m) return;
    const expired = /expires=Thu, 01 Jan 1970/i.test(header) || /max-age=0/i.test(header) || m[1] === '';
    this.cookie = expired ? null : m[1]!;
  }

  get(path: string, opts?: RequestOptions) { return this.request('GET', path, opts); }
  post(path: string, body?: unknown, opts?: RequestOptions) { return this.request('POST', path, { ...opts, body }); }
  put(path: string, body?: unknown, opts?: RequestOptions) { return this.request('PUT', path, { ...opts, body }); }
  patch(path: string, body?: unknown, opts?: RequestOptions) { return this.request('PATCH', path, { ...opts, body }); }
  delete(path: string, opts?: RequestOptions) { return this.request('DELETE', path, opts); }

  async login(name: string, password: string): Promise<ApiResponse> {
    const r = await this.post('/api/session', { name, password });
    if (r.status === 200) this.csrf = r.json.csrfToken;
    return r;
  }

  /** Logs in with a one-time password, changes it, logs in again. */
  async loginChanging(name: string, oneTime: string, newPassword: string): Promise<void> {
    const first = await this.login(name, oneTime);
    expect(first.status, first.text).toBe(200);
    expect(first.json.mustChangePassword).toBe(true);
    const ch = await this.post('/api/session/password', { currentPassword: oneTime, newPassword });
    expect(ch.status, ch.text).toBe(200);
    const again = await this.login(name, newPassword);
    expect(again.status, again.text).toBe(200);
    expect(again.json.mustChangePassword).toBe(false);
  }
}

export const ADMIN_PASSWORD = 'Correct-Horse-42-battery';

export interface ApiTestServer {
  ts: TestServer;
  url: string;
  ca: string;
  client(): ApiClient;
  /** The `admin` account (roles admin + security-admin), password already changed. */
  admin: ApiClient;
}

/** A real server with the HTTPS management server on, and `admin` logged in. */
export async function startWithApi(config: ConfigInput = {}, opts: { manualTime?: boolean; provisioning?: boolean } = {}): Promise<ApiTestServer> {
  const ts = await startTestServer({ config, http: true, manualTime: opts.manualTime, provisioning: opts.provisioning });
  const url = ts.server.http!.url;
  const ca = ts.server.certificates.caCertPem;
  const client = () => new ApiClient(url, ca);
  const admin = client();
  const pw = ts.server.takeInitialAdminPassword();
  expect(pw).toMatch(/^.{16,}$/);
  await admin.loginChanging('admin', pw!, ADMIN_PASSWORD);
  return { ts, url, ca, client, admin };
}

/** Creates an account through the API and returns a client logged in as it. */
export async function accountWith(s: ApiTestServer, name: string, roles: string[]): Promise<ApiClient> {
  const created = await s.admin.post('/api/admins', { name, roles, password: 'Temp-Pass-123-first' });
  expect(created.status, created.text).toBe(201);
  const c = s.client();
  await c.loginChanging(name, 'Temp-Pass-123-first', 'Final-Pass-456-later');
  return c;
}

export interface WsLike {
  on(ev: string, fn: (...a: any[]) => void): void;
  send(data: string): void;
  ping(): void;
  close(): void;
  readyState: number;
}
type WsCtor = new (url: string, opts: Record<string, unknown>) => WsLike;
// The ws package (under @fastify/websocket) ships no types.
const WebSocket = createRequire(import.meta.url)('ws') as WsCtor;

/** A client of the live status feed (GET /api/status/ws): its JSON messages, and how it ended. */
export interface Feed {
  messages: any[];
  closed: { code: number; reason: string } | null;
  refused: number | null;
  ws: WsLike;
  /** Pongs received: a pong answers a ping sent after everything before it, so the server has read that. */
  pongs: number;
}

export function openFeed(s: ApiTestServer, c: ApiClient | null, headers: Record<string, string> = {}): Promise<Feed> {
  const url = s.url.replace(/^https:/, 'wss:') + '/api/status/ws';
  const ws = new WebSocket(url, { ca: s.ca, headers: { ...(c?.cookie ? { cookie: `sb_session=${c.cookie}` } : {}), ...headers } });
  const feed: Feed = { messages: [], closed: null, refused: null, ws, pongs: 0 };
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer) => feed.messages.push(JSON.parse(data.toString())));
    ws.on('pong', () => feed.pongs++);
    ws.on('open', () => resolve(feed));
    ws.on('unexpected-response', (_req: unknown, res: { statusCode: number }) => {
      feed.refused = res.statusCode;
      resolve(feed);
    });
    ws.on('close', (code: number, reason: Buffer) => (feed.closed = { code, reason: reason.toString() }));
    ws.on('error', () => resolve(feed));
  });
}

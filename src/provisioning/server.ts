// The provisioning server (issue 14 item 2; SPEC §4.6, §4.7, §5.1, A-14,
// C-16): device files over HTTPS to the device that proves itself (digest
// as its MAC, or its URL token), the root CA in the forms phones take, and
// the phones' uploads. Plain HTTP exists only when the bootstrap exception
// is switched on, and then serves only the files families list as bootstrap
// files (never one with credentials) to local sources.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/log.ts';
import { limitPerSource } from '../api/http-server.ts';
import type { CertificateSet } from '../security/certs.ts';
import { tlsServerOptions } from '../security/tls-policy.ts';
import { TransportPolicy } from '../security/transport-policy.ts';
import type { Store } from '../store/types.ts';
import type { DeviceView } from '../model/device.ts';
import { DeviceAuth } from './device-auth.ts';
import { allGenerators } from './families/index.ts';
import { renderDevice } from './render.ts';
import { RequestLog, type ProvisioningRequest } from './request-log.ts';
import { ProvisioningRefusal, type ProvisionedFile, type ProvisioningSite, type RequestFacts } from './types.ts';
import { storeUpload, uploadName } from './uploads.ts';

export interface ProvisioningServerOptions {
  config: Config;
  store: Pick<Store, 'devices' | 'users'>;
  /** The site as phones must see it, given the ports this server bound and the identity it offers. */
  site: (ports: ProvisioningSite['provisioningPorts'], certificates: CertificateSet) => ProvisioningSite;
  /** The identity at start; setIdentity() replaces it. */
  certificates: CertificateSet;
  dataDir: string;
  log: Logger;
  now: () => number;
  /** Connections the process can spare (src/ops/file-limit.ts): the configured cap applies when it is lower. */
  maxConnections?: number;
}

export interface ProvisioningServer {
  /** Bound HTTPS address. */
  readonly https: { address: string; port: number };
  /** Bound HTTP (bootstrap) address, when on. */
  readonly http: { address: string; port: number } | undefined;
  /** The site files are rendered with now. */
  site(): ProvisioningSite;
  /**
   * A new identity (hot reload): new handshakes get it and files name its
   * root from now on; established connections keep theirs.
   */
  setIdentity(certificates: CertificateSet): void;
  /** Recent requests, newest first (unknown devices and failures included). */
  recent(): ProvisioningRequest[];
  /** Writes the pending last fetches now (tests, stop). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The provisioning listener's TLS: the main identity (the one the files'
 * root certificate issued, C-03) with its chain offer (A-17), and the SIP
 * policy's versions, since phones that need legacy SIP TLS need it here too.
 */
export function provisioningTls(config: Config, certificates: CertificateSet): TlsOptions {
  return tlsServerOptions(certificates, { legacyTls: config.sip.legacyTls, offerChain: certificates.offerChain });
}

const HEADERS_TIMEOUT_MS = 10_000;
const MAX_PATH = 512;
const REALM = 'switchboard provisioning';
const CA_FILES: Record<string, { type: string; pem: boolean }> = {
  'ca.pem': { type: 'application/x-pem-file', pem: true },
  'ca.der': { type: 'application/x-x509-ca-cert', pem: false },
  // Android takes a DER certificate named .crt.
  'ca.crt': { type: 'application/x-x509-ca-cert', pem: false },
};

/** IPv4-mapped addresses of dual-stack sockets, as the IPv4 address. */
function sourceOf(req: http.IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

interface Answer {
  status: number;
  /** For the request log, in words. */
  result: string;
  body?: string | Buffer;
  type?: string;
  headers?: Record<string, string | string[]>;
  mac?: string | null;
}

export async function startProvisioningServer(o: ProvisioningServerOptions): Promise<ProvisioningServer> {
  const cfg = o.config.provisioning;
  const policy = new TransportPolicy(false, o.config.sip.localNetworks);
  const auth = new DeviceAuth({ devices: o.store.devices, now: o.now, realm: REALM, nonceTtlMs: o.config.auth.nonceTtlSec * 1000 });
  const requests = new RequestLog({ devices: o.store.devices, log: o.log, now: o.now });
  const bootstrapOn = cfg.http.bootstrap && cfg.http.listen.port !== 0;
  let ports: ProvisioningSite['provisioningPorts'] = { https: cfg.listen.port };
  let identity = o.certificates;
  const site = (): ProvisioningSite => o.site(ports, identity);

  const facts = (req: http.IncomingMessage, secure: boolean): RequestFacts => {
    const source = sourceOf(req);
    return { source, secure, local: policy.isLocal(source) };
  };

  /** The file of a device's render by name (any case), or the answer saying why not. */
  const deviceFile = async (device: DeviceView, name: string, request: RequestFacts): Promise<ProvisionedFile | Answer> => {
    if (!device.enabled) return { status: 403, result: 'refused: device disabled', body: 'forbidden\n' };
    try {
      const rendered = await renderDevice(o.store.users, site(), device, request);
      const lower = name.toLowerCase();
      const file = rendered.files.find((f) => f.name.toLowerCase() === lower);
      // Another device's file, or none: the same answer, so names tell nothing.
      return file ?? { status: 404, result: 'not found: not a file of this device', body: 'not found\n' };
    } catch (err) {
      if (err instanceof ProvisioningRefusal) return { status: 409, result: `refused: ${err.message}`, body: `${err.message}\n` };
      throw err;
    }
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer | 'too-large'> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > cfg.maxUploadBytes) {
        req.removeAllListeners('data');
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });

  const upload = async (req: http.IncomingMessage, device: DeviceView, name: string): Promise<Answer> => {
    const stored = uploadName(name, device.mac);
    if (stored === undefined) return { status: 403, result: 'refused: not an upload of this device', body: 'forbidden\n' };
    if (!device.enabled) return { status: 403, result: 'refused: device disabled', body: 'forbidden\n' };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > cfg.maxUploadBytes) return { status: 413, result: 'refused: upload too large', body: 'too large\n' };
    const body = await readBody(req);
    if (body === 'too-large') return { status: 413, result: 'refused: upload too large', body: 'too large\n' };
    const r = await storeUpload(o.dataDir, device.mac, stored, body, { maxBytes: cfg.maxUploadBytes, maxFiles: cfg.maxUploadsPerDevice });
    if (r === 'full') return { status: 507, result: `refused: ${cfg.maxUploadsPerDevice} uploads kept already`, body: 'too many files\n' };
    return { status: 201, result: `stored ${body.length} bytes`, body: '' };
  };

  const answerHttps = async (req: http.IncomingMessage, path: string, request: RequestFacts): Promise<Answer> => {
    const method = req.method ?? '';
    const ca = CA_FILES[path.slice(1)];
    if (ca && method !== 'PUT') {
      const c = site().rootCa;
      return { status: 200, result: 'served', body: ca.pem ? c.pem : c.der, type: ca.type };
    }
    let outcome;
    let name: string;
    const token = /^\/d\/([^/]+)\/(.+)$/.exec(path);
    if (token) {
      name = token[2]!;
      outcome = await auth.byToken(token[1]!, request.source);
    } else {
      name = path.slice(1);
      outcome = await auth.byDigest(req.headers.authorization, method, req.url ?? '', request.source);
    }
    switch (outcome.kind) {
      case 'unknown-token':
        return { status: 404, result: 'not found: unknown token', body: 'not found\n' };
      case 'banned':
        return { status: 429, mac: outcome.mac, result: 'refused: too many failures from this source', body: 'too many requests\n', headers: { 'retry-after': String(outcome.retryAfterSec) } };
      case 'challenge':
        return { status: 401, mac: outcome.mac, result: outcome.result, body: 'authentication required\n', headers: { 'www-authenticate': auth.challenge(request.source, outcome.stale) } };
      case 'device': {
        if (method === 'PUT') return { ...(await upload(req, outcome.device, name)), mac: outcome.device.mac };
        const file = await deviceFile(outcome.device, name, request);
        if ('status' in file) return { ...file, mac: outcome.device.mac };
        return { status: 200, result: 'served', body: file.body, type: file.contentType, mac: outcome.device.mac };
      }
    }
  };

  /** HTTP (bootstrap exception): a family's bootstrap file without credentials, to a local source; nothing else. */
  const answerHttp = async (req: http.IncomingMessage, path: string, request: RequestFacts): Promise<Answer> => {
    const refused: Answer = { status: 403, result: 'refused: HTTP serves only bootstrap files; use HTTPS', body: 'use HTTPS\n' };
    if (req.method === 'PUT') return refused;
    if (!request.local) return { ...refused, result: 'refused: HTTP bootstrap is for local sources only' };
    const name = path.slice(1).toLowerCase();
    const generator = allGenerators().find((g) => g.bootstrapFiles.some((f) => f.toLowerCase() === name));
    if (!generator) return refused;
    try {
      // Bootstrap files do not depend on a device: rendered for none, then checked to carry no credentials.
      const r = generator.render({ site: site(), device: { mac: '000000000000', family: generator.family, model: null, options: {} }, lines: [], request });
      const file = r.files.find((f) => f.name.toLowerCase() === name);
      if (!file || file.credentials) return refused;
      return { status: 200, result: 'served (HTTP bootstrap)', body: file.body, type: file.contentType };
    } catch (err) {
      if (err instanceof ProvisioningRefusal) return { status: 409, result: `refused: ${err.message}`, body: `${err.message}\n` };
      throw err;
    }
  };

  let lastCrash = -Infinity;
  const handler = (secure: boolean) => (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const request = facts(req, secure);
    const method = req.method ?? '';
    const path = (req.url ?? '').split('?', 1)[0]!;
    const finish = (a: Answer): void => {
      let file: string;
      try {
        file = decodeURIComponent(path);
      } catch {
        file = path;
      }
      // The token is a secret: never in the log, the ring or the device's last fetch.
      file = file.replace(/^\/d\/[^/]*\//, '/d/…/').slice(0, 200);
      requests.add({ at: o.now(), mac: a.mac ?? null, method, file, status: a.status, result: a.result, source: request.source });
      const headers: Record<string, string | string[] | number> = {
        'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-type': a.type ?? 'text/plain; charset=utf-8', ...a.headers,
      };
      const body = a.body ?? '';
      headers['content-length'] = Buffer.byteLength(body);
      // An upload refused before its body was read: the connection cannot carry another request.
      if (method === 'PUT' && a.status >= 400 && !req.complete) headers.connection = 'close';
      res.writeHead(a.status, headers);
      res.end(method === 'HEAD' ? undefined : body);
    };
    let answer: Promise<Answer>;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') {
      answer = Promise.resolve({ status: 405, result: `refused: method ${method.slice(0, 16)}`, body: 'method not allowed\n', headers: { allow: 'GET, HEAD, PUT' } });
    } else if (path.length > MAX_PATH || !path.startsWith('/')) {
      answer = Promise.resolve({ status: 404, result: 'not found: bad path', body: 'not found\n' });
    } else {
      let decoded: string | undefined;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        decoded = undefined;
      }
      if (decoded === undefined || decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').includes('..')) {
        answer = Promise.resolve({ status: 404, result: 'not found: bad path', body: 'not found\n' });
      } else {
        answer = secure ? answerHttps(req, decoded, request) : answerHttp(req, decoded, request);
      }
    }
    answer.catch((err: unknown): Answer => {
      const t = o.now();
      if (t - lastCrash >= 60_000) {
        lastCrash = t;
        o.log.error({ err: (err as Error).message, source: request.source }, 'provisioning: request failed');
      }
      return { status: 500, result: 'failed: server error', body: 'server error\n' };
    }).then(finish, () => res.destroy());
  };

  const limit = (server: http.Server, what: string): void => {
    server.maxConnections = Math.min(cfg.maxConnections, o.maxConnections ?? Infinity);
    limitPerSource(server, cfg.maxConnectionsPerSource, o.log, what);
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    // A bad request line or oversized headers: Node answers 400/431 and closes that connection.
  };

  const listen = (server: http.Server, a: { host: string; port: number }): Promise<{ address: string; port: number }> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(a.port, a.host, () => {
        server.off('error', reject);
        const b = server.address() as AddressInfo;
        resolve({ address: b.address, port: b.port });
      });
    });

  const tlsServer = https.createServer({
    ...provisioningTls(o.config, o.certificates), handshakeTimeout: HEADERS_TIMEOUT_MS, maxHeaderSize: 8192,
  }, handler(true));
  limit(tlsServer, 'provisioning server');
  const plain = bootstrapOn ? http.createServer({ maxHeaderSize: 8192 }, handler(false)) : undefined;
  if (plain) limit(plain, 'provisioning server (HTTP)');
  const closeAll = async (): Promise<void> => {
    for (const s of [tlsServer, plain]) {
      if (!s?.listening) continue;
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    }
    await requests.close();
  };
  try {
    const httpsAddr = await listen(tlsServer, cfg.listen);
    const httpAddr = plain ? await listen(plain, cfg.http.listen) : undefined;
    ports = { https: httpsAddr.port, ...(httpAddr ? { http: httpAddr.port } : {}) };
    return {
      https: httpsAddr,
      http: httpAddr,
      site,
      setIdentity: (certificates) => {
        tlsServer.setSecureContext(provisioningTls(o.config, certificates));
        identity = certificates;
      },
      recent: () => requests.recent(),
      flush: () => requests.flush(),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

// Hostile input against a real server running in this process: oversized and
// malformed datagrams, a seeded flood, stream framing abuse, connection
// limits, TLS misuse, IPv6 and stray responses. Everything is on loopback and
// bounded in count and time.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/parser.ts';
import { TestClient } from './lib/sip-client.ts';
import { startTestServer } from './lib/server.ts';
import type { LogEntry, TestServer } from './lib/server.ts';
import { loadTortureMessage, tortureRows } from '../lib/torture.ts';
import { makeRng } from '../lib/prng.ts';
import type { Rng } from '../lib/prng.ts';
import { sleep, waitUntil } from '../lib/wait.ts';

// --- helpers ---------------------------------------------------------------

const tick = () => new Promise<void>((r) => setImmediate(r));


function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A minimal OPTIONS built by hand, so framing tests control every byte. */
function optionsText(o: { transport: string; host: string; port: number; localPort: number; contentLength?: boolean; branch?: string }): string {
  const hp = hostPort(o.host, o.port);
  const local = o.host.includes(':') ? '[::1]' : '127.0.0.1';
  const lines = [
    `OPTIONS sip:${hp} SIP/2.0`,
    `Via: SIP/2.0/${o.transport} ${local}:${o.localPort};branch=${o.branch ?? 'z9hG4bK' + randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${hp}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${hp}>`,
    `Call-ID: ${randomBytes(8).toString('hex')}@robustness`,
    'CSeq: 1 OPTIONS',
  ];
  if (o.contentLength !== false) lines.push('Content-Length: 0');
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Status codes of every response in a byte stream (status lines only start messages here). */
function statuses(text: string): number[] {
  return [...text.matchAll(/SIP\/2\.0 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** A raw TCP or TLS socket that records what arrives and when it closes. */
class RawStream {
  private chunks: Buffer[] = [];
  closed = false;
  error?: Error;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    socket.on('error', (e) => (this.error = e));
    socket.on('close', () => (this.closed = true));
  }

  static open(host: string, port: number, tlsOptions?: tls.ConnectionOptions): Promise<RawStream> {
    const socket = tlsOptions ? tls.connect({ host, port, ...tlsOptions }) : net.connect({ host, port, noDelay: true });
    const raw = new RawStream(socket);
    return new Promise((resolve, reject) => {
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => resolve(raw));
      socket.once('error', reject);
    });
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  waitResponses(n: number, timeoutMs = 5000): Promise<boolean> {
    return waitUntil(() => statuses(this.text).length >= n, timeoutMs);
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    return waitUntil(() => this.closed, timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}

function problems(entries: LogEntry[], kind: string, source?: string): LogEntry[] {
  return entries.filter((e) => {
    const o = e.obj as { kind?: string; source?: string };
    return (e.msg === 'SIP transport problem' || e.msg === 'SIP connection limit hit') && o.kind === kind && (source === undefined || o.source === source);
  });
}

async function optionsStatus(ts: TestServer, transport: 'udp' | 'tcp' | 'tls' = 'udp', tlsOptions?: tls.ConnectionOptions): Promise<number> {
  const port = transport === 'tls' ? ts.tlsPort : ts.sipPort;
  const c = await new TestClient(transport, ts.host, port, tlsOptions).open();
  try {
    return (await c.request('OPTIONS')).status;
  } finally {
    c.close();
  }
}

function udpSocket(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve(s));
  });
}

/**
 * Hostile datagrams from a seeded PRNG: random bytes, truncated torture
 * messages and torture messages with byte- and line-level damage. Only the
 * ones our parser refuses are kept (the flood is about malformed input: a
 * parseable one would legitimately create a transaction and hold memory).
 */
function hostileDatagrams(count: number, seed: number, maxBytes: number): { data: Buffer; answer?: number }[] {
  const rnd = makeRng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const bases = tortureRows.map((r) => loadTortureMessage(r)).filter((b) => b.length < maxBytes - 64);
  const out: { data: Buffer; answer?: number }[] = [];
  const limits = { maxMessageBytes: maxBytes, maxHeaders: 256, maxHeaderLineBytes: 8192 };
  for (let attempts = 0; out.length < count && attempts < count * 20; attempts++) {
    const base = bases[int(bases.length)]!;
    let data: Buffer;
    const kind = int(4);
    if (kind === 0) {
      data = randomBufferFrom(rnd, 1 + int(1200));
    } else if (kind === 1) {
      data = base.subarray(0, 1 + int(base.length - 1));
    } else if (kind === 2) {
      const bytes = [...base];
      for (let k = 1 + int(8); k > 0; k--) {
        const at = int(bytes.length);
        const op = int(5);
        if (op === 0) bytes[at] = int(256);
        else if (op === 1) bytes.splice(at, 1 + int(40));
        else if (op === 2) bytes.splice(at, 0, ...randomBufferFrom(rnd, 1 + int(20)));
        else if (op === 3) bytes.splice(at, 0, ...bytes.slice(at, at + int(60)));
        else bytes.splice(at, 0, 13, 10);
      }
      data = Buffer.from(bytes);
    } else {
      // Line-level: a header loses its colon, gets a broken value, or the start line is mangled.
      const lines = base.toString('latin1').split('\r\n');
      const i = int(Math.max(1, lines.length - 2));
      const op = int(3);
      if (op === 0) lines[i] = lines[i]!.replace(':', ' ');
      else if (op === 1) lines[i] = lines[i]!.replace(/:.*/, ': <<"' + '\\'.repeat(int(5)) + ';;=,@');
      else lines[0] = ['INVITE', 'OPTIONS sip:', 'SIP/2.0 ', 'REGISTER sip:x SIP/3.0', ''][int(5)]!;
      data = Buffer.from(lines.join('\r\n'), 'latin1');
    }
    if (data.length === 0 || data.length > maxBytes) continue;
    const r = parseMessage(data, { limits });
    if (r.ok) continue;
    out.push({ data, answer: r.respondTo ? r.status : undefined });
  }
  return out;
}

function randomBufferFrom(rnd: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** A forced full GC, without starting vitest's worker with --expose-gc. */
function forcedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

// --- UDP ---------------------------------------------------------------------

describe('UDP hostile input', () => {
  let ts: TestServer;
  // Small enough to exceed with one IPv4 datagram (at most 65,507 bytes of payload).
  const maxMessageBytes = 4096;

  beforeAll(async () => {
    ts = await startTestServer({ config: { sip: { limits: { maxMessageBytes } } } });
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('drops an oversized datagram, counts it, logs it once per source, and keeps serving', async () => {
    const s = await udpSocket('127.0.0.1');
    const answers: Buffer[] = [];
    s.on('message', (m) => answers.push(m));
    try {
      const before = ts.server.transport.stats.oversized;
      // A real request, so the only reason not to answer it is its size.
      const big = optionsText({ transport: 'UDP', host: ts.host, port: ts.sipPort, localPort: s.address().port }).replace(
        'Max-Forwards: 70\r\n',
        `Max-Forwards: 70\r\nX-Pad: ${'x'.repeat(maxMessageBytes)}\r\n`,
      );
      for (let i = 0; i < 3; i++) s.send(Buffer.from(big, 'latin1'), ts.sipPort, ts.host);
      expect(await waitUntil(() => ts.server.transport.stats.oversized - before === 3)).toBe(true);
      expect(problems(ts.log.entries, 'oversized', '127.0.0.1')).toHaveLength(1);
      expect(await optionsStatus(ts)).toBe(200);
      expect(answers).toHaveLength(0);
    } finally {
      s.close();
    }
  });

  it('survives a seeded flood of 20,000 malformed datagrams: 400 where answerable, bounded logs, no heap growth', async () => {
    const gc = forcedGc();
    // Buffers' backing stores are released after the collection that frees them: collect twice.
    const settle = async () => {
      gc();
      await sleep(50);
      gc();
    };
    const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
    const sockets = await Promise.all(sources.map(udpSocket));
    const got = new Map<number, number>();
    let answers = 0;
    for (const s of sockets) {
      s.on('message', (m) => {
        answers++;
        const st = Number(m.toString('latin1', 8, 11));
        got.set(st, (got.get(st) ?? 0) + 1);
      });
    }
    const flood = hostileDatagrams(20_000, 0x5eed, maxMessageBytes);
    expect(flood).toHaveLength(20_000);
    const answerable = flood.filter((d) => d.answer !== undefined);
    const expectedStatuses = new Set(answerable.map((d) => d.answer));
    // The generator must exercise both paths: answered (a Via and friends survived) and silently dropped.
    expect(answerable.length).toBeGreaterThan(2000);
    expect(flood.length - answerable.length).toBeGreaterThan(2000);
    const logBefore = ts.log.entries.length;
    const stats = ts.server.transport.stats;
    const started = Date.now();

    /** Sends items in small batches, yielding so the server (same event loop) keeps up and nothing overflows. */
    const send = async (items: typeof flood) => {
      const base = stats.received;
      const target = base + items.length;
      for (let i = 0; i < items.length; i++) {
        sockets[i % sockets.length]!.send(items[i]!.data, ts.sipPort, ts.host);
        if (i % 20 === 19) {
          await tick();
          const deadline = Date.now() + 5000;
          while (i + 1 - (stats.received - base) > 400 && Date.now() < deadline) await tick();
        }
      }
      // Drained: everything arrived, or nothing more arrives (a datagram lost on a busy machine).
      let last = -1;
      for (let i = 0; i < 100 && stats.received < target && stats.received !== last; i++) {
        last = stats.received;
        await sleep(100);
      }
      await sleep(200);
    };

    const half = flood.length / 2;
    await send(flood.slice(0, 2000)); // warm-up: JIT, socket buffers, log keys
    await settle();
    const h0 = process.memoryUsage();
    await send(flood.slice(2000, half + 1000));
    await settle();
    const h1 = process.memoryUsage();
    await send(flood.slice(half + 1000));
    await settle();
    const h2 = process.memoryUsage();
    try {
      expect(await optionsStatus(ts)).toBe(200);
      // Nearly every answerable datagram was answered, each at most once, with the parser's status (400, or 505).
      expect(answers).toBeGreaterThanOrEqual(Math.floor(answerable.length * 0.95));
      expect(answers).toBeLessThanOrEqual(answerable.length);
      expect([...got.keys()].every((st) => expectedStatuses.has(st))).toBe(true);
      expect(got.get(400) ?? 0).toBeGreaterThan(answerable.length * 0.5);
      // Logs: once per source (and kind) per 60 s interval, nothing at error level.
      const lines = ts.log.entries.slice(logBefore);
      const intervals = 1 + Math.floor((Date.now() - started) / 60_000);
      for (const src of sources) {
        const n = problems(lines, 'malformed', src).length;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(intervals);
      }
      expect(lines.length).toBeLessThanOrEqual(sources.length * 2 * intervals + 2);
      expect(lines.filter((e) => e.level === 'error')).toEqual([]);
      // Two equal floods after warm-up: the second must not keep memory (2 MB is 200 bytes per datagram).
      const grow1 = h1.heapUsed - h0.heapUsed;
      const grow2 = h2.heapUsed - h1.heapUsed;
      expect(grow2, `heap after flood 1 +${grow1}, after flood 2 +${grow2}`).toBeLessThan(2 * 1024 * 1024);
      expect(h2.arrayBuffers - h1.arrayBuffers).toBeLessThan(2 * 1024 * 1024);
    } finally {
      for (const s of sockets) s.close();
    }
  }, 120_000);

  it('silently drops a response that matches no transaction', async () => {
    const s = await udpSocket('127.0.0.1');
    const answers: Buffer[] = [];
    s.on('message', (m) => answers.push(m));
    try {
      const port = s.address().port;
      const strayBefore = ts.server.transactions.counters.strayResponses;
      const errorsBefore = ts.log.entries.filter((e) => e.level === 'error').length;
      const stray = [
        'SIP/2.0 200 OK',
        `Via: SIP/2.0/UDP ${ts.host}:${ts.sipPort};branch=z9hG4bK${randomBytes(8).toString('hex')}`,
        `From: <sip:a@${ts.host}>;tag=abc`,
        `To: <sip:b@${ts.host}>;tag=def`,
        `Call-ID: stray-${randomBytes(4).toString('hex')}`,
        'CSeq: 7 INVITE',
        `Contact: <sip:b@127.0.0.1:${port}>`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      for (let i = 0; i < 3; i++) s.send(Buffer.from(stray), ts.sipPort, ts.host);
      expect(await waitUntil(() => ts.server.transactions.counters.strayResponses - strayBefore === 3)).toBe(true);
      expect(await optionsStatus(ts)).toBe(200);
      await sleep(300);
      expect(answers).toHaveLength(0);
      expect(ts.log.entries.filter((e) => e.level === 'error')).toHaveLength(errorsBefore);
    } finally {
      s.close();
    }
  });
});

// --- TCP framing -------------------------------------------------------------

describe('TCP framing abuse', () => {
  let ts: TestServer;
  const open: RawStream[] = [];
  const connect = async () => {
    const r = await RawStream.open(ts.host, ts.sipPort);
    open.push(r);
    return r;
  };
  const opts = (r: RawStream, extra: { contentLength?: boolean; branch?: string } = {}) =>
    optionsText({ transport: 'TCP', host: ts.host, port: ts.sipPort, localPort: r.localPort, ...extra });

  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => {
    for (const r of open) r.close();
    await ts.stop();
  });

  it('closes the connection on a message without Content-Length, and serves a new one', async () => {
    const r = await connect();
    const malformed = ts.server.transport.stats.malformed;
    r.write(opts(r, { contentLength: false }));
    expect(await r.waitClosed()).toBe(true);
    expect(statuses(r.text)).toEqual([]);
    expect(ts.server.transport.stats.malformed).toBe(malformed + 1);
    expect(problems(ts.log.entries, 'framing', '127.0.0.1').length).toBeGreaterThanOrEqual(1);
    const fresh = await connect();
    fresh.write(opts(fresh));
    expect(await fresh.waitResponses(1)).toBe(true);
    expect(statuses(fresh.text)).toEqual([200]);
  });

  it('closes a connection whose header block outgrows maxMessageBytes without an end', async () => {
    const r = await connect();
    // 70 kB of well-formed header lines and never the empty line: must not be buffered forever.
    const start = 'OPTIONS sip:x SIP/2.0\r\n';
    const line = 'X-Filler: ' + 'a'.repeat(88) + '\r\n';
    r.write(start);
    for (let sent = start.length; sent <= 70_000 && !r.closed; sent += line.length * 50) {
      r.write(line.repeat(50));
      await tick();
    }
    expect(await r.waitClosed()).toBe(true);
    expect(statuses(r.text)).toEqual([]);
  });

  it('closes a connection that declares a body larger than maxMessageBytes', async () => {
    const r = await connect();
    r.write(opts(r).replace('Content-Length: 0', 'Content-Length: 999999999'));
    expect(await r.waitClosed()).toBe(true);
    expect(statuses(r.text)).toEqual([]);
  });

  it('answers an RFC 5626 double-CRLF keep-alive with a single CRLF and keeps the connection', async () => {
    const r = await connect();
    r.write('\r\n\r\n');
    expect(await waitUntil(() => r.text.length >= 2)).toBe(true);
    await sleep(100);
    expect(r.text).toBe('\r\n');
    r.write(opts(r));
    expect(await r.waitResponses(1)).toBe(true);
    expect(statuses(r.text)).toEqual([200]);
    expect(r.closed).toBe(false);
  });

  it('answers two pipelined messages sent in one write', async () => {
    const r = await connect();
    const a = 'z9hG4bKpipeA' + randomBytes(3).toString('hex');
    const b = 'z9hG4bKpipeB' + randomBytes(3).toString('hex');
    r.write(opts(r, { branch: a }) + opts(r, { branch: b }));
    expect(await r.waitResponses(2)).toBe(true);
    await sleep(100);
    expect(statuses(r.text)).toEqual([200, 200]);
    expect(r.text.indexOf(a)).toBeGreaterThan(0);
    expect(r.text.indexOf(b)).toBeGreaterThan(r.text.indexOf(a));
  });

  it('parses a message that arrives in many small pieces (the first 50 bytes one by one)', async () => {
    const r = await connect();
    const msg = Buffer.from(opts(r), 'latin1');
    for (let i = 0; i < 50; i++) {
      r.write(msg.subarray(i, i + 1));
      await sleep(1);
    }
    for (let i = 50; i < msg.length; i += 37) {
      r.write(msg.subarray(i, Math.min(msg.length, i + 37)));
      await sleep(1);
    }
    expect(await r.waitResponses(1)).toBe(true);
    expect(statuses(r.text)).toEqual([200]);
  });
});

// --- connection limits -------------------------------------------------------

describe('per-source connection limit', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer({ config: { sip: { limits: { maxConnectionsPerSource: 5 } } } });
  });
  afterAll(async () => {
    await ts.stop();
  });

  it('keeps at most 5 connections from one address, refuses the rest, and recovers when they close', async () => {
    const conns: RawStream[] = [];
    try {
      for (let i = 0; i < 8; i++) conns.push(await RawStream.open(ts.host, ts.sipPort));
      expect(await waitUntil(() => conns.filter((c) => c.closed).length >= 3)).toBe(true);
      await sleep(200); // a fourth close would show up here
      const alive = conns.filter((c) => !c.closed);
      expect(alive).toHaveLength(5);
      expect(ts.server.transport.connectionCount()).toBe(5);
      expect(problems(ts.log.entries, 'per-source', '127.0.0.1')).toHaveLength(1);
      // The ones kept are really served.
      for (const c of alive) c.write(optionsText({ transport: 'TCP', host: ts.host, port: ts.sipPort, localPort: c.localPort }));
      for (const c of alive) expect(await c.waitResponses(1)).toBe(true);
      expect(alive.flatMap((c) => statuses(c.text))).toEqual([200, 200, 200, 200, 200]);
    } finally {
      for (const c of conns) c.close();
    }
    expect(await waitUntil(() => ts.server.transport.connectionCount() === 0)).toBe(true);
    expect(await optionsStatus(ts, 'tcp')).toBe(200);
  });

  it('counts TLS connections that never finish their handshake against the limit', async () => {
    const conns: RawStream[] = [];
    try {
      // Plain TCP to the TLS port, never a ClientHello: each still takes a slot.
      for (let i = 0; i < 8; i++) conns.push(await RawStream.open(ts.host, ts.tlsPort));
      expect(await waitUntil(() => conns.filter((c) => c.closed).length >= 3)).toBe(true);
      await sleep(200);
      expect(conns.filter((c) => !c.closed)).toHaveLength(5);
      // A well-behaved TLS client from the same address is refused while they hold the slots.
      await expect(optionsStatus(ts, 'tls', { ca: ts.server.certificates.caCertPem })).rejects.toThrow();
      // Refusals are logged as such, not also as failed handshakes.
      expect(problems(ts.log.entries, 'per-source').length).toBeGreaterThanOrEqual(1);
      expect(problems(ts.log.entries, 'tls-handshake')).toEqual([]);
    } finally {
      for (const c of conns) c.close();
    }
    await sleep(200);
    expect(await optionsStatus(ts, 'tls', { ca: ts.server.certificates.caCertPem })).toBe(200);
  });
});

// --- TLS ---------------------------------------------------------------------

describe('TLS', () => {
  let ts: TestServer;
  let legacy: TestServer;
  const tls11: tls.ConnectionOptions = { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };

  beforeAll(async () => {
    ts = await startTestServer();
    // Same data directory: same CA, no second key generation.
    legacy = await startTestServer({ dataDir: ts.dataDir, config: { sip: { legacyTls: true } } });
  });
  afterAll(async () => {
    await ts.stop();
    await legacy.stop();
  });

  /** Resolves with the negotiated protocol, or the error that ended the handshake. */
  function handshake(server: TestServer, options: tls.ConnectionOptions): Promise<{ protocol?: string | null; error?: Error }> {
    return new Promise((resolve) => {
      const s = tls.connect({ host: server.host, port: server.tlsPort, ca: server.server.certificates.caCertPem, ...options });
      const t = setTimeout(() => (s.destroy(), resolve({ error: new Error('handshake timed out') })), 5000);
      s.once('secureConnect', () => {
        clearTimeout(t);
        const protocol = s.getProtocol();
        s.destroy();
        resolve({ protocol });
      });
      s.once('error', (error) => {
        clearTimeout(t);
        s.destroy();
        resolve({ error });
      });
    });
  }

  it('survives plain-text SIP on the TLS port and logs it once per source', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await RawStream.open(ts.host, ts.tlsPort);
      r.write(optionsText({ transport: 'TLS', host: ts.host, port: ts.tlsPort, localPort: r.localPort }));
      expect(await r.waitClosed()).toBe(true);
      expect(statuses(r.text)).toEqual([]);
    }
    const lines = problems(ts.log.entries, 'tls-handshake');
    expect(lines).toHaveLength(1);
    expect((lines[0]!.obj as { source: string }).source).toBe('127.0.0.1');
    expect(await optionsStatus(ts, 'tls', { ca: ts.server.certificates.caCertPem })).toBe(200);
  });

  it('completes a verified handshake against the exported CA and answers OPTIONS over TLS', async () => {
    const ca = ts.server.certificates.caCertPem;
    // Default checkServerIdentity against host 127.0.0.1: the identity must carry that IP SAN.
    const c = await new TestClient('tls', ts.host, ts.tlsPort, { ca }).open();
    try {
      const res = await c.request('OPTIONS');
      expect(res.status).toBe(200);
      expect(res.via[0]!.transport).toBe('TLS');
    } finally {
      c.close();
    }
    expect((await handshake(ts, {})).protocol).toMatch(/^TLSv1\.[23]$/);
  });

  it('refuses a TLS 1.1-only client by default, naming what it offered (EC-03), and accepts it with legacyTls', async () => {
    // A server of its own: the plain-text test above already used this source's one log line per interval.
    const fresh = await startTestServer({ dataDir: ts.dataDir });
    try {
      const refused = await handshake(fresh, tls11);
      expect(refused.error).toBeDefined();
      expect(refused.protocol).toBeUndefined();
      // The log line says which version and suites were refused, from the peer's ClientHello.
      expect(await waitUntil(() => problems(fresh.log.entries, 'tls-handshake').length > 0)).toBe(true);
      const line = detailOf(problems(fresh.log.entries, 'tls-handshake')[0]!);
      expect(line).toMatch(/below our minimum; legacy TLS is off/);
      expect(line).toMatch(/client offered up to TLS 1\.1, suites [A-Z0-9-]+/);
    } finally {
      await fresh.stop();
    }
    // Control: the same client gets through where legacy TLS is on, so the refusal above is the policy.
    const accepted = await handshake(legacy, tls11);
    expect(accepted.error).toBeUndefined();
    expect(accepted.protocol).toBe('TLSv1.1');
    expect(await optionsStatus(ts, 'tls', { ca: ts.server.certificates.caCertPem })).toBe(200);
  });
});

function detailOf(e: { obj: object }): string {
  return String((e.obj as { detail?: unknown }).detail ?? '');
}

// --- IPv6 --------------------------------------------------------------------

describe('IPv6 loopback', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer({ host: '::1' });
    await ts.server.store.users.add({ extension: '3001', password: 'pw-3001' });
    await ts.server.directory.poll();
  });
  afterAll(async () => {
    await ts.stop();
  });

  it.each(['udp', 'tcp'] as const)('answers OPTIONS over %s on ::1', async (t) => {
    expect(await optionsStatus(ts, t)).toBe(200);
  });

  it('registers a contact from ::1 and records the IPv6 source', async () => {
    const c = await new TestClient('udp', '::1', ts.sipPort).open();
    try {
      const res = await c.register('3001', 'pw-3001');
      expect(res.status).toBe(200);
      const bindings = ts.server.location.lookup('sip:3001@test.local');
      expect(bindings).toHaveLength(1);
      expect(bindings[0]!.sourceAddress).toBe('::1');
      expect(bindings[0]!.sourcePort).toBe(c.localPort);
    } finally {
      c.close();
    }
  });
});

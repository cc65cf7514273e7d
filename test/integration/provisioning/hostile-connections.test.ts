// The provisioning listeners against connection abuse (team standard "bad
// input"): slowloris (headers never finished), idle connections past the
// per-source and total limits, TLS handshakes never completed, plain HTTP
// on the HTTPS port. Over-limit connections are closed at once, slow ones
// after headersTimeoutSec (3 s here; Node's timers cannot take a manual
// clock, so the test waits for the server to close them), each source is
// logged once, and devices are served meanwhile or right after.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../lib/server.ts';
import { connect, digestRequest, untilClosed, type RawTarget } from './raw-http.ts';

const A = '0004f20000a1';
const B = '0004f20000b2';
const PER_SOURCE = 4;
const TOTAL = 10;

/** A socket that reports whether the server closed it, and what it sent before. */
interface Watched {
  socket: net.Socket;
  closed: Promise<Buffer>;
  isClosed: () => boolean;
}

function watch(socket: net.Socket): Watched {
  let done = false;
  const closed = untilClosed(socket, 15_000).finally(() => (done = true));
  return { socket, closed, isClosed: () => done || socket.destroyed };
}

/** A plain TCP connection from `from` (no TLS handshake started), once connected. */
function tcp(port: number, from: string): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    const w = watch(s);
    s.once('connect', () => resolve(w));
    s.once('error', reject);
  });
}

/** Resolves when the server has closed `w` (and any close in flight has been seen). */
async function closedByServer(w: Watched): Promise<Buffer> {
  return w.closed;
}

describe('provisioning server: connection abuse', () => {
  let ts: TestServer;
  let https: RawTarget;
  let httpPort: number;
  const secrets = new Map<string, { password: string; token: string }>();
  const expectOwnFile = async (mac: string, from = '127.0.0.1') => {
    const r = await digestRequest({ ...https, from }, { path: '/avayab179.xml' }, mac, secrets.get(mac)!.password);
    expect(r.status, `${mac} from ${from}`).toBe(200);
    expect(r.body).toContain(`secret-${mac}`);
  };
  /** The device's fetch from `from`, tried again while the server may not yet have counted closed connections (at most 2 s). */
  const expectOwnFileEventually = async (mac: string, from: string) => {
    for (let i = 0; i < 40; i++) {
      const r = await digestRequest({ ...https, from }, { path: '/avayab179.xml' }, mac, secrets.get(mac)!.password);
      if (r.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expectOwnFile(mac, from);
  };
  const warningsFrom = (source: string) => ts.log.entries.filter((e) => e.level === 'warn' && (e.obj as { source?: string }).source === source);

  beforeAll(async () => {
    const port = await freePort();
    // Server time stands still (one log interval throughout); Node's socket timeouts run on real time.
    ts = await startTestServer({
      provisioning: true,
      manualTime: true,
      config: { provisioning: { maxConnectionsPerSource: PER_SOURCE, maxConnections: TOTAL, headersTimeoutSec: 3, requestTimeoutSec: 4, http: { listen: `127.0.0.1:${port}`, bootstrap: true } } },
    });
    for (const [mac, ext] of [[A, '1001'], [B, '1002']] as const) {
      await ts.server.store.users.add({ extension: ext, password: `secret-${mac}` });
      secrets.set(mac, (await ts.server.store.devices.add({ mac, family: 'avaya-b179', extensions: [ext] })).secrets);
    }
    https = { port: ts.server.provisioning!.https.port, ca: ts.server.certificates.caCertPem };
    httpPort = ts.server.provisioning!.http!.port;
  });
  afterAll(() => ts?.stop());

  it('cuts headers that never finish (slowloris) after headersTimeoutSec, on HTTPS and HTTP; one source holds at most its share, and devices are served meanwhile', async () => {
    const from = '127.0.0.40';
    const slow: Watched[] = [];
    for (const [port, tls] of [[https.port, true], [httpPort, false]] as const) {
      const mine: Watched[] = [];
      for (let i = 0; i < PER_SOURCE; i++) {
        const s = tls ? watch(await connect({ ...https, from })) : await tcp(port, from);
        s.socket.write('GET /avayab179.xml HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        mine.push(s);
      }
      // Past its share on this listener: closed at once, while its slow ones are all still open.
      const extra = await tcp(port, from);
      await closedByServer(extra);
      expect(mine.map((s) => s.isClosed()), tls ? 'https' : 'http').toEqual(mine.map(() => false));
      slow.push(...mine);
    }
    await expectOwnFile(A);
    await expectOwnFile(B, '127.0.0.41');
    for (const s of slow) {
      const answer = (await closedByServer(s)).toString('latin1');
      expect(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 40)).toBe(true);
    }
    // The source has its share back once the server has seen the closes (a moment after the client did).
    await expectOwnFileEventually(A, from);
  });

  it('holds the total limit against idle connections from many sources, then serves a device once they are cut', async () => {
    const idle: Watched[] = [];
    for (const from of ['127.0.0.42', '127.0.0.43', '127.0.0.44']) {
      for (let i = 0; i < PER_SOURCE; i++) idle.push(await tcp(https.port, from));
    }
    // The two beyond the total are closed at once, while the first ten are still open.
    await Promise.all(idle.slice(TOTAL).map((w) => closedByServer(w)));
    expect(idle.slice(0, TOTAL).map((w) => w.isClosed())).toEqual(idle.slice(0, TOTAL).map(() => false));
    // Handshakes never started: all cut after headersTimeoutSec, then a device gets in.
    await Promise.all(idle.map((w) => w.closed));
    await expectOwnFileEventually(A, '127.0.0.1');
  });

  it('cuts a TLS handshake never completed and plain HTTP on the HTTPS port, and logs each source once', async () => {
    const silent = await tcp(https.port, '127.0.0.45');
    const half = await tcp(https.port, '127.0.0.45');
    // The first bytes of a TLS 1.2 ClientHello record, then nothing.
    half.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    const plain: Watched[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await tcp(https.port, '127.0.0.46');
      p.socket.write('GET /avayab179.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      plain.push(p);
    }
    for (const p of plain) {
      const got = (await closedByServer(p)).toString('latin1');
      expect(got).not.toMatch(/^HTTP\/1\.1 2/);
      expect(got).not.toContain('secret-');
    }
    expect((await closedByServer(silent)).length).toBe(0);
    expect((await closedByServer(half)).toString('latin1')).not.toContain('secret-');
    for (const source of ['127.0.0.45', '127.0.0.46']) {
      expect(warningsFrom(source), source).toHaveLength(1);
      expect(ts.server.provisioning!.recent().filter((r) => r.source === source && r.status === 0).length).toBeGreaterThan(0);
    }
    await expectOwnFile(A, '127.0.0.45');
    await expectOwnFile(B, '127.0.0.46');
  });

  it('logged no error while being abused', () => {
    expect(ts.log.entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});

// The management server under a slowloris (issue 11 item 1): one address
// cannot hold more than its share of the HTTPS connections, and a client
// that drips its handshake or its headers is cut off within seconds, so an
// administrator from elsewhere still gets in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import https from 'node:https';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { waitUntil } from '../../lib/wait.ts';

let ts: TestServer;
let port = 0;
let budget = { httpConnections: 0 };
const sockets: net.Socket[] = [];

beforeAll(async () => {
  ts = await startTestServer({ http: true });
  port = ts.server.http!.address().port;
  const line = ts.log.entries.find((e) => e.msg === 'connection budget');
  budget = line!.obj as typeof budget;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await ts?.stop();
});

function healthz(localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', localAddress, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

/** A TCP connection that never completes its TLS handshake; resolves with a probe of whether it is still open. */
async function idle(localAddress: string): Promise<{ closed: () => boolean; closedAt: () => number }> {
  const s = net.connect({ host: '127.0.0.1', port, localAddress });
  sockets.push(s);
  let closedAt = 0;
  s.on('close', () => (closedAt = performance.now()));
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.write(Buffer.from([0x16, 0x03, 0x01])); // the first bytes of a ClientHello, and nothing more
  return { closed: () => closedAt > 0, closedAt: () => closedAt };
}

describe('the management server under a slowloris', () => {
  it('holds at most a quarter of its connections for one address, cuts dripping clients within seconds, and serves others meanwhile', async () => {
    const perSource = Math.max(8, Math.ceil(budget.httpConnections / 4));
    const started = performance.now();
    const attack: Awaited<ReturnType<typeof idle>>[] = [];
    for (let i = 0; i < perSource + 10; i++) attack.push(await idle('127.0.4.1'));
    await waitUntil(() => attack.filter((a) => a.closed()).length >= 10, 3000, 20);
    // Those past the share were turned away at once; the rest are still open (their handshake is pending).
    expect(attack.filter((a) => a.closed()).length).toBe(10);
    expect(await healthz('127.0.4.2')).toBe(200);
    expect(ts.log.entries.filter((e) => e.msg === 'management server: connections refused, too many from one address')).toHaveLength(1);
    // The handshake deadline (10 s) closes the rest.
    expect(await waitUntil(() => attack.every((a) => a.closed()), 15_000, 100)).toBe(true);
    const last = Math.max(...attack.map((a) => a.closedAt()));
    expect(last - started).toBeLessThan(14_000);
    expect(await healthz('127.0.4.1')).toBe(200);
  }, 30_000);
});

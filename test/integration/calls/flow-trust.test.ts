// A phone that never registers but places calls over TCP (issue 11 item 1):
// its authenticated INVITE marks the connection as a known phone's, so when
// the connection budget is full, strangers' connections are evicted and its
// is kept, as a registered phone's would be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';

let ts: TestServer;
const phones: TestPhone[] = [];
const strangers: net.Socket[] = [];

beforeAll(async () => {
  ts = await startTestServer({ config: { sip: { limits: { maxConnections: 3, maxConnectionsPerSource: 3 } } } });
  for (const ext of ['3101', '3102']) await ts.server.store.users.add({ extension: ext, password: `pw-${ext}-trust` });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const s of strangers) s.destroy();
  for (const p of phones) await p.stop();
  await ts?.stop();
});

function options(i: number): string {
  return `OPTIONS sip:${ts.host} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-stranger-${i}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:s${i}@x>;tag=${i}\r\nTo: <sip:${ts.host}>\r\nCall-ID: stranger-${i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
}

/** A connection that speaks (one complete OPTIONS, answered) but never authenticates. */
async function stranger(i: number): Promise<{ closed: () => boolean }> {
  // Each from an address of its own: the per-source cap must not be what turns them away.
  const s = net.connect({ host: ts.host, port: ts.sipPort, localAddress: `127.0.3.${i + 1}` });
  strangers.push(s);
  let closed = false;
  let answered = false;
  s.on('data', () => (answered = true));
  s.on('close', () => (closed = true));
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.write(options(i));
  await waitUntil(() => answered || closed, 3000, 10);
  return { closed: () => closed };
}

describe('an authenticated INVITE over TCP', () => {
  it('keeps its connection when the budget fills with strangers', async () => {
    const server = { host: ts.host, port: ts.sipPort, domain: 'test.local' };
    const callee = await TestPhone.start({ ext: '3102', password: 'pw-3102-trust', server, behaviour: 'busy' });
    phones.push(callee);
    expect((await callee.register(600)).status).toBe(200);
    // The caller's connection is the oldest: without trust it would be the first evicted.
    const caller = await TestPhone.start({ ext: '3101', password: 'pw-3101-trust', server, transport: 'tcp' });
    phones.push(caller);
    const call = caller.call('3102');
    expect((await call.final).status).toBe(486);
    expect(call.challenged).toBe(true);

    const s = [];
    for (let i = 0; i < 4; i++) s.push(await stranger(i));
    // Budget 3: the caller plus two strangers at most; the later strangers evicted the earlier ones.
    expect(s.filter((x) => x.closed()).length).toBe(2);
    expect(s[3]!.closed()).toBe(false);
    // The caller's own connection is still open (an evicted one would be gone before any new request).
    await new Promise((r) => setTimeout(r, 100));
    expect(caller.transport.connectionCount()).toBe(1);
    expect((await caller.request('OPTIONS')).status).toBe(200);
    expect(caller.transport.connectionCount()).toBe(1);
    expect(ts.server.transport.connectionCount()).toBeLessThanOrEqual(3);
  });
});

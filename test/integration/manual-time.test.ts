// The server on injected time: registrations expire and are swept when the
// test moves the clock, with no sleeps; and the component list's start-up
// failure path releases what had started.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from './lib/sip-client.ts';
import { freePort, startTestServer, tempDataDir } from './lib/server.ts';
import type { TestServer } from './lib/server.ts';
import { ManualTimerQueue } from '../../src/lib/timer-queue.ts';

const running: TestServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of running.splice(0)) await s.stop();
});

describe('manual time', () => {
  it('expires and sweeps a registration when time is advanced past it, and stores epoch times', async () => {
    const ts = await startTestServer({ manualTime: true });
    running.push(ts);
    expect(ts.timers).toBeInstanceOf(ManualTimerQueue);
    await ts.server.store.users.add({ extension: '3300', password: 'pw' });
    await ts.server.directory.poll();
    const c = await new TestClient('udp', ts.host, ts.sipPort).open();
    clients.push(c);
    expect((await c.register('3300', 'pw', { expires: 600 })).status).toBe(200);
    const [binding] = ts.server.location.lookup('sip:3300@test.local');
    // On the server's clock, which has not moved; it started at Date.now(), so the stored expiry is a real date.
    expect(binding!.expiresAt).toBe(ts.timers.clock.now() + 600_000);
    expect(Math.abs(binding!.expiresAt - (Date.now() + 600_000))).toBeLessThan(60_000);

    await ts.advance(599_000);
    expect(ts.server.location.lookup('sip:3300@test.local')).toHaveLength(1);
    await ts.advance(6_000);
    expect(ts.server.location.lookup('sip:3300@test.local')).toHaveLength(0);
    // Swept by the server's own timer on the same queue, not by the test.
    expect(ts.server.location.count).toBe(0);
  });

  it('refuses advance() on real time', async () => {
    const ts = await startTestServer();
    running.push(ts);
    await expect(ts.advance(1)).rejects.toThrow(/manualTime/);
  });
});

describe('components', () => {
  it('run in dependency order, management last', async () => {
    const ts = await startTestServer({ manualTime: true });
    running.push(ts);
    const names = ts.server.componentNames;
    const at = (n: string) => names.indexOf(n);
    expect(at('store')).toBeGreaterThanOrEqual(0);
    expect(at('store')).toBeLessThan(at('transactions'));
    expect(at('transactions')).toBeLessThan(at('transport'));
    // Calls stop before the transport (their BYEs still go out); trunks unregister before it closes.
    expect(at('transport')).toBeLessThan(at('calls'));
    expect(at('transport')).toBeLessThan(at('trunk registrations'));
    // The start-up heap trim's pause comes after the users and bindings load, before anything listens.
    expect(at('directory')).toBeLessThan(at('heap trim'));
    expect(at('location')).toBeLessThan(at('heap trim'));
    expect(at('heap trim')).toBeLessThan(at('transport'));
    expect(names.at(-1)).toBe('management');
  });

  it('release what started when a later component fails: the SIP ports and the database are free again', async () => {
    const host = '127.0.0.1';
    const blocker = net.createServer();
    const tlsPort = await freePort(host);
    await new Promise<void>((r) => blocker.listen(tlsPort, host, () => r()));
    const sipPort = await freePort(host);
    const dataDir = tempDataDir();
    try {
      await expect(startTestServer({ host, sipPort, tlsPort, dataDir })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    const ts = await startTestServer({ host, sipPort, tlsPort, dataDir });
    running.push(ts);
    expect(ts.server.listening().map((l) => l.port)).toContain(sipPort);
  });
});

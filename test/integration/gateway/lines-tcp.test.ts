// A line over TCP (B-03, RFC 5626): the Contact carries the connection's
// ephemeral port, and when the upstream's connection closes the line
// registers again by itself (no refresh timer needed) once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';

let upstream: TestServer;
let gw: TestServer;

async function until(check: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const status = () => gw.server.gateway.lines!.lineStatus('1001') ?? ({ registration: 'waiting' } as NonNullable<ReturnType<NonNullable<typeof gw.server.gateway.lines>['lineStatus']>>);
const upstreamConfig = { sip: { domain: 'upstream.test' } };

beforeAll(async () => {
  upstream = await startTestServer({ config: upstreamConfig });
  await upstream.server.store.users.add({ extension: '41510', password: 'Up-41510-secret' });
  gw = await startTestServer({ manualTime: true, config: { sip: { domain: 'gw.test' } } });
  const store = gw.server.store;
  await store.users.add({ extension: '1001', password: 'Handset-1001-pw' });
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${upstream.sipPort};transport=tcp`, priority: 1 });
  await store.gateway.setLine({ extension: '1001', upstreamUser: '41510', password: 'Up-41510-secret' });
  await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: 'upstream.test', transport: 'tcp', registerExpiresSec: 3600 });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('gateway line over TCP', () => {
  it('registers with the ephemeral port of its connection in the Contact (B-03)', async () => {
    await until(() => status().registration === 'registered', 'registered over TCP');
    const b = upstream.server.location.lookup('sip:41510@upstream.test')[0]!;
    const m = /^sip:41510@127\.0\.0\.1:(\d+);transport=tcp$/.exec(b.contactUri);
    expect(m, b.contactUri).not.toBeNull();
    expect(Number(m![1])).not.toBe(gw.sipPort);
    expect(status().registeredVia).toBe(`tcp:127.0.0.1:${upstream.sipPort}`);
  });

  it('a closed connection makes the line register again when the upstream is back, before any refresh is due', async () => {
    const { sipPort, tlsPort, dataDir } = upstream;
    await upstream.stop();
    // The close is seen at once: the line tries again, is refused, and says so.
    await until(() => status().registration === 'failed', 'failed after the close');
    expect(status().failure!.code).toBe('refused');
    upstream = await startTestServer({ dataDir, sipPort, tlsPort, config: upstreamConfig });
    // Backoff steps of 5 s, 10 s... of gateway time; the hour-long registration is nowhere near its refresh.
    let advanced = 0;
    for (; advanced < 60_000 && status().registration !== 'registered'; advanced += 5_000) {
      await gw.advance(5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    await until(() => status().registration === 'registered', 'registered again');
    expect(advanced).toBeLessThan(60_000);
    expect(upstream.server.location.isRegistered('sip:41510@upstream.test')).toBe(true);
  }, 30_000);
});

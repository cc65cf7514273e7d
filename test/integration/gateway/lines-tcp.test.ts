// A line over TCP (B-03, RFC 5626): the Contact carries the connection's
// ephemeral port, and when the upstream's connection closes the line
// registers again by itself (no refresh timer needed) once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { startPair, startUpstreamAgain, stopAll } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;

const status = () => gw.server.gateway.lines!.lineStatus('1001') ?? ({ registration: 'waiting' } as NonNullable<ReturnType<NonNullable<typeof gw.server.gateway.lines>['lineStatus']>>);

beforeAll(async () => {
  ({ upstream, gw } = await startPair({
    manualTime: true, transport: 'tcp', lines: [{ extension: '1001', upstreamUser: '41510' }], settings: { registerExpiresSec: 3600 },
  }));
}, 30_000);

afterAll(() => stopAll(gw, upstream));

describe('gateway line over TCP', () => {
  it('registers with the ephemeral port of its connection in the Contact (B-03)', async () => {
    await until(() => status().registration === 'registered', 'registered over TCP', 8000);
    const b = upstream.server.location.lookup('sip:41510@upstream.test')[0]!;
    const m = /^sip:41510@127\.0\.0\.1:(\d+);transport=tcp$/.exec(b.contactUri);
    expect(m, b.contactUri).not.toBeNull();
    expect(Number(m![1])).not.toBe(gw.sipPort);
    expect(status().registeredVia).toBe(`tcp:127.0.0.1:${upstream.sipPort}`);
  });

  it('a closed connection makes the line register again when the upstream is back, before any refresh is due', async () => {
    await upstream.stop();
    // The close is seen at once: the line tries again, is refused, and says so.
    await until(() => status().registration === 'failed', 'failed after the close', 8000);
    expect(status().failure!.code).toBe('refused');
    upstream = await startUpstreamAgain(upstream);
    // Backoff steps of 5 s, 10 s... of gateway time; the hour-long registration is nowhere near its refresh.
    let advanced = 0;
    for (; advanced < 60_000 && status().registration !== 'registered'; advanced += 5_000) {
      await gw.advance(5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    await until(() => status().registration === 'registered', 'registered again', 8000);
    expect(advanced).toBeLessThan(60_000);
    expect(upstream.server.location.isRegistered('sip:41510@upstream.test')).toBe(true);
  }, 30_000);
});

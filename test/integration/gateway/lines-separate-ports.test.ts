// "Register each endpoint on separate port" (B.1) over TCP: each line has a
// connection of its own, its Contact names that connection's port, and a
// refresh keeps using it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { startPair, stopAll } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;

const registered = (ext: string) => gw.server.gateway.lines!.lineStatus(ext)?.registration === 'registered';
const binding = (user: string) => upstream.server.location.lookup(`sip:${user}@upstream.test`)[0];

beforeAll(async () => {
  ({ upstream, gw } = await startPair({
    manualTime: true,
    transport: 'tcp',
    lines: [{ extension: '1001', upstreamUser: '41510' }, { extension: '1002', upstreamUser: '41511' }],
    // Ephemeral Contact off: only "separate ports" puts the connection's own port in the Contact.
    settings: { registerExpiresSec: 3600, separatePorts: true, tcpEphemeralContact: false, maxPendingRegistrations: 2 },
  }));
}, 30_000);

afterAll(() => stopAll(gw, upstream));

describe('gateway lines on separate ports', () => {
  it('two lines register over two connections, each Contact with its own port', async () => {
    await until(() => registered('1001') && registered('1002'), 'both lines registered');
    const a = binding('41510')!;
    const b = binding('41511')!;
    const portA = Number(/:(\d+);transport=tcp$/.exec(a.contactUri)?.[1]);
    const portB = Number(/:(\d+);transport=tcp$/.exec(b.contactUri)?.[1]);
    expect(portA, a.contactUri).toBeGreaterThan(0);
    expect(portB, b.contactUri).toBeGreaterThan(0);
    expect(portA).not.toBe(portB);
    expect(portA).not.toBe(gw.sipPort);
    expect(portB).not.toBe(gw.sipPort);
    expect(a.connectionId).toBeDefined();
    expect(a.connectionId).not.toBe(b.connectionId);
  });

  it('a refresh reuses the line\'s own connection (same Contact port and connection)', async () => {
    const before = binding('41510')!;
    const sent = gw.server.gateway.lines!.counters.registrationsSent;
    gw.server.gateway.lines!.reregister(['1001']);
    await until(() => gw.server.gateway.lines!.counters.registrationsSent > sent && registered('1001'), 're-registered');
    await until(() => binding('41510')!.cseq !== before.cseq, 'refresh seen upstream');
    const after = binding('41510')!;
    expect(after.contactUri).toBe(before.contactUri);
    expect(after.connectionId).toBe(before.connectionId);
    // One connection per line at the upstream, the refresh's included.
    expect(upstream.server.transport.connectionCount()).toBe(2);
  });
});

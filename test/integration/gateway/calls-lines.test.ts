// Calls through the gateway on its real lines manager (issue 15 items 1 and
// 3): the line registers at an upstream Switchboard by itself, then a
// handset calls an upstream desk phone and the desk phone calls the handset,
// both answered with RTP both ways over an SRTP upstream leg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { until } from '../features/rig.ts';
import { UPSTREAM } from '../../../src/gateway/calls.ts';
import type { CallView } from '../../../src/pbx/call/context.ts';

let upstream: TestServer;
let gw: TestServer;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];

async function phone(ts: TestServer, ext: string, password: string, domain: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password, server: { host: ts.host, port: ts.sipPort, domain } });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}
async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  peers.push(p);
  return p;
}
const connected = (ts: TestServer): CallView | undefined => [...ts.server.calls.calls()].find((c) => c.state === 'connected');

beforeAll(async () => {
  upstream = await startTestServer({ config: { sip: { domain: 'upstream.test' }, media: { relay: { portMin: 33000, portMax: 33999 } } } });
  // The line's account: Enforced media security, so the upstream offers RTP/SAVP only to the gateway.
  await upstream.server.store.users.add({ extension: '41510', password: 'Up-41510-secret', name: 'Jim' });
  await upstream.server.store.users.update('41510', { media: { security: 'enforced' } });
  await upstream.server.store.users.add({ extension: '41520', password: 'Desk-41520-pw', name: 'Desk' });
  await upstream.server.store.users.update('41520', { media: { security: 'disabled' } });
  await upstream.server.directory.poll();
  gw = await startTestServer({ config: { sip: { domain: 'gw.test' }, media: { relay: { portMin: 34000, portMax: 34999 } } } });
  const store = gw.server.store;
  await store.users.add({ extension: '1001', password: 'Handset-1001-pw', name: 'Handset' });
  await store.users.update('1001', { media: { security: 'disabled' } });
  await gw.server.directory.poll();
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${upstream.sipPort};transport=udp`, priority: 1 });
  await store.gateway.setLine({ extension: '1001', upstreamUser: '41510', password: 'Up-41510-secret' });
  await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: 'upstream.test', transport: 'udp' });
  await until(() => gw.server.gateway.lines?.lineStatus('1001')?.registration === 'registered', 'line 1001 registered', 10_000);
}, 30_000);

afterAll(async () => {
  for (const p of peers) p.close();
  for (const p of phones) await p.stop();
  await gw?.stop();
  await upstream?.stop();
});

describe('calls on the real lines manager', () => {
  it('handset → upstream desk phone and back, RTP both ways, SRTP on the upstream leg', async () => {
    const handset = await phone(gw, '1001', 'Handset-1001-pw', 'gw.test');
    const desk = await phone(upstream, '41520', 'Desk-41520-pw', 'upstream.test');
    const [ph, pd] = [await peer(), await peer()];

    const out = handset.call('41520', { body: ph.sdp('rtp') });
    const inc = await desk.waitIncoming();
    const res = await out.final;
    expect(res.status).toBe(200);
    expect(inc.invite.from.uri.user).toBe('41510');
    expect(inc.invite.from.displayName).toBe('Jim');
    await until(() => inc.acked !== undefined, 'ACK at the desk phone');
    ph.connect(res.body, false);
    pd.connect(inc.invite.body, false);
    ph.send(10);
    pd.send(10);
    await until(() => pd.received.length >= 10 && ph.received.length >= 10, 'RTP both ways (outgoing call)');
    expect(connected(gw)!.streams).toEqual({ a: 'RTP', b: 'SRTP' });
    expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && upstream.server.calls.activeCount === 0, 'calls ended');

    const [qh, qd] = [await peer(), await peer()];
    const back = desk.call('41510', { body: qd.sdp('rtp') });
    const rung = await handset.waitIncoming();
    const answered = await back.final;
    expect(answered.status).toBe(200);
    expect(rung.invite.from.uri.user).toBe('41520');
    await until(() => rung.acked !== undefined, 'ACK at the handset');
    qd.connect(answered.body, false);
    qh.connect(rung.invite.body, false);
    qh.send(10);
    qd.send(10);
    await until(() => qd.received.length >= 10 && qh.received.length >= 10, 'RTP both ways (incoming call)');
    const atGw = connected(gw)!;
    expect(atGw.callee.trunk).toBe(UPSTREAM);
    expect(atGw.streams).toEqual({ a: 'SRTP', b: 'RTP' });
    expect((await desk.inDialog(back.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0, 'incoming call ended');
  });
});

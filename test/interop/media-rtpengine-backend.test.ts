// Switchboard with media.backend "rtpengine": calls are anchored in a real
// rtpengine (Debian's, userspace on loopback), SRTP toward an Enforced phone
// and plain RTP toward a Disabled one, with packets counted at both ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../integration/lib/server.ts';
import type { TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { RtpPeer } from '../integration/lib/rtp-peer.ts';
import { startRtpengine } from '../lib/rtpengine-process.ts';
import type { RtpengineProcess } from '../lib/rtpengine-process.ts';
import { waitUntil } from '../lib/wait.ts';

let engine: RtpengineProcess;
let ts: TestServer;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];

beforeAll(async () => {
  engine = await startRtpengine();
  ts = await startTestServer({ config: { media: { backend: 'rtpengine', rtpengineNg: `${engine.host}:${engine.ngPort}` } } });
  await ts.server.store.users.add({ extension: '7300', password: 'pw-7300', media: { security: 'enforced' } });
  await ts.server.store.users.add({ extension: '7301', password: 'pw-7301', media: { security: 'disabled' } });
  await ts.server.store.users.add({ extension: '7302', password: 'pw-7302', media: { security: 'disabled' } });
  await ts.server.directory.poll();
}, 30_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  for (const p of peers) p.close();
  await ts?.stop();
  await engine?.stop();
});

async function mk(ext: string, behaviour: 'ring' | 'answer', mediaPort?: number): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, behaviour, mediaPort });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

describe('rtpengine as the media backend', () => {
  it('bridges SRTP and RTP through rtpengine, audio both ways', async () => {
    const a = await mk('7300', 'ring');
    const b = await mk('7301', 'ring');
    const pa = await RtpPeer.open();
    const pb = await RtpPeer.open();
    peers.push(pa, pb);
    const call = a.call('7301', { body: pa.sdp('srtp') });
    const inc = await b.waitIncoming();
    const offer = inc.invite.body.toString();
    expect(offer).toMatch(/m=audio (\d+) RTP\/AVP/);
    const port = Number(/m=audio (\d+)/.exec(offer)![1]);
    expect(port).toBeGreaterThanOrEqual(engine.portMin);
    expect(port).toBeLessThanOrEqual(engine.portMax);
    expect(offer).not.toContain('a=crypto');
    pb.connect(inc.invite.body, false);
    b.answer(inc, pb.sdp('rtp'));
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(final.body.toString()).toMatch(/RTP\/SAVP/);
    expect(final.body.toString()).toMatch(/a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/);
    pa.connect(final.body, true);
    pa.send(40);
    pb.send(40);
    expect(await waitUntil(() => pa.received.length >= 40 && pb.received.length >= 40, 5000)).toBe(true);
    expect(pa.rejected).toBe(0);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('SRTP-RTP relayed (rtpengine)');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  }, 30_000);

  it('moves a transferred call to a new rtpengine session: the transferee and the target hear each other, the old session is gone', async () => {
    for (const p of phones.splice(0)) await p.stop();
    const [pa, pb, pc] = [await RtpPeer.open(), await RtpPeer.open(), await RtpPeer.open()];
    peers.push(pa, pb, pc);
    const a = await mk('7300', 'ring');
    const b = await mk('7301', 'answer', pb.port);
    const c = await mk('7302', 'answer', pc.port);
    a.reinviteAnswer = pa.sdp('srtp');
    const call = a.call('7301', { body: pa.sdp('srtp') });
    expect((await call.final).status).toBe(200);
    const inc = await b.waitIncoming();
    expect(await waitUntil(() => inc.acked !== undefined)).toBe(true);
    expect((await b.inDialog(inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: '<sip:7302@test.local>' }] })).status).toBe(202);
    const atC = await c.waitIncoming();
    expect(await waitUntil(() => atC.acked !== undefined && a.requests.some((r) => r.method === 'INVITE'))).toBe(true);
    const reinvite = a.requests.find((r) => r.method === 'INVITE')!;
    // Both new descriptions name rtpengine ports; A keeps SRTP, C gets plain RTP.
    expect(reinvite.body.toString()).toMatch(/RTP\/SAVP/);
    expect(atC.acked!.body.toString()).toMatch(/m=audio \d+ RTP\/AVP/);
    pa.connect(reinvite.body, true);
    pc.connect(atC.acked!.body, false);
    const [aBefore, cBefore] = [pa.received.length, pc.received.length];
    pa.send(40);
    pc.send(40);
    expect(await waitUntil(() => pa.received.length >= aBefore + 40 && pc.received.length >= cBefore + 40, 5000)).toBe(true);
    expect(pa.rejected).toBe(0);
    expect(await waitUntil(() => b.requests.some((r) => r.method === 'BYE'))).toBe(true);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('SRTP-RTP relayed (rtpengine)');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  }, 30_000);
});

// DTMF through the gateway (issue 15, SPEC B-09, AC-09): the handset sends
// RFC 4733 events on its own telephone-event number (101), the upstream leg
// was offered 96; the gateway's relay renumbers both ways, and the upstream's
// voicemail (a real Switchboard with its media server) recognises the digits.
// The line registers by itself on the real lines manager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { until } from '../features/rig.ts';
import { parseSdp } from '../../../src/sdp/index.ts';
import { telephoneEventPt } from '../../../src/pbx/media/sdp-edits.ts';

let upstream: TestServer;
let gw: TestServer;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];
const LINE = { ext: '41510', password: 'Up-41510-secret', code: '2468' };

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

function telephoneEvent(body: Buffer): number | undefined {
  const p = parseSdp(body);
  if (!p.ok) throw new Error(p.reason);
  return telephoneEventPt(p.sdp, 0);
}

beforeAll(async () => {
  upstream = await startTestServer({
    config: { sip: { domain: 'upstream.test' }, voicemail: { enabled: true }, media: { relay: { portMin: 35000, portMax: 35499 } } },
  });
  await upstream.server.store.users.add({ extension: LINE.ext, password: LINE.password, name: 'Handset line', voicemailCode: LINE.code });
  await upstream.server.store.users.update(LINE.ext, { media: { security: 'enforced' } });
  await upstream.server.store.users.add({ extension: '41520', password: 'Desk-41520-pw', name: 'Desk' });
  await upstream.server.store.users.update('41520', { media: { security: 'disabled' } });
  await upstream.server.directory.poll();
  gw = await startTestServer({ config: { sip: { domain: 'gw.test' }, media: { relay: { portMin: 35500, portMax: 35999 } } } });
  const store = gw.server.store;
  await store.users.add({ extension: '1001', password: 'Handset-1001-pw', name: 'Handset' });
  await store.users.update('1001', { media: { security: 'enforced' } });
  await gw.server.directory.poll();
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${upstream.sipPort};transport=udp`, priority: 1 });
  await store.gateway.setLine({ extension: '1001', upstreamUser: LINE.ext, password: LINE.password });
  await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: 'upstream.test', transport: 'udp' });
  await until(() => gw.server.gateway.lines?.lineStatus('1001')?.registration === 'registered', 'line 1001 registered', 10_000);
}, 30_000);

afterAll(async () => {
  for (const p of peers) p.close();
  for (const p of phones) await p.stop();
  await gw?.stop();
  await upstream?.stop();
});

describe('DTMF from the handset to the upstream', () => {
  it('events on the handset\'s 101 reach the upstream desk phone on 96, and the desk phone\'s 96 come back on 101', async () => {
    const handset = await phone(gw, '1001', 'Handset-1001-pw', 'gw.test');
    const desk = await phone(upstream, '41520', 'Desk-41520-pw', 'upstream.test');
    const [ph, pd] = [await peer(), await peer()];
    desk.behaviour = 'ring';
    const out = handset.call('41520', { body: ph.sdp('srtp') });
    const inc = await desk.waitIncoming();
    // The desk phone answers with the upstream's own number, 96 (as it was offered).
    desk.answer(inc, Buffer.from(pd.sdp('rtp').toString().replaceAll('101', '96')));
    const res = await out.final;
    expect(res.status).toBe(200);
    await until(() => inc.acked !== undefined, 'ACK at the desk phone');
    expect(telephoneEvent(inc.invite.body)).toBe(96);
    // The answer to the handset keeps the handset's own number (RFC 3264 §6.1).
    expect(telephoneEvent(res.body)).toBe(101);
    ph.connect(res.body, true);
    pd.connect(inc.invite.body, false);
    ph.send(5);
    pd.send(5);
    await until(() => pd.received.length >= 5 && ph.received.length >= 5, 'RTP both ways');
    pd.reset();
    ph.reset();
    ph.sendDtmf(5, 101);
    await until(() => pd.received.length >= 6, 'the digit at the desk phone');
    expect(pd.received.map((r) => r.payloadType)).toEqual([96, 96, 96, 96, 96, 96]);
    pd.sendDtmf(7, 96);
    await until(() => ph.received.length >= 6, 'the digit at the handset');
    expect(ph.received.map((r) => r.payloadType)).toEqual([101, 101, 101, 101, 101, 101]);
    expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && upstream.server.calls.activeCount === 0, 'calls ended');
  });

  it('the handset logs in to its upstream mailbox with digits on 101 (mailbox, #, code, #)', async () => {
    const handset = phones.find((p) => p.opts.ext === '1001') ?? await phone(gw, '1001', 'Handset-1001-pw', 'gw.test');
    const ph = await peer();
    const logFrom = upstream.log.entries.length;
    const out = handset.call('8000', { body: ph.sdp('srtp') });
    const res = await out.final;
    expect(res.status).toBe(200);
    ph.connect(res.body, true);
    // The voicemail asks for the mailbox; the prompt is heard through both relays.
    await until(() => ph.loudMs() >= 500, 'the mailbox question', 10_000);
    const loggedIn = () => upstream.log.entries.slice(logFrom).some((x) => x.msg === 'voicemail: mailbox login');
    for (const ch of `${LINE.ext}#${LINE.code}#`) {
      ph.sendDtmf(ch === '#' ? 11 : Number(ch), 101);
      ph.send(3);
    }
    await until(loggedIn, 'upstream mailbox login', 15_000);
    expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && upstream.server.calls.activeCount === 0, `calls ended (${gw.server.calls.activeCount}, ${upstream.server.calls.activeCount})`, 10_000);
  }, 40_000);
});

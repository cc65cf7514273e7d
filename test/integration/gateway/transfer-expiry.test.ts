// A transfer sent upstream (SPEC B-12) whose REFER the upstream accepts and
// then never reports on: the implicit subscription runs out (RFC 3515
// §2.4.4; 64*T1 without any NOTIFY, else the last NOTIFY's expires), the
// transfer counts as failed, the handset keeps its call and may transfer
// again. The upstream is a test phone that registers the line, answers the
// call and answers REFER 200 without ever sending NOTIFY; the gateway runs on
// manual time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { until } from '../lib/until.ts';
import type { OutgoingCall } from '../lib/phone.ts';
import type { SipRequest } from '../../../src/sip/message.ts';

const HANDSET = '1001';
let gw: TestServer;
let upstream: TestPhone;
let handset: TestPhone;

beforeAll(async () => {
  gw = await startTestServer({ manualTime: true, config: { sip: { domain: 'gw.test' }, media: { relay: { portMin: 37000, portMax: 37999 } } } });
  const server = { host: '127.0.0.1', port: gw.sipPort, domain: 'gw.test' };
  upstream = await TestPhone.start({ ext: 'upstream', password: 'unused-pw', server, behaviour: 'answer' });
  const store = gw.server.store;
  await store.users.add({ extension: HANDSET, password: 'Handset-1001-pw', media: { security: 'disabled' } });
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${upstream.local.port};transport=udp`, priority: 1 });
  await store.gateway.setLine({ extension: HANDSET, upstreamUser: '41510', password: 'Up-41510-secret' });
  await store.gateway.updateSettings({
    mode: 'gateway', defaultDomain: 'upstream.test', transport: 'udp', mwi: false, srtp: false, requireSrtp: false, holdBeforeRefer: false, byeWithRefer: false,
  });
  await gw.server.directory.poll();
  await until(() => gw.server.gateway.lines?.tally().registered === 1, 'the line registered at the test upstream');
  handset = await TestPhone.start({ ext: HANDSET, password: 'Handset-1001-pw', server });
  expect((await handset.register()).status).toBe(200);
}, 30_000);

afterAll(async () => {
  await handset?.stop();
  await upstream?.stop();
  await gw?.stop();
});

const refer = (call: OutgoingCall) => handset.inDialog(call.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: '<sip:42530@gw.test>' }] });
const sipfrags = (callId: string): string[] =>
  handset.requests.filter((r) => r.method === 'NOTIFY' && r.callId === callId).map((r) => r.body.toString().split('\r\n')[0]!);
const refersAtUpstream = (): SipRequest[] => upstream.requests.filter((r) => r.method === 'REFER');
const expiredLogs = () => gw.log.entries.filter((e) => e.msg?.includes('had no outcome before its subscription ran out'));

/** The handset calls upstream and transfers blind; the upstream accepts the REFER (200) and stays silent. */
async function callAndTransfer(): Promise<OutgoingCall> {
  const call = handset.call('42520');
  expect((await call.final).status).toBe(200);
  await until(() => [...gw.server.calls.calls()].some((c) => c.state === 'connected'), 'the call connected at the gateway');
  const before = refersAtUpstream().length;
  expect((await refer(call)).status).toBe(202);
  await until(() => refersAtUpstream().length === before + 1, 'the REFER at the upstream');
  return call;
}

async function hangUp(call: OutgoingCall): Promise<void> {
  expect((await handset.inDialog(call.dialog!, 'BYE')).status).toBe(200);
  await until(() => gw.server.calls.activeCount === 0, 'the gateway call ended');
}

describe('a transfer upstream with no outcome', () => {
  it('without any NOTIFY: 491 to another REFER for 64*T1 (32 s), then failed (408 to the handset), the call kept, a new REFER goes upstream', async () => {
    const call = await callAndTransfer();
    await gw.advance(31_000);
    expect((await refer(call)).status).toBe(491);
    expect(sipfrags(call.invite.callId)).not.toContain('SIP/2.0 408 Request Timeout');

    await gw.advance(1_500);
    await until(() => sipfrags(call.invite.callId).includes('SIP/2.0 408 Request Timeout'), 'NOTIFY 408 at the handset');
    const last = handset.requests.filter((r) => r.method === 'NOTIFY' && r.callId === call.invite.callId).at(-1)!;
    expect(last.headers.find((h) => h.name === 'subscription-state')?.value).toMatch(/^terminated/);
    expect(expiredLogs()).toHaveLength(1);
    // The handset is still in its call, and its next transfer goes upstream.
    expect(handset.requests.some((r) => r.method === 'BYE' && r.callId === call.invite.callId)).toBe(false);
    expect([...gw.server.calls.calls()].filter((c) => c.state === 'connected')).toHaveLength(1);
    const before = refersAtUpstream().length;
    expect((await refer(call)).status).toBe(202);
    await until(() => refersAtUpstream().length === before + 1, 'the second REFER at the upstream');
    await hangUp(call);
  }, 30_000);

  it("follows the upstream's NOTIFY expires: active;expires=60 keeps the transfer pending past 32 s, until 60 s", async () => {
    const call = await callAndTransfer();
    const upstreamDialog = refersAtUpstream().at(-1)!;
    const dialog = [...upstream.dialogs.values()].find((d) => d.callId === upstreamDialog.callId)!;
    const notify = await upstream.inDialog(dialog, 'NOTIFY', {
      headers: [{ name: 'event', value: 'refer' }, { name: 'subscription-state', value: 'active;expires=60' }],
      body: Buffer.from('SIP/2.0 180 Ringing\r\n'), contentType: 'message/sipfrag;version=2.0',
    });
    expect(notify.status).toBe(200);
    await until(() => sipfrags(call.invite.callId).includes('SIP/2.0 180 Ringing'), 'NOTIFY 180 at the handset');

    await gw.advance(40_000);
    expect((await refer(call)).status).toBe(491);
    await gw.advance(20_500);
    await until(() => sipfrags(call.invite.callId).includes('SIP/2.0 408 Request Timeout'), 'NOTIFY 408 at the handset');
    expect(expiredLogs()).toHaveLength(2);
    await hangUp(call);
  }, 30_000);
});

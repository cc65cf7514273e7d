// The gateway's voice-channel budget end to end (SPEC B-25, §3.2): a gateway
// on its real lines manager and an upstream Switchboard, both in this
// process over UDP. With SRTP on the upstream leg the profile allows 16 calls
// with the upstream at once; the 17th is refused in both directions (a
// handset dialling out, the upstream calling a line), and a freed channel
// lets the next call through. With SRTP off the same profile allows 32.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone, type OutgoingCall } from '../lib/phone.ts';
import { until } from '../lib/until.ts';
import { SipTap } from '../../interop/lib/sip-tap.ts';
import { channelBudget } from '../../../src/gateway/calls.ts';
import { GATEWAY_PROFILES } from '../../../src/model/gateway.ts';

const UP_DOMAIN = 'upstream.test';
const GW_DOMAIN = 'gw.test';
/** Handset ↔ line: 1001 holds the channels, 1002 asks for one more. */
const LINES = [{ ext: '1001', up: '41510' }, { ext: '1002', up: '41511' }] as const;
const DESK = '41520';
/** Per-user call limits out of the way: the budget under test is the gateway's, not a user's. */
const CALLS = { calls: { maxCallsPerUser: 40 } };
const SRTP_BUDGET = GATEWAY_PROFILES['dect-virtual'].channelsSrtp;
const PLAIN_BUDGET = GATEWAY_PROFILES['dect-virtual'].channels;

let up: TestServer;
let gw: TestServer;
let gwTap: SipTap;
const phones: TestPhone[] = [];

async function phone(ts: TestServer, ext: string, domain: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain } });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

const inUse = (): number => gw.server.gatewayCalls.channelsInUse;

/** `from` calls `to` (answered by the far phone): resolves with the call once its final response is in. */
async function dial(from: TestPhone, to: string): Promise<{ call: OutgoingCall; status: number; reason: string }> {
  const call = from.call(to);
  const res = await call.final;
  return { call, status: res.status, reason: res.reason };
}

async function hangUp(from: TestPhone, c: OutgoingCall): Promise<void> {
  expect((await from.inDialog(c.dialog!, 'BYE')).status).toBe(200);
}

beforeAll(async () => {
  up = await startTestServer({ config: { ...CALLS, sip: { domain: UP_DOMAIN }, media: { relay: { portMin: 35000, portMax: 35999 } } } });
  for (const l of LINES) await up.server.store.users.add({ extension: l.up, password: `pw-${l.up}`, name: `Line ${l.up}`, media: { security: 'enforced' } });
  await up.server.store.users.add({ extension: DESK, password: `pw-${DESK}`, name: 'Desk', media: { security: 'disabled' } });
  await up.server.directory.poll();
  gw = await startTestServer({ config: { ...CALLS, sip: { domain: GW_DOMAIN }, media: { relay: { portMin: 36000, portMax: 36999 } } } });
  gwTap = SipTap.attach(gw.server);
  const store = gw.server.store;
  for (const l of LINES) {
    await store.users.add({ extension: l.ext, password: `pw-${l.ext}`, name: `Handset ${l.ext}`, media: { security: 'disabled' } });
    await store.gateway.setLine({ extension: l.ext, upstreamUser: l.up, password: `pw-${l.up}` });
  }
  await gw.server.directory.poll();
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${up.sipPort};transport=udp`, priority: 1 });
  // SRTP on and required (the defaults); the lines' accounts upstream are Enforced (SRTP only) to match.
  await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: UP_DOMAIN, transport: 'udp', profile: 'dect-virtual' });
  for (const l of LINES) await until(() => gw.server.gateway.lines?.lineStatus(l.ext)?.registration === 'registered', `line ${l.ext} registered`, 10_000);
}, 30_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await gw?.stop();
  await up?.stop();
});

describe('gateway voice-channel budget (B-25)', () => {
  it(`SRTP upstream: ${SRTP_BUDGET} calls held, the next refused both ways, a freed channel takes the next call; SRTP off allows ${PLAIN_BUDGET}`, async () => {
    expect(channelBudget(gw.server.gateway.lines!.settings)).toBe(SRTP_BUDGET);
    const [holder, asker] = [await phone(gw, LINES[0].ext, GW_DOMAIN), await phone(gw, LINES[1].ext, GW_DOMAIN)];
    const desk = await phone(up, DESK, UP_DOMAIN);
    desk.behaviour = 'answer';
    asker.behaviour = 'answer';

    const held: OutgoingCall[] = [];
    for (let i = 0; i < SRTP_BUDGET; i++) {
      const r = await dial(holder, DESK);
      expect(r.status, `call ${i + 1} of ${SRTP_BUDGET}`).toBe(200);
      held.push(r.call);
    }
    await until(() => inUse() === SRTP_BUDGET, `${SRTP_BUDGET} channels in use`);
    // Every one of them runs SRTP toward the upstream.
    const upstreamLegs = [...gw.server.calls.calls()].filter((c) => c.state === 'connected').map((c) => c.streams.b);
    expect(upstreamLegs).toEqual(Array(SRTP_BUDGET).fill('SRTP'));
    const refusedBefore = gw.server.gatewayCalls.refusedNoChannel;

    // Handset → upstream: the 17th call is refused by the gateway, before anything goes upstream.
    const upCallsBefore = up.server.calls.activeCount;
    const out = await dial(asker, DESK);
    expect([out.status, out.reason]).toEqual([503, `All ${SRTP_BUDGET} Gateway Channels Busy`]);
    expect(up.server.calls.activeCount).toBe(upCallsBefore);

    // Upstream → handset: the upstream's INVITE for the idle line 41511 gets the same 503 from the gateway
    // (the upstream, a B2BUA, tells its caller 480).
    const since = gwTap.mark();
    const inc = await dial(desk, LINES[1].up);
    expect(inc.status).toBe(480);
    const toUpstream = gwTap.responses('out', 'INVITE', since).filter((m) => m.peer.port === up.sipPort && m.status >= 200);
    expect(toUpstream.map((m) => m.startLine)).toEqual([`SIP/2.0 503 All ${SRTP_BUDGET} Gateway Channels Busy`]);
    expect(asker.incoming.length).toBe(0);
    expect(gw.server.gatewayCalls.refusedNoChannel).toBe(refusedBefore + 2);
    expect(gw.log.entries.filter((e) => e.msg === 'gateway: every upstream channel is busy; call refused').length).toBe(2);

    // One channel freed: the handset's next call goes through, then the budget is full again.
    await hangUp(holder, held.shift()!);
    await until(() => inUse() === SRTP_BUDGET - 1, 'a channel freed');
    const again = await dial(asker, DESK);
    expect(again.status).toBe(200);
    expect(inUse()).toBe(SRTP_BUDGET);
    await hangUp(asker, again.call);
    await until(() => inUse() === SRTP_BUDGET - 1, 'its channel freed');
    // ...and so does the upstream's call to the line.
    const back = await dial(desk, LINES[1].up);
    expect(back.status).toBe(200);
    expect(inUse()).toBe(SRTP_BUDGET);
    await hangUp(desk, back.call);
    await until(() => inUse() === SRTP_BUDGET - 1, 'the incoming call ended');
    held.push((await dial(holder, DESK)).call);
    await until(() => inUse() === SRTP_BUDGET, 'the budget full again');

    // SRTP off (and the line's account upstream plain): the profile's plain budget applies to the calls that follow.
    await up.server.store.users.update(LINES[0].up, { media: { security: 'disabled' } });
    await up.server.directory.poll();
    await gw.server.store.gateway.updateSettings({ srtp: false });
    await until(() => channelBudget(gw.server.gateway.lines!.settings) === PLAIN_BUDGET, 'the plain budget in force');
    while (held.length < PLAIN_BUDGET) {
      const r = await dial(holder, DESK);
      expect(r.status, `call ${held.length + 1} of ${PLAIN_BUDGET}`).toBe(200);
      held.push(r.call);
    }
    const over = await dial(asker, DESK);
    expect([over.status, over.reason]).toEqual([503, `All ${PLAIN_BUDGET} Gateway Channels Busy`]);

    for (const c of held) await hangUp(holder, c);
    await until(() => inUse() === 0 && gw.server.calls.activeCount === 0 && up.server.calls.activeCount === 0, 'every call ended', 10_000);
  }, 120_000);
});

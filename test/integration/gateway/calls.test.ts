// Calls through the handset gateway end to end (issue 15 item 3): an
// upstream Switchboard with desk phones, a gateway Switchboard with a handset,
// our own test phones and RTP peers on loopback. The gateway's line is
// registered at the upstream from the gateway's own SIP socket by the small
// in-test lines manager of pair.ts (the real one, src/gateway/lines.ts, has
// its own tests); everything else — routing, the hand-over, digest to the upstream,
// media policy, relays, transfer — is the servers' own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import type { TestPhone } from '../lib/phone.ts';
import { until } from '../lib/until.ts';
import { waitUntil } from '../../lib/wait.ts';
import { UPSTREAM } from '../../../src/gateway/calls.ts';
import type { UserPatch } from '../../../src/store/types.ts';
import type { CallView } from '../../../src/pbx/call/context.ts';
import { Endpoints, InTestLines, stopAll } from './pair.ts';

const DOMAIN = 'test.local';
const LINE = { extension: '1001', displayName: 'Handset 1001', user: '41510', password: 'pw-41510', contactUser: 'gw-41510', domain: DOMAIN };

let up: TestServer;
let gw: TestServer;
/** The gateway side of one line (1001 ↔ 41510 at the upstream), over UDP. */
let lines: InTestLines;
const ends = new Endpoints();

async function user(ts: TestServer, ext: string, patch: UserPatch = {}): Promise<void> {
  const users = ts.server.store.users;
  if (!await users.getByExtension(ext)) await users.add({ extension: ext, password: `pw-${ext}`, name: `User ${ext}` });
  if (Object.keys(patch).length > 0) await users.update(ext, patch);
  await ts.server.directory.poll();
}

async function phone(ts: TestServer, ext: string, patch: UserPatch = {}): Promise<TestPhone> {
  await user(ts, ext, patch);
  return ends.phone(ts, ext, `pw-${ext}`, DOMAIN);
}

const liveCall = (ts: TestServer): CallView | undefined => [...ts.server.calls.calls()].find((c) => c.state === 'connected');

beforeAll(async () => {
  up = await startTestServer({ config: { media: { relay: { portMin: 31000, portMax: 31999 } } } });
  gw = await startTestServer({ config: { media: { relay: { portMin: 32000, portMax: 32999 } } } });
  // The line's account at the upstream: SRTP only toward the gateway (A-03 Enforced: RTP/SAVP offers).
  await user(up, LINE.user, { media: { security: 'enforced' } });
  lines = new InTestLines(LINE, up, gw);
  gw.server.gatewayCalls.attach(lines);
  expect(await lines.register()).toBe(200);
});

afterAll(() => stopAll(ends, gw, up));

describe('calls through the gateway', () => {
  it('handset → upstream desk phone: answered, SRTP on the upstream leg, RTP both ways, telephone-event on 96', async () => {
    const [ph, pd] = [await ends.peer(), await ends.peer()];
    const handset = await phone(gw, '1001', { media: { security: 'disabled' } });
    const desk = await phone(up, '41520', { media: { security: 'disabled' } });
    desk.behaviour = 'answer';
    const out = handset.call('41520', { body: ph.sdp('rtp') });
    const inc = await desk.waitIncoming();
    const res = await out.final;
    expect(res.status).toBe(200);
    // The upstream saw the call as from the line's account; the desk phone was offered telephone-event on 96.
    expect(inc.invite.from.uri.user).toBe(LINE.user);
    expect(inc.invite.body.toString()).toContain('a=rtpmap:96 telephone-event/8000');
    expect(inc.invite.body.toString()).not.toContain('a=rtpmap:101 telephone-event');
    await until(() => inc.acked !== undefined, 'ACK at the desk phone');
    ph.connect(res.body, false);
    pd.connect(inc.invite.body, false);
    ph.send(10);
    pd.send(10);
    await until(() => pd.received.length >= 10 && ph.received.length >= 10, 'RTP both ways');
    // The upstream leg runs SRTP on both servers (RTP/SAVP only, as the gateway offered).
    const atGw = liveCall(gw)!;
    expect(atGw.callee.trunk).toBe(UPSTREAM);
    expect(atGw.streams).toEqual({ a: 'RTP', b: 'SRTP' });
    expect(liveCall(up)!.streams).toEqual({ a: 'SRTP', b: 'RTP' });
    // A digit from the handset (PT 101) reaches the desk phone as its 96 after both relays.
    ph.send(3, 101, Buffer.from([1, 0x0a, 0, 160]));
    await until(() => pd.received.some((r) => r.payloadType === 96 || r.payloadType === 101), 'DTMF at the desk phone');
    expect((await handset.inDialog(out.dialog!, "BYE")).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && up.server.calls.activeCount === 0, 'calls ended');
  });

  it('upstream desk phone → handset: rung unchallenged by the gateway, answered, RTP both ways', async () => {
    const [ph, pd] = [await ends.peer(), await ends.peer()];
    const handset = ends.of('1001');
    const desk = ends.of('41520');
    handset.behaviour = 'answer';
    const before = handset.incoming.length;
    const out = desk.call(LINE.user, { body: pd.sdp('rtp') });
    const inc = await handset.waitIncoming(before + 1);
    const res = await out.final;
    expect(res.status).toBe(200);
    // Caller ID as the upstream sent it (B-21: a short URI is kept); no challenge from the gateway on the way.
    expect(inc.invite.from.uri.user).toBe('41520');
    expect(inc.invite.from.displayName).toBe('User 41520');
    await until(() => inc.acked !== undefined, 'ACK at the handset');
    pd.connect(res.body, false);
    ph.connect(inc.invite.body, false);
    ph.send(10);
    pd.send(10);
    await until(() => pd.received.length >= 10 && ph.received.length >= 10, 'RTP both ways');
    const atGw = liveCall(gw)!;
    expect(atGw.callee.trunk).toBe(UPSTREAM);
    expect(atGw.direction).toBe('inbound');
    expect(atGw.streams).toEqual({ a: 'SRTP', b: 'RTP' });
    expect((await desk.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && up.server.calls.activeCount === 0, 'calls ended');
  });

  it('call waiting (EC-10): a second upstream call reaches the busy handset only with both switches on', async () => {
    const handset = ends.of('1001');
    const desk = ends.of('41520');
    const desk2 = await phone(up, '41530', { media: { security: 'disabled' } });
    handset.behaviour = 'answer';
    const first = desk.call(LINE.user);
    expect((await first.final).status).toBe(200);
    await until(() => liveCall(gw) !== undefined, 'first call up at the gateway');

    lines.settings = { ...lines.settings, callWaiting: false };
    const refused = desk2.call(LINE.user);
    expect((await refused.final).status).toBe(486);

    lines.settings = { ...lines.settings, callWaiting: true };
    handset.behaviour = 'ring';
    const before = handset.incoming.length;
    const second = desk2.call(LINE.user);
    await handset.waitIncoming(before + 1);
    desk2.cancel(second);
    expect((await second.final).status).toBe(487);
    expect((await desk.inDialog(first.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && up.server.calls.activeCount === 0, 'calls ended');
  });

  it('blind transfer by the handset (B-12): hold re-INVITE upstream, then REFER upstream; the desk phone is transferred there', async () => {
    const handset = ends.of('1001');
    const desk = ends.of('41520');
    const desk2 = ends.of('41530');
    desk.behaviour = 'answer';
    desk2.behaviour = 'ring';
    const out = handset.call('41520');
    const inc = await desk.waitIncoming(desk.incoming.length);
    expect((await out.final).status).toBe(200);
    await until(() => inc.acked !== undefined, 'ACK at the desk phone');
    const reinvitesBefore = desk.requests.filter((r) => r.method === 'INVITE').length;
    const ringsBefore = desk2.incoming.length;
    const refer = await handset.inDialog(out.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:41530@${DOMAIN}>` }] });
    expect(refer.status).toBe(202);
    // The desk phone was put on hold before the upstream rang the transfer target.
    await until(() => desk.requests.filter((r) => r.method === 'INVITE').length > reinvitesBefore, 'hold re-INVITE at the desk phone');
    const hold = desk.requests.filter((r) => r.method === 'INVITE')[reinvitesBefore]!;
    expect(hold.body.toString()).toMatch(/a=(sendonly|inactive)/);
    const target = await desk2.waitIncoming(ringsBefore + 1);
    // Send BYE with REFER (default on): the gateway's call ends once the upstream accepted the REFER.
    await until(() => handset.requests.some((r) => r.method === 'BYE'), 'BYE at the handset');
    await until(() => gw.server.calls.activeCount === 0, 'gateway call ended');
    // The desk phone's call lives on at the upstream, ringing the target.
    expect(up.server.calls.activeCount).toBe(1);
    expect(await waitUntil(() => handset.requests.some((r) => r.method === 'NOTIFY' && r.body.toString().startsWith('SIP/2.0 200')))).toBe(true);
    // The target refuses: the upstream ends its call (its transferor is gone).
    desk2.reject(target, 486);
    await until(() => up.server.calls.activeCount === 0, 'upstream call ended');
  });

  it('without hold before REFER and without BYE with REFER: no hold re-INVITE, the handset leaves, the upstream leg stays until the upstream ends it', async () => {
    const handset = ends.of('1001');
    const desk = ends.of('41520');
    const desk2 = ends.of('41530');
    lines.settings = { ...lines.settings, holdBeforeRefer: false, byeWithRefer: false };
    try {
      desk.behaviour = 'answer';
      desk2.behaviour = 'answer';
      const out = handset.call('41520');
      const inc = await desk.waitIncoming(desk.incoming.length);
      expect((await out.final).status).toBe(200);
      await until(() => inc.acked !== undefined, 'ACK at the desk phone');
      const reinvitesBefore = desk.requests.filter((r) => r.method === 'INVITE').length;
      const byesBefore = handset.requests.filter((r) => r.method === 'BYE').length;
      const ringsBefore = desk2.incoming.length;
      const refer = await handset.inDialog(out.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:41530@${DOMAIN}>` }] });
      expect(refer.status).toBe(202);
      await desk2.waitIncoming(ringsBefore + 1);
      await until(() => handset.requests.filter((r) => r.method === 'BYE').length > byesBefore, 'BYE at the handset');
      // The target answered: the upstream joined the desk phones and released its transferor, our upstream leg.
      await until(() => gw.server.calls.activeCount === 0, 'gateway call ended by the upstream');
      // The upstream's own transfer re-pairs the desk phone by re-INVITE; a hold (sendonly/inactive) never came from us.
      const reinvites = desk.requests.filter((r) => r.method === 'INVITE').slice(reinvitesBefore);
      expect(reinvites.some((r) => /a=(sendonly|inactive)/.test(r.body.toString()))).toBe(false);
      const transferred = [...up.server.calls.calls()].find((c) => c.state === 'connected');
      expect([transferred?.caller.number, transferred?.callee.number].sort()).toEqual(['41520', '41530']);
    } finally {
      lines.settings = { ...lines.settings, holdBeforeRefer: true, byeWithRefer: true };
    }
  });
});

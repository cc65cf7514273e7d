// Transfer through the handset gateway (issue 15 item 3, SPEC B-12): a
// handset's attended transfer between two upstream parties goes upstream as
// a REFER whose Replaces names the gateway's consultation dialog with the
// upstream, and, without Send BYE with REFER, the upstream's sipfrag NOTIFYs
// reach the handset's REFER subscription. Two Switchboards (the upstream
// with desk phones, the gateway with a handset) and our own test phones on
// loopback; the line is registered by the in-test lines manager of pair.ts
// as in calls.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import type { TestPhone } from '../lib/phone.ts';
import { until } from '../lib/until.ts';
import { tagOf } from '../../../src/sip/headers.ts';
import { referToWithReplaces } from '../../../src/sip/ua/replaces.ts';
import { sipUri } from '../../../src/pbx/routing/targets.ts';
import type { CallView } from '../../../src/pbx/call/context.ts';
import { addUsers, Endpoints, InTestLines, stopAll } from './pair.ts';

const DOMAIN = 'test.local';
const HANDSET = '2001';
const LINE = { extension: HANDSET, displayName: 'Handset', user: '42510', password: 'pw-42510', contactUser: 'gw-42510', domain: DOMAIN };

let up: TestServer;
let gw: TestServer;
/** The gateway side of one line (2001 ↔ 42510 at the upstream), over UDP. */
let lines: InTestLines;
const ends = new Endpoints();

async function phone(ts: TestServer, ext: string): Promise<TestPhone> {
  await addUsers(ts, [{ extension: ext, password: `pw-${ext}`, name: `User ${ext}`, media: { security: 'disabled' } }]);
  return ends.phone(ts, ext, `pw-${ext}`, DOMAIN);
}

const connected = (ts: TestServer): CallView[] => [...ts.server.calls.calls()].filter((c) => c.state === 'connected');
const sipfrags = (p: TestPhone, callId: string): string[] =>
  p.requests.filter((r) => r.method === 'NOTIFY' && r.callId === callId).map((r) => r.body.toString().split('\r\n')[0]!);

let handset: TestPhone;
let desk: TestPhone;
let desk2: TestPhone;

beforeAll(async () => {
  up = await startTestServer({ config: { media: { relay: { portMin: 35000, portMax: 35999 } } } });
  gw = await startTestServer({ config: { media: { relay: { portMin: 36000, portMax: 36999 } } } });
  // The line's account at the upstream: SRTP only toward the gateway (its default offer is RTP/SAVP only).
  await addUsers(up, [{ extension: LINE.user, password: LINE.password, name: 'Line', media: { security: 'enforced' } }]);
  lines = new InTestLines(LINE, up, gw);
  gw.server.gatewayCalls.attach(lines);
  expect(await lines.register()).toBe(200);
  handset = await phone(gw, HANDSET);
  desk = await phone(up, '42520');
  desk2 = await phone(up, '42530');
});

afterAll(() => stopAll(ends, gw, up));

describe('transfer through the gateway', () => {
  it('attended transfer by the handset between two upstream parties: the upstream joins them, the handset calls end', async () => {
    desk.behaviour = 'answer';
    desk2.behaviour = 'answer';
    const a = handset.call('42520');
    expect((await a.final).status).toBe(200);
    const b = handset.call('42530');
    expect((await b.final).status).toBe(200);
    await until(() => connected(gw).length === 2 && connected(up).length === 2, 'both calls up on both servers');
    const byesBefore = handset.requests.filter((r) => r.method === 'BYE').length;
    // The handset names its consultation dialog with the gateway, from the gateway's side (RFC 3891 §3).
    const d = b.dialog!;
    const referTo = referToWithReplaces(sipUri('42530', DOMAIN), { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    const refer = await handset.inDialog(a.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: referTo }] });
    expect(refer.status).toBe(202);
    // The upstream joined its two parties in one call; the gateway has no call left, the handset got BYE in both.
    await until(() => gw.server.calls.activeCount === 0, 'gateway calls ended');
    await until(() => up.server.calls.activeCount === 1 && connected(up).length === 1, 'one call at the upstream');
    const joined = connected(up)[0]!;
    expect([joined.caller.number, joined.callee.number].sort()).toEqual(['42520', '42530']);
    await until(() => handset.requests.filter((r) => r.method === 'BYE').length >= byesBefore + 2, 'BYE in both handset calls');
    const byes = handset.requests.filter((r) => r.method === 'BYE').slice(byesBefore).map((r) => r.callId).sort();
    expect(byes).toEqual([a.invite.callId, b.invite.callId].sort());
    expect(sipfrags(handset, a.invite.callId)).toContain('SIP/2.0 200 OK');
    // Clean up: a desk phone hangs up; the upstream ends the joined call.
    const deskDialog = [...desk.dialogs.values()].at(-1)!;
    await desk.inDialog(deskDialog, 'BYE');
    await until(() => up.server.calls.activeCount === 0, 'upstream call ended');
  });

  it('attended transfer while the upstream consultation call still rings: it becomes a blind transfer upstream to the number rung', async () => {
    desk.behaviour = 'answer';
    desk2.behaviour = 'ring';
    const a = handset.call('42520');
    expect((await a.final).status).toBe(200);
    const rings = desk2.incoming.length;
    const b = handset.call('42530');
    await desk2.waitIncoming(rings + 1);
    await until(() => b.responses.some((r) => r.status === 180 && tagOf(r.to) !== undefined), '180 at the handset');
    const early = b.responses.find((r) => r.status === 180)!;
    const referTo = referToWithReplaces(sipUri('42530', DOMAIN), { callId: b.invite.callId, toTag: tagOf(early.to)!, fromTag: tagOf(b.invite.from)!, earlyOnly: false });
    const refer = await handset.inDialog(a.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: referTo }] });
    expect(refer.status).toBe(202);
    // The handset's ringing call ended; the upstream rings the target again for the desk phone (a blind transfer there).
    expect((await b.final).status).toBe(487);
    const target = await desk2.waitIncoming(rings + 2);
    await until(() => gw.server.calls.activeCount === 0, 'gateway calls ended');
    expect(target.invite.from.uri.user).not.toBe(LINE.user);
    desk2.answer(target);
    await until(() => connected(up).some((c) => [c.caller.number, c.callee.number].sort().join() === '42520,42530'), 'desk phones joined upstream');
    expect((await desk2.inDialog(target.dialog!, 'BYE')).status).toBe(200);
    await until(() => up.server.calls.activeCount === 0, 'upstream call ended');
  });

  it('blind transfer without BYE with REFER: the upstream’s sipfrag progress reaches the handset, 200 OK once the target answers', async () => {
    lines.settings = { ...lines.settings, holdBeforeRefer: false, byeWithRefer: false };
    try {
      desk.behaviour = 'answer';
      desk2.behaviour = 'ring';
      const out = handset.call('42520');
      expect((await out.final).status).toBe(200);
      await until(() => connected(gw).length === 1 && connected(up).length === 1, 'call up');
      const rings = desk2.incoming.length;
      const refer = await handset.inDialog(out.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:42530@${DOMAIN}>` }] });
      expect(refer.status).toBe(202);
      const target = await desk2.waitIncoming(rings + 1);
      // One transfer at a time per call.
      const again = await handset.inDialog(out.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:42530@${DOMAIN}>` }] });
      expect(again.status).toBe(491);
      // The upstream's 180 Ringing came to the handset by way of the gateway; no 200 before the target answered.
      await until(() => sipfrags(handset, out.invite.callId).includes('SIP/2.0 180 Ringing'), 'NOTIFY 180 at the handset');
      expect(sipfrags(handset, out.invite.callId)).not.toContain('SIP/2.0 200 OK');
      desk2.answer(target);
      await until(() => sipfrags(handset, out.invite.callId).includes('SIP/2.0 200 OK'), 'NOTIFY 200 at the handset');
      const last = handset.requests.filter((r) => r.method === 'NOTIFY' && r.callId === out.invite.callId).at(-1)!;
      expect(last.headers.find((h) => h.name === 'subscription-state')?.value).toMatch(/^terminated/);
      await until(() => gw.server.calls.activeCount === 0, 'gateway call ended by the upstream');
      const joined = connected(up);
      expect(joined.map((c) => [c.caller.number, c.callee.number].sort())).toEqual([['42520', '42530']]);
      expect((await desk2.inDialog(target.dialog!, 'BYE')).status).toBe(200);
      await until(() => up.server.calls.activeCount === 0, 'upstream call ended');
    } finally {
      lines.settings = { ...lines.settings, holdBeforeRefer: true, byeWithRefer: true };
    }
  });

  it('attended transfer between an upstream party and a local one: bridged at the gateway, as a local transfer', async () => {
    const local = await phone(gw, '2002');
    desk.behaviour = 'answer';
    handset.behaviour = 'answer';
    const a = handset.call('42520');
    expect((await a.final).status).toBe(200);
    const before = handset.incoming.length;
    const b = local.call(HANDSET);
    const inc = await handset.waitIncoming(before + 1);
    expect((await b.final).status).toBe(200);
    await until(() => inc.acked !== undefined && connected(gw).length === 2, 'both calls up at the gateway');
    const upRefersBefore = desk.requests.filter((r) => r.method === 'REFER').length;
    // The handset names call B from the gateway's side: the gateway's tag is the to-tag.
    const d = inc.dialog!;
    const referTo = referToWithReplaces(sipUri('2002', DOMAIN), { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    const refer = await handset.inDialog(a.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: referTo }] });
    expect(refer.status).toBe(202);
    await until(() => sipfrags(handset, a.invite.callId).includes('SIP/2.0 200 OK'), 'NOTIFY 200 at the handset');
    // One call left at the gateway: the upstream party (call A's line leg) bridged to the local phone;
    // the upstream still has its one call and was sent no REFER.
    await until(() => gw.server.calls.activeCount === 1, 'one call at the gateway');
    const joined = connected(gw)[0]!;
    expect([joined.caller.number, joined.callee.number]).toEqual(['42520', '2002']);
    expect(up.server.calls.activeCount).toBe(1);
    expect(desk.requests.filter((r) => r.method === 'REFER').length).toBe(upRefersBefore);
    await until(() => handset.requests.filter((r) => r.method === 'BYE' && r.callId === inc.invite.callId).length === 1, 'handset left call B');
    // The desk phone hangs up: the local phone gets BYE in its call B dialog, so the two were joined.
    const byes = local.requests.filter((r) => r.method === 'BYE').length;
    expect((await desk.inDialog(desk.incoming.at(-1)!.dialog!, 'BYE')).status).toBe(200);
    await until(() => local.requests.filter((r) => r.method === 'BYE' && r.callId === b.invite.callId).length > byes, 'BYE at the local phone');
    await until(() => gw.server.calls.activeCount === 0 && up.server.calls.activeCount === 0, 'calls ended');
  });
});

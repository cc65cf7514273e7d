// Short codes that change settings (SPEC A-11, AC-12), dialled by a test
// phone: each is answered 200 and ended by the server's BYE right after the
// ACK, and its effect is checked twice — in the store, and from a second
// party whose call now rings the forward target, gets DND treatment, and so
// on. Codes that cannot be carried out get a 4xx whose reason says why.
// (Park, unpark and pickup codes have their own file.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, headers } from './rig.ts';
import type { OutgoingCall, TestPhone } from '../lib/phone.ts';
import type { User, UserPatch } from '../../../src/store/types.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
let n = 3000;
let g = 700;
const next = () => String(n++);
const phone = (patch: UserPatch = {}) => rig.phone(next(), patch);
const stored = async (p: TestPhone): Promise<User> => (await rig.server.store.users.getByExtension(p.opts.ext))!;

beforeAll(async () => {
  rig = await Rig.start();
});
afterAll(() => rig.stop());

/** Dials a code that must be carried out: 200, our ACK, then the server's BYE on that dialog. */
async function dial(p: TestPhone, code: string): Promise<void> {
  const out = p.call(code);
  const res = await out.final;
  expect(res.status, `${code}: ${res.status} ${res.reason}`).toBe(200);
  const byeOfCode = () => Rig.received(p, 'BYE').some((b) => b.callId === out.invite.callId);
  expect(await waitUntil(byeOfCode)).toBe(true);
  expect(await rig.idle()).toBe(true);
  // The code call leaves a record like any call: answered, to the code as dialled.
  const dialled = decodeURIComponent(code);
  expect(await waitUntil(async () => (await rig.server.store.cdrs.list({ extension: p.opts.ext })).some((c) => c.callee === dialled && c.disposition === 'answered'))).toBe(true);
}

/** Dials a code that must be refused: the final response, and no dialog left behind. */
async function refused(p: TestPhone, code: string): Promise<{ status: number; reason: string }> {
  const res = await p.call(code).final;
  expect(await rig.idle()).toBe(true);
  return { status: res.status, reason: res.reason };
}

/** `from` calls `to`: the call must ring `at` (and be cancelled again); the INVITE `at` got. */
async function ringsAt(from: TestPhone, to: string, at: TestPhone) {
  const before = at.incoming.length;
  at.behaviour = 'ring';
  const out = from.call(to);
  const inc = await at.waitIncoming(before + 1);
  await waitUntil(() => out.responses.some((r) => r.status === 180));
  await giveUp(from, out);
  return inc.invite;
}

async function giveUp(caller: TestPhone, out: OutgoingCall): Promise<void> {
  caller.cancel(out);
  expect((await out.final).status).toBe(487);
  expect(await rig.idle()).toBe(true);
}

describe('dialling', () => {
  it('sends # escaped as %23 in the Request-URI, and the server still matches *07*N#', async () => {
    const [u, c] = [await phone(), await phone()];
    const out = u.call(`*07*${c.opts.ext}#`);
    expect(out.invite.uriRaw).toBe(`sip:*07*${c.opts.ext}%23@test.local`);
    expect((await out.final).status).toBe(200);
    await u.waitRequest('BYE');
    expect((await stored(u)).forwardUnconditional).toBe(c.opts.ext);
  });
});

describe('a code dialled without an SDP offer (late offer)', () => {
  it('is answered with an inactive offer of ours, carried out, and ended by our BYE', async () => {
    const u = await phone();
    const out = u.call('*08', { body: null, ackBody: Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=inactive\r\n') });
    const res = await out.final;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toMatch(/m=audio 9 RTP\/AVP 0 101/);
    expect(res.body.toString()).toContain('a=inactive');
    expect(await waitUntil(() => Rig.received(u, 'BYE').some((b) => b.callId === out.invite.callId))).toBe(true);
    expect((await rig.server.store.users.getByExtension(u.opts.ext))!.dnd).toBe(true);
  });
});

describe('forwarding codes', () => {
  it('*07*N# stores the number and forwards every call there; a caller then rings N with Diversion', async () => {
    const [u, c, x] = [await phone(), await phone(), await phone()];
    await dial(u, `*07*${c.opts.ext}#`);
    expect(await stored(u)).toMatchObject({ forwardNumber: c.opts.ext, forwardUnconditional: c.opts.ext });
    const inv = await ringsAt(x, u.opts.ext, c);
    expect(headers(inv, 'diversion')[0]).toBe(`<sip:${u.opts.ext}@test.local>;reason=unconditional;counter=1`);
    expect(u.incoming).toHaveLength(0);
  });

  it('*07*N# to one’s own number is refused with a reason', async () => {
    const u = await phone();
    expect(await refused(u, `*07*${u.opts.ext}#`)).toEqual({ status: 403, reason: 'Cannot forward to oneself' });
    expect((await stored(u)).forwardUnconditional).toBeNull();
  });

  it('*01 / *03 / *05 without a stored forward number are refused (403, with the reason)', async () => {
    const u = await phone();
    for (const code of ['*01', '*03', '*05']) {
      const r = await refused(u, code);
      expect(r.status).toBe(403);
      expect(r.reason).toMatch(/^No forward number stored/);
    }
    expect(await stored(u)).toMatchObject({ forwardUnconditional: null, forwardBusy: null, forwardNoAnswer: null });
  });

  it('*01 turns unconditional forwarding on to the stored number, *02 off again (the number stays)', async () => {
    const [u, c, x] = [await phone(), await phone(), await phone()];
    await rig.user(u.opts.ext, { forwardNumber: c.opts.ext });
    await dial(u, '*01');
    expect((await stored(u)).forwardUnconditional).toBe(c.opts.ext);
    await ringsAt(x, u.opts.ext, c);
    expect(u.incoming).toHaveLength(0);
    await dial(u, '*02');
    expect(await stored(u)).toMatchObject({ forwardUnconditional: null, forwardNumber: c.opts.ext });
    await ringsAt(x, u.opts.ext, u);
    expect(c.incoming).toHaveLength(1);
  });

  it('*03 forwards on busy to the stored number, *04 stops it (the caller then gets 486)', async () => {
    const [u, c, x] = [await phone(), await phone(), await phone()];
    await rig.user(u.opts.ext, { forwardNumber: c.opts.ext });
    await dial(u, '*03');
    expect((await stored(u)).forwardBusy).toBe(c.opts.ext);
    u.behaviour = 'busy';
    const inv = await ringsAtAfterBusy(x, u, c);
    expect(headers(inv, 'diversion')[0]).toContain('reason=user-busy');
    await dial(u, '*04');
    expect((await stored(u)).forwardBusy).toBeNull();
    u.behaviour = 'busy';
    expect((await x.call(u.opts.ext).final).status).toBe(486);
    expect(c.incoming).toHaveLength(1);
  });

  it('*05 forwards on no answer to the stored number after the ring time, *06 stops it', async () => {
    const [u, c, x] = [await phone(), await phone(), await phone()];
    await rig.user(u.opts.ext, { forwardNumber: c.opts.ext, forwardNoAnswerSec: 5 });
    await dial(u, '*05');
    expect((await stored(u)).forwardNoAnswer).toBe(c.opts.ext);
    u.behaviour = 'ring';
    c.behaviour = 'ring';
    const out = x.call(u.opts.ext);
    const atU = await u.waitIncoming(1);
    expect(await rig.ringing(u.opts.ext)).toBe(true);
    await rig.advance(5_000);
    const atC = await c.waitIncoming(1);
    expect(atU.cancelled).toBe(true);
    expect(headers(atC.invite, 'diversion')[0]).toContain('reason=no-answer');
    await giveUp(x, out);
    await dial(u, '*06');
    expect((await stored(u)).forwardNoAnswer).toBeNull();
    // Without the forward the call rings on past 5 s, and nobody else rings.
    const again = x.call(u.opts.ext);
    await u.waitIncoming(2);
    expect(await rig.ringing(u.opts.ext)).toBe(true);
    await rig.advance(5_000);
    expect(c.incoming).toHaveLength(1);
    expect(u.incoming[1]!.cancelled).toBe(false);
    await giveUp(x, again);
  });

  it('*00 turns every forward off and keeps the stored number', async () => {
    const [u, c, x] = [await phone(), await phone(), await phone()];
    await rig.user(u.opts.ext, { forwardUnconditional: c.opts.ext, forwardBusy: c.opts.ext, forwardNoAnswer: c.opts.ext });
    await dial(u, '*00');
    expect(await stored(u)).toMatchObject({ forwardUnconditional: null, forwardBusy: null, forwardNoAnswer: null, forwardNumber: c.opts.ext });
    await ringsAt(x, u.opts.ext, u);
    expect(c.incoming).toHaveLength(0);
  });
});

/** `from` calls `user`, whose phone answers 486: the call must move on to `at`. */
async function ringsAtAfterBusy(from: TestPhone, user: TestPhone, at: TestPhone) {
  const before = user.incoming.length;
  const inv = await ringsAt(from, user.opts.ext, at);
  expect(user.incoming).toHaveLength(before + 1);
  return inv;
}

describe('do not disturb codes', () => {
  it('*08 turns DND on (callers get 486 "Do Not Disturb"), *09 off', async () => {
    const [u, x] = [await phone(), await phone()];
    await dial(u, '*08');
    expect((await stored(u)).dnd).toBe(true);
    const r = await x.call(u.opts.ext).final;
    expect([r.status, r.reason]).toEqual([486, 'Do Not Disturb']);
    expect(u.incoming).toHaveLength(0);
    await dial(u, '*09');
    expect((await stored(u)).dnd).toBe(false);
    await ringsAt(x, u.opts.ext, u);
  });

  it('*10*N# lets N ring through DND, *11*N# takes the exception away', async () => {
    const [u, x, y] = [await phone({ dnd: true }), await phone(), await phone()];
    await dial(u, `*10*${x.opts.ext}#`);
    expect((await stored(u)).dndExceptions).toEqual([x.opts.ext]);
    await ringsAt(x, u.opts.ext, u);
    expect((await y.call(u.opts.ext).final).status).toBe(486);
    await dial(u, `*11*${x.opts.ext}#`);
    expect((await stored(u)).dndExceptions).toEqual([]);
    expect((await x.call(u.opts.ext).final).status).toBe(486);
    expect(u.incoming).toHaveLength(1);
  });
});

describe('follow me codes', () => {
  it('*12*N# dialled at P makes N’s calls ring P; *13*N# stops it', async () => {
    const [n1, p, x] = [await phone(), await phone(), await phone()];
    await dial(p, `*12*${n1.opts.ext}#`);
    expect((await stored(n1)).followMe).toBe(p.opts.ext);
    expect((await stored(p)).followMe).toBeNull();
    await ringsAt(x, n1.opts.ext, p);
    expect(n1.incoming).toHaveLength(0);
    await dial(p, `*13*${n1.opts.ext}#`);
    expect((await stored(n1)).followMe).toBeNull();
    await ringsAt(x, n1.opts.ext, n1);
    expect(p.incoming).toHaveLength(1);
  });

  it('*12*N# for one’s own number is refused; for no such user, 404', async () => {
    const p = await phone();
    expect(await refused(p, `*12*${p.opts.ext}#`)).toEqual({ status: 403, reason: 'Follow me to the same extension' });
    expect((await refused(p, '*12*3999#')).status).toBe(404);
  });
});

describe('call waiting codes', () => {
  it('*16 turns call waiting off (a second call gets 486), *15 on (it rings)', async () => {
    const [u, d, x] = [await phone(), await phone(), await phone()];
    await dial(u, '*16');
    expect((await stored(u)).callWaiting).toBe(false);
    const first = await rig.connect(d, u.opts.ext, u);
    expect((await x.call(u.opts.ext).final).status).toBe(486);
    expect(u.incoming).toHaveLength(1);
    expect((await d.inDialog(first.out.dialog!, 'BYE')).status).toBe(200);
    expect(await rig.idle()).toBe(true);

    await dial(u, '*15');
    expect((await stored(u)).callWaiting).toBe(true);
    const second = await rig.connect(d, u.opts.ext, u);
    u.behaviour = 'ring';
    const out = x.call(u.opts.ext);
    await u.waitIncoming(3);
    await waitUntil(() => out.responses.some((r) => r.status === 180));
    x.cancel(out);
    expect((await out.final).status).toBe(487);
    expect((await d.inDialog(second.out.dialog!, 'BYE')).status).toBe(200);
    expect(await rig.idle()).toBe(true);
  });
});

describe('hunt group codes', () => {
  it('*46*G# logs the member out (group calls skip it), *45*G# back in (they ring it)', async () => {
    const [m, other, x] = [await phone(), await phone(), await phone()];
    const number = String(g++);
    await rig.server.store.huntGroups.add({ number, name: 'Desk', strategy: 'ring-all', members: [m.opts.ext, other.opts.ext], noAnswerSec: 10, overflow: null });
    await rig.server.featureTables.poll();
    await dial(m, `*46*${number}#`);
    expect((await rig.server.store.huntGroups.get(number))!.members).toEqual([{ extension: m.opts.ext, loggedIn: false }, { extension: other.opts.ext, loggedIn: true }]);
    await ringsAt(x, number, other);
    expect(m.incoming).toHaveLength(0);
    await dial(m, `*45*${number}#`);
    expect((await rig.server.store.huntGroups.get(number))!.members[0]!.loggedIn).toBe(true);
    await ringsAt(x, number, m);
    expect(other.incoming).toHaveLength(2);
  });

  it('*45*G# for a group the caller is not in, or no group at all, is refused 404 with a reason', async () => {
    const [m, outsider] = [await phone(), await phone()];
    const number = String(g++);
    await rig.server.store.huntGroups.add({ number, name: 'Closed', strategy: 'sequential', members: [m.opts.ext], noAnswerSec: 10, overflow: null });
    await rig.server.featureTables.poll();
    expect(await refused(outsider, `*45*${number}#`)).toEqual({ status: 404, reason: 'Not A Member Of That Hunt Group' });
    expect((await rig.server.store.huntGroups.get(number))!.members).toEqual([{ extension: m.opts.ext, loggedIn: true }]);
    expect(await refused(outsider, '*46*799#')).toEqual({ status: 404, reason: 'No Such Hunt Group' });
  });
});

describe('voicemail code', () => {
  it('*17 is refused 480 "Voicemail Not Available" until the media server lands', async () => {
    const u = await phone();
    expect(await refused(u, '*17')).toEqual({ status: 480, reason: 'Voicemail Not Available' });
  });
});

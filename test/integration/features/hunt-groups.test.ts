// Hunt groups on manual time: ring-all, sequential, rotary and longest-idle
// strategies, members skipped (logged out, busy, in DND, unregistered), and
// overflow once every member was tried. Each test checks which member phones
// got the INVITE, in which order, and which got CANCEL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, headers } from './rig.ts';
import type { IncomingCall, OutgoingCall, TestPhone } from '../lib/phone.ts';
import type { HuntGroupInput, UserPatch } from '../../../src/store/types.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
let n = 2000;
let g = 600;
const next = () => String(n++);
/** A registered member phone that rings (does not answer by itself). */
async function member(patch: UserPatch = {}): Promise<TestPhone> {
  const p = await rig.phone(next(), patch);
  p.behaviour = 'ring';
  return p;
}
/** A hunt group in the store, seen by routing at once. */
async function group(input: Omit<HuntGroupInput, 'number' | 'name'>, number = String(g++)): Promise<string> {
  await rig.server.store.huntGroups.add({ number, name: `Group ${number}`, noAnswerSec: 10, ...input });
  await rig.server.featureTables.poll();
  return number;
}
async function loggedIn(number: string, p: TestPhone, on: boolean): Promise<void> {
  await rig.server.store.huntGroups.setMemberLoggedIn(number, p.opts.ext, on);
  await rig.server.featureTables.poll();
}
const exts = (...ps: TestPhone[]) => ps.map((p) => p.opts.ext);

beforeAll(async () => {
  rig = await Rig.start();
});
afterAll(() => rig.stop());

/** Waits for the n-th INVITE at a phone and for the server to see it ring. */
async function rings(p: TestPhone, count = 1): Promise<IncomingCall> {
  const inc = await p.waitIncoming(count);
  expect(await rig.ringing(p.opts.ext)).toBe(true);
  return inc;
}

async function answer(p: TestPhone, inc: IncomingCall, out: OutgoingCall): Promise<void> {
  p.answer(inc);
  expect((await out.final).status).toBe(200);
  await waitUntil(() => inc.acked !== undefined);
}

async function hangUp(caller: TestPhone, out: OutgoingCall): Promise<void> {
  expect((await caller.inDialog(out.dialog!, 'BYE')).status).toBe(200);
  expect(await rig.idle()).toBe(true);
}

describe('ring-all', () => {
  it('rings every logged-in member at once; the first to answer wins, the others get CANCEL', async () => {
    const caller = await rig.phone(next());
    const [m1, m2, m3, off] = [await member(), await member(), await member(), await member()];
    const number = await group({ strategy: 'ring-all', members: exts(m1, m2, m3, off) });
    await loggedIn(number, off, false);
    const out = caller.call(number);
    const [i1, i2, i3] = [await rings(m1), await rings(m2), await rings(m3)];
    await answer(m2, i2, out);
    await waitUntil(() => i1.cancelled && i3.cancelled);
    expect(i1.cancelled).toBe(true);
    expect(i3.cancelled).toBe(true);
    expect(i2.cancelled).toBe(false);
    expect(off.incoming).toHaveLength(0);
    expect(i2.invite.from.uri.user).toBe(caller.opts.ext);
    await hangUp(caller, out);
    await m2.waitRequest('BYE');
  });

  // Known bug (src/pbx/call/call.ts, reported): a ring-all step has no single
  // callee user, and the member who answers is never recorded as the call's
  // callee, so the engine does not count the call as theirs (busy, longest
  // idle). This flips to a failure once the answering member is recorded.
  it('a member who answered a group call is busy: without call waiting, a direct call gets 486', async () => {
    const [caller, other] = [await rig.phone(next()), await rig.phone(next())];
    const [m1, m2] = [await member({ callWaiting: false }), await member()];
    const number = await group({ strategy: 'ring-all', members: exts(m1, m2) });
    const out = caller.call(number);
    const [i1, i2] = [await rings(m1), await rings(m2)];
    await answer(m1, i1, out);
    await waitUntil(() => i2.cancelled);
    const direct = other.call(m1.opts.ext);
    await waitUntil(() => m1.incoming.length > 1 || direct.responses.some((r) => r.status >= 300));
    const rangAgain = m1.incoming.length > 1;
    if (rangAgain) other.cancel(direct);
    const status = (await direct.final).status;
    await hangUp(caller, out);
    expect(rangAgain).toBe(false);
    expect(status).toBe(486);
  });

  it('rings for noAnswerSec, then every member is cancelled and the caller is busy', async () => {
    const caller = await rig.phone(next());
    const [m1, m2] = [await member(), await member()];
    const number = await group({ strategy: 'ring-all', members: exts(m1, m2), noAnswerSec: 8 });
    const out = caller.call(number);
    const [i1, i2] = [await rings(m1), await rings(m2)];
    await rig.advance(7_900);
    expect(i1.cancelled || i2.cancelled).toBe(false);
    await rig.advance(100);
    expect((await out.final).status).toBe(486);
    await waitUntil(() => i1.cancelled && i2.cancelled);
    expect([i1.cancelled, i2.cancelled]).toEqual([true, true]);
    expect(await rig.idle()).toBe(true);
  });
});

describe('sequential', () => {
  it('rings member 1 for noAnswerSec, then cancels it and rings member 2', async () => {
    const caller = await rig.phone(next());
    const [m1, m2] = [await member(), await member()];
    const number = await group({ strategy: 'sequential', members: exts(m1, m2), noAnswerSec: 10 });
    const out = caller.call(number);
    const i1 = await rings(m1);
    expect(m2.incoming).toHaveLength(0);
    await rig.advance(9_900);
    expect(m2.incoming).toHaveLength(0);
    await rig.advance(100);
    const i2 = await rings(m2);
    expect(i1.cancelled).toBe(true);
    await answer(m2, i2, out);
    await hangUp(caller, out);
  });

  it('skips members who are busy, in DND, unregistered or logged out; a 486 moves on at once', async () => {
    const caller = await rig.phone(next());
    const other = await rig.phone(next());
    const busy = await member({ callWaiting: false });
    const dnd = await member({ dnd: true });
    const unregistered = next();
    await rig.user(unregistered);
    const loggedOut = await member();
    const refuses = await member();
    refuses.behaviour = 'busy';
    const last = await member();
    const number = await group({ strategy: 'sequential', members: [...exts(busy, dnd), unregistered, ...exts(loggedOut, refuses, last)] });
    await loggedIn(number, loggedOut, false);
    const first = await rig.connect(other, busy.opts.ext, busy);
    const out = caller.call(number);
    const inc = await rings(last);
    expect(refuses.incoming).toHaveLength(1);
    expect(busy.incoming).toHaveLength(1);
    expect(dnd.incoming).toHaveLength(0);
    expect(loggedOut.incoming).toHaveLength(0);
    await answer(last, inc, out);
    await caller.inDialog(out.dialog!, 'BYE');
    await hangUp(other, first.out);
  });
});

describe('rotary', () => {
  it('starts each call after the member that rang last', async () => {
    const caller = await rig.phone(next());
    const [m1, m2, m3] = [await member(), await member(), await member()];
    const number = await group({ strategy: 'rotary', members: exts(m1, m2, m3) });
    const first = caller.call(number);
    await answer(m1, await rings(m1), first);
    expect(m2.incoming).toHaveLength(0);
    await hangUp(caller, first);
    expect((await rig.server.store.huntGroups.get(number))!.lastMember).toBe(m1.opts.ext);

    const second = caller.call(number);
    const at2 = await rings(m2);
    expect(m1.incoming).toHaveLength(1);
    // Unanswered: on to m3, which is now the member that rang last.
    await rig.advance(10_000);
    await answer(m3, await rings(m3), second);
    expect(at2.cancelled).toBe(true);
    await hangUp(caller, second);
    expect((await rig.server.store.huntGroups.get(number))!.lastMember).toBe(m3.opts.ext);

    const third = caller.call(number);
    await answer(m1, await rings(m1, 2), third);
    expect(m2.incoming).toHaveLength(1);
    expect(m3.incoming).toHaveLength(1);
    await hangUp(caller, third);
  });
});

describe('longest idle', () => {
  it('rings first the member whose last call ended longest ago, then the next', async () => {
    const caller = await rig.phone(next());
    const [m1, m2, m3] = [await member(), await member(), await member()];
    // Calls end in the order m2, m3, m1 (a second apart): m2 has been idle longest.
    for (const m of [m2, m3, m1]) {
      const { out } = await rig.connect(caller, m.opts.ext, m);
      await hangUp(caller, out);
      m.behaviour = 'ring';
      await rig.advance(1_000);
    }
    const number = await group({ strategy: 'longest-idle', members: exts(m1, m2, m3) });
    const out = caller.call(number);
    const i2 = await rings(m2, 2);
    expect(m1.incoming).toHaveLength(1);
    expect(m3.incoming).toHaveLength(1);
    await rig.advance(10_000);
    const i3 = await rings(m3, 2);
    expect(i2.cancelled).toBe(true);
    expect(m1.incoming).toHaveLength(1);
    await rig.advance(10_000);
    const i1 = await rings(m1, 2);
    expect(i3.cancelled).toBe(true);
    await answer(m1, i1, out);
    await hangUp(caller, out);
  });

  it('a member who never had a call counts as idle longest', async () => {
    const caller = await rig.phone(next());
    const [m1, fresh] = [await member(), await member()];
    const { out: before } = await rig.connect(caller, m1.opts.ext, m1);
    await hangUp(caller, before);
    m1.behaviour = 'ring';
    const number = await group({ strategy: 'longest-idle', members: exts(m1, fresh) });
    const out = caller.call(number);
    await answer(fresh, await rings(fresh), out);
    expect(m1.incoming).toHaveLength(1);
    await hangUp(caller, out);
  });
});

describe('overflow', () => {
  it('after every member was tried, goes to the overflow group with a Diversion from the first group', async () => {
    const caller = await rig.phone(next());
    const [m1, m2, backup] = [await member(), await member(), await member()];
    const second = await group({ strategy: 'ring-all', members: exts(backup) });
    const number = await group({ strategy: 'sequential', members: exts(m1, m2), noAnswerSec: 5, overflow: second });
    const out = caller.call(number);
    const i1 = await rings(m1);
    await rig.advance(5_000);
    const i2 = await rings(m2);
    expect(backup.incoming).toHaveLength(0);
    await rig.advance(5_000);
    const ib = await rings(backup);
    expect(i1.cancelled && i2.cancelled).toBe(true);
    expect(headers(ib.invite, 'diversion')).toEqual([`<sip:${number}@test.local>;reason=no-answer;counter=1`]);
    await answer(backup, ib, out);
    await hangUp(caller, out);
  });

  it('goes to an overflow extension, which follows its own rules (here: forward unconditional)', async () => {
    const caller = await rig.phone(next());
    const [m1, target] = [await member(), await member()];
    const via = next();
    await rig.user(via, { forwardUnconditional: target.opts.ext });
    const number = await group({ strategy: 'ring-all', members: exts(m1), noAnswerSec: 5, overflow: via });
    const out = caller.call(number);
    const i1 = await rings(m1);
    await rig.advance(5_000);
    const it = await rings(target);
    expect(i1.cancelled).toBe(true);
    expect(headers(it.invite, 'diversion')[0]).toMatch(/reason=/);
    await answer(target, it, out);
    await hangUp(caller, out);
  });

  it('with no member available, overflows at once; without overflow the caller gets 486', async () => {
    const caller = await rig.phone(next());
    const [m1, m2, backup] = [await member(), await member({ dnd: true }), await member()];
    const withOverflow = await group({ strategy: 'sequential', members: exts(m1, m2), overflow: backup.opts.ext });
    await loggedIn(withOverflow, m1, false);
    const out = caller.call(withOverflow);
    await answer(backup, await rings(backup), out);
    expect(m1.incoming).toHaveLength(0);
    expect(m2.incoming).toHaveLength(0);
    await hangUp(caller, out);

    const without = await group({ strategy: 'ring-all', members: exts(m1, m2) });
    await loggedIn(without, m1, false);
    const final = await caller.call(without).final;
    expect(final.status).toBe(486);
    expect(m1.incoming).toHaveLength(0);
    expect(m2.incoming).toHaveLength(0);
  });

  it('a member logged back in rings again', async () => {
    const caller = await rig.phone(next());
    const m1 = await member();
    const number = await group({ strategy: 'sequential', members: exts(m1) });
    await loggedIn(number, m1, false);
    expect((await caller.call(number).final).status).toBe(486);
    expect(m1.incoming).toHaveLength(0);
    await loggedIn(number, m1, true);
    const out = caller.call(number);
    await answer(m1, await rings(m1), out);
    await hangUp(caller, out);
  });
});

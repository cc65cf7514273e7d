// Call forwarding, follow me, do not disturb and call waiting, on manual time:
// each test places a real call and checks on the wire which phone got the
// INVITE (with which Diversion / History-Info), which got CANCEL, and what
// the caller was answered. Forwarding loops and over-long chains must end,
// and forwarding out through a trunk needs the forwarding user's permission.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, headers } from './rig.ts';
import type { OutgoingCall, TestPhone } from '../lib/phone.ts';
import type { UserPatch } from '../../../src/store/types.ts';
import { MAX_DIVERSIONS } from '../../../src/pbx/routing/plan.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
let pstn: TestPhone;
let n = 1100;
const next = () => String(n++);
const phone = (patch: UserPatch = {}) => rig.phone(next(), patch);
const uri = (ext: string) => `sip:${ext}@test.local`;

beforeAll(async () => {
  rig = await Rig.start();
  pstn = await rig.trunkPeer('pstn', '9');
});
afterAll(() => rig.stop());

/** The caller hangs up an answered call; the server is left with no calls. */
async function hangUp(caller: TestPhone, out: OutgoingCall): Promise<void> {
  expect((await caller.inDialog(out.dialog!, 'BYE')).status).toBe(200);
  expect(await rig.idle()).toBe(true);
}

/** The caller gives up on a ringing call (CANCEL): 487, no calls left. */
async function giveUp(caller: TestPhone, out: OutgoingCall): Promise<void> {
  caller.cancel(out);
  expect((await out.final).status).toBe(487);
  expect(await rig.idle()).toBe(true);
}

describe('forward unconditional', () => {
  it('sends every call to the target with Diversion and History-Info; the user’s phone never rings', async () => {
    const a = await phone();
    const c = await phone();
    const b = await phone({ forwardUnconditional: c.opts.ext });
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    const inv = c.incoming[0]!.invite;
    expect(inv.from.uri.user).toBe(a.opts.ext);
    expect(inv.uri.user).toBe(c.opts.ext);
    expect(headers(inv, 'diversion')).toEqual([`<${uri(b.opts.ext)}>;reason=unconditional;counter=1`]);
    const hist = headers(inv, 'history-info');
    expect(hist).toHaveLength(2);
    expect(hist[0]).toMatch(new RegExp(`^<${uri(b.opts.ext)}\\?Reason=SIP%3Bcause%3D302>;index=1$`));
    expect(hist[1]).toMatch(new RegExp(`^<${uri(c.opts.ext)}>;index=1\\.1`));
    expect(b.incoming).toHaveLength(0);
    await hangUp(a, out);
  });

  it('reaches a user who has no phone registered', async () => {
    const a = await phone();
    const c = await phone();
    const b = next();
    await rig.user(b, { forwardUnconditional: c.opts.ext });
    const out = a.call(b);
    expect((await out.final).status).toBe(200);
    expect(headers(c.incoming[0]!.invite, 'diversion')[0]).toContain(`<${uri(b)}>;reason=unconditional`);
    await hangUp(a, out);
  });
});

describe('forward on busy', () => {
  it('forwards when the user is in a call without call waiting; the busy phone gets no second INVITE', async () => {
    const [a, c, d] = [await phone(), await phone(), await phone()];
    const b = await phone({ callWaiting: false, forwardBusy: c.opts.ext });
    const first = await rig.connect(d, b.opts.ext, b);
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(b.incoming).toHaveLength(1);
    expect(headers(c.incoming[0]!.invite, 'diversion')).toEqual([`<${uri(b.opts.ext)}>;reason=user-busy;counter=1`]);
    expect(headers(c.incoming[0]!.invite, 'history-info')[0]).toContain('cause%3D486');
    await a.inDialog(out.dialog!, 'BYE');
    await hangUp(d, first.out);
  });

  it('forwards when the phone itself answers 486', async () => {
    const a = await phone();
    const c = await phone();
    const b = await phone({ forwardBusy: c.opts.ext });
    b.behaviour = 'busy';
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(b.incoming).toHaveLength(1);
    expect(c.incoming).toHaveLength(1);
    expect(headers(c.incoming[0]!.invite, 'diversion')).toEqual([`<${uri(b.opts.ext)}>;reason=user-busy;counter=1`]);
    await hangUp(a, out);
  });

  it('without a forward, the caller gets the 486', async () => {
    const a = await phone();
    const b = await phone();
    b.behaviour = 'busy';
    expect((await a.call(b.opts.ext).final).status).toBe(486);
    expect(await rig.idle()).toBe(true);
  });
});

describe('forward on no answer', () => {
  it('rings the user for forwardNoAnswerSec, then CANCELs it and rings the target', async () => {
    const a = await phone();
    const c = await phone();
    const b = await phone({ forwardNoAnswer: c.opts.ext, forwardNoAnswerSec: 10, noAnswerTimeoutSec: 30 });
    b.behaviour = 'ring';
    c.behaviour = 'ring';
    const out = a.call(b.opts.ext);
    const atB = await b.waitIncoming();
    await waitUntil(() => out.responses.some((r) => r.status === 180));
    await rig.advance(9_900);
    expect(atB.cancelled).toBe(false);
    expect(c.incoming).toHaveLength(0);
    await rig.advance(100);
    await waitUntil(() => atB.cancelled);
    expect(atB.cancelled).toBe(true);
    const atC = await c.waitIncoming();
    expect(headers(atC.invite, 'diversion')).toEqual([`<${uri(b.opts.ext)}>;reason=no-answer;counter=1`]);
    expect(headers(atC.invite, 'history-info')[0]).toContain('cause%3D408');
    c.answer(atC);
    expect((await out.final).status).toBe(200);
    await hangUp(a, out);
  });

  it('without forwardNoAnswerSec, rings for the user’s noAnswerTimeoutSec', async () => {
    const a = await phone();
    const c = await phone();
    const b = await phone({ forwardNoAnswer: c.opts.ext, noAnswerTimeoutSec: 20 });
    b.behaviour = 'ring';
    c.behaviour = 'ring';
    const out = a.call(b.opts.ext);
    const atB = await b.waitIncoming();
    await rig.advance(19_000);
    expect(c.incoming).toHaveLength(0);
    await rig.advance(1_000);
    await c.waitIncoming();
    expect(atB.cancelled).toBe(true);
    await giveUp(a, out);
  });
});

describe('forward when unavailable', () => {
  it('sends the call of a user with no phone registered to the no-answer target at once', async () => {
    const a = await phone();
    const c = await phone();
    const b = next();
    await rig.user(b, { forwardNoAnswer: c.opts.ext });
    const out = a.call(b);
    expect((await out.final).status).toBe(200);
    expect(headers(c.incoming[0]!.invite, 'diversion')).toEqual([`<${uri(b)}>;reason=unavailable;counter=1`]);
    await hangUp(a, out);
  });

  it('without a forward, the caller gets 480', async () => {
    const a = await phone();
    const b = next();
    await rig.user(b);
    expect((await a.call(b).final).status).toBe(480);
  });
});

describe('forwarding loops and chains', () => {
  it('1001→1002→1001 unconditional rings 1002 once and never comes back', async () => {
    const a = await phone();
    const [x, y] = [next(), next()];
    await rig.user(x, { forwardUnconditional: y });
    const px = await rig.phone(x);
    const py = await rig.phone(y, { forwardUnconditional: x });
    py.behaviour = 'ring';
    const out = a.call(x);
    await py.waitIncoming();
    await waitUntil(() => out.responses.some((r) => r.status === 180));
    expect(px.incoming).toHaveLength(0);
    expect(py.incoming).toHaveLength(1);
    expect(headers(py.incoming[0]!.invite, 'diversion')).toEqual([`<${uri(x)}>;reason=unconditional;counter=1`]);
    await giveUp(a, out);
    expect(py.incoming).toHaveLength(1);
  });

  it('a no-answer loop (A→B→A) stops after B: the caller gets an answer, A rings once', async () => {
    const a = await phone();
    const [x, y] = [next(), next()];
    await rig.user(x, { forwardNoAnswer: y, forwardNoAnswerSec: 5 });
    const px = await rig.phone(x);
    const py = await rig.phone(y, { forwardNoAnswer: x, forwardNoAnswerSec: 5 });
    px.behaviour = 'ring';
    py.behaviour = 'ring';
    const out = a.call(x);
    expect(await rig.ringing(x)).toBe(true);
    await rig.advance(5_000);
    expect(await rig.ringing(y)).toBe(true);
    await rig.advance(5_000);
    const final = await out.final;
    expect(final.status).toBe(480);
    expect(px.incoming).toHaveLength(1);
    expect(py.incoming).toHaveLength(1);
    await waitUntil(() => py.incoming[0]!.cancelled);
    expect(py.incoming[0]!.cancelled).toBe(true);
    expect(await rig.idle()).toBe(true);
  });

  // Known bug (src/pbx/call/ringer.ts, reported): a plan step carries one
  // Diversion, so a call forwarded twice while routing names only the first
  // hop. These flip to failures when every hop is sent (RFC 5806 §4, RFC 7044).
  it('a two-hop chain (no answer, then unconditional) names both hops, most recent first', async () => {
    const a = await phone();
    const [x, y, z] = [next(), next(), next()];
    const pz = await rig.phone(z);
    await rig.phone(y, { forwardUnconditional: z });
    const px = await rig.phone(x, { forwardNoAnswer: y, forwardNoAnswerSec: 5 });
    px.behaviour = 'ring';
    const out = a.call(x);
    expect(await rig.ringing(x)).toBe(true);
    await rig.advance(5_000);
    expect((await out.final).status).toBe(200);
    const inv = pz.incoming[0]!.invite;
    await hangUp(a, out);
    expect(headers(inv, 'diversion')).toEqual([`<${uri(y)}>;reason=unconditional;counter=2`, `<${uri(x)}>;reason=no-answer;counter=1`]);
    expect(headers(inv, 'history-info')).toHaveLength(3);
  });

  it('a two-hop unconditional chain names both hops, most recent first', async () => {
    const a = await phone();
    const [x, y, z] = [next(), next(), next()];
    const pz = await rig.phone(z);
    await rig.phone(y, { forwardUnconditional: z });
    await rig.phone(x, { forwardUnconditional: y });
    const out = a.call(x);
    expect((await out.final).status).toBe(200);
    const inv = pz.incoming[0]!.invite;
    await hangUp(a, out);
    expect(headers(inv, 'diversion')).toEqual([`<${uri(y)}>;reason=unconditional;counter=2`, `<${uri(x)}>;reason=unconditional;counter=1`]);
    expect(headers(inv, 'history-info')).toHaveLength(3);
  });

  it(`a chain longer than MAX_DIVERSIONS (${MAX_DIVERSIONS}) is refused; nobody on it rings`, async () => {
    const a = await phone();
    const chain = Array.from({ length: MAX_DIVERSIONS + 2 }, () => next());
    const phones: TestPhone[] = [];
    for (let i = 0; i < chain.length; i++) {
      phones.push(await rig.phone(chain[i]!, i + 1 < chain.length ? { forwardUnconditional: chain[i + 1]! } : {}));
    }
    const final = await a.call(chain[0]!).final;
    expect(final.status).toBe(480);
    expect(final.reason).toBe('Too Many Diversions');
    for (const p of phones) expect(p.incoming).toHaveLength(0);
  });

  it(`a chain of exactly MAX_DIVERSIONS hops still rings its end`, async () => {
    const a = await phone();
    const chain = Array.from({ length: MAX_DIVERSIONS + 1 }, () => next());
    const phones: TestPhone[] = [];
    for (let i = 0; i < chain.length; i++) {
      phones.push(await rig.phone(chain[i]!, i + 1 < chain.length ? { forwardUnconditional: chain[i + 1]! } : {}));
    }
    const out = a.call(chain[0]!);
    expect((await out.final).status).toBe(200);
    expect(phones.at(-1)!.incoming).toHaveLength(1);
    for (const p of phones.slice(0, -1)) expect(p.incoming).toHaveLength(0);
    await hangUp(a, out);
  });
});

describe('forwarding out through a trunk', () => {
  it('is refused (403) when the forwarding user may not call out, even for a caller who may', async () => {
    const a = await phone({ outboundCalls: true });
    const b = await phone({ forwardUnconditional: '9555123', outboundCalls: false });
    const before = pstn.incoming.length;
    const final = await a.call(b.opts.ext).final;
    expect(final.status).toBe(403);
    expect(final.reason).toBe('Outbound Calls Not Permitted');
    expect(pstn.incoming.length).toBe(before);
    expect(b.incoming).toHaveLength(0);
  });

  it('reaches the trunk when the forwarding user may call out, even for a caller who may not', async () => {
    const a = await phone({ outboundCalls: false });
    const b = await phone({ forwardUnconditional: '9555123', outboundCalls: true });
    const before = pstn.incoming.length;
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(pstn.incoming.length).toBe(before + 1);
    const inv = pstn.incoming.at(-1)!.invite;
    expect(inv.uri.user).toBe('555123');
    expect(headers(inv, 'diversion')).toEqual([`<${uri(b.opts.ext)}>;reason=unconditional;counter=1`]);
    expect(b.incoming).toHaveLength(0);
    await a.inDialog(out.dialog!, 'BYE');
    await pstn.waitRequest('BYE');
    expect(await rig.idle()).toBe(true);
  });
});

describe('follow me', () => {
  it('rings the followed-to extension’s phone instead of the user’s', async () => {
    const a = await phone();
    const c = await phone();
    const b = await phone({ followMe: c.opts.ext });
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(b.incoming).toHaveLength(0);
    expect(c.incoming).toHaveLength(1);
    expect(c.incoming[0]!.invite.from.uri.user).toBe(a.opts.ext);
    await hangUp(a, out);
  });

  it('calls to the followed-to extension itself still ring it', async () => {
    const a = await phone();
    const c = await phone();
    await phone({ followMe: c.opts.ext });
    const out = a.call(c.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(c.incoming).toHaveLength(1);
    await hangUp(a, out);
  });
});

describe('do not disturb', () => {
  it('answers 486 "Do Not Disturb"; the phone never rings', async () => {
    const a = await phone();
    const b = await phone({ dnd: true });
    const final = await a.call(b.opts.ext).final;
    expect(final.status).toBe(486);
    expect(final.reason).toBe('Do Not Disturb');
    expect(b.incoming).toHaveLength(0);
  });

  it('lets callers on the exception list ring through', async () => {
    const a = await phone();
    const other = await phone();
    const b = await phone({ dnd: true, dndExceptions: [a.opts.ext] });
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(b.incoming).toHaveLength(1);
    await hangUp(a, out);
    expect((await other.call(b.opts.ext).final).status).toBe(486);
    expect(b.incoming).toHaveLength(1);
  });

  it('with forward on busy set, forwards instead of refusing', async () => {
    const a = await phone();
    const c = await phone();
    const b = await phone({ dnd: true, forwardBusy: c.opts.ext });
    const out = a.call(b.opts.ext);
    expect((await out.final).status).toBe(200);
    expect(b.incoming).toHaveLength(0);
    expect(headers(c.incoming[0]!.invite, 'diversion')).toEqual([`<${uri(b.opts.ext)}>;reason=user-busy;counter=1`]);
    await hangUp(a, out);
  });
});

describe('call waiting', () => {
  it('off: a second call gets 486 and the phone sees no second INVITE', async () => {
    const [a, d] = [await phone(), await phone()];
    const b = await phone({ callWaiting: false });
    const first = await rig.connect(d, b.opts.ext, b);
    const final = await a.call(b.opts.ext).final;
    expect(final.status).toBe(486);
    expect(b.incoming).toHaveLength(1);
    await hangUp(d, first.out);
  });

  it('on: the second call rings the phone', async () => {
    const [a, d] = [await phone(), await phone()];
    const b = await phone({ callWaiting: true });
    const first = await rig.connect(d, b.opts.ext, b);
    b.behaviour = 'ring';
    const out = a.call(b.opts.ext);
    await b.waitIncoming(2);
    await a.cancel(out);
    expect((await out.final).status).toBe(487);
    await hangUp(d, first.out);
  });
});

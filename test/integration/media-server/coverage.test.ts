// Which calls the mailbox takes (SPEC A-10, AC-11): no phone registered,
// busy, do not disturb and no answer reach the user's mailbox when it is on
// and no forward applies; a forward wins; a mailbox switched off leaves the
// caller with the busy or unavailable answer; a forward to the voicemail
// number means one's own mailbox; the voicemail number and code reach the
// login; the owner is not busy while a caller leaves a message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../features/rig.ts';
import type { TestPhone } from '../lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
let n = 4400;
const next = () => String(n++);

beforeAll(async () => {
  rig = await Rig.start({ config: { voicemail: { enabled: true } } });
});
afterAll(() => rig.stop());

/** The application the media server runs for the caller's last call, by its Request-URI user (vm-deposit-4401...). */
async function appOf(caller: TestPhone, dialled: string): Promise<{ status: number; app: string | undefined }> {
  const before = new Set(rig.server.mediaServer.host.calls);
  const call = caller.call(dialled);
  const res = await call.final;
  let app: string | undefined;
  if (res.status === 200) {
    await waitUntil(() => [...rig.server.mediaServer.host.calls].some((c) => !before.has(c)));
    app = [...rig.server.mediaServer.host.calls].find((c) => !before.has(c))?.leg.invite.uri.user;
    await caller.inDialog(call.dialog!, 'BYE');
  }
  return { status: res.status, app };
}

describe('voicemail coverage', () => {
  it('takes the call of a user with no phone registered, and leaves 480 when the mailbox is off', async () => {
    const [caller, absent, off] = [next(), next(), next()];
    const c = await rig.phone(caller);
    await rig.user(absent);
    await rig.user(off, { voicemail: false });
    expect(await appOf(c, absent)).toEqual({ status: 200, app: `vm-deposit-${absent}` });
    expect(await appOf(c, off)).toEqual({ status: 480, app: undefined });
  });

  it('takes the call of a busy user (no call waiting) and of one in DND; a forward on busy wins', async () => {
    const [caller, busy, dnd, forwarded, target] = [next(), next(), next(), next(), next()];
    const c = await rig.phone(caller);
    const b = await rig.phone(busy, { callWaiting: false });
    const other = await rig.phone(next());
    await rig.connect(other, busy, b);
    expect(await appOf(c, busy)).toEqual({ status: 200, app: `vm-deposit-${busy}` });
    await rig.phone(dnd, { dnd: true });
    expect(await appOf(c, dnd)).toEqual({ status: 200, app: `vm-deposit-${dnd}` });
    const t = await rig.phone(target);
    t.behaviour = 'busy';
    await rig.phone(forwarded, { dnd: true, forwardBusy: target });
    // The forward target is busy too, with its own mailbox: the call ends in the target's mailbox, not the forwarder's.
    expect(await appOf(c, forwarded)).toEqual({ status: 200, app: `vm-deposit-${target}` });
  });

  it('takes an unanswered call after the ring time', async () => {
    const [caller, callee] = [next(), next()];
    const c = await rig.phone(caller);
    const p = await rig.phone(callee, { noAnswerTimeoutSec: 15 });
    p.behaviour = 'ring';
    const call = c.call(callee);
    await p.waitIncoming(1);
    await rig.advance(14_000);
    expect(call.responses.some((r) => r.status === 200)).toBe(false);
    await rig.advance(2_000);
    expect((await call.final).status).toBe(200);
    expect(p.incoming[0]!.cancelled).toBe(true);
    await c.inDialog(call.dialog!, 'BYE');
  });

  it('a forward to the voicemail number is one’s own mailbox; the number and the code reach the login', async () => {
    const [caller, fwd] = [next(), next()];
    const c = await rig.phone(caller);
    await rig.phone(fwd, { forwardUnconditional: '8000' });
    expect(await appOf(c, fwd)).toEqual({ status: 200, app: `vm-deposit-${fwd}` });
    expect(await appOf(c, '8000')).toEqual({ status: 200, app: 'vm-login' });
    expect(await appOf(c, '*17')).toEqual({ status: 200, app: `vm-login-${caller}` });
  });

  it('the owner is not busy while a caller leaves a message: the next call rings the phone', async () => {
    const [caller, owner] = [next(), next()];
    const c = await rig.phone(caller);
    const o = await rig.phone(owner, { callWaiting: false, dnd: true });
    const first = c.call(owner);
    expect((await first.final).status).toBe(200);
    expect(rig.server.calls.callsOf(owner)).toBe(0);
    await rig.server.store.users.update(owner, { dnd: false });
    await rig.sync();
    const second = await rig.phone(next());
    o.behaviour = 'ring';
    const ringing = second.call(owner);
    await o.waitIncoming(1);
    second.cancel(ringing);
    await c.inDialog(first.dialog!, 'BYE');
  });
});

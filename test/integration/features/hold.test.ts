// Hold and resume in both directions (sendonly, inactive, and the RFC 2543
// c=0.0.0.0 form), seen by the other party and in the call's status, and
// several calls on one handset, each held and resumed on its own (SPEC
// AC-10, A-26).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, until } from './rig.ts';
import type { TestPhone } from '../lib/phone.ts';
import { sdpOffer } from '../lib/phone.ts';

let rig: Rig;
let n = 6100;
const next = () => rig.phone(String(n++));
const heldCalls = (ext: string) => [...rig.server.calls.calls()].filter((c) => c.caller.number === ext || c.callee.number === ext).map((c) => c.held);

beforeAll(async () => {
  rig = await Rig.start();
});
afterAll(() => rig.stop());

/** An SDP whose only difference from the phone's usual one is its direction or its connection address. */
function sdp(p: TestPhone, direction: string, address = '127.0.0.1', version = 2): Buffer {
  return Buffer.from(sdpOffer(p.mediaPort, '0 101', direction).toString().replace('o=test 1 1', `o=test 1 ${version}`).replace('c=IN IP4 127.0.0.1', `c=IN IP4 ${address}`));
}

describe('hold and resume', () => {
  it('caller holds with sendonly and resumes; the callee sees both, status shows the call held meanwhile', async () => {
    const [a, b] = [await next(), await next()];
    const { out } = await rig.connect(a, b.opts.ext, b);
    b.reinviteAnswer = sdp(b, 'recvonly');
    const hold = await a.inDialog(out.dialog!, 'INVITE', { body: sdp(a, 'sendonly') });
    expect(hold.status).toBe(200);
    expect(hold.body.toString()).toContain('a=recvonly');
    expect((await b.waitRequest('INVITE')).body.toString()).toContain('a=sendonly');
    expect(heldCalls(a.opts.ext)).toEqual([true]);
    b.reinviteAnswer = sdp(b, 'sendrecv', '127.0.0.1', 3);
    expect((await a.inDialog(out.dialog!, 'INVITE', { body: sdp(a, 'sendrecv', '127.0.0.1', 3) })).status).toBe(200);
    expect((await b.waitRequest('INVITE', 2)).body.toString()).toContain('a=sendrecv');
    expect(heldCalls(a.opts.ext)).toEqual([false]);
  });

  it('callee holds with inactive, and with the legacy c=0.0.0.0 form', async () => {
    const [a, b] = [await next(), await next()];
    const { inc } = await rig.connect(a, b.opts.ext, b);
    expect((await b.inDialog(inc.dialog!, 'INVITE', { body: sdp(b, 'inactive') })).status).toBe(200);
    expect((await a.waitRequest('INVITE')).body.toString()).toContain('a=inactive');
    expect(heldCalls(a.opts.ext)).toEqual([true]);
    expect((await b.inDialog(inc.dialog!, 'INVITE', { body: sdp(b, 'sendrecv', '127.0.0.1', 3) })).status).toBe(200);
    expect(heldCalls(a.opts.ext)).toEqual([false]);
    expect((await b.inDialog(inc.dialog!, 'INVITE', { body: sdp(b, 'sendrecv', '0.0.0.0', 4) })).status).toBe(200);
    expect((await a.waitRequest('INVITE', 3)).body.toString()).toContain('c=IN IP4 0.0.0.0');
    expect(heldCalls(a.opts.ext)).toEqual([true]);
  });

  it('keeps several calls on one handset, each held and resumed on its own', async () => {
    const [a, b, c] = [await next(), await next(), await next()];
    const first = await rig.connect(a, b.opts.ext, b);
    expect((await a.inDialog(first.out.dialog!, 'INVITE', { body: sdp(a, 'sendonly') })).status).toBe(200);
    const second = await rig.connect(a, c.opts.ext, c);
    await until(() => heldCalls(a.opts.ext).length === 2, 'two calls for A');
    const byCallee = () => Object.fromEntries([...rig.server.calls.calls()].filter((x) => x.caller.number === a.opts.ext).map((x) => [x.callee.number, x.held]));
    expect(byCallee()).toEqual({ [b.opts.ext]: true, [c.opts.ext]: false });
    // Swap: hold C, resume B.
    expect((await a.inDialog(second.out.dialog!, 'INVITE', { body: sdp(a, 'sendonly') })).status).toBe(200);
    expect((await a.inDialog(first.out.dialog!, 'INVITE', { body: sdp(a, 'sendrecv', '127.0.0.1', 3) })).status).toBe(200);
    expect(byCallee()).toEqual({ [b.opts.ext]: false, [c.opts.ext]: true });
    expect((await c.waitRequest('INVITE')).body.toString()).toContain('a=sendonly');
    expect((await b.waitRequest('INVITE', 2)).body.toString()).toContain('a=sendrecv');
  });
});

// Park and pickup on manual time: park by transfer to the park code and by
// dialling it while the call is held, unpark from another phone, the park
// timeout ringing the parker back, pickup in a group and directed, pickup
// racing the answer. Media is checked by the addresses each party was given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, audioPort, sipfragStatuses, until } from './rig.ts';
import type { TestPhone } from '../lib/phone.ts';
import { sdpOffer } from '../lib/phone.ts';
import { cli } from '../lib/cli.ts';
import type { StatusEvent } from '../../../src/pbx/status/status.ts';

let rig: Rig;
let n = 5000;
const next = (patch = {}) => rig.phone(String(n++), patch);
/** A short code as a phone puts it in a Request-URI: '#' is escaped (RFC 3261 §25.1). */
const code = (s: string) => s.replace(/#/g, '%23');

beforeAll(async () => {
  rig = await Rig.start({ config: { calls: { parkTimeoutSec: 60 } } });
});
afterAll(() => rig.stop());

const slots = () => rig.server.calls.parking.list();

async function parkByTransfer(a: TestPhone, b: TestPhone, slot: string) {
  const { out, inc } = await rig.connect(a, b.opts.ext, b);
  const r = await b.inDialog(inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:${code(`*37*${slot}#`)}@test.local>` }] });
  expect(r.status).toBe(202);
  await until(() => sipfragStatuses(b).includes(200));
  await b.waitRequest('BYE');
  return { out, inc };
}

describe('park', () => {
  it('parks by transfer to *37*S#, holds the parked party, and *38*S# from another phone joins it', async () => {
    const [a, b, d] = [await next(), await next(), await next()];
    const events: StatusEvent[] = [];
    const unsubscribe = rig.server.status.subscribe((e) => events.push(e));
    const { out } = await parkByTransfer(a, b, '5');
    // The live feed tells that B, who parked the call, is idle again.
    await until(() => events.some((e) => e.type === 'extension' && e.extension.extension === b.opts.ext && e.extension.state === 'idle'), 'B idle in the live feed');
    unsubscribe();
    const hold = await a.waitRequest('INVITE');
    expect(hold.body.toString()).toContain('a=inactive');
    // While parked, the party's own session refresh (re-INVITE, UPDATE) is answered for the absent side.
    const refresh = await a.inDialog(out.dialog!, 'INVITE', { body: sdpOffer(a.mediaPort) });
    expect(refresh.status).toBe(200);
    expect(refresh.body.toString()).toContain('a=inactive');
    expect((await a.inDialog(out.dialog!, 'UPDATE')).status).toBe(200);
    expect(slots()).toEqual([expect.objectContaining({ slot: '5', party: expect.objectContaining({ number: a.opts.ext }), parkedBy: b.opts.ext })]);
    // Status: the parked call is A waiting in slot 5; B, who parked it, is in no call.
    const parked = [...rig.server.calls.calls()].find((x) => x.caller.number === a.opts.ext)!;
    expect(parked.callee.number).toBe('park 5');
    expect(rig.server.calls.callsOf(b.opts.ext)).toBe(0);
    // What `switchboard park list` shows an administrator, read from the running server.
    const listed = await cli('park', 'list', '--data-dir', rig.ts.dataDir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^slot 5 ${a.opts.ext} "User ${a.opts.ext}" parked-by=${b.opts.ext} since=`, 'm'));
    const json = JSON.parse((await cli('park', 'list', '--json', '--data-dir', rig.ts.dataDir)).stdout) as { slot: string }[];
    expect(json.map((p) => p.slot)).toEqual(['5']);

    const unpark = d.call(code('*38*5#'));
    const res = await unpark.final;
    expect(res.status).toBe(200);
    expect(audioPort(res.body)).toBe(a.mediaPort);
    const join = await a.waitRequest('INVITE', 2);
    expect(audioPort(join.body)).toBe(d.mediaPort);
    expect(slots()).toEqual([]);
    // A and D are one call now: D's BYE reaches A.
    expect((await d.inDialog(unpark.dialog!, 'BYE')).status).toBe(200);
    await a.waitRequest('BYE');
  });

  it('rings the parker back when nobody unparks within the park timeout', async () => {
    const [a, b] = [await next(), await next()];
    await parkByTransfer(a, b, '6');
    const before = b.incoming.length;
    await rig.advance(59_000);
    expect(b.incoming.length).toBe(before);
    await rig.advance(2_000);
    const recall = await b.waitIncoming(before + 1);
    expect(recall.invite.from.uri.user).toBe(a.opts.ext);
    await until(() => recall.acked !== undefined);
    const join = await a.waitRequest('INVITE', 2);
    expect(audioPort(join.body)).toBe(b.mediaPort);
    expect(slots().some((s) => s.slot === '6')).toBe(false);
  });

  it('parks the other party of a held call when *37*S# is dialled as a new call', async () => {
    const [a, b] = [await next(), await next()];
    const { inc } = await rig.connect(a, b.opts.ext, b);
    expect((await b.inDialog(inc.dialog!, 'INVITE', { body: sdpOffer(b.mediaPort, '0 101', 'sendonly') })).status).toBe(200);
    const dial = b.call(code('*37*7#'));
    expect((await dial.final).status).toBe(200);
    // The code call is ended by the server, and so is B's leg of the parked call.
    await until(() => Rig.received(b, 'BYE').length === 2);
    expect(slots().find((s) => s.slot === '7')?.party.number).toBe(a.opts.ext);
  });

  it('refuses an empty slot and a slot in use', async () => {
    const [a, b, c, d] = [await next(), await next(), await next(), await next()];
    const empty = await d.call(code('*38*99#')).final;
    expect(empty.status).toBe(404);
    expect(empty.reason).toBe('Park Slot Empty');
    await parkByTransfer(a, b, '8');
    const { inc } = await rig.connect(c, d.opts.ext, d);
    await d.inDialog(inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:${code('*37*8#')}@test.local>` }] });
    await until(() => sipfragStatuses(d).includes(486));
  });
});

describe('pickup', () => {
  it('*30 picks up a call ringing in my pickup group: the caller is joined with me, the ringing phone gets CANCEL', async () => {
    const a = await next();
    const b = await next({ pickupGroup: 'ward4' });
    const c = await next({ pickupGroup: 'ward4' });
    b.behaviour = 'ring';
    const call = a.call(b.opts.ext);
    const ringing = await b.waitIncoming();
    const pick = c.call('*30');
    const res = await pick.final;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('a=inactive');
    const join = await c.waitRequest('INVITE');
    expect(audioPort(join.body)).toBe(a.mediaPort);
    const answered = await call.final;
    expect(answered.status).toBe(200);
    expect(audioPort(answered.body)).toBe(c.mediaPort);
    await until(() => ringing.cancelled);
    expect(rig.server.calls.activeCount).toBeGreaterThan(0);
  });

  it('*32*N# picks up the call ringing at N; nothing ringing gives 404', async () => {
    const [a, b, c] = [await next(), await next(), await next()];
    expect((await c.call(code(`*32*${b.opts.ext}#`)).final).status).toBe(404);
    b.behaviour = 'ring';
    const call = a.call(b.opts.ext);
    const ringing = await b.waitIncoming();
    expect((await c.call(code(`*32*${b.opts.ext}#`)).final).status).toBe(200);
    expect((await call.final).status).toBe(200);
    await until(() => ringing.cancelled);
  });

  it('a pickup racing the answer leaves exactly one party with the caller', async () => {
    const [a, b] = [await next({ pickupGroup: 'race' }), await next({ pickupGroup: 'race' })];
    const c = await next({ pickupGroup: 'race' });
    b.behaviour = 'ring';
    const call = a.call(b.opts.ext);
    const ringing = await b.waitIncoming();
    // B answers and C dials the pickup code in the same tick.
    b.answer(ringing);
    const pick = await c.call('*30').final;
    expect((await call.final).status).toBe(200);
    if (pick.status === 200) {
      // C won: B's answer was taken and hung up.
      await until(() => Rig.received(b, 'BYE').length > 0);
    } else {
      expect(pick.status).toBe(404);
      await until(() => ringing.acked !== undefined);
      expect(Rig.received(b, 'BYE')).toHaveLength(0);
    }
    expect([...rig.server.calls.calls()].filter((x) => x.caller.number === a.opts.ext)).toHaveLength(1);
  });
});

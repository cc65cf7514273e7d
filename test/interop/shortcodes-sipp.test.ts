// Short codes (IP Office style, the default table of src/model/short-code.ts)
// dialled by SIPp phones through Switchboard over UDP, each checked from a
// second party: a code that changes a setting is answered 200 and ended by
// the server with a BYE within 2 s, and then a call from someone else shows
// the effect (who the server rings); a code that cannot be carried out gets
// a 4xx whose reason phrase says why. The codes go into the Request-URI user
// part with '#' escaped ("INVITE sip:*07*1003%23@lab.test"), which is how
// SIPp sends whatever the scenario says (it escapes nothing itself).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from './lib/feature-calls.ts';
import { caller, dialRefused, dialSetting, expectCallAnsweredAt, expectCallRefused, phone, phonesDone, receivedRequests, registerPhones, why } from './lib/feature-calls.ts';
import { featureServerFixture } from './lib/feature-server.ts';
import { receivedRequestLines } from './lib/sipp-calls.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';
import { waitUntil } from '../lib/wait.ts';

const U = makeUsers(14, 1001);
const user = (ext: string): TestUser => {
  const u = U.find((x) => x.ext === ext);
  if (u === undefined) throw new Error(`no test user ${ext}`);
  return u;
};
const HUNT = '600';

const env = featureServerFixture({
  name: 'shortcodes',
  tools: ['sipp'],
  domain: 'lab.test',
  async prepare(fs) {
    await fs.addUsers(U);
    // Pickup: 1007 rings, 1008 picks up; both in one group.
    await fs.setUser('1007', { pickupGroup: 'ward4' });
    await fs.setUser('1008', { pickupGroup: 'ward4' });
    await fs.addHuntGroup({ number: HUNT, name: 'Night desk', strategy: 'ring-all', members: ['1012'], noAnswerSec: 10 });
  },
});

/**
 * 1002 calls 1007 (its phone rings, and the caller stays 3 s after the
 * answer); `picker` dials `code` while it rings: the picker gets the call
 * (the caller's BYE reaches it) and the ringing phone gets CANCEL.
 */
async function pickUp(e: Env, picker: TestUser, code: string): Promise<void> {
  const phones = await registerPhones(e, [user('1007')]);
  const ringing = await phone(e, 'uas_cancel.xml', phones.get('1007') as number);
  const since = e.fs.tap.mark();
  // The caller stays 3 s after the answer, then hangs up: the picker gets the BYE.
  const call = caller(e, 'call_uac.xml', user('1002'), '1007', { holdMs: 3000 });
  const rang = await e.fs.tap.waitFor((m) => m.dir === 'in' && m.status === 180 && m.peer.port === phones.get('1007'), 15_000, since);
  expect(rang, `1007 never rang\n${why(e)}`).not.toBeNull();
  const pick = caller(e, 'code_uac.xml', picker, code, { recvTimeoutMs: 20_000 });
  const [c, p] = [await call, await pick];
  const [r] = await phonesDone(p, [ringing]);
  const w = why(e, c, p, r);
  expect(c.stats?.successful, w).toBe(1);
  expect(p.stats?.successful, w).toBe(1);
  // The picker was connected to the caller: the caller's BYE reached it.
  expect(receivedRequestLines(p.messages).some((l) => l.startsWith('BYE ')), w).toBe(true);
  expect(receivedRequestLines(r.messages).filter((l) => l.startsWith('CANCEL ')), w).toHaveLength(1);
}

describe('short codes dialled by SIPp through Switchboard', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('*07*N# forwards unconditionally to N; *02 off, *01 on again (to the stored number), *00 cancels all', async () => {
    const e = env.get();
    const phones = await registerPhones(e, [user('1001'), user('1003')]);
    const at = (ext: string) => ({ ext, port: phones.get(ext) as number });

    // 1001 dials `code`: its forward number is then `forward`, and a call from 1002 to 1001 is answered at `answers`.
    const step = async (code: string, forward: string | null, answers: string): Promise<void> => {
      await dialSetting(e, user('1001'), code);
      expect((await e.fs.user('1001')).forwardUnconditional).toBe(forward);
      await expectCallAnsweredAt(e, user('1002'), '1001', at(answers), phones);
    };
    await step('*07*1003#', '1003', '1003');
    await step('*02', null, '1001');
    await step('*01', '1003', '1003');
    await step('*00', null, '1001');
  });

  it('*03 forwards on busy (the phone answers 486, the call goes on to the forward number); *04 stops it', async () => {
    const e = env.get();
    const phones = await registerPhones(e, [user('1001'), user('1003')]);
    await dialSetting(e, user('1001'), '*07*1003#');
    await dialSetting(e, user('1001'), '*02');
    await dialSetting(e, user('1001'), '*03');
    expect((await e.fs.user('1001')).forwardBusy).toBe('1003');
    // 1001's phone is busy; the server must try it, then 1003.
    const busy = await phone(e, 'uas_busy.xml', phones.get('1001') as number);
    const target = await phone(e, 'uas_answer.xml', phones.get('1003') as number);
    const run = await caller(e, 'call_uac.xml', user('1002'), '1001');
    const [b, t] = await phonesDone(run, [busy, target]);
    const w = why(e, run, b, t);
    expect(run.stats?.successful, w).toBe(1);
    expect(b.stats?.successful, w).toBe(1);
    expect(t.stats?.successful, w).toBe(1);

    await dialSetting(e, user('1001'), '*04');
    expect((await e.fs.user('1001')).forwardBusy).toBeNull();
    const busy2 = await phone(e, 'uas_busy.xml', phones.get('1001') as number);
    const refused = await expectCallRefused(e, user('1002'), '1001');
    await phonesDone(refused.status === 486, [busy2]);
    expect(refused.status, why(e)).toBe(486);
  });

  it('*05 forwards on no answer (after forwardNoAnswerSec the ringing phone gets CANCEL, the forward number answers); *06 stops it', async () => {
    const e = env.get();
    const phones = await registerPhones(e, [user('1001'), user('1003')]);
    await e.fs.setUser('1001', { forwardNoAnswerSec: 5 });
    await dialSetting(e, user('1001'), '*07*1003#');
    await dialSetting(e, user('1001'), '*02');
    await dialSetting(e, user('1001'), '*05');
    expect((await e.fs.user('1001')).forwardNoAnswer).toBe('1003');
    const ringing = await phone(e, 'uas_cancel.xml', phones.get('1001') as number);
    const target = await phone(e, 'uas_answer.xml', phones.get('1003') as number);
    const started = Date.now();
    const run = await caller(e, 'call_uac.xml', user('1002'), '1001', { recvTimeoutMs: 30_000 });
    const [r, t] = await phonesDone(run, [ringing, target]);
    const w = why(e, run, r, t);
    expect(run.stats?.successful, w).toBe(1);
    expect(r.stats?.successful, w).toBe(1);
    expect(t.stats?.successful, w).toBe(1);
    expect(Date.now() - started, w).toBeGreaterThanOrEqual(4500);

    await dialSetting(e, user('1001'), '*06');
    expect((await e.fs.user('1001')).forwardNoAnswer).toBeNull();
  });

  it('*08 DND: a call gets 486/480; *10*N# lets N ring through, *11*N# removes it; *09 DND off rings again', async () => {
    const e = env.get();
    const phones = await registerPhones(e, [user('1004')]);
    const at = { ext: '1004', port: phones.get('1004') as number };
    await dialSetting(e, user('1004'), '*08');
    expect((await e.fs.user('1004')).dnd).toBe(true);
    const f = await expectCallRefused(e, user('1002'), '1004');
    expect([486, 480], `${f.status} ${f.reason}\n${why(e)}`).toContain(f.status);
    expect(e.fs.tap.requests('out', 'INVITE').filter((m) => m.peer.port === at.port), why(e)).toEqual([]);

    await dialSetting(e, user('1004'), '*10*1002#');
    expect((await e.fs.user('1004')).dndExceptions).toContain('1002');
    await expectCallAnsweredAt(e, user('1002'), '1004', at, phones);
    // Someone else is still kept out.
    const other = await expectCallRefused(e, user('1003'), '1004');
    expect([486, 480], why(e)).toContain(other.status);

    await dialSetting(e, user('1004'), '*11*1002#');
    expect((await e.fs.user('1004')).dndExceptions).not.toContain('1002');
    const again = await expectCallRefused(e, user('1002'), '1004');
    expect([486, 480], why(e)).toContain(again.status);

    await dialSetting(e, user('1004'), '*09');
    expect((await e.fs.user('1004')).dnd).toBe(false);
    await expectCallAnsweredAt(e, user('1002'), '1004', at, phones);
  });

  it('*12*N# dialled from 1006 makes calls to 1005 ring 1006 (follow me); *13*N# cancels it', async () => {
    const e = env.get();
    const phones = await registerPhones(e, [user('1005'), user('1006')]);
    await dialSetting(e, user('1006'), '*12*1005#');
    expect((await e.fs.user('1005')).followMe).toBe('1006');
    await expectCallAnsweredAt(e, user('1002'), '1005', { ext: '1006', port: phones.get('1006') as number }, phones);
    await dialSetting(e, user('1006'), '*13*1005#');
    expect((await e.fs.user('1005')).followMe).toBeNull();
    await expectCallAnsweredAt(e, user('1002'), '1005', { ext: '1005', port: phones.get('1005') as number }, phones);
  });

  it('*16 call waiting off: a second call to a user in a call gets busy; *15 on again', async () => {
    const e = env.get();
    await dialSetting(e, user('1013'), '*16');
    expect((await e.fs.user('1013')).callWaiting).toBe(false);
    const phones = await registerPhones(e, [user('1013')]);
    // First call: answered and held (the phone stays in it until the caller's BYE, 6 s later).
    const inCall = await phone(e, 'uas_answer.xml', phones.get('1013') as number);
    const first = caller(e, 'call_uac.xml', user('1002'), '1013', { holdMs: 6000 });
    await waitUntil(() => e.fs.tap.responses('in', 'INVITE').some((m) => m.status === 200 && m.peer.port === phones.get('1013')), 10_000);
    const second = await expectCallRefused(e, user('1003'), '1013');
    const f = await first;
    const [p] = await phonesDone(f, [inCall]);
    const w = why(e, f, p);
    expect(f.stats?.successful, w).toBe(1);
    expect(second.status, `${second.status} ${second.reason}\n${w}`).toBe(486);
    await dialSetting(e, user('1013'), '*15');
    expect((await e.fs.user('1013')).callWaiting).toBe(true);
  });

  it('*30 picks up the call ringing at a member of my pickup group: I talk to the caller, the ringing phone gets CANCEL', async () => {
    await pickUp(env.get(), user('1008'), '*30');
  });

  it('*32*N# picks up the call ringing at N (directed pickup)', async () => {
    // 1009 is in no pickup group: directed pickup names the extension.
    await pickUp(env.get(), user('1009'), '*32*1007#');
  });

  it('park: B transfers A to *37*5# (REFER) -> A parked; C dials *38*5# -> C talks to A', async () => {
    const e = env.get();
    const [A, B, C] = [user('1009'), user('1010'), user('1011')];
    const phones = await registerPhones(e, [B]);
    const b = await phone(e, 'uas_refer.xml', phones.get(B.ext) as number, { user: B, keys: { refer_to: '*37*5%23', domain: e.fs.domain }, holdMs: 1000 });
    const since = e.fs.tap.mark();
    // A: answered, then in the call (re-INVITEs answered) until a BYE comes.
    const a = caller(e, 'code_uac.xml', A, B.ext, { recvTimeoutMs: 30_000 });
    const [bRun] = await phonesDone(await Promise.race([a, b.done]), [b], 15_000);
    const wb = why(e, bRun);
    expect(bRun.stats?.successful, wb).toBe(1);
    const refer = e.fs.tap.requests('in', 'REFER', since);
    expect(refer.length, wb).toBeGreaterThan(0);
    expect(e.fs.tap.responses('out', 'REFER', since).map((m) => m.status), wb).toContain(202);
    const notifies = receivedRequests(bRun.messages, 'NOTIFY');
    expect(notifies.some((n) => /SIP\/2\.0 200/.test(n)), `NOTIFY bodies:\n${notifies.join('\n')}\n${wb}`).toBe(true);

    // C unparks: answered, connected to A; C hangs up after 2 s, and A gets the BYE.
    const c = await caller(e, 'call_uac.xml', C, '*38*5#', { holdMs: 2000 });
    const aRun = await a;
    const w = why(e, c, aRun, bRun);
    expect(c.stats?.successful, w).toBe(1);
    expect(aRun.stats?.successful, w).toBe(1);
    expect(receivedRequestLines(aRun.messages).some((l) => l.startsWith('BYE ')), w).toBe(true);
    // The slot is free again.
    await dialRefused(e, C, '*38*5#');
  });

  it('*46*G# logs out of the hunt group (a call to it does not ring me); *45*G# logs in again (it does)', async () => {
    const e = env.get();
    const phones = await registerPhones(e, [user('1012')]);
    const port = phones.get('1012') as number;
    await dialSetting(e, user('1012'), `*46*${HUNT}#`);
    const since = e.fs.tap.mark();
    // The only member is logged out: no overflow, so the caller is refused, and 1012 is not rung.
    const refused = await expectCallRefused(e, user('1002'), HUNT);
    expect(refused.status, why(e)).toBeGreaterThanOrEqual(400);
    expect(e.fs.tap.requests('out', 'INVITE', since).filter((m) => m.peer.port === port), why(e)).toEqual([]);

    await dialSetting(e, user('1012'), `*45*${HUNT}#`);
    await expectCallAnsweredAt(e, user('1002'), HUNT, { ext: '1012', port }, phones);
  });

  it.each([
    ['*38*9#', 'unpark an empty slot', /slot|park|empty/i],
    [`*46*999#`, 'log out of a hunt group that does not exist', /no such|unknown|not exist|no hunt group|not found/i],
    [`*45*${HUNT}#`, 'log in to a hunt group one is not a member of', /member/i],
    ['*30', 'pick up when nothing rings in the group', /pick|no call|ringing|group/i],
    ['*32*1014#', 'directed pickup when nothing rings there', /pick|no call|ringing/i],
    ['*03', 'forward on busy with no forward number stored', /forward/i],
  ])('%s (%s) is refused with a 4xx whose reason says why', async (code, _what, says) => {
    const e = env.get();
    // 1014 has no forward number, no pickup group and is in no hunt group.
    const f = await dialRefused(e, user('1014'), code);
    console.log(`${code}: ${f.status} ${f.reason}`);
    expect(f.reason, `${code} refused with "${f.status} ${f.reason}"`).toMatch(says);
  });
});

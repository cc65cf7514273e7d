// Transfer through the B2BUA, on manual time: blind (REFER), attended (REFER
// with Replaces), the handset variants of SPEC B-12, a transferred call
// transferred again, failures reported to the transferor, and REFERs that
// must be refused. Each side is checked on the wire: who got which INVITE,
// re-INVITE, BYE and NOTIFY, and whose media address reached whom.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, audioPort, sipfragStatuses, until } from './rig.ts';
import type { TestPhone } from '../lib/phone.ts';
import { referToWithReplaces } from '../../../src/sip/ua/replaces.ts';
import type { Call } from '../../../src/pbx/call/call.ts';

let rig: Rig;
let n = 4000;
/** Three fresh phones per test: A (transferee), B (transferor), C (target). */
async function trio(): Promise<[TestPhone, TestPhone, TestPhone]> {
  const ext = () => String(n++);
  return [await rig.phone(ext()), await rig.phone(ext()), await rig.phone(ext())];
}
const referTo = (ext: string) => ({ name: 'refer-to', value: `<sip:${ext}@test.local>` });

beforeAll(async () => {
  rig = await Rig.start();
});
afterAll(() => rig.stop());

describe('blind transfer', () => {
  it('takes a REFER that overtook the transferee\'s ACK once that ACK is in (workers: they come by different paths)', async () => {
    const [a, b, c] = await trio();
    const out = a.call(b.opts.ext, { holdAck: true });
    expect((await out.final).status).toBe(200);
    await until(() => b.incoming[0]?.acked !== undefined, 'ACK at B');
    // B transfers before A's ACK has reached us: the REFER arrives and waits, unanswered, for that ACK.
    const refersIn = () => rig.server.transport.messages.requests().find((r) => r.method === 'REFER' && r.direction === 'in')?.count ?? 0;
    const before = refersIn();
    const refer = b.inDialog(b.incoming[0]!.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] });
    let answered = false;
    void refer.then(() => (answered = true));
    await until(() => refersIn() > before, 'the REFER at the server');
    expect(answered).toBe(false);
    out.sendAck!();
    expect((await refer).status).toBe(202);
    await c.waitIncoming();
    await until(() => sipfragStatuses(b).includes(200), 'the final NOTIFY');
    expect((await a.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await c.waitRequest('BYE');
  });

  it('joins the transferee with the target, reports progress to the transferor and ends its leg', async () => {
    const [a, b, c] = await trio();
    const { out, inc } = await rig.connect(a, b.opts.ext, b);
    const refer = await b.inDialog(inc.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] });
    expect(refer.status).toBe(202);
    const atC = await c.waitIncoming();
    // Offerless INVITE to the target, showing the transferee as the caller.
    expect(atC.invite.body.length).toBe(0);
    expect(atC.invite.from.uri.user).toBe(a.opts.ext);
    await until(() => atC.acked !== undefined);
    // The transferee was re-INVITEd with the target's media, the target got the transferee's in its ACK.
    const reinvite = await a.waitRequest('INVITE');
    expect(audioPort(reinvite.body)).toBe(c.mediaPort);
    expect(audioPort(atC.acked!.body)).toBe(a.mediaPort);
    await b.waitRequest('BYE');
    await until(() => sipfragStatuses(b).includes(200));
    expect(sipfragStatuses(b)[0]).toBe(100);
    const calls = [...rig.server.calls.calls()];
    expect(calls).toHaveLength(1);
    expect(calls[0]!.caller.number).toBe(a.opts.ext);
    expect(calls[0]!.callee.number).toBe(c.opts.ext);
    // The call goes on between A and C: A's BYE reaches C.
    expect((await a.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await c.waitRequest('BYE');
    expect(await rig.idle()).toBe(true);
    // One record for the whole call, with a segment per pairing: A–B, then A–C.
    await until(async () => (await rig.server.store.cdrs.list({ extension: a.opts.ext })).length === 1);
    const cdr = (await rig.server.store.cdrs.list({ extension: a.opts.ext }))[0]!;
    expect(cdr.disposition).toBe('answered');
    expect(cdr.segments.map((s) => [s.a, s.b])).toEqual([[a.opts.ext, b.opts.ext], [a.opts.ext, c.opts.ext]]);
    expect(cdr.segments[0]!.endedAt).toBe(cdr.segments[1]!.startedAt);
  });

  it('works when the transferor holds first and hangs up right after its REFER (SPEC B-12)', async () => {
    const [a, b, c] = await trio();
    const { inc } = await rig.connect(a, b.opts.ext, b);
    const hold = await b.inDialog(inc.dialog!, 'INVITE', { body: Buffer.from(`v=0\r\no=b 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${b.mediaPort} RTP/AVP 0\r\na=sendonly\r\n`) });
    expect(hold.status).toBe(200);
    expect((await a.waitRequest('INVITE')).body.toString()).toContain('a=sendonly');
    const refer = b.inDialog(inc.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] });
    const bye = b.inDialog(inc.dialog!, 'BYE');
    expect((await refer).status).toBe(202);
    expect((await bye).status).toBe(200);
    const atC = await c.waitIncoming();
    await until(() => atC.acked !== undefined);
    const reinvite = await a.waitRequest('INVITE', 2);
    expect(audioPort(reinvite.body)).toBe(c.mediaPort);
    await until(() => sipfragStatuses(b).includes(200), 'the final NOTIFY');
    // B ended its own dialog: the server must not send a BYE on it too.
    expect(Rig.received(b, 'BYE')).toHaveLength(0);
  });

  it('transfers to a target that is still ringing when the transferor hangs up; the transferee gets it when it answers', async () => {
    const [a, b, c] = await trio();
    const { inc } = await rig.connect(a, b.opts.ext, b);
    c.behaviour = 'ring';
    expect((await b.inDialog(inc.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] })).status).toBe(202);
    const atC = await c.waitIncoming();
    await until(() => sipfragStatuses(b).includes(180), 'the ringing NOTIFY');
    expect((await b.inDialog(inc.dialog!, 'BYE')).status).toBe(200);
    c.answer(atC);
    const reinvite = await a.waitRequest('INVITE');
    expect(audioPort(reinvite.body)).toBe(c.mediaPort);
    await until(() => Rig.received(c, 'ACK').length > 0, 'ACK at C');
    expect(Rig.received(a, 'BYE')).toHaveLength(0);
    expect([...rig.server.calls.calls()].some((x) => x.caller.number === a.opts.ext && x.callee.number === c.opts.ext)).toBe(true);
  });

  it('hangs up the transferee when the transferor is gone and the target never answers', async () => {
    const [a, b, c] = await trio();
    await rig.user(c.opts.ext, { noAnswerTimeoutSec: 10 });
    const { inc } = await rig.connect(a, b.opts.ext, b);
    c.behaviour = 'ring';
    expect((await b.inDialog(inc.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] })).status).toBe(202);
    const atC = await c.waitIncoming();
    expect((await b.inDialog(inc.dialog!, 'BYE')).status).toBe(200);
    await until(() => sipfragStatuses(b).includes(180) || Rig.received(b, 'NOTIFY').length > 0, 'a NOTIFY');
    await rig.advance(10_500);
    await until(() => atC.cancelled, 'CANCEL at C');
    await a.waitRequest('BYE');
    await until(() => ![...rig.server.calls.calls()].some((x) => x.caller.number === a.opts.ext), "A's call ends");
  });

  it('keeps refreshing the session timer the transferee negotiated when its refresher is transferred away (RFC 4028)', async () => {
    const [a, b, c] = await trio();
    b.behaviour = 'ring';
    const out = a.call(b.opts.ext, { headers: [{ name: 'session-expires', value: '90' }, { name: 'supported', value: 'timer' }] });
    const atB = await b.waitIncoming();
    // B is the refresher; once B is gone nobody would refresh A's session.
    b.answer(atB, undefined, [{ name: 'session-expires', value: '90;refresher=uas' }, { name: 'require', value: 'timer' }]);
    expect((await out.final).status).toBe(200);
    await until(() => atB.acked !== undefined, 'ACK at B');
    expect((await b.inDialog(atB.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] })).status).toBe(202);
    await until(() => sipfragStatuses(b).includes(200), 'the transfer');
    // Every half interval we refresh A (UPDATE); each answered refresh moves the expiry on, so A's call outlives three intervals.
    const timer = () => ([...rig.server.calls.calls()].find((x) => x.caller.number === a.opts.ext) as Call).bridge.sessionTimer;
    for (let k = 1; k <= 6; k++) {
      const before = timer().expiresAt!;
      await rig.advance(45_000);
      const update = await a.waitRequest('UPDATE', k);
      expect(update.headers.find((h) => h.name === 'session-expires')?.value).toBe('90;refresher=uac');
      await until(() => (timer().expiresAt ?? 0) > before, `refresh ${k} answered`);
    }
    expect(Rig.received(a, 'BYE')).toHaveLength(0);
    expect([...rig.server.calls.calls()].some((x) => x.caller.number === a.opts.ext && x.callee.number === c.opts.ext)).toBe(true);
  });

  it('transfers a transferred call again', async () => {
    const [a, b, c] = await trio();
    const d = await rig.phone(String(n++));
    const { inc } = await rig.connect(a, b.opts.ext, b);
    expect((await b.inDialog(inc.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] })).status).toBe(202);
    const atC = await c.waitIncoming();
    await until(() => atC.acked !== undefined && atC.dialog !== undefined);
    await until(() => sipfragStatuses(b).includes(200));
    // C now transfers A on to D.
    expect((await c.inDialog(atC.dialog!, 'REFER', { headers: [referTo(d.opts.ext)] })).status).toBe(202);
    const atD = await d.waitIncoming();
    await until(() => atD.acked !== undefined);
    const reinvite = await a.waitRequest('INVITE', 2);
    expect(audioPort(reinvite.body)).toBe(d.mediaPort);
    await c.waitRequest('BYE');
    const calls = [...rig.server.calls.calls()].filter((x) => x.caller.number === a.opts.ext);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.callee.number).toBe(d.opts.ext);
  });

  it('tells the transferor when the target is busy, and the call stays', async () => {
    const [a, b, c] = await trio();
    const { inc } = await rig.connect(a, b.opts.ext, b);
    c.behaviour = 'busy';
    expect((await b.inDialog(inc.dialog!, 'REFER', { headers: [referTo(c.opts.ext)] })).status).toBe(202);
    await until(() => sipfragStatuses(b).includes(486));
    expect(Rig.received(b, 'BYE')).toHaveLength(0);
    expect([...rig.server.calls.calls()].some((x) => x.caller.number === a.opts.ext && x.state === 'connected')).toBe(true);
  });

  it('refuses a target outside the domain without outbound permission (no toll fraud by transfer)', async () => {
    const [a, b] = await trio();
    const { inc } = await rig.connect(a, b.opts.ext, b);
    const r = await b.inDialog(inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: '<sip:0049301234@evil.example>' }] });
    expect(r.status).toBe(202);
    await until(() => sipfragStatuses(b).some((s) => s >= 400));
    expect(sipfragStatuses(b).at(-1)).toBe(404);
  });
});

describe('attended transfer', () => {
  it('joins the two other parties and ends both of the transferor’s calls', async () => {
    const [a, b, c] = await trio();
    const first = await rig.connect(a, b.opts.ext, b);
    const second = await rig.connect(b, c.opts.ext, c);
    // B names its dialog with us for the B–C call: our tag is the to-tag, B's the from-tag.
    const d = second.out.dialog!;
    const value = referToWithReplaces({ scheme: 'sip', user: c.opts.ext, host: 'test.local', params: new Map(), headers: new Map() }, { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    expect((await b.inDialog(first.inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value }] })).status).toBe(202);
    // C gives a fresh offer (offerless re-INVITE), A gets it, C gets A's answer in the ACK.
    const cInvite = await c.waitRequest('INVITE');
    expect(cInvite.body.length).toBe(0);
    const aInvite = await a.waitRequest('INVITE');
    expect(audioPort(aInvite.body)).toBe(c.mediaPort);
    await until(() => Rig.received(c, 'ACK').some((x) => x.cseq.seq === cInvite.cseq.seq && x.body.length > 0));
    await until(() => Rig.received(b, 'BYE').length === 2);
    await until(() => sipfragStatuses(b).includes(200));
    await until(() => rig.server.calls.activeCount === 1 || [...rig.server.calls.calls()].every((x) => x.caller.number !== b.opts.ext));
    const live = [...rig.server.calls.calls()].filter((x) => x.caller.number === a.opts.ext);
    expect(live).toHaveLength(1);
    expect(live[0]!.callee.number).toBe(c.opts.ext);
  });

  it('turns a consultation call that is still ringing into a blind transfer to the number it rings', async () => {
    const [a, b, c] = await trio();
    const first = await rig.connect(a, b.opts.ext, b);
    c.behaviour = 'ring';
    const consult = b.call(c.opts.ext);
    const ringing = await c.waitIncoming();
    await until(() => consult.responses.some((r) => r.status === 180), '180 at B');
    const early = consult.responses.find((r) => r.status === 180)!;
    const value = referToWithReplaces({ scheme: 'sip', user: c.opts.ext, host: 'test.local', params: new Map(), headers: new Map() }, { callId: consult.invite.callId, toTag: early.to.params.get('tag')!, fromTag: consult.invite.from.params.get('tag')!, earlyOnly: false });
    expect((await b.inDialog(first.inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value }] })).status).toBe(202);
    // B's ringing consultation ends (487); C is rung again, now for A, and answers.
    expect((await consult.final).status).toBe(487);
    await until(() => ringing.cancelled, 'CANCEL of the consultation');
    const forA = await c.waitIncoming(2);
    expect(forA.invite.from.uri.user).toBe(a.opts.ext);
    c.answer(forA);
    const reinvite = await a.waitRequest('INVITE');
    expect(audioPort(reinvite.body)).toBe(c.mediaPort);
    await until(() => sipfragStatuses(b).includes(200), 'the final NOTIFY');
  });

  it('fails cleanly when the target hung up before the REFER: the first call stays', async () => {
    const [a, b, c] = await trio();
    const first = await rig.connect(a, b.opts.ext, b);
    const second = await rig.connect(b, c.opts.ext, c);
    expect((await c.inDialog(second.inc.dialog!, 'BYE')).status).toBe(200);
    const d = second.out.dialog!;
    const value = referToWithReplaces({ scheme: 'sip', user: c.opts.ext, host: 'test.local', params: new Map(), headers: new Map() }, { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    expect((await b.inDialog(first.inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value }] })).status).toBe(202);
    await until(() => sipfragStatuses(b).includes(481));
    expect([...rig.server.calls.calls()].some((x) => x.caller.number === a.opts.ext && x.state === 'connected')).toBe(true);
    expect(Rig.received(a, 'BYE')).toHaveLength(0);
  });

  it('will not merge a call of another user named in Replaces', async () => {
    const [a, b, c] = await trio();
    const [x, y] = [await rig.phone(String(n++)), await rig.phone(String(n++))];
    const first = await rig.connect(a, b.opts.ext, b);
    const others = await rig.connect(x, y.opts.ext, y);
    const d = others.out.dialog!;
    const value = referToWithReplaces({ scheme: 'sip', user: c.opts.ext, host: 'test.local', params: new Map(), headers: new Map() }, { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    expect((await b.inDialog(first.inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value }] })).status).toBe(202);
    await until(() => sipfragStatuses(b).includes(403));
    expect(Rig.received(x, 'INVITE')).toHaveLength(0);
    expect(Rig.received(y, 'INVITE')).toHaveLength(0);
  });
});

describe('REFER that must not transfer anything', () => {
  it('answers 481 to a REFER in a dialog that is not ours (an outsider)', async () => {
    const [a, b, c] = await trio();
    const { inc } = await rig.connect(a, b.opts.ext, b);
    // C forges B's dialog with a wrong tag: the core finds no such dialog.
    const forged = Object.assign(Object.create(Object.getPrototypeOf(inc.dialog!)), inc.dialog!, { remoteTag: 'not-ours', localTag: inc.dialog!.localTag });
    const r = await c.inDialog(forged, 'REFER', { headers: [referTo(c.opts.ext)] });
    expect(r.status).toBe(481);
    expect(Rig.received(a, 'INVITE')).toHaveLength(0);
  });

  it('answers 403 to a REFER outside any dialog', async () => {
    const [a] = await trio();
    const r = await a.request('REFER', { headers: [referTo('4999')] });
    expect(r.status).toBe(403);
  });
});

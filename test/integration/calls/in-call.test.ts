// What happens around and inside an established call: forking, call
// waiting, per-user limits and codecs, hold by re-INVITE, glare, UPDATE,
// INFO, reliable provisionals, session timers, and the CANCEL/200 race.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone, sdpOffer } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import { getHeader } from '../../../src/sip/headers.ts';
import { waitUntil } from '../../lib/wait.ts';

let ts: TestServer;
const phones: TestPhone[] = [];

async function phone(ext: string, o: Partial<PhoneOptions> = {}): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

beforeAll(async () => {
  ts = await startTestServer({ manualTime: true });
  for (let i = 0; i < 40; i++) await ts.server.store.users.add({ extension: String(4000 + i), password: `pw-${4000 + i}` });
  await ts.server.store.users.update('4011', { callWaiting: false });
  await ts.server.store.users.update('4013', { codecs: ['PCMA', 'PCMU'] });
  await ts.server.store.users.update('4015', { maxCalls: 1 });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts.stop();
});

const allEnded = () => waitUntil(() => ts.server.calls.activeCount === 0 && ts.server.calls.dialogCount === 0, 5000);

async function connect(a: TestPhone, b: TestPhone, target: string) {
  const call = a.call(target);
  expect((await call.final).status).toBe(200);
  const inc = b.incoming[b.incoming.length - 1]!;
  await waitUntil(() => inc.acked !== undefined);
  return { call, inc };
}

describe('forking', () => {
  it('rings every contact of the user, connects the first to answer and cancels the other', async () => {
    const a = await phone('4000');
    const desk = await phone('4001', { behaviour: 'ring' });
    const handset = await phone('4001', { behaviour: 'ring' });
    const call = a.call('4001');
    const [d, h] = await Promise.all([desk.waitIncoming(), handset.waitIncoming()]);
    expect(d.invite.callId).not.toBe(h.invite.callId);
    handset.answer(h);
    expect((await call.final).status).toBe(200);
    await waitUntil(() => d.cancelled);
    expect(d.cancelled).toBe(true);
    expect(h.cancelled).toBe(false);
    await a.inDialog(call.dialog!, 'BYE');
    await handset.waitRequest('BYE');
    expect(await allEnded()).toBe(true);
    const cdr = (await ts.server.store.cdrs.list({ extension: '4000' }))[0]!;
    expect(cdr.legs.map((l) => l.status).sort()).toEqual([200, 487]);
  });
});

describe('forwarding by the callee phone', () => {
  it('follows a 302 to another user, with Diversion and History-Info naming who forwarded', async () => {
    const a = await phone('4036');
    await phone('4037', { redirectTo: '4038' });
    const c = await phone('4038');
    const call = a.call('4037');
    expect((await call.final).status).toBe(200);
    const inv = c.incoming[0]!.invite;
    expect(getHeader(inv, 'diversion')).toBe('<sip:4037@test.local>;reason=unconditional;counter=1');
    expect(getHeader(inv, 'history-info')).toBe('<sip:4037@test.local?Reason=SIP%3Bcause%3D302>;index=1, <sip:4038@test.local>;index=1.1;rc=1');
    expect(inv.from.uri.user).toBe('4036');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('stops after three forwards (two phones forwarding to each other do not loop)', async () => {
    const a = await phone('4039');
    await phone('4018', { redirectTo: '4019' });
    await phone('4019', { redirectTo: '4018' });
    expect((await a.call('4018').final).status).toBe(480);
    expect(await allEnded()).toBe(true);
  });
});

describe('call waiting and limits', () => {
  it('rings a busy user again when call waiting is on', async () => {
    const a = await phone('4002');
    const c = await phone('4003');
    const b = await phone('4004');
    const first = await connect(a, b, '4004');
    const second = c.call('4004');
    expect((await second.final).status).toBe(200);
    expect(b.incoming).toHaveLength(2);
    await a.inDialog(first.call.dialog!, 'BYE');
    await c.inDialog(second.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('answers 486 for a busy user with call waiting off', async () => {
    const a = await phone('4005');
    const c = await phone('4006');
    const b = await phone('4011');
    const first = await connect(a, b, '4011');
    expect((await c.call('4011').final).status).toBe(486);
    expect(b.incoming).toHaveLength(1);
    await a.inDialog(first.call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('keeps a user within max calls, as caller and as callee', async () => {
    const a = await phone('4015');
    const b = await phone('4016');
    const c = await phone('4017');
    const first = await connect(a, b, '4016');
    expect((await a.call('4017').final).status).toBe(403);
    expect((await c.call('4015').final).status).toBe(486);
    await a.inDialog(first.call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });
});

describe('codecs per extension', () => {
  it('cuts the offer to the callee list in its order, keeping telephone-event', async () => {
    const a = await phone('4012');
    const b = await phone('4013');
    const { call } = await connect(a, b, '4013');
    const offer = b.incoming[0]!.invite.body.toString();
    expect(offer).toMatch(/m=audio \d+ RTP\/AVP 8 0 101\r\n/);
    expect(offer).not.toContain('G722');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });
});

describe('in-dialog requests', () => {
  it('relays a hold re-INVITE (sendonly) and the resume, each with its answer', async () => {
    const a = await phone('4020');
    const b = await phone('4021');
    const { call } = await connect(a, b, '4021');
    const hold = await a.inDialog(call.dialog!, 'INVITE', { body: sdpOffer(a.mediaPort, '0 101', 'sendonly') });
    expect(hold.status).toBe(200);
    const reinv = await b.waitRequest('INVITE');
    expect(reinv.body.toString()).toContain('a=sendonly');
    expect([...ts.server.calls.calls()][0]!.held).toBe(true);
    const ackAtB = await b.waitRequest('ACK', 2);
    expect(ackAtB.cseq.seq).toBe(reinv.cseq.seq);
    const resume = await a.inDialog(call.dialog!, 'INVITE', { body: sdpOffer(a.mediaPort, '0 101', 'sendrecv') });
    expect(resume.status).toBe(200);
    expect([...ts.server.calls.calls()][0]!.held).toBe(false);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('answers 491 to a re-INVITE that crosses one in the other direction (glare)', async () => {
    const a = await phone('4022');
    const b = await phone('4023');
    const { call, inc } = await connect(a, b, '4023');
    b.holdReinvites = true;
    const fromA = a.inDialog(call.dialog!, 'INVITE', { body: sdpOffer(a.mediaPort) });
    await waitUntil(() => b.heldReinvites.length === 1);
    const fromB = await b.inDialog(inc.dialog!, 'INVITE', { body: sdpOffer(b.mediaPort) });
    expect(fromB.status).toBe(491);
    // B's own stack now answers A's re-INVITE with 491 too, as RFC 3261 §14.2 asks.
    const held = b.heldReinvites[0]!;
    const { createResponse } = await import('../../../src/sip/serializer.ts');
    held.tx.respond(createResponse(held.req, 491));
    expect((await fromA).status).toBe(491);
    b.holdReinvites = false;
    expect((await a.inDialog(call.dialog!, 'INVITE', { body: sdpOffer(a.mediaPort) })).status).toBe(200);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('relays UPDATE and INFO with their bodies', async () => {
    const a = await phone('4024');
    const b = await phone('4025');
    const { call } = await connect(a, b, '4025');
    expect((await a.inDialog(call.dialog!, 'UPDATE', { body: sdpOffer(a.mediaPort, '0 101') })).status).toBe(200);
    expect((await b.waitRequest('UPDATE')).body.toString()).toContain('m=audio');
    const dtmf = Buffer.from('Signal=5\r\nDuration=160\r\n');
    expect((await a.inDialog(call.dialog!, 'INFO', { body: dtmf, contentType: 'application/dtmf-relay' })).status).toBe(200);
    const info = await b.waitRequest('INFO');
    expect(info.body.toString()).toBe(dtmf.toString());
    expect(getHeader(info, 'content-type')).toBe('application/dtmf-relay');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('answers 481 to requests in an unknown dialog', async () => {
    const a = await phone('4026');
    const b = await phone('4027');
    const { call } = await connect(a, b, '4027');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
    expect((await a.inDialog(call.dialog!, 'INFO', { body: Buffer.from('x'), contentType: 'text/plain' })).status).toBe(481);
  });
});

describe('RFC 3262 and RFC 4028 through the B2BUA', () => {
  it('PRACKs a reliable 180 from the callee and relays the ringing', async () => {
    const a = await phone('4028');
    const b = await phone('4029', { behaviour: 'reliable-ring' });
    const call = a.call('4029');
    const prack = await b.waitRequest('PRACK');
    expect(getHeader(prack, 'rack')).toBe(`1 ${b.incoming[0]!.invite.cseq.seq} INVITE`);
    await waitUntil(() => call.responses.some((r) => r.status === 180));
    // The caller did not ask for 100rel: its 180 is unreliable.
    expect(getHeader(call.responses.find((r) => r.status === 180)!, 'rseq')).toBeUndefined();
    b.answer(b.incoming[0]!);
    expect((await call.final).status).toBe(200);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('ends a call whose session was not refreshed in time', async () => {
    const a = await phone('4030');
    const b = await phone('4031', { behaviour: 'ring' });
    const call = a.call('4031', { headers: [{ name: 'session-expires', value: '3' }, { name: 'supported', value: 'timer' }] });
    const inc = await b.waitIncoming();
    expect(getHeader(inc.invite, 'session-expires')).toBe('3');
    b.answer(inc, undefined, [{ name: 'session-expires', value: '3;refresher=uac' }, { name: 'require', value: 'timer' }]);
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(getHeader(final, 'session-expires')).toBe('3;refresher=uac');
    // The caller is the refresher and never refreshes: before expiry (§10: 3 s less min(32, 3/3)) the B2BUA ends the call on both sides.
    await ts.advance(1_900);
    expect(a.requests.some((r) => r.method === 'BYE')).toBe(false);
    await ts.advance(200);
    const byes = await Promise.all([a.waitRequest('BYE', 1, 5000), b.waitRequest('BYE', 1, 5000)]);
    expect(byes.map((r) => r?.method)).toEqual(['BYE', 'BYE']);
    expect(await allEnded()).toBe(true);
  });

  it('keeps a refreshed session alive', async () => {
    const a = await phone('4034');
    const b = await phone('4035', { behaviour: 'ring' });
    const call = a.call('4035', { headers: [{ name: 'session-expires', value: '3' }, { name: 'supported', value: 'timer' }] });
    const inc = await b.waitIncoming();
    b.answer(inc, undefined, [{ name: 'session-expires', value: '3;refresher=uac' }, { name: 'require', value: 'timer' }]);
    expect((await call.final).status).toBe(200);
    // Three refreshes 1.2 s apart carry the session well past its first 2 s deadline.
    for (let i = 0; i < 3; i++) {
      await ts.advance(1_200);
      expect((await a.inDialog(call.dialog!, 'UPDATE', { headers: [{ name: 'session-expires', value: '3;refresher=uac' }] })).status).toBe(200);
    }
    expect(ts.server.calls.activeCount).toBe(1);
    expect(a.requests.some((r) => r.method === 'BYE')).toBe(false);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });
});

describe('races', () => {
  it('survives CANCEL crossing the 200: the call ends cleanly either way', async () => {
    const a = await phone('4032');
    const b = await phone('4033', { behaviour: 'ring' });
    for (let i = 0; i < 5; i++) {
      const call = a.call('4033');
      const inc = await b.waitIncoming(i + 1);
      await waitUntil(() => call.responses.some((r) => r.status === 180));
      b.answer(inc);
      a.cancel(call);
      const final = await call.final;
      expect([200, 487]).toContain(final.status);
      if (final.status === 200) {
        // The caller got the 200 first: it hangs up, and both sides see the end.
        await a.inDialog(call.dialog!, 'BYE');
      }
      expect(await allEnded()).toBe(true);
      // Whichever way it went, the callee's dialog is ended by a BYE (from the caller, or from the
      // B2BUA hanging up the 2xx that lost the race).
      expect(await waitUntil(() => b.dialogs.size === 0)).toBe(true);
    }
  });
});

// Calls between registered users through the B2BUA: the happy path and the
// ways a call fails to connect, each checked on both sides of the B2BUA.
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
  const r = await p.register();
  expect(r.status).toBe(200);
  return p;
}

beforeAll(async () => {
  ts = await startTestServer({ manualTime: true });
  for (let i = 0; i < 30; i++) await ts.server.store.users.add({ extension: String(3000 + i), password: `pw-${3000 + i}`, name: `User ${3000 + i}` });
  await ts.server.store.users.update('3020', { callWaiting: false });
  await ts.server.store.users.update('3022', { noAnswerTimeoutSec: 5 });
  await ts.server.store.users.update('3024', { codecs: ['PCMA'] });
  await ts.server.store.users.update('3026', { maxCalls: 1 });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts.stop();
});

const callsEnded = () => waitUntil(() => ts.server.calls.activeCount === 0 && ts.server.calls.dialogCount === 0, 5000);

describe('a call between two users', () => {
  it('connects with 100/180/200, new identities on the callee leg, and ends with BYE on both sides', async () => {
    const a = await phone('3000');
    const b = await phone('3001', { behaviour: 'ring-answer' });
    const call = a.call('3001');
    const final = await call.final;
    expect(final.status).toBe(200);
    const statuses = call.responses.map((r) => r.status);
    expect(call.challenged).toBe(true);
    expect(statuses).toContain(100);
    expect(statuses).toContain(180);
    expect(final.body.toString()).toContain(`m=audio ${b.mediaPort} RTP/AVP`);
    const inc = b.incoming[0]!;
    expect(inc.invite.callId).not.toBe(call.invite.callId);
    expect(inc.invite.from.uri.user).toBe('3000');
    expect(inc.invite.from.displayName).toBe('User 3000');
    expect(getHeader(inc.invite, 'p-asserted-identity')).toContain('sip:3000@test.local');
    expect(inc.invite.body.toString()).toContain(`m=audio ${a.mediaPort} RTP/AVP`);
    expect(getHeader(final, 'p-asserted-identity')).toContain('sip:3001@test.local');
    await waitUntil(() => inc.acked !== undefined);
    expect(inc.acked).toBeDefined();
    expect([...ts.server.calls.calls()].map((c) => c.state)).toEqual(['connected']);

    const bye = await a.inDialog(call.dialog!, 'BYE');
    expect(bye.status).toBe(200);
    const byeAtB = await b.waitRequest('BYE');
    expect(byeAtB.callId).toBe(inc.invite.callId);
    expect(await callsEnded()).toBe(true);
    const cdr = (await ts.server.store.cdrs.list({ extension: '3000' }))[0]!;
    expect(cdr).toMatchObject({ direction: 'internal', caller: '3000', callee: '3001', calleeExtension: '3001', disposition: 'answered', status: 200, codec: 'PCMU' });
    expect(cdr.answeredAt).not.toBeNull();
    expect(cdr.legs).toHaveLength(1);
    expect(cdr.legs[0]!.status).toBe(200);
  });

  it('is ended by the callee too', async () => {
    const a = await phone('3002');
    const b = await phone('3003');
    const call = a.call('3003');
    expect((await call.final).status).toBe(200);
    const inc = await b.waitIncoming();
    expect((await b.inDialog(inc.dialog!, 'BYE')).status).toBe(200);
    const byeAtA = await a.waitRequest('BYE');
    expect(byeAtA.callId).toBe(call.invite.callId);
    expect(await callsEnded()).toBe(true);
  });

  it('relays a late offer: the callee offers in its 200 and the caller answers in its ACK', async () => {
    const a = await phone('3004');
    const b = await phone('3005');
    const answer = sdpOffer(a.mediaPort, '0 101');
    const call = a.call('3005', { body: null, ackBody: answer });
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(final.body.toString()).toContain(`m=audio ${b.mediaPort}`);
    const inc = await b.waitIncoming();
    expect(inc.invite.body.length).toBe(0);
    await waitUntil(() => inc.acked !== undefined);
    expect(inc.acked!.body.toString()).toContain(`m=audio ${a.mediaPort} RTP/AVP 0 101`);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await callsEnded()).toBe(true);
  });
});

describe('calls that do not connect', () => {
  it('asks for credentials (407) and refuses a wrong password', async () => {
    const a = await phone('3006');
    const bad = await TestPhone.start({ ext: '3006', password: 'wrong', server: { host: ts.host, port: ts.sipPort, domain: 'test.local' } });
    phones.push(bad);
    const call = bad.call('3000');
    const final = await call.final;
    // Challenged, answered with the wrong password, challenged again: the second 407 is final.
    expect(final.status).toBe(407);
    expect(call.challenged).toBe(true);
    expect(getHeader(call.invite, 'proxy-authorization')).toContain('username="3006"');
    void a;
  });

  it('answers 404 for an unknown number and 480 for a user with no registration', async () => {
    const a = await phone('3007');
    expect((await a.call('9999999').final).status).toBe(404);
    expect((await a.call('3029').final).status).toBe(480);
    const cdr = await ts.server.store.cdrs.list({ extension: '3007' });
    expect(cdr.some((c) => c.callee === '3029' && c.disposition === 'no-answer' && c.status === 480)).toBe(true);
  });

  it('passes busy (486) back and records the call as busy', async () => {
    const a = await phone('3008');
    await phone('3009', { behaviour: 'busy' });
    expect((await a.call('3009').final).status).toBe(486);
    expect(await callsEnded()).toBe(true);
    expect((await ts.server.store.cdrs.list({ extension: '3008' }))[0]!.disposition).toBe('busy');
  });

  it('propagates CANCEL to the ringing callee and answers 487', async () => {
    const a = await phone('3010');
    const b = await phone('3011', { behaviour: 'ring' });
    const call = a.call('3011');
    await b.waitIncoming();
    await waitUntil(() => call.responses.some((r) => r.status === 180));
    a.cancel(call);
    expect((await call.final).status).toBe(487);
    await waitUntil(() => b.incoming[0]!.cancelled);
    expect(b.incoming[0]!.cancelled).toBe(true);
    expect(await callsEnded()).toBe(true);
    expect((await ts.server.store.cdrs.list({ extension: '3010' }))[0]!.disposition).toBe('cancelled');
  });

  it('gives up after the callee no-answer timeout with 480 and cancels the callee', async () => {
    const a = await phone('3012');
    const b = await phone('3022', { behaviour: 'ring' });
    const call = a.call('3022');
    await b.waitIncoming();
    expect(await waitUntil(() => call.responses.some((r) => r.status === 180))).toBe(true);
    // Server time: nothing happens before the user's 5 s, the 480 right after.
    await ts.advance(4_900);
    expect(call.responses.some((r) => r.status >= 200)).toBe(false);
    await ts.advance(200);
    const final = await call.final;
    expect(final.status).toBe(480);
    expect(await waitUntil(() => b.incoming[0]!.cancelled)).toBe(true);
    expect(b.incoming[0]!.cancelled).toBe(true);
    expect((await ts.server.store.cdrs.list({ extension: '3022' }))[0]!.disposition).toBe('no-answer');
  }, 15_000);

  it('refuses an offer with no codec the callee allows (488)', async () => {
    const a = await phone('3013');
    await phone('3024');
    expect((await a.call('3024', { body: sdpOffer(a.mediaPort, '0 101') }).final).status).toBe(488);
  });
});

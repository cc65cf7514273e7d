// Blind transfer with SIPp phones through Switchboard (UDP), both ways a
// transferor may leave (SPEC B-12): B stays until the server ends its leg
// (after the NOTIFYs: Event: refer, message/sipfrag 100 ... 200), or B hangs
// up right after the 202 ("Send BYE with REFER") and the transfer goes on
// without it. Either way A is re-INVITEd and connected to C: C answers (its
// INVITE may come without an offer), later hangs up, and A gets that BYE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, phone, phonesDone, receivedRequests, registerPhones, why } from './lib/feature-calls.ts';
import { featureServerFixture } from './lib/feature-server.ts';
import { bodyOf } from './lib/sip-tap.ts';
import { receivedRequestLines } from './lib/sipp-calls.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const U = makeUsers(6, 3501);
const u = (i: number): TestUser => U[i] as TestUser;

const env = featureServerFixture({
  name: 'transfer-sipp',
  tools: ['sipp'],
  domain: 'lab.test',
  prepare: (fs) => fs.addUsers(U),
});

describe('blind transfer by SIPp phones', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each([
    ['B stays until the server ends its leg', 'uas_refer.xml', 0],
    ['B sends BYE right after the 202 (B-12 "Send BYE with REFER")', 'uas_refer_bye.xml', 3],
  ])('%s: A is connected to C', async (_title, scenario, first) => {
    const e = env.get();
    const [A, B, C] = [u(first), u(first + 1), u(first + 2)];
    const ports = await registerPhones(e, [B, C]);
    const b = await phone(e, scenario, ports.get(B.ext) as number, { user: B, keys: { refer_to: C.ext, domain: e.fs.domain }, holdMs: 1000 });
    const c = await phone(e, 'uas_answer_hangup.xml', ports.get(C.ext) as number, { holdMs: 300 });
    const since = e.fs.tap.mark();
    // A: answered by B, then in the call (re-INVITEs answered) until the BYE that follows C's hang-up.
    const a = await caller(e, 'code_uac.xml', A, B.ext, { recvTimeoutMs: 20_000 });
    const [bRun, cRun] = await phonesDone(a, [b, c]);
    const w = why(e, a, bRun, cRun);
    expect(bRun.stats?.successful, w).toBe(1);
    expect(cRun.stats?.successful, w).toBe(1);
    expect(a.stats?.successful, w).toBe(1);
    expect(e.fs.tap.responses('out', 'REFER', since).map((m) => m.status), w).toContain(202);
    // A was moved: re-INVITEd by the server, and its call ended with C's hang-up.
    expect(receivedRequestLines(a.messages).filter((l) => l.startsWith('INVITE ')).length, w).toBeGreaterThanOrEqual(1);
    expect(receivedRequestLines(a.messages).filter((l) => l.startsWith('BYE ')), w).toHaveLength(1);
    // C got the call from the server (with or without an offer) and hung it up itself.
    const toC = e.fs.tap.requests('out', 'INVITE', since).filter((m) => m.peer.port === ports.get(C.ext));
    expect(toC.length, w).toBe(1);
    console.log(`INVITE to the transfer target ${toC[0]!.startLine}: ${bodyOf(toC[0]!.text) === '' ? 'no offer (offer in the 200, answer in the ACK)' : 'with an offer'}`);
    if (scenario === 'uas_refer.xml') {
      const notifies = receivedRequests(bRun.messages, 'NOTIFY');
      expect(notifies.every((n) => /^Event:\s*refer/im.test(n)), w).toBe(true);
      expect(notifies.every((n) => /^Content-Type:\s*message\/sipfrag/im.test(n)), w).toBe(true);
      expect(notifies.some((n) => /^SIP\/2\.0 100/m.test(n)), `NOTIFYs:\n${notifies.join('\n')}\n${w}`).toBe(true);
      expect(notifies.some((n) => /^SIP\/2\.0 200/m.test(n)), `NOTIFYs:\n${notifies.join('\n')}\n${w}`).toBe(true);
      // The server ended B's leg (B's scenario answers a BYE, or sends its own after 8 s of quiet).
      expect(receivedRequestLines(bRun.messages).filter((l) => l.startsWith('BYE ')), w).toHaveLength(1);
    } else {
      // B ended its own leg: the server answered that BYE and must not send one of its own on
      // the ended dialog (NOTIFYs may still come: the refer subscription outlives the INVITE usage, RFC 5057).
      const bDialog = e.fs.tap.requests('in', 'REFER', since)[0]?.callId ?? '';
      const byeIn = e.fs.tap.find((m) => m.dir === 'in' && m.callId === bDialog && m.method === 'BYE' && m.status === 0, since)[0];
      expect(byeIn, w).toBeDefined();
      await new Promise((r) => setTimeout(r, 1000));
      const byeOut = e.fs.tap.find((m) => m.dir === 'out' && m.callId === bDialog && m.method === 'BYE' && m.status === 0, since);
      expect(byeOut.map((m) => `+${m.at - byeIn!.at} ms ${m.startLine}`), `the server sent BYE on B's dialog after B's own BYE\n${e.fs.tap.dump({ since })}`).toEqual([]);
    }
  });
});

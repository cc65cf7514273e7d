// Hunt groups through Switchboard with SIPp phones (UDP): each member is a
// SIPp UAS registered as its own user. Ring-all rings every logged-in member
// at once; the first to answer wins and the others get CANCEL. Sequential
// goes on to the next member when one is busy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, phone, phonesDone, registerPhones, why } from './lib/feature-calls.ts';
import { receivedResponses } from './lib/call-flows.ts';
import { featureServerFixture } from './lib/feature-server.ts';
import { receivedRequestLines } from './lib/sipp-calls.ts';
import { makeUsers } from './users.ts';

const [CALLER, M1, M2, M3, S1, S2] = makeUsers(6, 2101);
const RING_ALL = '610';
const SEQUENTIAL = '611';

const env = featureServerFixture({
  name: 'huntgroup',
  tools: ['sipp'],
  domain: 'lab.test',
  async prepare(fs) {
    await fs.addUsers([CALLER!, M1!, M2!, M3!, S1!, S2!]);
    await fs.addHuntGroup({ number: RING_ALL, name: 'Ward desk', strategy: 'ring-all', members: [M1!.ext, M2!.ext, M3!.ext], noAnswerSec: 20 });
    await fs.addHuntGroup({ number: SEQUENTIAL, name: 'Pharmacy', strategy: 'sequential', members: [S1!.ext, S2!.ext], noAnswerSec: 10 });
  },
});

describe('hunt groups with SIPp members', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('ring-all: all three members ring at once; the one that answers gets the call, the other two get CANCEL', async () => {
    const e = env.get();
    const ports = await registerPhones(e, [M1!, M2!, M3!]);
    const p = (u: typeof M1) => ports.get(u!.ext) as number;
    // M2 answers after ringing 1.5 s; M1 and M3 only ring.
    const ring1 = await phone(e, 'uas_cancel.xml', p(M1));
    const answer2 = await phone(e, 'uas_ring_answer.xml', p(M2), { holdMs: 1500 });
    const ring3 = await phone(e, 'uas_cancel.xml', p(M3));
    const since = e.fs.tap.mark();
    const call = await caller(e, 'call_uac.xml', CALLER!, RING_ALL, { holdMs: 1000 });
    const [r1, a2, r3] = await phonesDone(call, [ring1, answer2, ring3]);
    const w = why(e, call, r1, a2, r3);

    expect(call.stats?.successful, w).toBe(1);
    expect(receivedResponses(call.messages).filter((r) => r.method === 'INVITE').map((r) => r.status), w).toContain(200);
    expect(a2.stats?.successful, w).toBe(1);
    for (const r of [r1, r3]) {
      expect(r.stats?.successful, w).toBe(1);
      expect(receivedRequestLines(r.messages).filter((l) => l.startsWith('CANCEL ')), w).toHaveLength(1);
    }
    // At once: every member's INVITE left before anyone answered.
    const invites = e.fs.tap.requests('out', 'INVITE', since);
    const answered = e.fs.tap.find((m) => m.dir === 'in' && m.status === 200 && m.method === 'INVITE' && m.peer.port === p(M2), since)[0];
    expect(answered, w).toBeDefined();
    for (const u of [M1, M2, M3]) {
      const inv = invites.find((m) => m.peer.port === p(u));
      expect(inv, `no INVITE to ${u!.ext}\n${w}`).toBeDefined();
      expect(inv!.at, w).toBeLessThanOrEqual(answered!.at);
    }
    // The caller talks to the one that answered: the BYE went on to M2 only.
    expect(receivedRequestLines(a2.messages).filter((l) => l.startsWith('BYE ')), w).toHaveLength(1);
  });

  it('sequential: the first member is busy (486), the call goes on to the second, who answers', async () => {
    const e = env.get();
    const ports = await registerPhones(e, [S1!, S2!]);
    const busy = await phone(e, 'uas_busy.xml', ports.get(S1!.ext) as number);
    const answer = await phone(e, 'uas_ring_answer.xml', ports.get(S2!.ext) as number, { holdMs: 300 });
    const since = e.fs.tap.mark();
    const call = await caller(e, 'call_uac.xml', CALLER!, SEQUENTIAL, { holdMs: 500 });
    const [b, a] = await phonesDone(call, [busy, answer]);
    const w = why(e, call, b, a);
    expect(call.stats?.successful, w).toBe(1);
    expect(b.stats?.successful, w).toBe(1);
    expect(a.stats?.successful, w).toBe(1);
    // In order: S1 first, S2 only after S1's 486.
    const invites = e.fs.tap.requests('out', 'INVITE', since);
    const toS1 = invites.find((m) => m.peer.port === ports.get(S1!.ext));
    const toS2 = invites.find((m) => m.peer.port === ports.get(S2!.ext));
    const busyAt = e.fs.tap.find((m) => m.dir === 'in' && m.status === 486 && m.peer.port === ports.get(S1!.ext), since)[0];
    expect(toS1 && toS2 && busyAt, w).toBeTruthy();
    expect(toS1!.at, w).toBeLessThan(toS2!.at);
    expect(busyAt!.at, w).toBeLessThanOrEqual(toS2!.at);
  });
});

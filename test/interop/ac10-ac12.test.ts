// A scripted run of SPEC AC-10 and AC-12 with real handsets (baresip over
// TLS with SRTP enforced; linphonec for the attended transfer), each feature
// checked from a second party:
//  AC-10 hold / resume, several calls per handset, blind transfer, attended
//        transfer, and a long call (shortened here to LONG_CALL_MS; SPEC
//        proposes >= 1 h) with re-REGISTERs and a session refresh
//        (re-INVITE) during the call. Mute and redial are the handset's own
//        business (no SIP reaches the server that differs from a call), so
//        they are not exercised.
//  AC-12 short codes dialled from a handset as a user types them (baresip
//        sends '#' unescaped: INVITE sip:*07*3403#@lab.test): forward,
//        follow me, park and unpark, pickup, do not disturb.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PACKETS_EACH_WAY } from './lib/baresip-calls.ts';
import type { BaresipPhone } from './lib/baresip-phone.ts';
import type { FeatureServer } from './lib/feature-server.ts';
import { featureServerFixture } from './lib/feature-server.ts';
import { callsReached, captureMedia, connect, event, handsetDialsSetting, Handsets, hasEvent, rtpRangesN, talkBetween } from './lib/handsets.ts';
import type { PortRange } from './lib/baresip-phone.ts';
import { bodyOf, headerValues } from './lib/sip-tap.ts';
import { LinphonePhone } from './lib/linphone-phone.ts';
import { attendedTransferByLinphone, blindTransfer, waitCalls } from './lib/transfer-flows.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
/** 3401-3415: handsets (Enforced, TLS); 3416-3418: the linphone attended transfer, 3419-3421 the linphone code (plain UDP). */
const USERS = makeUsers(21, 3401);
const H = (i: number): TestUser => USERS[i] as TestUser;
const LONG_CALL_MS = 20_000;
/** Registration interval of the long-call handsets: several re-REGISTERs during the call. */
const SHORT_REGINT = 10;
const TALK_MS = 3000;

const env = featureServerFixture({
  name: 'ac10-ac12',
  tools: ['baresip', 'linphonec', 'tshark'],
  domain: DOMAIN,
  config: { registrar: { minExpiresSec: 5 } },
  async prepare(fs) {
    await fs.addUsers(USERS.slice(0, 15), { media: { security: 'enforced', transport: 'tls' } });
    await fs.addUsers(USERS.slice(15));
  },
});

/** The Call-ID of the server's dialog with a phone: the last INVITE it got whose From is that user. */
function callIdFrom(fs: FeatureServer, ext: string, since: number): string {
  const inv = fs.tap.requests('in', 'INVITE', since).filter((m) => (headerValues(m.text, 'from', 'f')[0] ?? '').includes(`sip:${ext}@`));
  return inv[inv.length - 1]?.callId ?? '';
}

async function talk(fs: FeatureServer, workDir: string, x: PortRange, y: PortRange, third: PortRange | undefined, name: string, why: () => string): Promise<void> {
  const pcap = await captureMedia(third ? [x, y, third] : [x, y], workDir, name);
  try {
    await new Promise((r) => setTimeout(r, TALK_MS));
  } finally {
    await pcap.stop();
  }
  const t = await talkBetween(pcap, fs, x, y, third, true);
  const d = `${name}: ${t.detail}\n${why()}`;
  expect(t.toA.length, d).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
  expect(t.toC.length, d).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
  expect(t.decryptedToA, d).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
  expect(t.decryptedToC, d).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
  if (third) expect(t.third, d).toEqual([]);
  console.log(`${name}: ${t.detail}`);
}

async function hangup(p: BaresipPhone, others: BaresipPhone[], why: () => string): Promise<void> {
  const r = await p.command('hangup');
  expect(r.ok, why()).toBe(true);
  await event(p, 'CALL_CLOSED', why);
  for (const o of others) await event(o, 'CALL_CLOSED', why);
}

/** b calls a's extension; `rings` answers by itself (auto-answer) and must be the one that rings. */
async function callRingsAt(b: BaresipPhone, ext: string, rings: BaresipPhone, notRinging: BaresipPhone | undefined, why: () => string): Promise<void> {
  const before = notRinging?.events.length ?? 0;
  const d = await b.command('dial', `sip:${ext}@${DOMAIN}`);
  expect(d.ok, why()).toBe(true);
  // rings answers by itself (auto-answer: no CALL_INCOMING, an incoming CALL_ESTABLISHED).
  await event(rings, 'CALL_ESTABLISHED', why);
  await event(b, 'CALL_ESTABLISHED', why);
  if (notRinging !== undefined) expect(callsReached(notRinging, before), `${notRinging.name} rang too\n${why()}`).toEqual([]);
  await hangup(b, [rings], why);
}

interface ABC {
  fs: FeatureServer;
  workDir: string;
  a: BaresipPhone;
  b: BaresipPhone;
  c: BaresipPhone;
  ra: PortRange;
  rb: PortRange;
  rc: PortRange;
  why: () => string;
}

/** Starts handsets A, B and C (users H(10)-H(12)), A and C answering by themselves if `autoAnswer`, runs `body`, and stops them all. */
async function withABC(autoAnswer: boolean, body: (p: ABC) => Promise<void>): Promise<void> {
  const { fs, workDir } = env.get();
  const [ra, rb, rc] = rtpRangesN(3) as [PortRange, PortRange, PortRange];
  const phones = new Handsets(fs);
  const why = () => phones.why();
  const [UA, UB, UC] = [H(10), H(11), H(12)];
  try {
    const a = await phones.start({ name: 'A', user: UA, rtp: ra, autoAnswer });
    const b = await phones.start({ name: 'B', user: UB, rtp: rb });
    const c = await phones.start({ name: 'C', user: UC, rtp: rc, autoAnswer });
    await body({ fs, workDir, a, b, c, ra, rb, rc, why });
  } finally {
    await phones.stopAll();
  }
}

/**
 * A calls B; `park` has B park A in `slot` (B's call ends); A's call must
 * not end; C dials *38*slot#, C and A talk (B hears nothing), C hangs up.
 */
async function parkThenUnpark(slot: number, talkName: string, park: (fs: FeatureServer, b: BaresipPhone, why: () => string) => Promise<void>): Promise<void> {
  await withABC(false, async ({ fs, workDir, a, b, c, ra, rb, rc, why }) => {
    await connect(a, b, H(11).ext, DOMAIN, why);
    await park(fs, b, why);
    expect(hasEvent(a, 'CALL_CLOSED'), `A's call ended instead of being parked\n${why()}`).toBe(false);
    expect((await c.command('dial', `*38*${slot}#`)).ok, why()).toBe(true);
    await event(c, 'CALL_ESTABLISHED', why);
    await talk(fs, workDir, ra, rc, rb, talkName, why);
    await hangup(c, [a], why);
  });
}

describe('AC-10: handset call features (baresip, TLS + SRTP)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('hold and resume: B holds A (re-INVITE sendonly/inactive reaches A), resumes, and they talk again both ways', async () => {
    const { fs, workDir } = env.get();
    const [ra, rb] = rtpRangesN(2) as [PortRange, PortRange];
    const phones = new Handsets(fs);
    const why = () => phones.why();
    try {
      const a = await phones.start({ name: 'A', user: H(0), rtp: ra });
      const b = await phones.start({ name: 'B', user: H(1), rtp: rb });
      const start = fs.tap.mark();
      await connect(a, b, H(1).ext, DOMAIN, why);
      const aCall = callIdFrom(fs, H(0).ext, start);
      const toA = (since: number, re: RegExp) =>
        fs.tap.waitFor((m) => m.dir === 'out' && m.status === 0 && m.method === 'INVITE' && m.callId === aCall && re.test(bodyOf(m.text)), 10_000, since);

      const held = fs.tap.mark();
      expect((await b.command('hold')).ok, why()).toBe(true);
      expect(await toA(held, /a=(sendonly|inactive)/), `no hold re-INVITE reached A\n${why()}`).not.toBeNull();
      const resumed = fs.tap.mark();
      expect((await b.command('resume')).ok, why()).toBe(true);
      const again = await toA(resumed, /m=audio/);
      expect(again, `no resume re-INVITE reached A\n${why()}`).not.toBeNull();
      expect(bodyOf(again!.text), why()).not.toMatch(/a=(sendonly|inactive|recvonly)/);
      await fs.tap.waitFor((m) => m.dir === 'in' && m.status === 200 && m.method === 'INVITE' && m.callId === aCall, 10_000, resumed);
      await talk(fs, workDir, ra, rb, undefined, 'after resume', why);
      await hangup(a, [b], why);
    } finally {
      await phones.stopAll();
    }
  });

  it('several calls per handset: A in a call with B takes a second call from C; both up at once, then each ends', async () => {
    const { fs } = env.get();
    const [ra, rb, rc] = rtpRangesN(3) as [PortRange, PortRange, PortRange];
    const phones = new Handsets(fs);
    const why = () => phones.why();
    try {
      const a = await phones.start({ name: 'A', user: H(2), rtp: ra });
      const b = await phones.start({ name: 'B', user: H(3), rtp: rb });
      const c = await phones.start({ name: 'C', user: H(4), rtp: rc });
      await connect(b, a, H(2).ext, DOMAIN, why);
      await connect(c, a, H(2).ext, DOMAIN, why);
      expect(fs.server.calls.activeCount, why()).toBe(2);
      // A's current call is the second one: hanging up ends C's, then B's.
      await hangup(a, [c], why);
      expect(hasEvent(b, 'CALL_CLOSED'), why()).toBe(false);
      await hangup(a, [b], why);
      expect(await waitCalls(fs, 0), why()).toBe(true);
    } finally {
      await phones.stopAll();
    }
  });

  it('blind transfer (baresip `transfer`): A and C talk, B is out', async () => {
    const { fs, workDir } = env.get();
    await blindTransfer(fs, workDir, { title: 'AC-10 blind', transferorCalls: false, holdFirst: false, users: [H(5), H(6), H(7)] }, DOMAIN);
  });

  it('attended transfer (linphonec `transfer --to-call`): A and C talk, B has no call', async () => {
    const { fs, workDir } = env.get();
    await attendedTransferByLinphone(fs, workDir, { a: USERS[15]!, b: USERS[16]!, c: USERS[17]! }, DOMAIN);
  });

  it(`long call (shortened to ${LONG_CALL_MS / 1000} s): re-REGISTERs and a session refresh during the call, audio both ways at the end`, async () => {
    const { fs, workDir } = env.get();
    const [ra, rb] = rtpRangesN(2) as [PortRange, PortRange];
    const phones = new Handsets(fs);
    const why = () => phones.why();
    try {
      const a = await phones.start({ name: 'A', user: H(8), rtp: ra, regint: SHORT_REGINT });
      const b = await phones.start({ name: 'B', user: H(9), rtp: rb, regint: SHORT_REGINT });
      const start = fs.tap.mark();
      await connect(a, b, H(9).ext, DOMAIN, why);
      const aCall = callIdFrom(fs, H(8).ext, start);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, LONG_CALL_MS / 2));
      // Session refresh from A: a re-INVITE, relayed to B and answered.
      const refresh = fs.tap.mark();
      expect((await a.command('reinvite')).ok, why()).toBe(true);
      const ok = await fs.tap.waitFor((m) => m.dir === 'out' && m.status === 200 && m.method === 'INVITE' && m.callId === aCall, 10_000, refresh);
      expect(ok, `A's re-INVITE was not answered 200\n${why()}`).not.toBeNull();
      expect(fs.tap.requests('out', 'INVITE', refresh).filter((m) => m.callId !== aCall).length, `not relayed to B\n${why()}`).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, Math.max(0, LONG_CALL_MS - (Date.now() - t0) - TALK_MS)));
      await talk(fs, workDir, ra, rb, undefined, 'end of the long call', why);
      expect(hasEvent(a, 'CALL_CLOSED') || hasEvent(b, 'CALL_CLOSED'), why()).toBe(false);
      // Both handsets registered again while the call was up, and were answered 200.
      for (const u of [H(8), H(9)]) {
        const regs = fs.tap.requests('in', 'REGISTER', start).filter((m) => (headerValues(m.text, 'from', 'f')[0] ?? '').includes(`sip:${u.ext}@`));
        const oks = fs.tap.responses('out', 'REGISTER', start).filter((m) => m.status === 200 && regs.some((r) => r.callId === m.callId));
        expect(oks.length, `${u.ext}: ${regs.length} REGISTERs during the call, ${oks.length} answered 200\n${why()}`).toBeGreaterThanOrEqual(1);
      }
      await hangup(a, [b], why);
    } finally {
      await phones.stopAll();
    }
  });
});

describe('AC-12: short codes dialled from handsets, checked from a second party', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('forward: A dials *07*C# -> a call from B to A rings C, not A; *00 -> it rings A again', async () => {
    const [UA, UC] = [H(10), H(12)];
    await withABC(true, async ({ fs, a, b, c, why }) => {
      const line = await handsetDialsSetting(fs, a, `*07*${UC.ext}#`, why);
      console.log(`baresip sends a code as: ${line}`);
      await callRingsAt(b, UA.ext, c, a, why);
      await handsetDialsSetting(fs, a, '*00', why);
      await callRingsAt(b, UA.ext, a, c, why);
    });
  });

  it('follow me: C dials *12*A# -> a call from B to A rings C; *13*A# -> it rings A again', async () => {
    const UA = H(10);
    await withABC(true, async ({ fs, a, b, c, why }) => {
      await handsetDialsSetting(fs, c, `*12*${UA.ext}#`, why);
      await callRingsAt(b, UA.ext, c, a, why);
      await handsetDialsSetting(fs, c, `*13*${UA.ext}#`, why);
      await callRingsAt(b, UA.ext, a, c, why);
    });
  });

  it('DND: A dials *08 -> a call from B is refused and A does not ring; *09 -> A rings', async () => {
    const { fs } = env.get();
    const [ra, rb] = rtpRangesN(2) as [PortRange, PortRange];
    const phones = new Handsets(fs);
    const why = () => phones.why();
    try {
      const a = await phones.start({ name: 'A', user: H(13), rtp: ra, autoAnswer: true });
      const b = await phones.start({ name: 'B', user: H(14), rtp: rb });
      await handsetDialsSetting(fs, a, '*08', why);
      const since = fs.tap.mark();
      const before = a.events.length;
      expect((await b.command('dial', `sip:${H(13).ext}@${DOMAIN}`)).ok, why()).toBe(true);
      await event(b, 'CALL_CLOSED', why);
      const final = fs.tap.responses('out', 'INVITE', since).filter((m) => m.status >= 300).pop();
      expect([486, 480], `${final?.startLine}\n${why()}`).toContain(final?.status);
      expect(callsReached(a, before), why()).toEqual([]);
      await handsetDialsSetting(fs, a, '*09', why);
      await callRingsAt(b, H(13).ext, a, undefined, why);
    } finally {
      await phones.stopAll();
    }
  });

  it('park and unpark: B transfers A to *37*5# -> A parked, B out; C dials *38*5# -> C and A talk', async () => {
    await parkThenUnpark(5, 'unparked', async (fs, b, why) => {
      const since = fs.tap.mark();
      expect((await b.command('transfer', '*37*5#')).ok, why()).toBe(true);
      const refer = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'REFER' && m.status === 0, 10_000, since);
      console.log(`baresip parks with: Refer-To: ${headerValues(refer?.text ?? '', 'refer-to', 'r')[0]}`);
      const answered = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'REFER' && m.status > 0, 10_000, since);
      expect(answered?.status, `${answered?.startLine}\n${why()}`).toBe(202);
      await event(b, 'CALL_CLOSED', why);
    });
  });

  it('park while held: B holds A and dials *37*6# -> A parked, B out; C dials *38*6# -> C and A talk', async () => {
    await parkThenUnpark(6, 'unparked after park while held', async (fs, b, why) => {
      expect((await b.command('hold')).ok, why()).toBe(true);
      const since = fs.tap.mark();
      // The code call is answered and ended by the server; B's held call with A ends too.
      await handsetDialsSetting(fs, b, '*37*6#', why);
      await event(b, 'CALL_CLOSED', why); // the held call with A
      expect(fs.tap.requests('out', 'BYE', since).length, why()).toBeGreaterThanOrEqual(2);
    });
  });

  it('pickup: B calls A (A rings), C in A\'s pickup group dials *30 -> C and B talk, A stops ringing', async () => {
    const { fs } = env.get();
    const [UA, UC] = [H(10), H(12)];
    await fs.setUser(UA.ext, { pickupGroup: 'ac12' });
    await fs.setUser(UC.ext, { pickupGroup: 'ac12' });
    try {
      await withABC(false, async ({ workDir, a, b, c, ra, rb, rc, why }) => {
        expect((await b.command('dial', `sip:${UA.ext}@${DOMAIN}`)).ok, why()).toBe(true);
        await event(a, 'CALL_INCOMING', why);
        expect((await c.command('dial', '*30')).ok, why()).toBe(true);
        await event(c, 'CALL_ESTABLISHED', why);
        await event(b, 'CALL_ESTABLISHED', why);
        await event(a, 'CALL_CLOSED', why);
        await talk(fs, workDir, rb, rc, ra, 'picked up', why);
        await hangup(b, [c], why);
      });
    } finally {
      await fs.setUser(UA.ext, { pickupGroup: null });
      await fs.setUser(UC.ext, { pickupGroup: null });
    }
  });

  it('a code dialled from linphonec (it escapes # as %23): *07*C# from L -> a call from B to L rings C', async () => {
    const { fs } = env.get();
    const [UL, UB, UC] = [USERS[18]!, USERS[19]!, USERS[20]!];
    const [rl, rb, rc] = rtpRangesN(3) as [PortRange, PortRange, PortRange];
    const phones = new Handsets(fs);
    let l: LinphonePhone | undefined;
    const why = () => `${l?.output() ?? ''}\n${phones.why()}`;
    try {
      l = await LinphonePhone.start('L', { user: UL.ext, password: UL.password, domain: DOMAIN, host: fs.host, port: fs.udpPort, transport: 'udp', rtpPorts: rl });
      const b = await phones.start({ name: 'B', user: UB, rtp: rb, transport: 'udp', srtp: false });
      const c = await phones.start({ name: 'C', user: UC, rtp: rc, transport: 'udp', srtp: false, autoAnswer: true });
      const since = fs.tap.mark();
      l.send(`call *07*${UC.ext}#`);
      const invite = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'INVITE' && m.status === 0 && (headerValues(m.text, 'proxy-authorization').length > 0 || headerValues(m.text, 'authorization').length > 0), 10_000, since);
      expect(invite, `no authenticated INVITE from linphonec\n${why()}`).not.toBeNull();
      console.log(`linphonec sends a code as: ${invite!.startLine}`);
      const ok = await fs.tap.waitFor((m) => m.dir === 'out' && m.callId === invite!.callId && m.method === 'INVITE' && m.status === 200, 10_000, since);
      const bye = await fs.tap.waitFor((m) => m.dir === 'out' && m.callId === invite!.callId && m.method === 'BYE' && m.status === 0, 10_000, since);
      expect(ok, why()).not.toBeNull();
      expect(bye, `the server sent no BYE\n${why()}`).not.toBeNull();
      expect(bye!.at - ok!.at, why()).toBeLessThanOrEqual(2000);
      expect((await fs.user(UL.ext)).forwardUnconditional, why()).toBe(UC.ext);
      // From a second party: B calls L, C answers.
      const mark = l.mark();
      expect((await b.command('dial', `sip:${UL.ext}@${DOMAIN}`)).ok, why()).toBe(true);
      await event(c, 'CALL_ESTABLISHED', why);
      await event(b, 'CALL_ESTABLISHED', why);
      expect(await l.waitOutput(/incoming call/i, 500, mark), `L rang too\n${why()}`).toBeNull();
      await hangup(b, [c], why);
    } finally {
      await l?.stop();
      await phones.stopAll();
    }
  });
});

// Blind transfer between real handsets: three baresip phones over TLS with
// mandatory SDES-SRTP (users Enforced, transport TLS) through Switchboard.
// A and B talk; B transfers with baresip's own `transfer` command (a REFER
// inside its call); C answers by itself. Afterwards A and C talk: tshark
// counts the SRTP reaching each of them and it authenticates under the keys
// of the SDP the server exchanged, B's call is gone and B sends or receives
// no more media. Variants: the transferor is the callee or the caller, and
// SPEC B-12's "Send Hold before REFER" (B holds A, then transfers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import { MIN_PACKETS_EACH_WAY } from './lib/baresip-calls.ts';
import type { FeatureServer } from './lib/feature-server.ts';
import { startFeatureServer } from './lib/feature-server.ts';
import { captureMedia, connect, event, Handsets, rtpRangesN, talkBetween } from './lib/handsets.ts';
import { bodyOf, headerValues } from './lib/sip-tap.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = makeUsers(9, 3101);
/** How long A and C talk while the capture counts (well over MIN_PACKETS_EACH_WAY at 20 ms). */
const TALK_MS = 3000;

const env = fixture(
  async () => {
    for (const t of ['baresip', 'tshark']) requireTool(t);
    const workDir = makeTempDir('transfer-baresip');
    try {
      const fs = await startFeatureServer(DOMAIN);
      fs.addUsers(USERS, { media: { security: 'enforced', transport: 'tls' } });
      return { fs, workDir };
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ fs, workDir }) => {
    await fs.stop();
    removeDir(workDir);
  },
);

interface Variant {
  title: string;
  /** B placed the call to A (else A called B). */
  transferorCalls: boolean;
  /** B re-INVITEs A to hold before the REFER (SPEC B-12 "Send Hold before REFER"). */
  holdFirst: boolean;
  users: [TestUser, TestUser, TestUser];
}

const VARIANTS: Variant[] = [
  { title: 'A calls B, B transfers A to C', transferorCalls: false, holdFirst: false, users: [USERS[0]!, USERS[1]!, USERS[2]!] },
  { title: 'B calls A, B (the caller) transfers A to C', transferorCalls: true, holdFirst: false, users: [USERS[3]!, USERS[4]!, USERS[5]!] },
  { title: 'A calls B, B holds A, then transfers A to C (B-12 hold before REFER)', transferorCalls: false, holdFirst: true, users: [USERS[6]!, USERS[7]!, USERS[8]!] },
];

async function blindTransfer(fs: FeatureServer, workDir: string, v: Variant): Promise<void> {
  const [UA, UB, UC] = v.users;
  const [ra, rb, rc] = rtpRangesN(3) as [ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number]];
  const phones = new Handsets(fs);
  const why = (): string => phones.why();
  try {
    const a = await phones.start({ name: 'A', user: UA, rtp: ra });
    const b = await phones.start({ name: 'B', user: UB, rtp: rb });
    const c = await phones.start({ name: 'C', user: UC, rtp: rc, autoAnswer: true });
    if (v.transferorCalls) await connect(b, a, UA.ext, DOMAIN, why);
    else await connect(a, b, UB.ext, DOMAIN, why);

    const since = fs.tap.mark();
    if (v.holdFirst) {
      const hold = await b.command('hold');
      expect(hold.ok, `hold refused: ${hold.data}\n${why()}`).toBe(true);
      // The hold re-INVITE crossed the server to A and was answered.
      const held = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'INVITE' && m.status === 200, 10_000, since);
      expect(held, `no answered hold re-INVITE\n${why()}`).not.toBeNull();
    }
    const target = `sip:${UC.ext}@${DOMAIN}`;
    const t = await b.command('transfer', target);
    expect(t.ok, `transfer refused by baresip: ${t.data}\n${why()}`).toBe(true);

    // The server takes the REFER (202), reports progress to B, and connects A to C.
    const refer = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'REFER' && m.status === 0, 10_000, since);
    expect(refer, `B sent no REFER\n${why()}`).not.toBeNull();
    const referTo = headerValues(refer!.text, 'refer-to', 'r')[0] ?? '';
    console.log(`baresip REFER: ${refer!.startLine} | Refer-To: ${referTo} | Referred-By: ${headerValues(refer!.text, 'referred-by', 'b')[0] ?? '-'}`);
    expect(referTo, why()).toContain(UC.ext);
    const accepted = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'REFER' && m.status > 0, 10_000, since);
    expect(accepted?.status, `REFER answered ${accepted?.startLine}\n${why()}`).toBe(202);

    await event(c, 'CALL_INCOMING', why);
    await event(c, 'CALL_ESTABLISHED', why);
    // B's call ends: the server's BYE, or B hanging up after the final NOTIFY.
    await event(b, 'CALL_CLOSED', why);
    const notifies = fs.tap.find((m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0 && m.callId === refer!.callId, since);
    const frags = notifies.map((n) => `${headerValues(n.text, 'event', 'o')[0] ?? '?'}: ${bodyOf(n.text).split(/\r?\n/)[0] ?? ''}`);
    expect(notifies.every((n) => /^refer/i.test(headerValues(n.text, 'event', 'o')[0] ?? '')), frags.join('\n')).toBe(true);
    expect(frags.some((f) => /SIP\/2\.0 200/.test(f)), `NOTIFYs to B: ${JSON.stringify(frags)}\n${why()}`).toBe(true);

    // A and C talk, B is out of it.
    const pcap = await captureMedia([ra, rb, rc], workDir, 'after-transfer');
    try {
      await new Promise((r) => setTimeout(r, TALK_MS));
    } finally {
      await pcap.stop();
    }
    const talk = await talkBetween(pcap, fs, ra, rc, rb, true);
    const detail = `${talk.detail}\n${why()}`;
    expect(talk.toA.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.toC.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.decryptedToA, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.decryptedToC, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(talk.third, detail).toEqual([]);
    console.log(`blind transfer (${v.title}): ${talk.detail}`);

    // A hangs up: C's call ends too, and the server holds no call.
    const h = await a.command('hangup');
    expect(h.ok, why()).toBe(true);
    await event(a, 'CALL_CLOSED', why);
    await event(c, 'CALL_CLOSED', why);
    const gone = await waitCalls(fs, 0);
    expect(gone, `calls still held by the server: ${fs.server.calls.activeCount}\n${why()}`).toBe(true);
  } finally {
    await phones.stopAll();
  }
}

async function waitCalls(fs: FeatureServer, n: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (fs.server.calls.activeCount !== n) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

describe('blind transfer between baresip handsets (TLS, SRTP enforced)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each(VARIANTS)('$title: A and C talk (SRTP both ways), B is out', async (v) => {
    const { fs, workDir } = env.get();
    await blindTransfer(fs, workDir, v);
  });
});

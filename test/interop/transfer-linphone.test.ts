// Attended transfer done by linphone (linphonec, a program nobody here
// wrote) through Switchboard: A (baresip) calls B (linphonec); B holds A
// (`pause`), calls C (baresip, answers by itself), then `transfer 1
// --to-call 2`: linphone sends REFER in the A call with
// Refer-To: <sip:C@domain?Replaces=...> naming its own dialog of the B-C
// call. Afterwards A and C talk (tshark counts RTP both ways) and B has no
// call left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import { MIN_PACKETS_EACH_WAY } from './lib/baresip-calls.ts';
import { startFeatureServer } from './lib/feature-server.ts';
import { captureMedia, event, Handsets, rtpRangesN, talkBetween } from './lib/handsets.ts';
import { LinphonePhone } from './lib/linphone-phone.ts';
import { bodyOf, headerValues } from './lib/sip-tap.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const [UA, UB, UC] = makeUsers(3, 3201);
const TALK_MS = 3000;

const env = fixture(
  async () => {
    for (const t of ['baresip', 'linphonec', 'tshark']) requireTool(t);
    const workDir = makeTempDir('transfer-linphone');
    try {
      const fs = await startFeatureServer(DOMAIN);
      fs.addUsers([UA!, UB!, UC!]);
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

/** The Replaces parameter of a Refer-To URI, decoded: call-id, to-tag, from-tag. */
function replacesOf(referTo: string): { callId: string; toTag: string; fromTag: string } | null {
  const m = /[?&]Replaces=([^&>]+)/i.exec(referTo);
  if (m === null) return null;
  const parts = decodeURIComponent(m[1] ?? '').split(';');
  const param = (k: string) => parts.find((p) => p.toLowerCase().startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  return { callId: parts[0] ?? '', toTag: param('to-tag'), fromTag: param('from-tag') };
}

describe('attended transfer by linphonec', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('B (linphonec) transfers A to its call with C (REFER with Replaces): A and C talk, B has no call', async () => {
    const { fs, workDir } = env.get();
    const [ra, rb, rc] = rtpRangesN(3) as [ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number], ReturnType<typeof rtpRangesN>[number]];
    const phones = new Handsets(fs);
    let b: LinphonePhone | undefined;
    const why = (): string => `${b?.output() ?? ''}\n${phones.why()}`;
    try {
      const a = await phones.start({ name: 'A', user: UA!, rtp: ra, transport: 'udp', srtp: false });
      const c = await phones.start({ name: 'C', user: UC!, rtp: rc, transport: 'udp', srtp: false, autoAnswer: true });
      b = await LinphonePhone.start('B', { user: UB!.ext, password: UB!.password, domain: DOMAIN, host: fs.host, port: fs.udpPort, transport: 'udp', rtpPorts: rb });

      // A calls B; B answers.
      const mark = b.mark();
      const dial = await a.command('dial', `sip:${UB!.ext}@${DOMAIN}`);
      expect(dial.ok, why()).toBe(true);
      const incoming = await b.waitOutput(/new incoming call from .*assigned id (\d+)/i, 15_000, mark);
      expect(incoming, `linphonec saw no incoming call\n${why()}`).not.toBeNull();
      const idA = Number(incoming![1]);
      await b.expect(`answer ${idA}`, /Call \d+ .*(connected|Connected)/, 15_000);
      await event(a, 'CALL_ESTABLISHED', why);

      // B holds A and calls C, who answers by itself.
      const since = fs.tap.mark();
      await b.expect(`pause ${idA}`, /paused/i, 15_000);
      const calling = await b.expect(`call sip:${UC!.ext}@${DOMAIN}`, /assigned id (\d+)/, 15_000);
      const idC = Number(calling[1]);
      await event(c, 'CALL_ESTABLISHED', why);
      expect(await b.waitOutput(new RegExp(`Call ${idC} .*(connected|Connected)`), 15_000, b.mark() - 2000), why()).not.toBeNull();
      // B's own dialog with the server for the B-C call: the one Replaces must name.
      const bToC = fs.tap.requests('in', 'INVITE', since).find((m) => m.startLine.startsWith(`INVITE sip:${UC!.ext}@`));
      expect(bToC, why()).toBeDefined();

      // Attended transfer.
      await b.expect(`transfer ${idA} --to-call ${idC}`, /attended transfer/i, 10_000);
      const refer = await fs.tap.waitFor((m) => m.dir === 'in' && m.method === 'REFER' && m.status === 0, 10_000, since);
      expect(refer, `linphonec sent no REFER\n${why()}`).not.toBeNull();
      const referTo = headerValues(refer!.text, 'refer-to', 'r')[0] ?? '';
      console.log(`linphonec REFER: ${refer!.startLine} | Refer-To: ${referTo} | Referred-By: ${headerValues(refer!.text, 'referred-by', 'b')[0] ?? '-'}`);
      expect(referTo, why()).toContain(UC!.ext);
      const replaces = replacesOf(referTo);
      expect(replaces?.callId, `Refer-To ${referTo}\n${why()}`).toBe(bToC!.callId);
      const answered = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'REFER' && m.status > 0, 10_000, since);
      expect(answered?.status, `REFER answered ${answered?.startLine}\n${why()}`).toBe(202);
      const done = await fs.tap.waitFor((m) => m.dir === 'out' && m.method === 'NOTIFY' && m.status === 0 && /SIP\/2\.0 200/.test(bodyOf(m.text)), 15_000, since);
      expect(done, `no NOTIFY with "SIP/2.0 200" to B\n${why()}`).not.toBeNull();

      // B has no call left.
      const deadline = Date.now() + 15_000;
      let left = await b.calls();
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        left = await b.calls();
      }
      expect(left, why()).toEqual([]);

      // A and C talk.
      const pcap = await captureMedia([ra, rb, rc], workDir, 'attended');
      try {
        await new Promise((r) => setTimeout(r, TALK_MS));
      } finally {
        await pcap.stop();
      }
      const talk = await talkBetween(pcap, fs, ra, rc, rb, false);
      const detail = `${talk.detail}\n${why()}`;
      expect(talk.toA.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(talk.toC.length, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(talk.third, detail).toEqual([]);
      console.log(`attended transfer by linphonec: ${talk.detail}`);

      const h = await a.command('hangup');
      expect(h.ok, why()).toBe(true);
      await event(c, 'CALL_CLOSED', why);
    } finally {
      await b?.stop();
      await phones.stopAll();
    }
  });
});

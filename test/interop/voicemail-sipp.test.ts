// Voicemail with programs nobody here wrote (issue 13): SIPp calls a user
// whose baresip phone rings unanswered, so the mailbox takes the call, and
// plays a recorded message from a pcap (PCMU: 600 Hz for 1 s, then 1400 Hz
// for 1 s); the stored message must hold those tones in that order. The
// baresip phone (mwi=yes, RFC 3842 subscription) sees the lamp go on. Then
// SIPp dials *17 with the owner's credentials and types the code and '1'
// as RFC 4733 events on payload type 96 (another pcap); tshark on lo
// captures what reaches SIPp's media port, and the decoded audio must hold
// the same tones in the same order. Playing the message makes it old, and
// the lamp goes off at baresip.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavAt } from '../../src/media/wav.ts';
import { sine } from '../integration/lib/rtp-peer.ts';
import { fixture, freePort, makeTempDir, removeDir, requireTool, startSwitchboard, switchboardCli } from './harness.ts';
import type { SwitchboardHandle } from './harness.ts';
import { BaresipPhone } from './lib/baresip-phone.ts';
import type { BaresipEvent } from './lib/baresip-phone.ts';
import { readUdp, startPcap } from './lib/media-capture.ts';
import { expectScenarioOk } from './lib/media-sipp.ts';
import { pcapFile, rtpStream, streamMs } from './lib/rtp-pcap.ts';
import type { RtpPart } from './lib/rtp-pcap.ts';
import { describeCall, runUac } from './lib/sipp-calls.ts';
import { sipServer } from './lib/switchboard-admin.ts';
import { decodePcmu, describeTones, longestRun } from './lib/tone-runs.ts';
import type { SippRun } from './sipp.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
const [OWNER, CALLER] = makeUsers(2, 8801) as [TestUser, TestUser];
const CODE = '4711';
const TONES = [600, 1400] as const;
/** The scenario plays this file from its working directory (media_uac_pcap.xml). */
const PCAP_NAME = 'uac-audio.pcap';
/** Of each 1 s tone, at least this much must come through (thresholds, not exact counts). */
const MIN_TONE_MS = 600;

const env = fixture(
  async () => {
    for (const t of ['sipp', 'baresip', 'tshark']) requireTool(t);
    const workDir = makeTempDir('voicemail-sipp');
    try {
      const server = await startSwitchboard({
        domain: DOMAIN,
        users: [OWNER, CALLER],
        // baresip 1.0 answers MD5 challenges only (INTEROP-NOTES); minMessageMs: the message is 2.5 s.
        config: { auth: { algorithms: ['MD5'] }, voicemail: { enabled: true, minMessageMs: 500 } },
        beforeStart: async (dataDir) => {
          await switchboardCli(['user', 'set', '--ext', OWNER.ext, '--voicemail', 'on', '--voicemail-code', CODE, '--no-answer-timeout', '5', '--data-dir', dataDir]);
        },
      });
      return { server, workDir };
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ server, workDir }) => {
    await server.stop();
    removeDir(workDir);
  },
);

/** Every message-summary body baresip reported (MWI_NOTIFY events), the last one. */
function lastSummary(events: readonly BaresipEvent[]): string {
  return String(events.filter((e) => e.type === 'MWI_NOTIFY').at(-1)?.param ?? '');
}

/** Writes the pcap SIPp plays next and returns how long it plays, ms. */
function writePcap(workDir: string, parts: readonly RtpPart[]): number {
  const stream = rtpStream(parts, 96);
  writeFileSync(join(workDir, PCAP_NAME), pcapFile(stream));
  return streamMs(stream);
}

/** SIPp (media_uac_pcap.xml) calls `callee` as `caller`, plays the pcap, and hangs up `tailMs` after it ends. */
function sippPlays(server: SwitchboardHandle, workDir: string, caller: TestUser, callee: string, playMs: number, tailMs: number, mediaPort?: number): Promise<SippRun> {
  return runUac({
    mediaPort,
    server: sipServer(server),
    scenario: 'media_uac_pcap.xml',
    callee,
    callers: [caller],
    calls: 1,
    rate: 1,
    holdMs: playMs + tailMs,
    workDir,
    timeoutMs: 120_000,
    traceMessages: true,
    extraArgs: ['-timeout', '100s'],
  });
}

/** The media port SIPp offered in its (first) INVITE, from its own trace. */
function sippMediaPort(run: SippRun): number {
  const sent = run.messages.split(/message sent \(\d+ bytes\):/).find((m) => /^\s*INVITE /.test(m)) ?? '';
  return Number(/^m=audio (\d+) /m.exec(sent)?.[1]);
}

async function messages(server: SwitchboardHandle, ext: string): Promise<{ id: string; folder: string; caller: string; durationMs: number }[]> {
  const r = await switchboardCli(['voicemail', 'list', '--ext', ext, '--json', '--data-dir', server.dataDir]);
  return JSON.parse(r.stdout) as { id: string; folder: string; caller: string; durationMs: number }[];
}

/** Each tone heard for at least MIN_TONE_MS, in the order sent. */
function expectTonesInOrder(pcm: Int16Array, what: string, why: string): void {
  const detail = `${what}: ${describeTones(pcm, TONES)}\n${why}`;
  const runs = TONES.map((f) => longestRun(pcm, f));
  for (const [i, r] of runs.entries()) expect(r?.ms ?? 0, `${TONES[i]} Hz in ${detail}`).toBeGreaterThanOrEqual(MIN_TONE_MS);
  expect(runs[0]!.startMs, `${TONES[0]} Hz before ${TONES[1]} Hz in ${detail}`).toBeLessThan(runs[1]!.startMs);
  // Back to back, as sent: the second starts where the first ends (give or take the detection's edges).
  expect(Math.abs(runs[1]!.startMs - (runs[0]!.startMs + 1000)), `the tones follow each other in ${detail}`).toBeLessThan(300);
}

describe('voicemail with SIPp and baresip', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('SIPp leaves a pcap message at an unanswered user, baresip sees MWI on, SIPp logs in with RFC 4733 digits on PT 96 and hears the tones back, MWI off', async () => {
    const { server, workDir } = env.get();
    const phone = await BaresipPhone.start('vm-owner', {
      account: { user: OWNER.ext, password: OWNER.password, domain: DOMAIN, proxyHost: server.host, proxyPort: server.udpPort, transport: 'udp', mwi: true },
      rtpPorts: { min: 31020, max: 31030 },
    });
    const lamp = (): string => lastSummary(phone.events);
    try {
      await phone.waitFor('the first message-summary NOTIFY (no messages)', () => /Messages-Waiting: *no/i.test(lamp()), 20_000);

      // 1. Deposit: baresip rings 5 s unanswered, the mailbox answers, says the greeting (about 8 s) and
      // beeps; the pcap's silence covers that, then the two tones, then SIPp hangs up (which keeps the message).
      const depositMs = writePcap(workDir, [{ silenceMs: 12_000 }, { audio: sine(TONES[0], 1000) }, { audio: sine(TONES[1], 1000) }, { silenceMs: 500 }]);
      const deposit = await sippPlays(server, workDir, CALLER, OWNER.ext, depositMs, 300);
      const depositWhy = describeCall(sipServer(server), deposit);
      expect(phone.events.some((e) => e.type === 'CALL_INCOMING'), `baresip never rang\n${phone.output()}\n${depositWhy}`).toBe(true);
      expectScenarioOk(deposit, 'SIPp caller leaving a message (media_uac_pcap.xml)', depositWhy);

      let stored: Awaited<ReturnType<typeof messages>> = [];
      for (const until = Date.now() + 15_000; stored.length === 0 && Date.now() < until; ) {
        stored = await messages(server, OWNER.ext);
        if (stored.length === 0) await new Promise((r) => setTimeout(r, 300));
      }
      expect(stored, `no message stored\n${depositWhy}`).toHaveLength(1);
      expect(stored[0]).toMatchObject({ caller: CALLER.ext, folder: 'new' });
      const wavFile = join(workDir, 'message.wav');
      await switchboardCli(['voicemail', 'export', '--ext', OWNER.ext, '--id', stored[0]!.id, '--out', wavFile, '--data-dir', server.dataDir]);
      const message = readWavAt(readFileSync(wavFile));
      expectTonesInOrder(message, 'the stored message', depositWhy);

      // 2. The lamp at baresip.
      await phone.waitFor('Messages-Waiting: yes, 1 new', () => /Messages-Waiting: *yes/i.test(lamp()) && /Voice-Message: *1\/0/i.test(lamp()), 20_000);

      // 3. Login from the owner's credentials: *17, the code and '#' as RFC 4733 events during "password",
      // '1' (new messages) once "you have one new message" starts; the message follows "message one from
      // 8 8 0 2" (about 4 s); the silence after covers it with room to spare.
      const code = [...CODE, '#'].flatMap((d): RtpPart[] => [{ digit: d, ms: 120 }, { silenceMs: 120 }]);
      const loginMs = writePcap(workDir, [{ silenceMs: 1500 }, ...code, { silenceMs: 4000 }, { digit: '1', ms: 120 }, { silenceMs: 14_000 }]);
      // SIPp's media port chosen here, so the capture holds only its RTP (other SIPps may run on this machine).
      // Below the ephemeral range, with the next three free for RTCP (as sipp-calls.ts mediaPortArgs).
      const mp = await freePort({ min: 10000, max: 19990 }, 4);
      const cap = await startPcap(`udp port ${mp}`, workDir, 'vm-login');
      let login: SippRun;
      try {
        login = await sippPlays(server, workDir, OWNER, '*17', loginMs, 300, mp);
      } finally {
        await cap.stop();
      }
      const loginWhy = describeCall(sipServer(server), login);
      expectScenarioOk(login, 'SIPp logging into the mailbox (media_uac_pcap.xml)', loginWhy);
      expect(sippMediaPort(login), `SIPp's media port in its INVITE\n${loginWhy}`).toBe(mp);
      const udp = await readUdp(cap);
      const flows = new Map<string, number>();
      for (const d of udp) flows.set(`${d.sport}->${d.dport}`, (flows.get(`${d.sport}->${d.dport}`) ?? 0) + 1);
      const flowText = `UDP captured on SIPp's media ports (source->destination: datagrams): ${[...flows].map(([k, n]) => `${k}: ${n}`).join(', ')}`;
      // What SIPp sent: the digits as telephone-events on payload type 96 (event codes 4 7 1 1 11 1).
      const sentEvents = udp.filter((d) => d.sport === mp && d.payload.length >= 16 && ((d.payload[1] as number) & 0x7f) === 96).map((d) => d.payload[12] as number);
      expect([...new Set(sentEvents)].sort((a, b) => a - b), `events SIPp sent from ${mp}; ${flowText}\n${loginWhy}`).toEqual([1, 4, 7, 11]);
      // What came back to SIPp's media port.
      const heard = decodePcmu(udp.filter((d) => d.dport === mp).map((d) => d.payload));
      expectTonesInOrder(heard, `the audio at SIPp's media port ${mp}`, `${flowText}\n${loginWhy}`);
      console.log(`voicemail: stored ${describeTones(message, TONES)}; played back to SIPp ${describeTones(heard, TONES)}; SIPp sent ${sentEvents.length} events on PT 96`);

      // 4. Heard: the message is old and the lamp goes off.
      await phone.waitFor('Messages-Waiting: no, 0 new 1 old', () => /Messages-Waiting: *no/i.test(lamp()) && /Voice-Message: *0\/1/i.test(lamp()), 20_000);
      expect((await messages(server, OWNER.ext))[0]?.folder).toBe('saved');
    } catch (err) {
      console.log(phone.output());
      throw err;
    } finally {
      await phone.stop();
    }
  }, 240_000);
});

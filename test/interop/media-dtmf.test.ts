// DTMF interworking through a real Switchboard process: baresip (plain RTP,
// UDP) presses 7 through ctrl_tcp and sends it as RFC 4733 telephone-events;
// the callee, a SIPp phone on an extension set to `--dtmf info`, must get
// it as SIP INFO (application/dtmf-relay, Signal=7), which its scenario
// (test/interop/sipp/media_uas_dtmf_info.xml) asserts. tshark on loopback
// shows the digit left the phone as RTP events, not as SIP INFO, and that
// the events were not passed on as RTP to the INFO phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import { rtpRanges } from './lib/baresip-calls.ts';
import { inRange, isRtcp, readUdp, startPcap } from './lib/media-capture.ts';
import { Phones, RELAY_PORTS, setMedia, startMediaServer, waitSettingsApplied } from './lib/media-flows.ts';
import { expectScenarioOk, receivedMessage, sippPhone } from './lib/media-sipp.ts';
import { describeSipp } from './sipp.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = makeUsers(4, 43000);
const [CALLER1, PHONE1, CALLER2, PHONE2] = USERS as [TestUser, TestUser, TestUser, TestUser];

/** The INFO phone's answer (media_uas_dtmf_info.xml keys): with or without telephone-event. */
const WITH_TE = { te_pt: ' 101', te_attr: 'a=rtpmap:101 telephone-event/8000' };
const INFO_ONLY = { te_pt: '', te_attr: 'a=sendrecv' };
const DIGIT = '7';

const env = fixture(
  async () => {
    for (const t of ['baresip', 'sipp', 'tshark']) requireTool(t);
    const workDir = makeTempDir('media-dtmf');
    try {
      return { ms: await startMediaServer(DOMAIN, USERS), workDir };
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ ms, workDir }) => {
    await ms.stop();
    removeDir(workDir);
  },
);

/** RFC 4733 event packets: dynamic payload type, event code in the first payload byte. */
function telephoneEvents(payloads: readonly Buffer[]): { pt: number; event: number }[] {
  return payloads
    .filter((p) => p.length >= 16 && !isRtcp(p) && ((p[1] as number) & 0x7f) >= 96)
    .map((p) => ({ pt: (p[1] as number) & 0x7f, event: p[12] as number }));
}

describe('DTMF: RFC 4733 from baresip arrives as SIP INFO at an INFO extension', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each([
    ['lists telephone-event in its answer', CALLER1, PHONE1, WITH_TE],
    ['never mentions telephone-event (INFO only)', CALLER2, PHONE2, INFO_ONLY],
  ] as const)(`baresip presses ${DIGIT}: the --dtmf info phone (SIPp) that %s gets INFO Signal=${DIGIT}`, async (_what, caller, phone, keys) => {
    const { ms, workDir } = env.get();
    const s = ms.server;
    const [ra] = rtpRanges();
    const phones = new Phones();
    try {
      await setMedia(s, phone.ext, { dtmf: 'info' });
      const uas = await sippPhone(s, phone, 'media_uas_dtmf_info.xml', workDir, keys);
      const a = await phones.start(ms, { name: 'A', user: caller, transport: 'udp', srtp: false, rtpPorts: ra });
      await waitSettingsApplied(s, caller.ext);
      const why = (): string => phones.why(s);
      // SIP on the server's UDP port is decoded as SIP, so the INFO shows in tshark's live summary.
      const cap = await startPcap(`udp and (portrange ${ra.min}-${ra.max} or portrange ${RELAY_PORTS.min}-${RELAY_PORTS.max} or port ${s.udpPort})`, workDir, 'dtmf', [
        `udp.port==${s.udpPort},sip`,
      ]);
      let infoSeen = false;
      try {
        const dial = await a.command('dial', `sip:${phone.ext}@${DOMAIN}`);
        expect(dial.ok, `dial refused: ${dial.data}\n${why()}`).toBe(true);
        await a.waitEvent('CALL_ESTABLISHED').catch((e: unknown) => {
          throw new Error(`${(e as Error).message}\n${why()}`);
        });
        // Let media flow (and the relay latch) before the key press.
        await new Promise((r) => setTimeout(r, 1000));
        const press = await a.command('sndcode', DIGIT);
        expect(press.ok, `sndcode refused: ${press.data}\n${why()}`).toBe(true);
        infoSeen = await cap.waitFor(/Request: INFO sip:/, 10_000);
        await new Promise((r) => setTimeout(r, 500));
        const hangup = await a.command('hangup');
        expect(hangup.ok, why()).toBe(true);
        await a.waitEvent('CALL_CLOSED');
      } finally {
        await cap.stop();
      }
      const uasRun = await uas.done;
      const detail = `--- SIPp phone ---\n${describeSipp(uasRun)}\n${why()}`;
      const udp = await readUdp(cap);
      const sipText = (d: { payload: Buffer }): string => d.payload.toString('latin1');
      const fromServer = udp.filter((d) => d.sport === s.udpPort).map(sipText);
      const toServer = udp.filter((d) => d.dport === s.udpPort).map(sipText);
      // Only events the caller was answered with can be sent: telephone-event must survive into that answer.
      const answers = fromServer.filter((t) => t.startsWith('SIP/2.0 200') && /\r\nCSeq: *\d+ INVITE\r\n/i.test(t) && t.includes('\r\nm=audio '));
      const answer = answers.find((t) => !t.includes('o=infophone ')) ?? '';
      expect(answer, `no 200 with SDP to the caller\n${detail}`).not.toBe('');
      expect(answer, `Switchboard's answer to the RFC 4733 caller carries no telephone-event, so the caller cannot send the digit as RTP events\n${answer}\n${detail}`).toMatch(
        /^a=rtpmap:\d+ telephone-event\/8000/m,
      );
      expect(infoSeen, `no SIP INFO seen within 10 s of the key press\n${detail}`).toBe(true);
      expectScenarioOk(uasRun, 'SIPp phone (media_uas_dtmf_info.xml)', detail);

      // The key press left baresip as RFC 4733 events toward the relay...
      const fromPhone = telephoneEvents(udp.filter((d) => inRange(d.sport, ra) && inRange(d.dport, RELAY_PORTS)).map((d) => d.payload));
      const ev = `events from the phone ${JSON.stringify(fromPhone.slice(0, 10))}\n${detail}`;
      expect(fromPhone.length, ev).toBeGreaterThan(0);
      expect(fromPhone.every((e) => e.event === Number(DIGIT)), ev).toBe(true);
      // ...not as SIP INFO, and arrived as one INFO at the phone...
      expect(toServer.filter((t) => t.startsWith('INFO ')), ev).toEqual([]);
      const infos = fromServer.filter((t) => t.startsWith('INFO '));
      expect(infos, ev).toHaveLength(1);
      expect(infos[0], ev).toMatch(/\r\nContent-Type: *application\/dtmf-relay/i);
      expect(infos[0], ev).toMatch(new RegExp(`Signal *= *${DIGIT}`));
      // ...and not also as RTP events from the relay port Switchboard offered the phone.
      const offered = Number(/^m=audio (\d+) /m.exec(receivedMessage(uasRun.messages, 'INVITE '))?.[1]);
      expect(inRange(offered, RELAY_PORTS), `the phone was offered port ${offered}, not a relay port\n${detail}`).toBe(true);
      const toInfoPhone = telephoneEvents(udp.filter((d) => d.sport === offered).map((d) => d.payload));
      expect(toInfoPhone, ev).toEqual([]);
      console.log(`DTMF: ${fromPhone.length} RFC 4733 packets (PT ${fromPhone[0]?.pt}, event ${fromPhone[0]?.event}) -> INFO ${JSON.stringify(infos[0]?.split('\r\n\r\n')[1] ?? '')}`);
    } finally {
      await phones.stopAll();
    }
  });
});

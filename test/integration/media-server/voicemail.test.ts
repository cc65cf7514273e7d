// Voicemail end to end through real SIP and RTP on loopback (SPEC A-10,
// AC-11): an unanswered call reaches the mailbox, the caller hears the
// greeting and the beep, a tone it sends is stored as the message; both
// phones of the mailbox owner see the lamp go on; the owner dials *17, gives
// the voicemail code with RFC 4733 digits, hears the message (the same tone
// comes back) and the lamp goes off. SIP timers run on manual time; audio
// runs on the media server's real 20 ms clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../features/rig.ts';
import { TestPhone } from '../lib/phone.ts';
import { RtpPeer, toneShare } from '../lib/rtp-peer.ts';
import { parseMessageSummary } from '../../../src/pbx/mwi/message-summary.ts';
import { readWavAt } from '../../../src/media/wav.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
const peers: RtpPeer[] = [];

beforeAll(async () => {
  rig = await Rig.start({ config: { voicemail: { enabled: true, minMessageMs: 500 } } });
});
afterAll(async () => {
  if (process.env.VM_DEBUG) for (const e of rig.ts.log.entries) if (e.level !== 'debug') console.log(e.level, e.msg, JSON.stringify(e.obj));
  for (const p of peers) p.close();
  await rig.stop();
});

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  peers.push(p);
  return p;
}

/** Waits until the peer has heard at least `ms` of audio louder than silence since its last reset. */
async function heard(p: RtpPeer, ms: number, timeoutMs = 15_000): Promise<void> {
  const ok = await waitUntil(() => p.loudMs() >= ms, timeoutMs);
  expect(ok, `heard ${p.loudMs()} ms of sound, wanted ${ms}`).toBe(true);
}



function lamp(phone: TestPhone, callId: string | undefined): string {
  const n = phone.notifiesOf(callId);
  const last = n[n.length - 1];
  if (!last) return 'none';
  const s = parseMessageSummary(last.body)!;
  const v = s.counts.get('voice-message')!;
  return `${s.waiting ? 'on' : 'off'} ${v.new}/${v.old}`;
}

describe('voicemail', () => {
  it('takes an unanswered call, stores the tone as a message, lights the lamp on both phones, plays it back after *17 and the code, and the lamp goes off', async () => {
    const owner = await rig.phone('4001', { voicemailCode: '4711', noAnswerTimeoutSec: 10 });
    const second = await TestPhone.start({ ext: '4001', password: 'pw-4001', server: { host: rig.ts.host, port: rig.ts.sipPort, domain: 'test.local' } });
    rig.phones.push(second);
    expect((await second.register()).status).toBe(200);
    const caller = await rig.phone('4002');
    const subA = await owner.subscribe({ expires: 600 });
    const subB = await second.subscribe({ expires: 600 });
    expect(await waitUntil(() => lamp(owner, subA.sub.callId) === 'off 0/0' && lamp(second, subB.sub.callId) === 'off 0/0')).toBe(true);

    // Both phones of 4001 ring and nobody answers: after the ring time the mailbox takes the call.
    owner.behaviour = 'ring';
    second.behaviour = 'ring';
    const media = await peer();
    const call = caller.call('4001', { body: media.sdp() });
    await owner.waitIncoming(1);
    await rig.advance(10_000);
    const answered = await call.final;
    expect(answered.status).toBe(200);
    media.connect(answered.body, false);
    // The greeting (about 7 s spoken), then the beep at 1000 Hz.
    await heard(media, 4000);
    expect(await waitUntil(() => toneShare(media.tail(200), 1000) > 0.8, 20_000), 'the beep').toBe(true);
    media.reset();
    await media.tone(440, 1500);
    await media.sendDtmf(11);
    // '#' ends the message: "Message saved. Goodbye." and our BYE.
    await heard(media, 800);
    expect(await waitUntil(() => caller.requests.some((r) => r.method === 'BYE'), 10_000)).toBe(true);

    const messages = await rig.server.store.voicemail.list('4001');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ caller: '4002', folder: 'new' });
    expect(messages[0]!.durationMs).toBeGreaterThan(1000);
    expect(messages[0]!.durationMs).toBeLessThan(2500);
    const stored = readWavAt((await rig.server.store.voicemail.audio('4001', messages[0]!.id))!);
    expect(toneShare(stored, 440)).toBeGreaterThan(0.8);
    expect(await waitUntil(() => lamp(owner, subA.sub.callId) === 'on 1/0' && lamp(second, subB.sub.callId) === 'on 1/0')).toBe(true);

    // The owner dials *17, enters the code, and presses 1 for new messages.
    const listen = await peer();
    const login = owner.call('*17', { body: listen.sdp() });
    const ok = await login.final;
    expect(ok.status).toBe(200);
    listen.connect(ok.body, false);
    await heard(listen, 1500);
    for (const d of [4, 7, 1, 1, 11]) listen.sendDtmf(d);
    // "You have one new message", the main menu: 1 plays the new ones.
    await heard(listen, 4000);
    listen.sendDtmf(1);
    listen.reset();
    // "Message one from 4 0 0 2", then the message: the 440 Hz tone comes back.
    expect(await waitUntil(() => toneShare(listen.tail(1000), 440) > 0.7, 30_000), 'the message plays back').toBe(true);
    // Heard: no longer new, and the lamp goes off on both phones.
    expect(await waitUntil(() => lamp(owner, subA.sub.callId) === 'off 0/1' && lamp(second, subB.sub.callId) === 'off 0/1', 15_000)).toBe(true);
    expect((await rig.server.store.voicemail.list('4001'))[0]!.folder).toBe('saved');
  }, 90_000);
});

// The auto attendant end to end through real SIP and RTP on loopback (SPEC
// AC-09): menu 8100 answers, its keys send the caller on — to an extension
// (the B2BUA carries out the IVR's REFER: the caller ends up talking to the
// extension, the IVR's leg is gone), to a hunt group, into a mailbox (a
// message is left), to another menu (whose greeting is an uploaded tone
// file), to an extension typed with '#'. A key with no option is refused and the menu comes again;
// an extension that is busy or has no phone leaves the caller in the menu,
// told so; no key at all, past the retries, reaches the operator. A DID on a
// trunk names the menu as well. SIP timers (the menu's timeout) run on
// manual time; audio on the media server's real 20 ms clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, until } from '../features/rig.ts';
import type { TestPhone } from '../lib/phone.ts';
import { RtpPeer, sine, toneShare } from '../lib/rtp-peer.ts';
import type { Call } from '../../../src/pbx/call/call.ts';
import { prepareUpload } from '../../../src/media/wav-upload.ts';
import { writeWav, readWavAt } from '../../../src/media/wav.ts';
import type { Caller } from './ears.ts';
import { closePeers, dial, hangUp, hears, heardMs, loudMs, promptShare, tail } from './ears.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
let target: TestPhone;
let operator: TestPhone;
let desk: TestPhone;

/** The uploaded greeting of menu 8101: a 700 Hz tone. */
const GREETING_HZ = 700;

beforeAll(async () => {
  rig = await Rig.start({ config: { voicemail: { enabled: true, minMessageMs: 500 } } });
  target = await rig.phone('4003');
  operator = await rig.phone('4009');
  await rig.user('4002');
  // Neither has a mailbox: a call that finds them unreachable fails instead of leaving a message.
  await rig.user('4005', { voicemail: false });
  const busy = await rig.phone('4006', { voicemail: false });
  busy.behaviour = 'busy';
  // Hunt group 7000: 4007 only rings, 4008 answers.
  const ringing = await rig.phone('4007');
  ringing.behaviour = 'ring';
  desk = await rig.phone('4008');
  await rig.server.store.huntGroups.add({ number: '7000', name: 'Desk', strategy: 'ring-all', noAnswerSec: 10, members: ['4007', '4008'] });

  // An administrator's upload: a 16-bit WAV, checked and stored as the endpoint plays it.
  const upload = prepareUpload(writeWav(sine(GREETING_HZ, 1500), { encoding: 'pcm16' }));
  await rig.server.store.audioFiles.put({ name: 'tone-greeting', kind: 'prompt', wav: upload.wav, durationMs: upload.durationMs });
  await rig.server.store.ivrMenus.set({
    number: '8101', name: 'Second', greeting: 'tone-greeting', timeoutSec: 2, maxRetries: 1, operator: '4009',
    options: { 1: { type: 'extension', target: '4003' } },
  });
  await rig.server.store.ivrMenus.set({
    number: '8100', name: 'Main', timeoutSec: 5, maxRetries: 5, operator: '4009',
    options: {
      1: { type: 'extension', target: '4003' },
      2: { type: 'voicemail', target: '4002' },
      3: { type: 'menu', target: '8101' },
      4: { type: 'extension', target: '4005' },
      5: { type: 'extension', target: '4006' },
      6: { type: 'huntgroup', target: '7000' },
      9: { type: 'dial-by-extension' },
    },
  });
  await rig.sync();
});
afterAll(async () => {
  if (process.env.VM_DEBUG) for (const e of rig.ts.log.entries) if (e.level !== 'debug') console.log(e.level, e.msg, JSON.stringify(e.obj));
  closePeers();
  await rig.stop();
});

/** Sends the digits as RFC 4733 events ('#' is 11). */
function keys(media: RtpPeer, digits: string): void {
  for (const d of digits) media.sendDtmf(d === '#' ? 11 : d === '*' ? 10 : Number(d));
}

/** Who talks to whom in the server's calls now (extensions, or the number of a party that is no user). */
function parties(): string[][] {
  return [...rig.server.calls.calls()].map((c) => {
    const b = (c as Call).bridge;
    return [b.a, b.b].map((l) => l?.peer.user?.extension ?? l?.peer.number ?? '-').sort();
  });
}

function transfers(to: string): number[] {
  return rig.ts.log.entries
    .filter((e) => e.msg === 'ivr: transfer' && (e.obj as { to?: string }).to === to)
    .map((e) => (e.obj as { status: number }).status);
}

/**
 * Moves server time on half a second at a time (the menu's digit timeout is
 * a server timer, started when the greeting ends on the real media clock)
 * until `pred` holds; bounded.
 */
async function advanceUntil(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await rig.advance(500);
    if (await waitUntil(pred, 200, 20)) return;
  }
  throw new Error(`never happened: ${what}`);
}

/**
 * The IVR sent caller `c` on to `referTo`, and `phone` took the call: it
 * answered the B2BUA's INVITE, the caller was re-INVITEd toward it, the IVR
 * heard 200 in the REFER's NOTIFY, and the one call left is the caller's
 * with that phone (the IVR's leg is gone).
 */
async function connectedTo(c: Caller, phone: TestPhone, referTo: string): Promise<void> {
  const inc = await waitFor(() => phone.incoming.find((i) => i.invite.from.uri.user === c.phone.opts.ext), `the call at ${phone.opts.ext}`);
  await until(() => inc.acked !== undefined, `the ACK at ${phone.opts.ext}`, 10_000);
  await c.phone.waitRequest('INVITE', 1, 10_000);
  await until(() => transfers(referTo).includes(200), `the IVR's NOTIFY 200 for ${referTo}`, 10_000);
  const pair = [c.phone.opts.ext, phone.opts.ext].sort().join();
  await until(() => parties().length === 1 && parties()[0]!.join() === pair, `one call, ${pair}`, 10_000);
}

async function waitFor<T>(get: () => T | undefined, what: string): Promise<T> {
  await until(() => get() !== undefined, what, 15_000);
  return get()!;
}

describe('IVR menus', () => {
  it("'1' sends the caller to the extension: the B2BUA carries out the transfer, the caller talks to 4003, the IVR's leg is gone", async () => {
    const c = await dial(rig, '4001', '8100');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the greeting', 10_000);
    keys(c.media, '1');
    await hears(c.media, 'ivr-transfer');
    // The caller is re-INVITEd toward 4003; the IVR heard 200 in the REFER's NOTIFY and its leg ended.
    await connectedTo(c, target, '4003');
    expect(c.phone.requests.filter((r) => r.method === 'INVITE')).toHaveLength(1);
    expect(c.phone.requests.some((r) => r.method === 'BYE')).toBe(false);
    expect((await hangUp(c)).status).toBe(200);
    expect(await rig.idle()).toBe(true);
  }, 60_000);

  it("'6' rings a hunt group: the member who answers gets the caller", async () => {
    const c = await dial(rig, '4041', '8100');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the greeting', 10_000);
    keys(c.media, '6');
    await connectedTo(c, desk, '7000');
    expect((await hangUp(c)).status).toBe(200);
    expect(await rig.idle()).toBe(true);
  }, 60_000);

  it("'2' puts the caller through to a user's mailbox: a message is left there", async () => {
    const c = await dial(rig, '4011', '8100');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the greeting', 10_000);
    keys(c.media, '2');
    await hears(c.media, 'ivr-transfer');
    // Moved to the mailbox: new media from the deposit application (re-INVITE), its greeting and the beep.
    const reinvite = await c.phone.waitRequest('INVITE', 1, 10_000);
    c.media.connect(reinvite.body, false);
    await hears(c.media, 'vm-unavailable', 0.5, 30_000);
    expect(await waitUntil(() => toneShare(tail(c.media, 200), 1000) > 0.8, 20_000), 'the beep').toBe(true);
    await c.media.tone(440, 1500);
    c.media.sendDtmf(11);
    await until(async () => (await rig.server.store.voicemail.list('4002')).length === 1, 'the message stored', 15_000);
    const [m] = await rig.server.store.voicemail.list('4002');
    expect(m).toMatchObject({ caller: '4011', folder: 'new' });
    expect(toneShare(readWavAt((await rig.server.store.voicemail.audio('4002', m!.id))!), 440)).toBeGreaterThan(0.8);
    await until(() => c.phone.requests.some((r) => r.method === 'BYE'), 'the BYE after the message', 15_000);
    expect(await rig.idle()).toBe(true);
  }, 90_000);

  it("'3' goes to another menu whose greeting is an uploaded tone; no key, past its retries, reaches the operator", async () => {
    const ops = operator.incoming.length;
    const c = await dial(rig, '4021', '8100');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the greeting', 10_000);
    keys(c.media, '3');
    c.media.reset();
    // Menu 8101's greeting is the uploaded tone, not the built-in prompt.
    await until(() => loudMs(c.media.audio()) >= 1200, 'the uploaded greeting', 10_000);
    expect(toneShare(c.media.audio(), GREETING_HZ)).toBeGreaterThan(0.8);
    expect(promptShare(c.media, 'ivr-welcome')).toBe(0);
    // No key: after the timeout the greeting comes again (retry 1 of 1) ...
    c.media.reset();
    await advanceUntil(() => loudMs(c.media.audio()) >= 1200, 'the greeting again after the timeout');
    expect(toneShare(c.media.audio(), GREETING_HZ)).toBeGreaterThan(0.8);
    expect(operator.incoming.length).toBe(ops);
    // ... and after the next one the operator is rung and answers.
    await advanceUntil(() => operator.incoming.length > ops, 'the operator rung');
    await connectedTo(c, operator, '4009');
    expect((await hangUp(c)).status).toBe(200);
    expect(await rig.idle()).toBe(true);
  }, 90_000);

  it('a key with no option, an extension without a phone and a busy one keep the caller in the menu; 9 and 4003# reach 4003', async () => {
    const c = await dial(rig, '4031', '8100');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the greeting', 10_000);
    // '7' means nothing here: "That is not a valid choice", then the menu again.
    c.media.reset();
    keys(c.media, '7');
    await hears(c.media, 'ivr-invalid');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the menu again after an invalid key', 10_000);
    // '4': 4005 has no phone (and no mailbox): the transfer fails and the caller hears so, still in the menu.
    c.media.reset();
    keys(c.media, '4');
    await hears(c.media, 'ivr-transfer');
    await hears(c.media, 'ivr-unavailable');
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the menu again after 4005', 10_000);
    expect(transfers('4005').every((s) => s >= 400)).toBe(true);
    expect(transfers('4005')).toHaveLength(1);
    // '5': 4006 is busy: the same.
    c.media.reset();
    keys(c.media, '5');
    await hears(c.media, 'ivr-unavailable', 0.8, 30_000);
    expect(transfers('4006')).toEqual([486]);
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the menu again after the busy 4006', 10_000);
    expect(c.phone.requests.some((r) => r.method === 'BYE')).toBe(false);
    // '9' and nothing typed: after the menu's own timeout (5 s, not a fixed wait), the menu again.
    c.media.reset();
    keys(c.media, '9');
    await hears(c.media, 'ivr-enter-extension');
    // The wait starts when the question has been said: the line goes quiet.
    await until(() => c.media.loudMs(c.media.tail(400)) === 0, 'the question said', 10_000);
    c.media.reset();
    await rig.advance(5000);
    await until(() => promptShare(c.media, 'ivr-welcome') > 0.1, 'the menu again after no extension was typed', 10_000);
    // '9': dial by extension, "4003#".
    c.media.reset();
    keys(c.media, '9');
    await until(() => promptShare(c.media, 'ivr-enter-extension') > 0.2, 'asked for the extension', 10_000);
    keys(c.media, '4003#');
    await connectedTo(c, target, '4003');
    expect((await hangUp(c)).status).toBe(200);
    expect(await rig.idle()).toBe(true);
  }, 120_000);

  it('a DID on a trunk names the menu: a call from the trunk is answered by it', async () => {
    const pstn = await rig.trunkPeer('pstn', '0');
    await rig.server.store.trunks.addDid('5558100', '8100');
    await rig.server.trunks.poll();
    const media = await RtpPeer.open();
    const out = pstn.call('5558100', { body: media.sdp() });
    const res = await out.final;
    expect(res.status).toBe(200);
    media.connect(res.body, false);
    await heardMs(media, 500);
    await until(() => promptShare(media, 'ivr-welcome') > 0.3, 'the menu greeting', 10_000);
    expect((await pstn.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    media.close();
    expect(await rig.idle()).toBe(true);
  }, 60_000);
});

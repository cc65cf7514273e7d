// Music on hold and the ad-hoc conference code through real SIP and RTP on
// loopback (SPEC B-13, EC-05): a held party hears the music endpoint while
// held and the other party again once resumed, the music leg goes away; a
// handset with one held and one active call dials *47 and the three hear
// each other. SIP timers on manual time, audio on the real media clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../features/rig.ts';
import type { TestPhone } from '../lib/phone.ts';
import { RtpPeer, toneShare } from '../lib/rtp-peer.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
const peers: RtpPeer[] = [];

beforeAll(async () => {
  rig = await Rig.start({ config: { calls: { musicOnHold: true } } });
});
afterAll(async () => {
  if (process.env.VM_DEBUG) for (const e of rig.ts.log.entries) if (e.level !== 'debug') console.log(e.level, e.msg, JSON.stringify(e.obj));
  for (const p of peers) p.close();
  await rig.stop();
});

/** A registered phone whose SDP names an RTP peer's port: what the server sends that phone arrives at the peer. */
async function phoneWithAudio(ext: string): Promise<{ phone: TestPhone; audio: RtpPeer }> {
  const audio = await RtpPeer.open();
  peers.push(audio);
  const phone = await rig.phone(ext, {}, { mediaPort: audio.port });
  return { phone, audio };
}



/** Sends a tone in the background until stopped. */
function keepSending(p: RtpPeer, freq: number): () => void {
  let on = true;
  void (async () => {
    while (on) await p.tone(freq, 400);
  })();
  return () => void (on = false);
}

describe('music on hold', () => {
  it('plays to the held party while held, and the holder is heard again after resume; the music leg ends', async () => {
    const a = await phoneWithAudio('4201');
    const b = await phoneWithAudio('4202');
    const { out, inc } = await rig.connect(a.phone, '4202', b.phone);
    const invitesBefore = a.phone.requests.filter((r) => r.method === 'INVITE').length;

    // B holds A.
    const hold = await b.phone.inDialog(inc.dialog!, 'INVITE', { body: b.audio.sdp('rtp', 'sendonly') });
    expect(hold.status).toBe(200);
    // A gets the hold, then the music endpoint's offer, and hears music.
    expect(await waitUntil(() => a.phone.requests.filter((r) => r.method === 'INVITE').length >= invitesBefore + 2, 5000)).toBe(true);
    expect(await waitUntil(() => a.audio.loudMs() >= 1500, 10_000), 'music heard').toBe(true);
    expect(rig.server.mediaServer.host.calls.size).toBe(1);
    expect([...rig.server.calls.calls()].find((c) => c.caller.number === '4201')?.held).toBe(true);

    // B resumes: A is re-INVITEd back to B's media, the music call ends, and A hears B's tone.
    const resume = await b.phone.inDialog(inc.dialog!, 'INVITE', { body: b.audio.sdp('rtp', 'sendrecv') });
    expect(resume.status).toBe(200);
    b.audio.connect(resume.body, false);
    expect(await waitUntil(() => rig.server.mediaServer.host.calls.size === 0, 5000), 'music leg ended').toBe(true);
    const stop = keepSending(b.audio, 700);
    try {
      a.audio.reset();
      expect(await waitUntil(() => toneShare(a.audio.tail(400), 700) > 0.7, 10_000), 'B heard after resume').toBe(true);
    } finally {
      stop();
    }
    expect(out.dialog).toBeDefined();
  }, 60_000);

  it('a second hold offer from the holder while the music plays is answered without silencing it', async () => {
    const a = await phoneWithAudio('4211');
    const b = await phoneWithAudio('4212');
    const { inc } = await rig.connect(a.phone, '4212', b.phone);
    expect((await b.phone.inDialog(inc.dialog!, 'INVITE', { body: b.audio.sdp('rtp', 'sendonly') })).status).toBe(200);
    expect(await waitUntil(() => a.audio.loudMs() >= 1000, 10_000)).toBe(true);
    const invites = a.phone.requests.filter((r) => r.method === 'INVITE').length;
    // A session refresh while still holding.
    expect((await b.phone.inDialog(inc.dialog!, 'INVITE', { body: b.audio.sdp('rtp', 'sendonly') })).status).toBe(200);
    a.audio.reset();
    expect(await waitUntil(() => a.audio.loudMs() >= 1000, 10_000), 'music still playing').toBe(true);
    expect(a.phone.requests.filter((r) => r.method === 'INVITE').length).toBe(invites);
    await b.phone.inDialog(inc.dialog!, 'BYE');
    expect(await waitUntil(() => rig.server.mediaServer.host.calls.size === 0, 5000), 'music leg ended with the call').toBe(true);
  }, 60_000);
});

describe('ad-hoc conference (*47)', () => {
  it('joins the dialling handset, its held party and its active party: each hears the other two', async () => {
    const u = await phoneWithAudio('4301');
    const x = await phoneWithAudio('4302');
    const y = await phoneWithAudio('4303');
    // U calls X, holds X (X hears music), then calls Y.
    const first = await rig.connect(u.phone, '4302', x.phone);
    expect((await u.phone.inDialog(first.out.dialog!, 'INVITE', { body: u.audio.sdp('rtp', 'sendonly') })).status).toBe(200);
    await rig.connect(u.phone, '4303', y.phone);

    // *47 from U: a third call of U's, into the room; X and Y are moved in.
    const conf = await RtpPeer.open();
    peers.push(conf);
    const joined = u.phone.call('*47', { body: conf.sdp() });
    const res = await joined.final;
    expect(res.status).toBe(200);
    conf.connect(res.body, false);
    expect(await waitUntil(() => rig.server.mediaServer.conferences.list().some((r) => r.participants === 3), 10_000), 'three in the room').toBe(true);
    // X and Y were re-INVITEd into the room: their peers aim at what the last re-INVITE offered them.
    const lastOffer = (p: TestPhone) => [...p.requests].reverse().find((r) => r.method === 'INVITE')!.body;
    x.audio.connect(lastOffer(x.phone), false);
    y.audio.connect(lastOffer(y.phone), false);
    // U's old legs to X and Y are gone.
    expect(await waitUntil(() => u.phone.requests.filter((r) => r.method === 'BYE').length >= 2, 5000)).toBe(true);

    const stops = [keepSending(conf, 500), keepSending(x.audio, 900), keepSending(y.audio, 1300)];
    try {
      for (const p of [conf, x.audio, y.audio]) p.reset();
      await new Promise((r) => setTimeout(r, 2500));
      const heard = (p: RtpPeer) => [500, 900, 1300].map((f) => toneShare(p.tail(1500), f));
      const [hu, hx, hy] = [heard(conf), heard(x.audio), heard(y.audio)];
      // Each hears the other two (a share each) and not itself.
      expect(hu[1]).toBeGreaterThan(0.2);
      expect(hu[2]).toBeGreaterThan(0.2);
      expect(hu[0]).toBeLessThan(0.05);
      expect(hx[0]).toBeGreaterThan(0.2);
      expect(hx[2]).toBeGreaterThan(0.2);
      expect(hx[1]).toBeLessThan(0.05);
      expect(hy[0]).toBeGreaterThan(0.2);
      expect(hy[1]).toBeGreaterThan(0.2);
      expect(hy[2]).toBeLessThan(0.05);
    } finally {
      for (const s of stops) s();
    }
  }, 60_000);
});

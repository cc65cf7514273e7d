// Meet-me conference rooms end to end through real SIP and RTP on loopback
// (SPEC EC-05, D-23): three phones in room 8200, each sending its own sine
// without pause, each hear the other two and never themselves; one leaves
// and the other two go on hearing each other and not the one who left. A
// PIN room refuses a wrong code three times and hangs up, and takes the
// right one; a full room says so; an SRTP phone and a plain one in one room
// hear each other. SIP timers run on manual time; audio on the media
// server's real 20 ms clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, until } from '../features/rig.ts';
import { closePeers, dial, hangUp, hears, heardTone, hum, lastSecond } from './ears.ts';
import { JOIN_NOTES } from '../../../src/pbx/conference/conference.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start();
  const rooms = rig.server.store.conferenceRooms;
  await rooms.add({ number: '8200', name: 'Ward round' });
  await rooms.add({ number: '8201', pin: '2468' });
  await rooms.add({ number: '8202', maxParticipants: 2 });
  await rooms.add({ number: '8203', announceJoin: false });
  await rig.sync();
});
afterAll(async () => {
  closePeers();
  await rig.stop();
});

/** The callers who joined `room`, in order. */
function joinedOrder(room: string): string[] {
  return rig.ts.log.entries
    .filter((e) => e.msg === 'conference: joined' && (e.obj as { room?: string }).room === room)
    .map((e) => (e.obj as { caller: string }).caller);
}

const joined = (room: string): number => joinedOrder(room).length;

describe('conference rooms', () => {
  it('three phones each hear the other two and not themselves; after one leaves the other two still hear each other and not the leaver', async () => {
    const a = await dial(rig, '5001', '8200');
    hum(a.media, 500);
    await hears(a.media, 'conf-alone');
    const b = await dial(rig, '5002', '8200');
    hum(b.media, 800);
    await hears(b.media, 'conf-joined');
    const c = await dial(rig, '5003', '8200');
    hum(c.media, 1300);
    await hears(c.media, 'conf-joined');
    await until(() => joined('8200') === 3, 'three in the room');

    for (const m of [a, b, c]) m.media.reset();
    const tones = [500, 800, 1300];
    const [aHears, bHears, cHears] = await Promise.all([lastSecond(a.media, tones), lastSecond(b.media, tones), lastSecond(c.media, tones)]);
    // Two equal tones share the energy about half and half; one's own is absent.
    expect(aHears[0], 'A hears itself').toBeLessThan(0.05);
    expect(aHears[1]).toBeGreaterThan(0.3);
    expect(aHears[2]).toBeGreaterThan(0.3);
    expect(bHears[1], 'B hears itself').toBeLessThan(0.05);
    expect(bHears[0]).toBeGreaterThan(0.3);
    expect(bHears[2]).toBeGreaterThan(0.3);
    expect(cHears[2], 'C hears itself').toBeLessThan(0.05);
    expect(cHears[0]).toBeGreaterThan(0.3);
    expect(cHears[1]).toBeGreaterThan(0.3);

    // C hangs up (and its peer goes on sending: nothing of it may reach the room).
    expect((await hangUp(c)).status).toBe(200);
    expect(await waitUntil(() => rig.ts.log.entries.some((e) => e.msg === 'conference: left' && (e.obj as { caller?: string }).caller === '5003'))).toBe(true);
    a.media.reset();
    b.media.reset();
    const [aAfter, bAfter] = await Promise.all([lastSecond(a.media, tones), lastSecond(b.media, tones)]);
    expect(aAfter[1]).toBeGreaterThan(0.8);
    expect(aAfter[2], 'A still hears C').toBeLessThan(0.05);
    expect(aAfter[0]).toBeLessThan(0.05);
    expect(bAfter[0]).toBeGreaterThan(0.8);
    expect(bAfter[2], 'B still hears C').toBeLessThan(0.05);
    expect(bAfter[1]).toBeLessThan(0.05);
    for (const m of [a, b]) expect((await hangUp(m)).status).toBe(200);
    expect(await rig.idle(), 'every call ended').toBe(true);
  }, 90_000);

  it('a PIN room refuses a wrong code (conf-pin-wrong), hangs up after the third, and lets the right code in', async () => {
    const d = await dial(rig, '5011', '8201');
    await hears(d.media, 'conf-pin');
    for (const wrong of [[1, 1, 1, 1], [2, 2, 2, 2], [1, 3, 5, 7]]) {
      d.media.reset();
      for (const k of wrong) d.media.sendDtmf(k);
      d.media.sendDtmf(11);
      await hears(d.media, 'conf-pin-wrong');
    }
    // After the third: "That code is not correct. Goodbye." and our BYE.
    await hears(d.media, 'vm-goodbye');
    await until(() => d.phone.requests.some((r) => r.method === 'BYE'), 'the BYE after three wrong codes', 10_000);
    expect(joined('8201')).toBe(0);

    const e = await dial(rig, '5012', '8201');
    await hears(e.media, 'conf-pin');
    for (const k of [2, 4, 6, 8, 11]) e.media.sendDtmf(k);
    e.media.reset();
    // In: alone in the room.
    await hears(e.media, 'conf-alone');
    await until(() => joined('8201') === 1, 'the right code lets the caller in');
    expect(e.phone.requests.some((r) => r.method === 'BYE')).toBe(false);
    expect((await hangUp(e)).status).toBe(200);
    expect(await rig.idle(), 'every call ended').toBe(true);
  }, 90_000);

  it('a full room says so to the next caller and hangs up; the others hear who joins and leaves', async () => {
    const f = await dial(rig, '5021', '8202');
    const g = await dial(rig, '5022', '8202');
    // G calls while F still hears its welcome: F's seat is taken already.
    await hears(g.media, 'conf-joined');
    const h = await dial(rig, '5023', '8202');
    await hears(h.media, 'conf-full');
    await until(() => h.phone.requests.some((r) => r.method === 'BYE'), 'the BYE of a full room', 10_000);
    expect(joined('8202')).toBe(2);
    // announceJoin (the default): the one who got in first heard the other come in, a rising pair of notes
    // (not the other: its own join); then it hears the other leave, a falling pair.
    const [first, second] = joinedOrder('8202')[0] === '5021' ? [f, g] : [g, f];
    await until(() => JOIN_NOTES.every((hz) => heardTone(first.media, hz)), 'the join notes', 10_000);
    expect(JOIN_NOTES.some((hz) => heardTone(second.media, hz)), 'the joiner hears its own join').toBe(false);
    first.media.reset();
    expect((await hangUp(second)).status).toBe(200);
    await until(() => JOIN_NOTES.every((hz) => heardTone(first.media, hz)), 'the leave notes', 10_000);
    expect((await hangUp(first)).status).toBe(200);
    expect(await rig.idle(), 'every call ended').toBe(true);
  }, 60_000);

  it('an SRTP phone and a plain phone in one room hear each other', async () => {
    const s = await dial(rig, '5031', '8203', 'enforced');
    hum(s.media, 600);
    await hears(s.media, 'conf-alone');
    const p = await dial(rig, '5032', '8203');
    hum(p.media, 1000);
    await hears(p.media, 'conf-joined');
    await until(() => joined('8203') === 2, 'both in the room');
    expect(await waitUntil(() => JOIN_NOTES.some((hz) => heardTone(s.media, hz)), 1000), 'join notes with announceJoin off').toBe(false);
    s.media.reset();
    p.media.reset();
    const [sHears, pHears] = await Promise.all([lastSecond(s.media, [600, 1000]), lastSecond(p.media, [600, 1000])]);
    expect(sHears[1], 'the SRTP phone hears the plain one').toBeGreaterThan(0.8);
    expect(pHears[0], 'the plain phone hears the SRTP one').toBeGreaterThan(0.8);
    expect(sHears[0]).toBeLessThan(0.05);
    expect(pHears[1]).toBeLessThan(0.05);
    expect(s.media.rejected).toBe(0);
    for (const m of [s, p]) expect((await hangUp(m)).status).toBe(200);
  }, 60_000);
});

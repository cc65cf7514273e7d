// A conference room with two workers: the kernel gives each phone's flow to
// one worker, but a room's callers must meet in one mixer. Two phones whose
// flows land on different workers dial room 8200: both calls are taken by
// the worker the room's number hashes to (placement.ts), and each phone
// hears the other's tone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, switchboardCli } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import type { TestPhone } from '../lib/phone.ts';
import { phoneOnWorker } from './phone-on.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import { roomWorker } from '../../../src/cluster/placement.ts';
import { passwordOf } from '../../interop/users.ts';
import { hears, heardTone, hum, lastSecond } from '../media-server/ears.ts';
import { JOIN_NOTES } from '../../../src/pbx/conference/conference.ts';
import { until } from '../features/rig.ts';

const USERS = ['7201', '7202'].map((ext) => ({ ext, password: passwordOf(ext) }));

let sb: SwitchboardHandle;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];

beforeAll(async () => {
  sb = await startSwitchboard({
    workers: 2, users: USERS, readyTimeoutMs: 60_000,
    beforeStart: async (dataDir) => {
      await switchboardCli(['conference', 'add', '--number', '8200', '--data-dir', dataDir]);
    },
  });
}, 90_000);

afterAll(async () => {
  for (const p of peers) p.close();
  for (const p of phones) await p.stop();
  await sb?.stop();
});

/** A registered phone of `ext` whose flow the kernel gave to `worker`, its calls' media on `mediaPort`. */
async function phoneOn(worker: number, ext: string, mediaPort: number): Promise<TestPhone> {
  const phone = await phoneOnWorker(sb, worker, { ext, password: passwordOf(ext), mediaPort });
  phones.push(phone);
  return phone;
}

describe('a conference room with two workers', () => {
  it('phones registered through different workers join one room on one worker and hear each other', async () => {
    const [ma, mb] = [await RtpPeer.open(), await RtpPeer.open()];
    peers.push(ma, mb);
    const a = await phoneOn(1, '7201', ma.port);
    const b = await phoneOn(2, '7202', mb.port);
    const room = roomWorker('8200', 2);

    const ca = a.call('8200', { body: ma.sdp() });
    const ra = await ca.final;
    expect(ra.status).toBe(200);
    ma.connect(ra.body, false);
    hum(ma, 500);
    await hears(ma, 'conf-alone');
    const cb = b.call('8200', { body: mb.sdp() });
    const rb = await cb.final;
    expect(rb.status).toBe(200);
    mb.connect(rb.body, false);
    hum(mb, 900);
    // B is not alone: A is in the same room, and hears B come in.
    await hears(mb, 'conf-joined');
    await until(() => JOIN_NOTES.every((hz) => heardTone(ma, hz)), 'the join notes at A', 10_000);
    // Both calls are held by the room's worker (its tag in the 200), whichever worker each phone's flow is on.
    expect([ownerOfId(tagOf(ra.to)), ownerOfId(tagOf(rb.to))]).toEqual([room, room]);

    ma.reset();
    mb.reset();
    const [aHears, bHears] = await Promise.all([lastSecond(ma, [500, 900]), lastSecond(mb, [500, 900])]);
    expect(aHears[1], 'A hears B').toBeGreaterThan(0.8);
    expect(bHears[0], 'B hears A').toBeGreaterThan(0.8);
    expect(aHears[0], 'A hears itself').toBeLessThan(0.05);
    expect(bHears[1], 'B hears itself').toBeLessThan(0.05);
    expect((await a.inDialog(ca.dialog!, 'BYE')).status).toBe(200);
    expect((await b.inDialog(cb.dialog!, 'BYE')).status).toBe(200);
  }, 90_000);
});

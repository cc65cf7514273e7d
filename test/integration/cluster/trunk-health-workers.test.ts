// Trunk health with `--workers 2`: only the management worker probes the
// trunk (one answer for status and alarms), and tells the other which trunks
// are down, so a call on either worker to a trunk whose far end stopped is
// refused at once with 503 naming the trunk, and goes through again once the
// far end answers. Real processes on real time: the probe period is short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startSwitchboard, switchboardCli } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import type { StatusSnapshot } from '../../../src/pbx/status/status.ts';
import { waitUntil } from '../../lib/wait.ts';
import { passwordOf } from '../../interop/users.ts';

const USERS = ['1001', '1002'].map((ext) => ({ ext, password: passwordOf(ext) }));
let sb: SwitchboardHandle;
let farPort: number;
let far: TestPhone | undefined;
const phones = new Map<number, TestPhone>();

function farEnd(): Promise<TestPhone> {
  return TestPhone.start({ ext: 'far', password: 'x', behaviour: 'answer', port: farPort, server: { host: '127.0.0.1', port: 9, domain: 'lab.test' } });
}

async function trunkState(): Promise<string | undefined> {
  const out = await switchboardCli(['status', '--json', '--data-dir', sb.dataDir]);
  return (JSON.parse(out.stdout) as StatusSnapshot).trunks.find((t) => t.trunk === 'pstn')?.state;
}

/** A registered phone whose UDP flow the kernel gave to `worker` (it names itself in the To tag of its 200). */
async function phoneOn(worker: number, ext: string): Promise<TestPhone> {
  for (let attempt = 0; attempt < 24; attempt++) {
    const phone = await TestPhone.start({ ext, password: passwordOf(ext), server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
    const ok = await phone.register(300);
    expect(ok.status).toBe(200);
    if (ownerOfId(tagOf(ok.to)) === worker) return phone;
    expect((await phone.register(0)).status).toBe(200);
    await phone.stop();
  }
  throw new Error(`no UDP flow landed on worker ${worker} in 24 tries`);
}

beforeAll(async () => {
  farPort = await freePort();
  far = await farEnd();
  sb = await startSwitchboard({
    workers: 2, users: USERS, readyTimeoutMs: 60_000,
    config: { trunkHealth: { intervalSec: 5, retrySec: 1, downAfter: 2 } },
    beforeStart: async (dataDir) => {
      for (const u of USERS) await switchboardCli(['user', 'set', '--ext', u.ext, '--outbound', 'on', '--data-dir', dataDir]);
      await switchboardCli(['trunk', 'add', '--name', 'pstn', '--host', '127.0.0.1', '--port', String(farPort), '--prefix', '9', '--strip', '1', '--data-dir', dataDir]);
    },
  });
  phones.set(1, await phoneOn(1, '1001'));
  phones.set(2, await phoneOn(2, '1002'));
}, 90_000);

afterAll(async () => {
  for (const p of phones.values()) await p.stop();
  await far?.stop();
  await sb?.stop();
});

describe('trunk health with two workers', () => {
  it('shows the trunk up, as the probing worker sees it', async () => {
    expect(await waitUntil(async () => (await trunkState()) === 'up', 20_000, 250)).toBe(true);
    // One worker probes: the cluster's status holds the trunk once, not once per worker.
    const out = await switchboardCli(['status', '--json', '--data-dir', sb.dataDir]);
    expect((JSON.parse(out.stdout) as StatusSnapshot).trunks.map((t) => t.trunk)).toEqual(['pstn']);
  }, 30_000);

  it('refuses calls on both workers at once with 503 once the far end stopped', async () => {
    await far!.stop();
    far = undefined;
    expect(await waitUntil(async () => (await trunkState()) === 'down', 20_000, 250)).toBe(true);
    for (const worker of [1, 2]) {
      const res = await phones.get(worker)!.call('9555123').final;
      expect(res.status).toBe(503);
      expect(res.reason).toBe('Trunk pstn Down');
      // The worker holding the phone's flow answered: it knew without probing itself (or asking).
      expect(ownerOfId(tagOf(res.to))).toBe(worker);
    }
  }, 40_000);

  it('sends calls on both workers again once the far end answers', async () => {
    far = await farEnd();
    expect(await waitUntil(async () => (await trunkState()) === 'up', 20_000, 250)).toBe(true);
    for (const worker of [1, 2]) {
      const p = phones.get(worker)!;
      const call = p.call('9555123');
      expect((await call.final).status).toBe(200);
      await p.inDialog(call.dialog!, 'BYE');
    }
    expect(far.incoming.filter((c) => c.invite.uri.user === '555123')).toHaveLength(2);
  }, 40_000);
});

// The handset gateway on a server of two workers (issue 15): worker 1 runs
// the lines, and a new call from a gateway user or to a line is placed there
// whichever worker the kernel handed it to, so handsets on either worker
// call upstream through their line and the upstream's INVITEs ring the
// handset unchallenged. `switchboard gateway status|reregister` are relayed
// by the supervisor to worker 1. The upstream is another Switchboard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { cli } from '../lib/cli.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { until } from '../features/rig.ts';
import { phoneOnWorker } from '../cluster/phone-on.ts';
import { configureLines, DESK, srtpLine, startUpstream } from './pair.ts';
import { openStore } from '../../../src/store/index.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import type { GatewayStatus } from '../../../src/model/gateway.ts';

const HANDSETS = [
  { ext: '1001', password: 'Handset-pw-one', upstreamUser: '41510' },
  { ext: '1002', password: 'Handset-pw-two', upstreamUser: '41511' },
];
// As in calls-lines.test.ts: SRTP on the upstream leg (the lines' accounts), plain RTP at the test phones.
const LINES = HANDSETS.map((h) => srtpLine(h.ext, h.upstreamUser, { name: `Line ${h.ext}` }));

let upstream: TestServer;
let gw: SwitchboardHandle;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];

async function gatewayStatus(): Promise<GatewayStatus> {
  const r = await cli('gateway', 'status', '--json', '--data-dir', gw.dataDir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as GatewayStatus;
}

beforeAll(async () => {
  upstream = await startUpstream(LINES, { media: { relay: { portMin: 35000, portMax: 35999 } } }, [DESK]);
  gw = await startSwitchboard({
    workers: 2,
    domain: 'gw.test',
    users: HANDSETS.map((h) => ({ ext: h.ext, password: h.password })),
    readyTimeoutMs: 60_000,
    config: { media: { relay: { portMin: 36000, portMax: 36999 } } },
    beforeStart: async (dataDir) => {
      const store = openStore(dataDir);
      try {
        for (const h of HANDSETS) await store.users.update(h.ext, { media: { security: 'disabled' } });
        await configureLines(store, { port: upstream.sipPort, lines: LINES });
      } finally {
        await store.close();
      }
    },
  });
}, 120_000);

afterAll(async () => {
  for (const p of peers) p.close();
  for (const p of phones) await p.stop();
  await gw?.stop();
  await upstream?.stop();
});

/** A free local UDP port whose flow to the gateway the kernel gives to `worker` (learnt from a REGISTER's answer, then freed). */
async function portOnWorker(worker: number): Promise<number> {
  const h = HANDSETS[1]!;
  for (let attempt = 0; attempt < 24; attempt++) {
    const probe = await TestPhone.start({ ext: h.ext, password: h.password, server: { host: gw.host, port: gw.udpPort, domain: gw.domain } });
    const ok = await probe.register(0);
    const port = probe.local.port;
    await probe.stop();
    expect(ok.status).toBe(200);
    if (ownerOfId(tagOf(ok.to)) === worker) return port;
  }
  throw new Error(`no UDP source port landed on worker ${worker} in 24 tries`);
}

describe('the handset gateway with two workers', { timeout: 120_000 }, () => {
  it('registers every line; switchboard gateway status --json and reregister answer through the supervisor', async () => {
    await until(async () => (await gatewayStatus()).lines.every((l) => l.registration === 'registered'), 'lines registered (gateway status)', 20_000);
    const status = await gatewayStatus();
    expect(status.mode).toBe('gateway');
    expect(status.lines.map((l) => l.extension)).toEqual(['1001', '1002']);
    expect(status.counters).toMatchObject({ registered: 2, total: 2 });
    const again = await cli('gateway', 'reregister', '--all', '--data-dir', gw.dataDir);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('2 line(s) registering again');
    const one = await cli('gateway', 'reregister', '1002', '3999', '--data-dir', gw.dataDir);
    expect(one.stdout).toContain('1 line(s) registering again');
    await until(async () => (await gatewayStatus()).lines.every((l) => l.registration === 'registered'), 'lines registered again', 20_000);
  });

  it('handsets whose flows land on either worker call upstream through their line', async () => {
    const desk = await TestPhone.start({ ext: DESK.extension, password: DESK.password, server: { host: upstream.host, port: upstream.sipPort, domain: 'upstream.test' } });
    phones.push(desk);
    expect((await desk.register()).status).toBe(200);
    const h = HANDSETS[1]!;
    let rung = 0;
    for (const worker of [1, 2, 2, 1, 2]) {
      const handset = await phoneOnWorker(gw, worker, { ext: h.ext, password: h.password });
      phones.push(handset);
      const out = handset.call(DESK.extension);
      const inc = await desk.waitIncoming(++rung);
      const res = await out.final;
      expect(res.status, `call from a handset on worker ${worker}`).toBe(200);
      // The upstream sees the line's AoR, not the handset's extension.
      expect(inc.invite.from.uri.user).toBe(h.upstreamUser);
      expect(inc.invite.from.uri.host).toBe('upstream.test');
      expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
      expect((await handset.register(0)).status).toBe(200);
    }
    await until(() => upstream.server.calls.activeCount === 0, 'calls ended upstream');
  });

  it('the upstream\'s INVITEs over UDP ring the handset without a challenge, whichever worker the kernel gives them', async () => {
    const h = HANDSETS[0]!;
    const handset = await TestPhone.start({ ext: h.ext, password: h.password, server: { host: gw.host, port: gw.udpPort, domain: gw.domain } });
    phones.push(handset);
    expect((await handset.register()).status).toBe(200);
    // The real upstream's desk phone calls the line.
    const desk = await TestPhone.start({ ext: DESK.extension, password: DESK.password, server: { host: upstream.host, port: upstream.sipPort, domain: 'upstream.test' } });
    phones.push(desk);
    expect((await desk.register()).status).toBe(200);
    let rung = 0;
    const back = desk.call(h.upstreamUser);
    expect((await handset.waitIncoming(++rung)).invite.from.uri.user).toBe(DESK.extension);
    expect((await back.final).status).toBe(200);
    expect((await desk.inDialog(back.dialog!, 'BYE')).status).toBe(200);
    // The upstream's own port lands on one worker only: INVITEs as the upstream sends them (from its
    // address, to the line's Contact user) from source ports the kernel gives to worker 1 and to worker 2.
    for (const worker of [1, 2, 2, 1]) {
      const port = await portOnWorker(worker);
      const far = await TestPhone.start({ ext: DESK.extension, password: DESK.password, port, server: { host: gw.host, port: gw.udpPort, domain: gw.host } });
      phones.push(far);
      // The gateway requires SRTP on the upstream leg (requireSrtp, a B.1 default), as the real upstream offers it.
      const media = await RtpPeer.open();
      peers.push(media);
      const call = far.call(h.upstreamUser, { body: media.sdp('srtp') });
      const inc = await handset.waitIncoming(++rung);
      const res = await call.final;
      expect(res.status, `upstream INVITE taken by worker ${worker}`).toBe(200);
      expect(call.challenged).toBeFalsy();
      expect(call.responses.some((r) => r.status === 401 || r.status === 407)).toBe(false);
      expect(inc.invite.from.uri.user).toBe(DESK.extension);
      expect((await far.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    }
  });
});

// The handset gateway with real phones (issue 15 item 3): two Switchboard
// processes — the upstream call server, and the gateway whose line for the
// handset's user registers there by itself — a baresip handset registered to
// the gateway over TLS with mandatory SRTP, and a baresip desk phone
// registered to the upstream over UDP with plain RTP. Calls both ways are
// answered, and audio flows both ways through both relays (their packet
// counters, read mid-call, with the upstream leg SRTP on both servers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, requireTool, startSwitchboard, switchboardCli } from './harness.ts';
import type { SwitchboardHandle } from './harness.ts';
import { MIN_PACKETS_EACH_WAY, rtpRanges } from './lib/baresip-calls.ts';
import { answeredCall, hangUp, Phones, setMedia, status, waitMediaSecurity } from './lib/media-flows.ts';
import type { MediaServer } from './lib/media-flows.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const [LINE, DESK] = makeUsers(2, 41510) as [TestUser, TestUser];
const [HANDSET] = makeUsers(1, 1001) as [TestUser];
/** Long enough for well over MIN_PACKETS_EACH_WAY packets at 20 ms. */
const HOLD_MS = 3000;

interface Env {
  up: MediaServer;
  gw: MediaServer;
}

async function server(domain: string, users: TestUser[], relay: { min: number; max: number }, beforeStart?: (dataDir: string) => Promise<void>): Promise<MediaServer> {
  const s = await startSwitchboard({
    // One worker: the gateway's lines run in the process that holds the singletons, and so far only its calls use them.
    domain, users, beforeStart, workers: 1,
    config: { media: { relay: { host: '127.0.0.1', portMin: relay.min, portMax: relay.max } } },
  });
  return { server: s, keylog: '', caFile: await s.exportCa(), stop: async () => void (await s.stop()) };
}

const env = fixture<Env>(
  async () => {
    requireTool('baresip');
    const up = await server('upstream.test', [LINE, DESK], { min: 32620, max: 32689 });
    try {
      const gw = await server('gw.test', [HANDSET], { min: 32700, max: 32767 }, async (dataDir) => {
        await switchboardCli(['gateway', 'set', '--mode', 'gateway', '--default-domain', 'upstream.test', '--transport', 'udp', '--data-dir', dataDir]);
        await switchboardCli(['gateway', 'proxy', 'add', '--uri', `sip:127.0.0.1:${up.server.udpPort};transport=udp`, '--data-dir', dataDir]);
        // The handset's own media policy (Enforced: SRTP only, it is TLS), set before the start.
        await switchboardCli(['user', 'set', '--ext', HANDSET.ext, '--media-security', 'enforced', '--upstream-user', LINE.ext, '--upstream-password', LINE.password, '--data-dir', dataDir]);
      });
      return { up, gw };
    } catch (err) {
      await up.stop();
      throw err;
    }
  },
  async ({ up, gw }) => {
    await gw.stop();
    await up.stop();
  },
);

async function lineRegistered(gw: SwitchboardHandle, up: SwitchboardHandle): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    // Refused until the gateway component has started.
    const out = await switchboardCli(['gateway', 'status', '--json', '--data-dir', gw.dataDir]).then((r) => r.stdout, (err: Error) => err.message);
    if (/"registration":\s*"registered"/.test(out)) return;
    if (Date.now() > end) throw new Error(`line not registered: ${out}\n--- gateway ---\n${gw.output()}\n--- upstream ---\n${up.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('handset gateway with baresip (handset TLS + SRTP at the gateway, desk phone at the upstream)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('handset → desk and desk → handset: answered, audio both ways through both relays, SRTP on the upstream leg', async () => {
    const { up, gw } = env.get();
    // The line's account is Enforced at the upstream: SRTP only toward the gateway, as the gateway requires.
    await setMedia(up.server, LINE.ext, { security: 'enforced' });
    await setMedia(up.server, DESK.ext, { security: 'disabled' });
    await waitMediaSecurity(up.server, LINE.ext, 'enforced');
    await lineRegistered(gw.server, up.server);
    const [rh, rd] = rtpRanges();
    const phones = new Phones();
    const why = (): string => `${phones.why(gw.server)}\n--- upstream ---\n${up.server.output()}`;
    try {
      const handset = await phones.start(gw, { name: 'H', user: HANDSET, transport: 'tls', srtp: true, rtpPorts: rh });
      const desk = await phones.start(up, { name: 'D', user: DESK, transport: 'udp', srtp: false, rtpPorts: rd });
      for (const [a, b, callee, domain, label] of [[handset, desk, DESK.ext, 'gw.test', 'handset→desk'], [desk, handset, LINE.ext, 'upstream.test', 'desk→handset']] as const) {
        await answeredCall(a, b, callee, domain, why);
        await new Promise((r) => setTimeout(r, HOLD_MS));
        const [g, u] = [await status(gw.server), await status(up.server)];
        await hangUp(a, b, why);
        const st = `${label}\n${JSON.stringify(g.calls, null, 1)}\n${JSON.stringify(u.calls, null, 1)}\n${why()}`;
        expect(g.calls.length, st).toBe(1);
        expect(u.calls.length, st).toBe(1);
        for (const call of [g.calls[0]!, u.calls[0]!]) {
          for (const leg of [call.legs.caller, call.legs.callee]) {
            expect(leg.packetsIn ?? 0, st).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
            expect(leg.packetsOut ?? 0, st).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
          }
        }
        // Every gateway leg is SRTP (handset Enforced, upstream leg by the gateway's Require SRTP); the desk's is RTP.
        expect([g.calls[0]!.legs.caller.stream, g.calls[0]!.legs.callee.stream], st).toEqual(['SRTP', 'SRTP']);
        expect([u.calls[0]!.legs.caller.stream, u.calls[0]!.legs.callee.stream].sort(), st).toEqual(['RTP', 'SRTP']);
        console.log(`${label}: gateway legs ${JSON.stringify(g.calls[0]!.legs)}; upstream legs ${JSON.stringify(u.calls[0]!.legs)}`);
      }
    } finally {
      await phones.stopAll();
    }
  });
});

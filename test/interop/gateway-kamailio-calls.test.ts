// Calls both ways through the handset gateway with Debian's Kamailio as the
// upstream (issue 15 "Done when"): Kamailio is the registrar and a
// record-routing proxy over TLS (bench/kamailio/, its certificate issued by a
// CA made with openssl, which the gateway trusts through `cert trust add`),
// relaying SDP untouched. A baresip desk phone registers at Kamailio over TLS
// with mandatory SRTP; a baresip handset registers at the gateway over TLS
// with mandatory SRTP, and the gateway's line for it registers at Kamailio
// over TLS with Require SRTP. Each way, each side hanging up once: answered,
// audio both ways through the gateway's relay, the call in the gateway's
// status, both legs gone after the hang-up. tshark watches from outside: the
// RTP between the relay and the desk phone authenticates and decrypts under
// the SDES keys of the SDP that crossed Kamailio (read from the gateway's TLS
// key log), and Kamailio's INVITEs reach the gateway over the connection the
// line registered on (RFC 5626 style flow reuse: Kamailio never connects to it).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio } from '../../bench/kamailio/server.ts';
import type { KamailioHandle } from '../../bench/kamailio/server.ts';
import type { GatewayStatus } from '../../src/model/gateway.ts';
import { askControlSocket, controlSocketPath } from '../../src/pbx/status/control-socket.ts';
import type { StatusSnapshot } from '../../src/pbx/status/status.ts';
import { fixture, makeTempDir, removeDir, requireTool, startSwitchboard, switchboardCli } from './harness.ts';
import type { SwitchboardHandle } from './harness.ts';
import { BaresipPhone } from './lib/baresip-phone.ts';
import type { PortRange } from './lib/baresip-phone.ts';
import { CALL_HOLD_MS, MIN_PACKETS_EACH_WAY, rtpRanges } from './lib/baresip-calls.ts';
import type { Pcap, SipOverTls, UdpDatagram } from './lib/media-capture.ts';
import { readSipOverTls, readUdp, rtpBetween, startPcap } from './lib/media-capture.ts';
import type { MediaServer } from './lib/media-flows.ts';
import { answeredCall, cryptoKeys, decryptWithBest, Phones, RELAY_PORTS } from './lib/media-flows.ts';
import { pollUntil } from './lib/gateway-pair.ts';
import { opensslP12 } from './lib/openssl-tls.ts';
import { captureFilter } from './lib/rtp-capture.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
const [LINE, DESK] = makeUsers(2, 41510) as [TestUser, TestUser];
const [HANDSET] = makeUsers(1, 1001) as [TestUser];

interface Env {
  work: string;
  kam: KamailioHandle;
  gw: MediaServer;
  /** SIP on Kamailio's TLS port from before the gateway connected (its handshakes are in the key log). */
  sip: Pcap;
  phones: Phones;
  handset: BaresipPhone;
  desk: BaresipPhone;
  ranges: { handset: PortRange; desk: PortRange };
  /** The upstream side's RTP of each call made (relay <-> desk phone), for the SRTP check. */
  calls: Array<{ label: string; toDesk: Buffer[]; fromDesk: Buffer[] }>;
  why(): string;
}

/** The running gateway's answers, as `switchboard gateway status` and `switchboard status` read them (its control socket). */
async function gatewayStatus(gw: SwitchboardHandle): Promise<GatewayStatus> {
  return (await askControlSocket<{ gateway: GatewayStatus }>(controlSocketPath(gw.dataDir), { op: 'gateway-status' }, 10_000)).gateway;
}

async function callStatus(gw: SwitchboardHandle): Promise<StatusSnapshot> {
  return (await askControlSocket<{ status: StatusSnapshot }>(controlSocketPath(gw.dataDir), { op: 'status' }, 10_000)).status;
}

/** pollUntil, with the phones' and servers' output on failure. */
async function until<T>(read: () => Promise<T>, missing: (v: T) => readonly string[], what: string, why: () => string, ms = 20_000): Promise<T> {
  return pollUntil(read, missing, what, ms).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${why()}`);
  });
}

const env = fixture<Env>(
  async () => {
    for (const t of ['kamailio', 'baresip', 'tshark', 'openssl']) requireTool(t);
    const work = makeTempDir('gw-kam-calls');
    const undo: Array<() => Promise<void>> = [async () => removeDir(work)];
    const unwind = async (): Promise<void> => {
      for (const u of undo.splice(0).reverse()) await u();
    };
    try {
      // Kamailio's identity from an openssl CA the gateway is told to trust; it names 127.0.0.1, the host dialled.
      const id = await opensslP12(work, DOMAIN, [`DNS:${DOMAIN}`, 'IP:127.0.0.1'], '');
      const kam = await startKamailio({ users: [LINE, DESK], domain: DOMAIN, tcp: false, tls: { certFile: id.certFile, keyFile: id.keyFile }, proxy: {} });
      undo.push(() => kam.stop());
      const sip = await startPcap(`tcp port ${kam.tlsPort}`, work, 'kamailio-tls');
      undo.push(() => sip.stop());
      const keylog = join(work, 'gateway-tls-keys.log');
      const gwServer = await startSwitchboard({
        domain: 'gw.test', users: [HANDSET], workers: 1, nodeArgs: [`--tls-keylog=${keylog}`],
        config: { media: { relay: { host: '127.0.0.1', portMin: RELAY_PORTS.min, portMax: RELAY_PORTS.max } } },
        beforeStart: async (dataDir) => {
          const cli = (args: string[]) => switchboardCli([...args, '--data-dir', dataDir]);
          await cli(['cert', 'trust', 'add', id.caFile]);
          // MWI off: this Kamailio has no presence server (it answers SUBSCRIBE 405).
          await cli(['gateway', 'set', '--mode', 'gateway', '--default-domain', DOMAIN, '--transport', 'tls', '--require-srtp', 'on', '--mwi', 'off']);
          await cli(['gateway', 'proxy', 'add', '--uri', `sip:127.0.0.1:${kam.tlsPort};transport=tls`]);
          await cli(['user', 'set', '--ext', HANDSET.ext, '--media-security', 'enforced', '--upstream-user', LINE.ext, '--upstream-password', LINE.password]);
        },
      });
      undo.push(async () => void (await gwServer.stop()));
      const gw: MediaServer = { server: gwServer, keylog, caFile: await gwServer.exportCa(), stop: async () => void (await gwServer.stop()) };
      const phones = new Phones();
      undo.push(() => phones.stopAll());
      let desk: BaresipPhone | undefined;
      undo.push(async () => desk?.stop());
      const why = (): string => `${phones.why(gwServer)}\n${desk?.output() ?? ''}\n--- kamailio ---\n${kam.output()}`;
      await until(() => gatewayStatus(gwServer), (s) => s.lines.filter((l) => l.registration !== 'registered').map((l) => l.extension), 'the line registered at Kamailio', why);
      const [rh, rd] = rtpRanges();
      const handset = await phones.start(gw, { name: 'handset', user: HANDSET, transport: 'tls', srtp: true, rtpPorts: rh });
      desk = await BaresipPhone.start('desk', {
        account: { user: DESK.ext, password: DESK.password, domain: DOMAIN, proxyHost: kam.host, proxyPort: kam.tlsPort, transport: 'tls', mediaenc: 'srtp-mand' },
        caFile: id.caFile, rtpPorts: rd,
      });
      return { work, kam, gw, sip, phones, handset, desk, ranges: { handset: rh, desk: rd }, calls: [], why };
    } catch (err) {
      await unwind();
      throw err;
    }
  },
  async (e) => {
    await e.desk.stop();
    await e.phones.stopAll();
    await e.gw.stop();
    await e.sip.stop();
    await e.kam.stop();
    removeDir(e.work);
  },
);

/**
 * a dials `callee` at `domain`, b answers, the call holds; mid-call the
 * gateway's status shows it with SRTP on both legs and packets both ways;
 * `hanger` hangs up, both phones see the end and the gateway's status has no
 * call left. tshark counts the RTP on each side of the relay; the upstream
 * side's packets are kept in env.calls for the SRTP check of the last test.
 */
async function oneCall(label: string, a: BaresipPhone, b: BaresipPhone, callee: string, domain: string, hanger: BaresipPhone): Promise<void> {
  const e = env.get();
  const rtp = await startPcap(captureFilter([e.ranges.handset, e.ranges.desk, RELAY_PORTS]), e.work, `rtp-${label.replace(/\W+/g, '-')}`);
  let mid;
  try {
    await answeredCall(a, b, callee, domain, e.why);
    await new Promise((r) => setTimeout(r, CALL_HOLD_MS));
    mid = await callStatus(e.gw.server);
    const other = hanger === a ? b : a;
    const r = await hanger.command('hangup');
    expect(r.ok, e.why()).toBe(true);
    await hanger.waitEvent('CALL_CLOSED');
    await other.waitEvent('CALL_CLOSED').catch((err: unknown) => {
      throw new Error(`${label}: the other phone's call did not end: ${(err as Error).message}\n${e.why()}`);
    });
  } finally {
    await rtp.stop();
  }
  const st = `${label}\n${JSON.stringify(mid.calls, null, 1)}\n${e.why()}`;
  expect(mid.calls.length, st).toBe(1);
  const call = mid.calls[0]!;
  expect(call.state, st).toBe('connected');
  expect(call.trunk, st).toBe('upstream');
  // The handset's leg and the upstream leg: SRTP both, packets both ways through the relay.
  expect([call.legs.caller.stream, call.legs.callee.stream], st).toEqual(['SRTP', 'SRTP']);
  for (const leg of [call.legs.caller, call.legs.callee]) {
    expect(leg.packetsIn ?? 0, st).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
    expect(leg.packetsOut ?? 0, st).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
  }
  // Both legs end: nothing left in the gateway's status.
  await until(() => callStatus(e.gw.server), (s) => s.calls.map((c) => `${c.ref} ${c.state}`), `${label}: the gateway's call gone after the hang-up`, e.why, 10_000);

  const udp = await readUdp(rtp);
  const { handset: rh, desk: rd } = e.ranges;
  const payloads = (d: readonly UdpDatagram[]): Buffer[] => d.map((x) => x.payload);
  const flows = {
    handsetToRelay: rtpBetween(udp, rh, RELAY_PORTS).length,
    relayToHandset: rtpBetween(udp, RELAY_PORTS, rh).length,
    deskToRelay: rtpBetween(udp, rd, RELAY_PORTS),
    relayToDesk: rtpBetween(udp, RELAY_PORTS, rd),
    direct: rtpBetween(udp, rh, rd).length + rtpBetween(udp, rd, rh).length,
  };
  const counts = `${label}: handset->relay ${flows.handsetToRelay}, relay->handset ${flows.relayToHandset}, desk->relay ${flows.deskToRelay.length}, ` +
    `relay->desk ${flows.relayToDesk.length}, handset<->desk direct ${flows.direct}\n${e.why()}`;
  expect(flows.direct, counts).toBe(0);
  for (const n of [flows.handsetToRelay, flows.relayToHandset, flows.deskToRelay.length, flows.relayToDesk.length]) {
    expect(n, counts).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
  }
  e.calls.push({ label, toDesk: payloads(flows.relayToDesk), fromDesk: payloads(flows.deskToRelay) });
  console.log(`${counts.split('\n')[0]}; gateway legs ${JSON.stringify(call.legs)}`);
}

describe('calls through the gateway with Kamailio as the upstream (TLS + SRTP, baresip both ends)', () => {
  beforeAll(() => env.setup(), 120_000);
  afterAll(() => env.teardown(), 60_000);

  it('handset → desk phone: answered, audio both ways, hung up by the handset and then by the desk phone', async () => {
    const { handset, desk } = env.get();
    await oneCall('handset→desk, handset hangs up', handset, desk, DESK.ext, 'gw.test', handset);
    await oneCall('handset→desk, desk hangs up', handset, desk, DESK.ext, 'gw.test', desk);
  });

  it("desk phone → handset (the line's user at Kamailio): answered, audio both ways, hung up by the desk phone and then by the handset", async () => {
    const { handset, desk } = env.get();
    await oneCall('desk→handset, desk hangs up', desk, handset, LINE.ext, DOMAIN, desk);
    await oneCall('desk→handset, handset hangs up', desk, handset, LINE.ext, DOMAIN, handset);
  });

  it("upstream side: every call's RTP is SRTP under the SDP's keys, and Kamailio's requests came over the line's own TLS connection", async () => {
    const e = env.get();
    const line = (await gatewayStatus(e.gw.server)).lines[0];
    expect(line?.registeredVia, JSON.stringify(line)).toBe(`tls:127.0.0.1:${e.kam.tlsPort}`);
    await e.sip.stop();
    const msgs = await readSipOverTls(e.sip.file, e.kam.tlsPort, e.gw.keylog);
    // Only the gateway's connection decrypts (its key log); the desk phone's stays TLS records.
    const trace = msgs.map((m) => `${m.sport}->${m.dport} ${m.startLines.join(' | ')}`).join('\n');
    const fromGateway = (m: SipOverTls, line: RegExp): boolean => m.dport === e.kam.tlsPort && m.startLines.some((l) => line.test(l));
    const toGateway = (m: SipOverTls, line: RegExp): boolean => m.sport === e.kam.tlsPort && m.startLines.some((l) => line.test(l));
    const registers = msgs.filter((m) => fromGateway(m, /^REGISTER /));
    expect(registers.length, trace).toBeGreaterThanOrEqual(1);
    const flowPorts = new Set(registers.map((m) => m.sport));
    // One flow: every REGISTER, and every INVITE and BYE Kamailio sent the gateway, on it.
    expect([...flowPorts], trace).toHaveLength(1);
    const flow = [...flowPorts][0]!;
    const invitesIn = msgs.filter((m) => toGateway(m, /^INVITE /));
    const byesIn = msgs.filter((m) => toGateway(m, /^BYE /));
    expect(invitesIn.length, trace).toBe(2);
    expect(byesIn.length, trace).toBe(2);
    for (const m of [...invitesIn, ...byesIn]) expect(m.dport, trace).toBe(flow);
    expect(msgs.filter((m) => fromGateway(m, /^INVITE /)).every((m) => m.sport === flow), trace).toBe(true);

    // SRTP on the upstream side: each direction of each call authenticates and decrypts under a key from the SDP.
    const keys = cryptoKeys(msgs.flatMap((m) => m.attributes));
    expect(msgs.flatMap((m) => m.media).every((l) => / RTP\/SAVP /.test(l)), trace).toBe(true);
    expect(e.calls.length, 'calls recorded by the tests above').toBe(4);
    for (const c of e.calls) {
      const down = decryptWithBest(keys, c.toDesk);
      const up = decryptWithBest(keys, c.fromDesk);
      const got = `${c.label}: relay->desk ok=${down.ok}/${c.toDesk.length} (${down.key?.suite}), desk->relay ok=${up.ok}/${c.fromDesk.length} (${up.key?.suite}), ${keys.length} keys\n${trace}`;
      expect(down.ok, got).toBe(c.toDesk.length);
      expect(up.ok, got).toBe(c.fromDesk.length);
      expect(down.ok, got).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(down.key?.masterKey.equals(up.key?.masterKey ?? Buffer.alloc(0)), got).toBe(false);
      console.log(got.split('\n')[0]);
    }
  });
});

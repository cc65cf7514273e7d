// SRTP between real phones (baresip, mediaenc=srtp-mand over TLS) through a
// real Switchboard process, checked from the outside: tshark on loopback sees
// where every media packet went, the SDES keys come out of the SIP over TLS
// (decrypted with the server's Node TLS key log) and every SRTP packet is
// authenticated and decrypted by the tests' own RFC 3711 reader.
//  - A and B both Enforced: SRTP flows phone to phone ("SRTP Direct Media").
//  - A (Enforced, SRTP) calls C (Disabled, UDP, plain RTP): anchored in the
//    relay, SRTP on A's side, plain PCMU/PCMA on C's, the same audio on both
//    ("SRTP-RTP relayed"), with the relay's packet counters in status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import { MIN_PACKETS_EACH_WAY, rtpRanges } from './lib/baresip-calls.ts';
import type { UdpDatagram } from './lib/media-capture.ts';
import { inRange, readSipOverTls, readUdp, rtpBetween, rtpPayloadTypes, startPcap } from './lib/media-capture.ts';
import type { MediaServer } from './lib/media-flows.ts';
import { answeredCall, cryptoKeys, decryptWithBest, hangUp, Phones, RELAY_PORTS, setMedia, startMediaServer, status, waitMediaSecurity } from './lib/media-flows.ts';
import { rtpKey } from './lib/media-srtp-check.ts';
import { boundUdpEnds, captureFilter, countMedia, involving } from './lib/rtp-capture.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
const [A1, B1, A2, C2] = makeUsers(4, 41000) as [TestUser, TestUser, TestUser, TestUser];
/** Long enough for well over MIN_PACKETS_EACH_WAY packets at 20 ms. */
const HOLD_MS = 3000;

const env = fixture(
  async () => {
    for (const t of ['baresip', 'tshark']) requireTool(t);
    const workDir = makeTempDir('media-srtp');
    try {
      return { ms: await startMediaServer(DOMAIN, [A1, B1, A2, C2]), workDir };
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

/** RTP payloads of one direction (capture order). */
const payloads = (d: readonly UdpDatagram[]): Buffer[] => d.map((x) => x.payload);

async function tlsCryptoKeys(ms: MediaServer, file: string) {
  const msgs = await readSipOverTls(file, ms.server.tlsPort, ms.keylog);
  return { msgs, keys: cryptoKeys(msgs.flatMap((m) => m.attributes)) };
}

describe('SRTP through Switchboard with baresip (TLS, mediaenc=srtp-mand)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('A and B both Enforced: SRTP flows directly between the phones, status "SRTP Direct Media"', async () => {
    const { ms, workDir } = env.get();
    const s = ms.server;
    const [ra, rb] = rtpRanges();
    const phones = new Phones();
    const why = (): string => phones.why(s);
    try {
      await setMedia(s, A1.ext, { security: 'enforced' });
      await setMedia(s, B1.ext, { security: 'enforced' });
      // SIP capture from before the phones connect: tshark needs the TLS handshakes to use the key log.
      const rtp = await startPcap(captureFilter([ra, rb]), workDir, 'direct-rtp');
      const sip = await startPcap(`tcp port ${s.tlsPort}`, workDir, 'direct-sip');
      let snapshot;
      // The phones' own sockets: other tests' phones may use the same port ranges at the same time.
      let ends = new Set<string>();
      try {
        const a = await phones.start(ms, { name: 'A', user: A1, transport: 'tls', srtp: true, rtpPorts: ra });
        const b = await phones.start(ms, { name: 'B', user: B1, transport: 'tls', srtp: true, rtpPorts: rb });
        await waitMediaSecurity(s, A1.ext, 'enforced');
        await waitMediaSecurity(s, B1.ext, 'enforced');
        await answeredCall(a, b, B1.ext, DOMAIN, why);
        ends = await boundUdpEnds(a.pid, b.pid);
        await new Promise((r) => setTimeout(r, HOLD_MS));
        snapshot = await status(s);
        await hangUp(a, b, why);
      } finally {
        await rtp.stop();
        await sip.stop();
      }
      const udp = involving(await readUdp(rtp), ends);
      const m = countMedia(udp, ra, rb);
      const detail = `A rtp ${ra.min}-${ra.max}, B rtp ${rb.min}-${rb.max}, relay ${RELAY_PORTS.min}-${RELAY_PORTS.max}: ` +
        `A->B ${m.aToB}, B->A ${m.bToA}, elsewhere ${m.stray.length} ${JSON.stringify(m.stray.slice(0, 5))}\n${why()}`;
      expect(m.stray, detail).toEqual([]);
      expect(udp.filter((d) => inRange(d.sport, RELAY_PORTS) || inRange(d.dport, RELAY_PORTS)), detail).toEqual([]);
      expect(m.aToB, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(m.bToA, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);

      const call = snapshot.calls.find((c) => c.caller === A1.ext);
      expect(call, `${JSON.stringify(snapshot, null, 2)}\n${detail}`).toBeDefined();
      expect(call?.connectionType, JSON.stringify(call)).toBe('SRTP Direct Media');

      // SRTP, keyed end to end: each direction authenticates and decrypts under a key from the SDP.
      const { msgs, keys } = await tlsCryptoKeys(ms, sip.file);
      const sdp = JSON.stringify(msgs, null, 1);
      const mLines = msgs.flatMap((x) => x.media);
      expect(mLines.length, sdp).toBeGreaterThan(0);
      expect(mLines.every((l) => / RTP\/SAVP /.test(l)), sdp).toBe(true);
      const ab = decryptWithBest(keys, payloads(rtpBetween(udp, ra, rb)));
      const ba = decryptWithBest(keys, payloads(rtpBetween(udp, rb, ra)));
      const counts = `A->B ok=${ab.ok} failed=${ab.failed} ${ab.key?.suite}, B->A ok=${ba.ok} failed=${ba.failed} ${ba.key?.suite}, ${keys.length} keys\n${sdp}`;
      expect(ab.ok, counts).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(ba.ok, counts).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(ab.failed + ba.failed, counts).toBe(0);
      expect(ab.key?.masterKey.equals(ba.key?.masterKey ?? Buffer.alloc(0)), counts).toBe(false);
      console.log(`SRTP direct: A->B ${ab.ok} (${ab.key?.suite}), B->A ${ba.ok} (${ba.key?.suite}), via relay 0; status ${call?.connectionType}`);
    } finally {
      await phones.stopAll();
    }
  });

  it('A (Enforced, SRTP) calls C (Disabled, UDP, plain RTP): relayed SRTP<->RTP, audio both ways, status "SRTP-RTP relayed"', async () => {
    const { ms, workDir } = env.get();
    const s = ms.server;
    const [ra, rc] = rtpRanges();
    const phones = new Phones();
    const why = (): string => phones.why(s);
    try {
      await setMedia(s, A2.ext, { security: 'enforced' });
      await setMedia(s, C2.ext, { security: 'disabled' });
      const rtp = await startPcap(captureFilter([ra, rc]), workDir, 'relay-rtp');
      const sip = await startPcap(`tcp port ${s.tlsPort}`, workDir, 'relay-sip');
      let snapshot;
      let ends = new Set<string>();
      try {
        const a = await phones.start(ms, { name: 'A', user: A2, transport: 'tls', srtp: true, rtpPorts: ra });
        const c = await phones.start(ms, { name: 'C', user: C2, transport: 'udp', srtp: false, rtpPorts: rc });
        await waitMediaSecurity(s, A2.ext, 'enforced');
        await waitMediaSecurity(s, C2.ext, 'disabled');
        await answeredCall(a, c, C2.ext, DOMAIN, why);
        ends = await boundUdpEnds(a.pid, c.pid);
        await new Promise((r) => setTimeout(r, HOLD_MS));
        snapshot = await status(s);
        await hangUp(a, c, why);
      } finally {
        await rtp.stop();
        await sip.stop();
      }
      const udp = involving(await readUdp(rtp), ends);
      const m = countMedia(udp, ra, rc);
      const aOut = rtpBetween(udp, ra, RELAY_PORTS);
      const aIn = rtpBetween(udp, RELAY_PORTS, ra);
      const cOut = rtpBetween(udp, rc, RELAY_PORTS);
      const cIn = rtpBetween(udp, RELAY_PORTS, rc);
      const elsewhere = m.stray.filter((d) => !inRange(d.sport, RELAY_PORTS) && !inRange(d.dport, RELAY_PORTS));
      const detail = `A rtp ${ra.min}-${ra.max}, C rtp ${rc.min}-${rc.max}, relay ${RELAY_PORTS.min}-${RELAY_PORTS.max}: ` +
        `A->relay ${aOut.length}, relay->A ${aIn.length}, C->relay ${cOut.length}, relay->C ${cIn.length}, ` +
        `A<->C direct ${m.aToB + m.bToA}, elsewhere ${JSON.stringify(elsewhere.slice(0, 5))}\n${why()}`;
      expect(m.aToB + m.bToA, detail).toBe(0);
      expect(elsewhere, detail).toEqual([]);
      for (const n of [aOut.length, aIn.length, cOut.length, cIn.length]) expect(n, detail).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);

      // C's side: plain G.711, as tshark's RTP dissector reads it.
      const cPorts = [...new Set(cOut.map((d) => d.sport))];
      const types = await rtpPayloadTypes(rtp.file, cPorts);
      const g711 = (types.get(0) ?? 0) + (types.get(8) ?? 0);
      expect(g711, `payload types on C's ports ${cPorts.join(',')}: ${JSON.stringify([...types])}\n${detail}`).toBeGreaterThanOrEqual(cOut.length + cIn.length);

      // A's side: SRTP under the keys in the SDP (A's offer one way, Switchboard's answer the other).
      const { msgs, keys } = await tlsCryptoKeys(ms, sip.file);
      const sdp = JSON.stringify(msgs, null, 1);
      const up = decryptWithBest(keys, payloads(aOut));
      const down = decryptWithBest(keys, payloads(aIn));
      const counts = `A->relay ok=${up.ok} failed=${up.failed} ${up.key?.suite}, relay->A ok=${down.ok} failed=${down.failed} ${down.key?.suite}\n${sdp}\n${detail}`;
      expect(up.ok, counts).toBe(aOut.length);
      expect(down.ok, counts).toBe(aIn.length);
      expect(up.key?.masterKey.equals(down.key?.masterKey ?? Buffer.alloc(0)), counts).toBe(false);
      // The audio is the same on both sides: what A encrypted is what C got, and the other way.
      const matched = (plain: readonly UdpDatagram[], decrypted: Map<string, Buffer>): number =>
        plain.filter((d) => decrypted.get(rtpKey(d.payload))?.equals(d.payload.subarray(12)) === true).length;
      const toC = matched(cIn, up.payloads);
      const toA = matched(cOut, down.payloads);
      const audio = `A->C payloads matched ${toC}/${cIn.length}, C->A ${toA}/${cOut.length}\n${counts}`;
      expect(toC, audio).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
      expect(toA, audio).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);

      const call = snapshot.calls.find((x) => x.caller === A2.ext);
      const st = `${JSON.stringify(call ?? snapshot, null, 2)}\n${detail}`;
      expect(call?.connectionType, st).toBe('SRTP-RTP relayed');
      expect(call?.legs.caller.stream, st).toBe('SRTP');
      expect(call?.legs.callee.stream, st).toBe('RTP');
      // The relay's counters, read mid-call, within what tshark saw over the whole call.
      const legs = call?.legs;
      const pairs: Array<[number | null | undefined, number]> = [
        [legs?.caller.packetsIn, aOut.length],
        [legs?.caller.packetsOut, aIn.length],
        [legs?.callee.packetsIn, cOut.length],
        [legs?.callee.packetsOut, cIn.length],
      ];
      for (const [counter, seen] of pairs) {
        expect(counter ?? 0, st).toBeGreaterThanOrEqual(MIN_PACKETS_EACH_WAY);
        expect(counter ?? Infinity, st).toBeLessThanOrEqual(seen);
      }
      console.log(
        `SRTP-RTP relayed: A->relay ${aOut.length} (${up.key?.suite}, all authenticated), relay->A ${aIn.length}, C->relay ${cOut.length}, ` +
          `relay->C ${cIn.length}, PT ${JSON.stringify([...types])}, matched payloads ${toC}/${toA}; status legs ${JSON.stringify(legs)}`,
      );
    } finally {
      await phones.stopAll();
    }
  });
});

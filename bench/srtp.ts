// SRTP cost per packet: protect and unprotect of 172-byte G.711 packets
// (12-byte header, 160 bytes = 20 ms of audio), one stream, the way the relay
// calls it (protect into a reused output buffer, unprotect in place), for each
// SRTP engine in one run:
//   legacy  the code before the engines (bench/lib/srtp-legacy-engine.ts)
//   js      src/media/srtp-js-engine.ts (batched keystream, JS HMAC-SHA1)
//   native  native/srtp (one call per packet into Node's OpenSSL), when built
// The engines take turns for ROUNDS rounds and each figure is the best round,
// so a neighbour's burst on a shared machine skews no engine more than
// another. Not a test; it only prints figures.
//   node --import tsx bench/srtp.ts [seconds-per-figure-per-round]
// One G.711 call relayed SRTP<->RTP needs 50 protects + 50 unprotects per
// second on its SRTP side, so "calls per core" below is pairs/s / 50 (crypto
// only: the relay's sockets cost as much again).
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { buildRtpPacket } from '../src/media/rtp.ts';
import { jsEngine, nativeEngine, useSrtpEngine, type SrtpEngine } from '../src/media/srtp-engine.ts';
import { SrtpSession, generateKeySalt, type SrtpSuiteName } from '../src/media/srtp.ts';
import { machineLines } from './lib/machine.ts';
import { callsPerSecond } from './lib/micro.ts';
import { legacyEngine } from './lib/srtp-legacy-engine.ts';

const SUITES: SrtpSuiteName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80'];

const ROUNDS = 3;

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function engines(): SrtpEngine[] {
  const n = nativeEngine();
  if ('error' in n) console.log(`native engine: not available (${n.error})`);
  return 'engine' in n ? [legacyEngine, jsEngine, n.engine] : [legacyEngine, jsEngine];
}

function measure(engine: SrtpEngine, suite: SrtpSuiteName, seconds: number): { protect: number; unprotect: number } {
  const previous = useSrtpEngine(engine);
  try {
    const keys = generateKeySalt(suite);
    const tx = new SrtpSession({ suite, ...keys });
    const plain = buildRtpPacket({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0x1234, payload: Buffer.alloc(160, 0xd5) });
    const out = Buffer.alloc(1500);
    let seq = 0;
    const protect = callsPerSecond(seconds, () => {
      plain.writeUInt16BE(seq++ & 0xffff, 2);
      if (tx.protectRtp(plain, out) === null) throw new Error(`protect failed: ${tx.lastDrop}`);
    });
    // Unprotect needs fresh packets (replay protection): a ring of them is
    // protected beforehand, and each pass over it gets a new receiver.
    const ring = 16384;
    const sender = new SrtpSession({ suite, ...keys });
    const packets: Buffer[] = [];
    for (let k = 0; k < ring; k++) {
      plain.writeUInt16BE(k, 2);
      packets.push(Buffer.from(sender.protectRtp(plain)!));
    }
    let rx = new SrtpSession({ suite, ...keys });
    const work = Buffer.alloc(1500);
    let i = 0;
    const unprotect = callsPerSecond(seconds, () => {
      if (i === ring) {
        rx = new SrtpSession({ suite, ...keys });
        i = 0;
      }
      const p = packets[i++]!;
      p.copy(work);
      const view = work.subarray(0, p.length);
      if (rx.unprotectRtp(view, view) === null) throw new Error(`unprotect failed: ${rx.lastDrop}`);
    });
    return { protect, unprotect };
  } finally {
    useSrtpEngine(previous);
  }
}

function main(): void {
  const seconds = Number(process.argv[2] ?? 1);
  for (const line of machineLines()) console.log(line);
  console.log(`1-minute load average at start: ${loadavg()[0]!.toFixed(2)}`);
  const list = engines();
  for (const suite of SUITES) {
    const best = list.map(() => ({ protect: 0, unprotect: 0 }));
    for (let round = 0; round < ROUNDS; round++) {
      list.forEach((engine, i) => {
        const r = measure(engine, suite, seconds);
        best[i]!.protect = Math.max(best[i]!.protect, r.protect);
        best[i]!.unprotect = Math.max(best[i]!.unprotect, r.unprotect);
      });
    }
    for (const [i, engine] of list.entries()) {
      const { protect, unprotect } = best[i]!;
      const pair = 1 / (1 / protect + 1 / unprotect);
      console.log(
        `${suite} ${engine.name.padEnd(6)}: protect ${fmt(1e9 / protect)} ns (${fmt(protect)}/s), ` +
          `unprotect ${fmt(1e9 / unprotect)} ns (${fmt(unprotect)}/s) per packet; ` +
          `≈ ${fmt(pair / 50)} relayed SRTP<->RTP calls per core, crypto only; load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();

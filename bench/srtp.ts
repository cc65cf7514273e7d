// SRTP throughput: protect and unprotect of 172-byte G.711 packets (12-byte
// header, 160 bytes = 20 ms of audio), one stream, the way the relay calls it:
// into a reused output buffer. Not a test; it only prints figures.
//   node --import tsx bench/srtp.ts [seconds-per-figure]
// One G.711 call relayed SRTP<->RTP needs 50 protects + 50 unprotects per
// second, so "calls per core" below is packets/s / 100.
import { pathToFileURL } from 'node:url';
import { buildRtpPacket } from '../src/media/rtp.ts';
import { SrtpSession, generateKeySalt, type SrtpSuiteName } from '../src/media/srtp.ts';
import { machineLines } from './lib/machine.ts';
import { callsPerSecond } from './lib/micro.ts';

const SUITES: SrtpSuiteName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80'];

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function main(): void {
  const seconds = Number(process.argv[2] ?? 2);
  for (const line of machineLines()) console.log(line);
  const plain = buildRtpPacket({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0x1234, payload: Buffer.alloc(160, 0xd5) });
  const out = Buffer.alloc(1500);
  const back = Buffer.alloc(1500);
  for (const suite of SUITES) {
    const keys = generateKeySalt(suite);
    const tx = new SrtpSession({ suite, ...keys });
    const rx = new SrtpSession({ suite, ...keys });
    let seq = 0;
    const protect = callsPerSecond(seconds, () => {
      plain.writeUInt16BE(seq++ & 0xffff, 2);
      if (tx.protectRtp(plain, out) === null) throw new Error(`protect failed: ${tx.lastDrop}`);
    });
    const tx2 = new SrtpSession({ suite, ...keys });
    seq = 0;
    const both = callsPerSecond(seconds, () => {
      plain.writeUInt16BE(seq++ & 0xffff, 2);
      const srtp = tx2.protectRtp(plain, out);
      if (srtp === null || rx.unprotectRtp(srtp, back) === null) throw new Error(`round trip failed: ${rx.lastDrop}`);
    });
    console.log(
      `${suite}: protect ${fmt(protect)} pkt/s; protect+unprotect ${fmt(both)} pairs/s` +
        ` (≈ ${fmt(both / 50)} relayed SRTP<->RTP calls per core, crypto only)`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();

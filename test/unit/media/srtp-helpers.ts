// Shared fixtures for the SRTP tests.
import { afterAll, beforeAll, describe } from 'vitest';
import { buildRtpPacket } from '../../../src/media/rtp.ts';
import { useSrtpEngine, type SrtpEngine, type SrtpEngineName } from '../../../src/media/srtp-engine.ts';
import { SrtpSession, generateKeySalt, type SrtpSessionOptions, type SrtpSuiteName } from '../../../src/media/srtp.ts';

export const SUITES: SrtpSuiteName[] = [
  'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32',
];

/**
 * Both packet engines, unless SWITCHBOARD_SRTP=js says the addon is not
 * wanted. A native engine that does not load fails its tests (it is built
 * on npm install wherever there is a compiler, as on CI).
 */
export const ENGINES: SrtpEngineName[] = process.env['SWITCHBOARD_SRTP'] === 'js' ? ['js'] : ['js', 'native'];

/** Runs `body`'s tests once per engine, with new sessions on that engine. */
export function forEachEngine(body: (engine: SrtpEngineName) => void): void {
  for (const engine of ENGINES) {
    describe(`${engine} engine`, () => {
      let previous: SrtpEngine | undefined;
      beforeAll(() => {
        previous = useSrtpEngine(engine);
      });
      afterAll(() => {
        if (previous !== undefined) useSrtpEngine(previous);
      });
      body(engine);
    });
  }
}

/** A sender and a receiver sharing one master key. */
export function pair(
  suite: SrtpSuiteName = 'AES_CM_128_HMAC_SHA1_80',
  extra: Partial<SrtpSessionOptions> = {},
): { tx: SrtpSession; rx: SrtpSession; masterKey: Buffer; masterSalt: Buffer } {
  const { masterKey, masterSalt } = generateKeySalt(suite);
  const opts = { suite, masterKey, masterSalt, ...extra };
  return { tx: new SrtpSession(opts), rx: new SrtpSession(opts), masterKey, masterSalt };
}

/** A 172-byte G.711 packet whose payload encodes seq, so mix-ups show. */
export function g711(seq: number, ssrc = 0x11223344): Buffer {
  const payload = Buffer.alloc(160, seq & 0xff);
  payload.writeUInt16BE(seq & 0xffff, 0);
  return buildRtpPacket({ payloadType: 0, sequenceNumber: seq, timestamp: (seq * 160) >>> 0, ssrc, payload });
}

/** An RTCP receiver report (no blocks) with some trailing SDES bytes. */
export function rtcp(ssrc = 0x11223344, fill = 0x5a): Buffer {
  const b = Buffer.alloc(8 + 16, fill);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc, 4);
  b[8] = 0x81;
  b[9] = 202;
  b.writeUInt16BE(3, 10);
  b.writeUInt32BE(ssrc, 12);
  return b;
}

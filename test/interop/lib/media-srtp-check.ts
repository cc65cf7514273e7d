// An SRTP reader written for the interop tests from RFC 3711 alone (on
// node:crypto, sharing nothing with src/media/): given the a=crypto line a
// sender announced, it checks each captured packet's authentication tag and
// decrypts its payload. A packet that authenticates under the key from the
// SDP was SRTP made with that key; a wrong key, plain RTP or junk fails.
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

export interface SdesKey {
  suite: string;
  masterKey: Buffer;
  masterSalt: Buffer;
  /** Bytes of the RTP authentication tag (10 for _80, 4 for _32). */
  tagLength: number;
}

const SUITES: Record<string, { keyLength: number; tagLength: number }> = {
  AES_CM_128_HMAC_SHA1_80: { keyLength: 16, tagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { keyLength: 16, tagLength: 4 },
  AES_256_CM_HMAC_SHA1_80: { keyLength: 32, tagLength: 10 },
  AES_256_CM_HMAC_SHA1_32: { keyLength: 32, tagLength: 4 },
};
const SALT_LENGTH = 14;

/** "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31|1:1" (or without "a=") -> the first key; null if unusable. */
export function parseCryptoLine(line: string): SdesKey | null {
  const m = /^(?:a=)?crypto:\d+\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)/.exec(line.trim());
  if (m === null) return null;
  const suite = SUITES[m[1] as string];
  if (suite === undefined) return null;
  const raw = Buffer.from(m[2] as string, 'base64');
  if (raw.length !== suite.keyLength + SALT_LENGTH) return null;
  return { suite: m[1] as string, masterKey: raw.subarray(0, suite.keyLength), masterSalt: raw.subarray(suite.keyLength), tagLength: suite.tagLength };
}

function aesCm(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const c = createCipheriv(key.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** RFC 3711 4.3.1 with key_derivation_rate 0: x = salt XOR (label << 48), keystream from x * 2^16. */
function derive(k: SdesKey, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  k.masterSalt.copy(iv, 0);
  iv[7] = (iv[7] as number) ^ label;
  return aesCm(k.masterKey, iv, Buffer.alloc(length));
}

export interface SessionKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
  tagLength: number;
}

export function rtpSessionKeys(k: SdesKey): SessionKeys {
  return { encKey: derive(k, 0, k.masterKey.length), authKey: derive(k, 1, 20), salt: derive(k, 2, SALT_LENGTH), tagLength: k.tagLength };
}

/** Offset of the payload: fixed header, CSRCs, header extension. */
function headerLength(p: Buffer): number {
  const cc = (p[0] as number) & 0x0f;
  let len = 12 + 4 * cc;
  if (((p[0] as number) & 0x10) !== 0 && p.length >= len + 4) len += 4 + 4 * p.readUInt16BE(len + 2);
  return len;
}

/** Authenticates and decrypts one SRTP packet with the given rollover counter; null when the tag does not match. */
export function unprotectRtp(keys: SessionKeys, packet: Buffer, roc: number): { header: Buffer; payload: Buffer } | null {
  const hl = headerLength(packet);
  if (packet.length < hl + keys.tagLength) return null;
  const authed = packet.subarray(0, packet.length - keys.tagLength);
  const tag = packet.subarray(packet.length - keys.tagLength);
  const rocBuf = Buffer.alloc(4);
  rocBuf.writeUInt32BE(roc >>> 0);
  const mac = createHmac('sha1', keys.authKey).update(authed).update(rocBuf).digest().subarray(0, keys.tagLength);
  if (!timingSafeEqual(mac, tag)) return null;
  // IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16), index = ROC || SEQ.
  const iv = Buffer.alloc(16);
  keys.salt.copy(iv, 0);
  const ssrc = packet.subarray(8, 12);
  for (let i = 0; i < 4; i++) iv[4 + i] = (iv[4 + i] as number) ^ (ssrc[i] as number);
  const index = Buffer.alloc(6);
  index.writeUInt32BE(roc >>> 0, 0);
  index.writeUInt16BE(packet.readUInt16BE(2), 4);
  for (let i = 0; i < 6; i++) iv[8 + i] = (iv[8 + i] as number) ^ (index[i] as number);
  const d = createDecipheriv(keys.encKey.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr', keys.encKey, iv);
  const payload = Buffer.concat([d.update(authed.subarray(hl)), d.final()]);
  return { header: packet.subarray(0, hl), payload };
}

export interface DecryptResult {
  /** Packets whose tag verified. */
  ok: number;
  failed: number;
  /** "ssrc:seq" -> decrypted payload, for comparison with the plain side. */
  payloads: Map<string, Buffer>;
}

/** Decrypts a stream of RTP packets (one sender, capture order), tracking the rollover counter per SSRC. */
export function decryptStream(key: SdesKey, packets: readonly Buffer[]): DecryptResult {
  const keys = rtpSessionKeys(key);
  const res: DecryptResult = { ok: 0, failed: 0, payloads: new Map() };
  const last = new Map<number, { seq: number; roc: number }>();
  for (const p of packets) {
    if (p.length < 12) {
      res.failed++;
      continue;
    }
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    const prev = last.get(ssrc);
    // A sequence number far below the last one means the 16-bit counter wrapped.
    const roc = prev === undefined ? 0 : prev.seq > 0xc000 && seq < 0x4000 ? prev.roc + 1 : prev.roc;
    const got = unprotectRtp(keys, p, roc);
    if (got === null) {
      res.failed++;
      continue;
    }
    last.set(ssrc, { seq, roc });
    res.ok++;
    res.payloads.set(rtpKey(p), got.payload);
  }
  return res;
}

export function rtpKey(p: Buffer): string {
  return `${p.readUInt32BE(8)}:${p.readUInt16BE(2)}`;
}

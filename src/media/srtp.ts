// SRTP and SRTCP (RFC 3711) with the AES-CM / HMAC-SHA1 suites of RFC 4568
// and RFC 6188, and the RFC 4568 §6.3.2 session parameters as flags.
//
// One SrtpSession holds one master key (one a=crypto line) and the crypto
// contexts of every SSRC seen under it. Packet methods never throw on packet
// content: they return null and set `lastDrop`. Output goes into a
// caller-supplied Buffer when one is given and large enough (it may be the
// input's own memory, same offset, for in-place operation), otherwise into a
// new one. Keys live only in #private fields and never reach inspect/JSON.
import { inspect } from 'node:util';
import { createPacketCrypto, SRTP_ENCRYPT, SRTP_TRAILER, type PacketCrypto } from './srtp-engine.ts';
import {
  AesCm, KDF_LABEL, SALT_LENGTH, SHA1_LENGTH, SRTP_SUITES, deriveKey, isSrtpSuiteName, type SrtpSuite, type SrtpSuiteName,
} from './srtp-kdf.ts';
import { DEFAULT_REPLAY_WINDOW, REPLAY_OK, ReplayWindow, advance, guessRoc, type Stream } from './replay.ts';
import { RTCP_HEADER_MIN, RTP_HEADER_MIN, RTP_VERSION, rtpHeaderLength } from './rtp.ts';

export { SRTP_SUITES, generateKeySalt, isSrtpSuiteName, type SrtpSuite, type SrtpSuiteName } from './srtp-kdf.ts';

export const DEFAULT_SRTP_LIFETIME = 2 ** 31;
const SRTCP_INDEX_SPACE = 2 ** 31;
const MAX_KDR = 2 ** 24;
const MAX_ROC = 0xffffffff;

export interface SrtpSessionOptions {
  suite: SrtpSuiteName;
  masterKey: Buffer;
  masterSalt: Buffer;
  /** Master key identifier appended to every packet, 0–4 bytes; checked on unprotect. */
  mki?: Buffer;
  /** Replay window in packets, per SSRC (default 64). */
  replayWindow?: number;
  /** Master key lifetime in packets, counted separately for SRTP and SRTCP (default 2^31; SRTCP never above 2^31). */
  lifetime?: number;
  /** key_derivation_rate: 0 (default, derive once) or a power of two up to 2^24. */
  keyDerivationRate?: number;
  /** false = UNENCRYPTED_SRTP. */
  encryptRtp?: boolean;
  /** false = UNENCRYPTED_SRTCP (E flag clear). When true, unencrypted SRTCP received is refused (EC-02). */
  encryptRtcp?: boolean;
  /** false = UNAUTHENTICATED_SRTP (no tag on SRTP; SRTCP is always authenticated). */
  authRtp?: boolean;
  /** Crypto contexts kept per direction and protocol; packets of further SSRCs are dropped (default 32). */
  maxSsrcs?: number;
  /** Called once per protocol at ½ lifetime ('soft': time to re-key) and at the lifetime ('hard': key now refused). */
  onKeyLimit?: (limit: 'soft' | 'hard', protocol: 'srtp' | 'srtcp') => void;
}

export type SrtpDropReason = 'malformed' | 'mki' | 'auth' | 'replay' | 'lifetime' | 'policy' | 'ssrc-limit' | 'destroyed';

export interface SrtpStats {
  rtpProtected: number;
  rtpUnprotected: number;
  rtcpProtected: number;
  rtcpUnprotected: number;
  authFailures: number;
  replayDrops: number;
  mkiMismatches: number;
  malformed: number;
  lifetimeDrops: number;
  /** SRTCP received unencrypted while encrypted SRTCP is required. */
  policyDrops: number;
  ssrcLimitDrops: number;
}

export interface SrtpKeyUsage {
  srtpPackets: number;
  srtcpPackets: number;
  srtpLimit: number;
  srtcpLimit: number;
  /** Half of a lifetime is used: re-key now (D-09). */
  nearExhaustion: boolean;
  /** A lifetime is used up: that protocol's packets are refused. */
  exhausted: boolean;
}

const DROP_COUNTERS: Record<SrtpDropReason, keyof SrtpStats | null> = {
  malformed: 'malformed', mki: 'mkiMismatches', auth: 'authFailures', replay: 'replayDrops', lifetime: 'lifetimeDrops',
  policy: 'policyDrops', 'ssrc-limit': 'ssrcLimitDrops', destroyed: null,
};

/** The session keys of one protocol (SRTP or SRTCP) for one value of r. */
interface ProtocolKeys {
  crypto: PacketCrypto;
  /** index DIV kdr these keys belong to. */
  r: number;
}

/** RFC 3711 §4.3.1/§4.3.2: the encryption key, auth key and salt of one protocol for r. */
function deriveProtocolKeys(master: AesCm, masterSalt: Buffer, encKeyLength: number, rtcp: boolean, r: number): ProtocolKeys {
  const base = rtcp ? KDF_LABEL.rtcpEncryption : KDF_LABEL.rtpEncryption;
  const encKey = deriveKey(master, masterSalt, base, r, encKeyLength);
  const authKey = deriveKey(master, masterSalt, base + 1, r, SHA1_LENGTH);
  const salt = deriveKey(master, masterSalt, base + 2, r, SALT_LENGTH);
  const keys: ProtocolKeys = { crypto: createPacketCrypto(encKey, authKey, salt), r };
  // The engine holds its own copies now.
  encKey.fill(0);
  authKey.fill(0);
  salt.fill(0);
  return keys;
}

function requireBuffer(v: unknown, field: string): Buffer {
  if (!Buffer.isBuffer(v)) throw new TypeError(`${field} must be a Buffer`);
  return v;
}

function intOption(v: number | undefined, field: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${field} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

export class SrtpSession {
  readonly suite: SrtpSuite;
  readonly mkiLength: number;
  readonly encryptRtp: boolean;
  readonly encryptRtcp: boolean;
  readonly authRtp: boolean;
  readonly replayWindow: number;
  readonly keyDerivationRate: number;
  /** Why the last null result happened. */
  lastDrop: SrtpDropReason | null = null;

  #stats: SrtpStats = {
    rtpProtected: 0, rtpUnprotected: 0, rtcpProtected: 0, rtcpUnprotected: 0, authFailures: 0, replayDrops: 0,
    mkiMismatches: 0, malformed: 0, lifetimeDrops: 0, policyDrops: 0, ssrcLimitDrops: 0,
  };
  #mki: Buffer;
  #master: AesCm | null;
  #masterSalt: Buffer;
  #rtpKeys: ProtocolKeys;
  #rtcpKeys: ProtocolKeys;
  /** seal/open flags for SRTP packets: encrypt unless UNENCRYPTED_SRTP; the ROC is authenticated. */
  #rtpFlags: number;
  #rtpTag: number;
  #rtcpTag: number;
  #maxSsrcs: number;
  #txRtp = new Map<number, Stream>();
  #rxRtp = new Map<number, Stream>();
  #txRtcp = new Map<number, Stream>();
  #rxRtcp = new Map<number, Stream>();
  #srtpUsed = 0;
  #srtcpUsed = 0;
  #srtpLimit: number;
  #srtcpLimit: number;
  #onKeyLimit: SrtpSessionOptions['onKeyLimit'];
  #destroyed = false;

  constructor(opts: SrtpSessionOptions) {
    if (typeof opts.suite !== 'string' || !isSrtpSuiteName(opts.suite)) throw new RangeError(`suite: unknown SRTP crypto suite ${String(opts.suite)}`);
    const s = (this.suite = SRTP_SUITES[opts.suite]);
    const key = requireBuffer(opts.masterKey, 'masterKey');
    const salt = requireBuffer(opts.masterSalt, 'masterSalt');
    if (key.length !== s.keyLength) throw new RangeError(`masterKey must be ${s.keyLength} bytes for ${s.name}, got ${key.length}`);
    if (salt.length !== s.saltLength) throw new RangeError(`masterSalt must be ${s.saltLength} bytes, got ${salt.length}`);
    const mki = opts.mki === undefined ? Buffer.alloc(0) : requireBuffer(opts.mki, 'mki');
    if (mki.length > 4) throw new RangeError(`mki must be 0–4 bytes, got ${mki.length}`);
    this.#mki = Buffer.from(mki);
    this.mkiLength = mki.length;
    this.replayWindow = intOption(opts.replayWindow, 'replayWindow', DEFAULT_REPLAY_WINDOW, 64, 32768);
    const lifetime = intOption(opts.lifetime, 'lifetime', DEFAULT_SRTP_LIFETIME, 1, s.maxLifetime);
    this.#srtpLimit = lifetime;
    this.#srtcpLimit = Math.min(lifetime, SRTCP_INDEX_SPACE);
    const kdr = intOption(opts.keyDerivationRate, 'keyDerivationRate', 0, 0, MAX_KDR);
    if (kdr !== 0 && (kdr & (kdr - 1)) !== 0) throw new RangeError(`keyDerivationRate must be 0 or a power of two, got ${kdr}`);
    this.keyDerivationRate = kdr;
    this.#maxSsrcs = intOption(opts.maxSsrcs, 'maxSsrcs', 32, 1, 65536);
    this.encryptRtp = opts.encryptRtp ?? true;
    this.encryptRtcp = opts.encryptRtcp ?? true;
    this.authRtp = opts.authRtp ?? true;
    this.#rtpTag = this.authRtp ? s.rtpTagLength : 0;
    this.#rtcpTag = s.rtcpTagLength;
    this.#rtpFlags = (this.encryptRtp ? SRTP_ENCRYPT : 0) | SRTP_TRAILER;
    this.#onKeyLimit = opts.onKeyLimit;

    const master = new AesCm(key, 64);
    this.#masterSalt = Buffer.from(salt);
    this.#rtpKeys = deriveProtocolKeys(master, this.#masterSalt, s.keyLength, false, 0);
    this.#rtcpKeys = deriveProtocolKeys(master, this.#masterSalt, s.keyLength, true, 0);
    // The master key is only needed again when keys are re-derived.
    this.#master = kdr === 0 ? null : master;
    if (kdr === 0) this.#masterSalt.fill(0);
  }

  /** Live counters (the same object on every call). */
  get stats(): Readonly<SrtpStats> {
    return this.#stats;
  }

  get keyUsage(): SrtpKeyUsage {
    const u = this.#srtpUsed, c = this.#srtcpUsed, ul = this.#srtpLimit, cl = this.#srtcpLimit;
    return {
      srtpPackets: u, srtcpPackets: c, srtpLimit: ul, srtcpLimit: cl,
      nearExhaustion: u >= Math.ceil(ul / 2) || c >= Math.ceil(cl / 2),
      exhausted: u >= ul || c >= cl,
    };
  }

  /** SRTP-protects an RTP packet; null on malformed input or exhausted key. */
  protectRtp(packet: Buffer, out?: Buffer): Buffer | null {
    if (this.#destroyed) return this.#drop('destroyed');
    const len = packet.length;
    const hl = rtpHeaderLength(packet, len);
    if (hl < 0) return this.#drop('malformed');
    if (this.#srtpUsed >= this.#srtpLimit) return this.#drop('lifetime');
    const ssrc = packet.readUInt32BE(8);
    const seq = (packet[2]! << 8) | packet[3]!;
    let st = this.#txRtp.get(ssrc);
    if (st === undefined) {
      if (this.#txRtp.size >= this.#maxSsrcs) return this.#drop('ssrc-limit');
      st = { roc: 0, seq, next: 0, window: null };
      this.#txRtp.set(ssrc, st);
    }
    const v = guessRoc(st.roc, st.seq, seq);
    if (v > MAX_ROC) return this.#drop('lifetime');
    const keys = this.#keysFor(false, v * 0x10000 + seq);
    const mkiLen = this.mkiLength, tagLen = this.#rtpTag;
    const outLen = len + mkiLen + tagLen;
    const dst = out !== undefined && out.length >= outLen ? out : Buffer.allocUnsafe(outLen);
    if (dst !== packet) packet.copy(dst, 0, 0, hl);
    if (mkiLen > 0) this.#mki.copy(dst, len);
    keys.crypto.seal(packet, dst, hl, len, ssrc, v, seq, len, v, len + mkiLen, tagLen, this.#rtpFlags);
    advance(st, v, seq);
    this.#stats.rtpProtected++;
    this.#useSrtp();
    return outLen === dst.length ? dst : dst.subarray(0, outLen);
  }

  /** Verifies and decrypts an SRTP packet; null on auth failure, replay, wrong MKI, malformed input. */
  unprotectRtp(packet: Buffer, out?: Buffer): Buffer | null {
    if (this.#destroyed) return this.#drop('destroyed');
    const len = packet.length;
    const mkiLen = this.mkiLength, tagLen = this.#rtpTag;
    const end = len - mkiLen - tagLen;
    if (end < RTP_HEADER_MIN) return this.#drop('malformed');
    const hl = rtpHeaderLength(packet, end);
    if (hl < 0) return this.#drop('malformed');
    if (!this.#mkiMatches(packet, end)) return this.#drop('mki');
    if (this.#srtpUsed >= this.#srtpLimit) return this.#drop('lifetime');
    const ssrc = packet.readUInt32BE(8);
    const seq = (packet[2]! << 8) | packet[3]!;
    let st = this.#rxRtp.get(ssrc);
    const v = st === undefined ? 0 : guessRoc(st.roc, st.seq, seq);
    if (v > MAX_ROC) return this.#drop('replay');
    const index = v * 0x10000 + seq;
    if (st !== undefined && st.window!.check(index) !== REPLAY_OK) return this.#drop('replay');
    const keys = this.#keysFor(false, index);
    // A new SSRC past the limit is still authenticated first, so a forgery counts as one.
    const full = st === undefined && this.#rxRtp.size >= this.#maxSsrcs;
    const dst = full ? packet : out !== undefined && out.length >= end ? out : Buffer.allocUnsafe(end);
    const flags = full ? SRTP_TRAILER : this.#rtpFlags;
    if (!keys.crypto.open(packet, dst, hl, end, ssrc, v, seq, end, v, end + mkiLen, tagLen, flags)) return this.#drop('auth');
    if (full) return this.#drop('ssrc-limit');
    if (st === undefined) {
      st = { roc: v, seq, next: 0, window: new ReplayWindow(this.replayWindow) };
      this.#rxRtp.set(ssrc, st);
    }
    if (dst !== packet) packet.copy(dst, 0, 0, hl);
    advance(st, v, seq);
    st.window!.accept(index);
    this.#stats.rtpUnprotected++;
    this.#useSrtp();
    return end === dst.length ? dst : dst.subarray(0, end);
  }

  /** SRTCP-protects a (compound) RTCP packet; null on malformed input or exhausted key. */
  protectRtcp(packet: Buffer, out?: Buffer): Buffer | null {
    if (this.#destroyed) return this.#drop('destroyed');
    const len = packet.length;
    if (len < RTCP_HEADER_MIN || packet[0]! >>> 6 !== RTP_VERSION) return this.#drop('malformed');
    const ssrc = packet.readUInt32BE(4);
    let st = this.#txRtcp.get(ssrc);
    if (st === undefined) {
      if (this.#txRtcp.size >= this.#maxSsrcs) return this.#drop('ssrc-limit');
      st = { roc: 0, seq: 0, next: 0, window: null };
      this.#txRtcp.set(ssrc, st);
    }
    const index = st.next;
    if (this.#srtcpUsed >= this.#srtcpLimit || index >= SRTCP_INDEX_SPACE) return this.#drop('lifetime');
    const keys = this.#keysFor(true, index);
    const mkiLen = this.mkiLength, tagLen = this.#rtcpTag;
    const outLen = len + 4 + mkiLen + tagLen;
    const dst = out !== undefined && out.length >= outLen ? out : Buffer.allocUnsafe(outLen);
    if (dst !== packet) packet.copy(dst, 0, 0, RTCP_HEADER_MIN);
    dst.writeUInt32BE(this.encryptRtcp ? 0x80000000 + index : index, len);
    if (mkiLen > 0) this.#mki.copy(dst, len + 4);
    const flags = this.encryptRtcp ? SRTP_ENCRYPT : 0;
    keys.crypto.seal(packet, dst, RTCP_HEADER_MIN, len, ssrc, index >>> 16, index & 0xffff, len + 4, 0, len + 4 + mkiLen, tagLen, flags);
    st.next = index + 1;
    this.#stats.rtcpProtected++;
    this.#useSrtcp();
    return outLen === dst.length ? dst : dst.subarray(0, outLen);
  }

  /** Verifies and decrypts an SRTCP packet; null on auth failure, replay, wrong MKI, policy, malformed input. */
  unprotectRtcp(packet: Buffer, out?: Buffer): Buffer | null {
    if (this.#destroyed) return this.#drop('destroyed');
    const len = packet.length;
    const mkiLen = this.mkiLength, tagLen = this.#rtcpTag;
    const end = len - 4 - mkiLen - tagLen;
    if (end < RTCP_HEADER_MIN || packet[0]! >>> 6 !== RTP_VERSION) return this.#drop('malformed');
    const word = packet.readUInt32BE(end);
    const encrypted = word >= 0x80000000;
    const index = encrypted ? word - 0x80000000 : word;
    if (!encrypted && this.encryptRtcp) return this.#drop('policy');
    if (!this.#mkiMatches(packet, end + 4)) return this.#drop('mki');
    if (this.#srtcpUsed >= this.#srtcpLimit) return this.#drop('lifetime');
    const ssrc = packet.readUInt32BE(4);
    let st = this.#rxRtcp.get(ssrc);
    if (st !== undefined && st.window!.check(index) !== REPLAY_OK) return this.#drop('replay');
    const keys = this.#keysFor(true, index);
    const full = st === undefined && this.#rxRtcp.size >= this.#maxSsrcs;
    const dst = full ? packet : out !== undefined && out.length >= end ? out : Buffer.allocUnsafe(end);
    const flags = encrypted && !full ? SRTP_ENCRYPT : 0;
    if (!keys.crypto.open(packet, dst, RTCP_HEADER_MIN, end, ssrc, index >>> 16, index & 0xffff, end + 4, 0, end + 4 + mkiLen, tagLen, flags)) {
      return this.#drop('auth');
    }
    if (full) return this.#drop('ssrc-limit');
    if (st === undefined) {
      st = { roc: 0, seq: 0, next: 0, window: new ReplayWindow(this.replayWindow) };
      this.#rxRtcp.set(ssrc, st);
    }
    if (dst !== packet) packet.copy(dst, 0, 0, RTCP_HEADER_MIN);
    st.window!.accept(index);
    this.#stats.rtcpUnprotected++;
    this.#useSrtcp();
    return end === dst.length ? dst : dst.subarray(0, end);
  }

  /**
   * Carries the per-SSRC stream state (ROC, highest sequence number, replay
   * windows, next SRTCP index) over from the session this one replaces, so a
   * re-key on a running stream keeps the packet index continuous.
   */
  continueFrom(previous: SrtpSession): void {
    const pairs: [Map<number, Stream>, Map<number, Stream>][] = [
      [previous.#txRtp, this.#txRtp], [previous.#rxRtp, this.#rxRtp],
      [previous.#txRtcp, this.#txRtcp], [previous.#rxRtcp, this.#rxRtcp],
    ];
    for (const [from, to] of pairs) {
      for (const [ssrc, s] of from) {
        if (to.size >= this.#maxSsrcs) break;
        let window: ReplayWindow | null = null;
        if (s.window) {
          window = new ReplayWindow(this.replayWindow);
          window.copyFrom(s.window);
        }
        to.set(ssrc, { roc: s.roc, seq: s.seq, next: s.next, window });
      }
    }
  }

  /** The ROC of an SSRC's stream in one direction (status, tests). */
  rolloverCounter(ssrc: number, direction: 'protect' | 'unprotect'): number | undefined {
    return (direction === 'protect' ? this.#txRtp : this.#rxRtp).get(ssrc >>> 0)?.roc;
  }

  /** Overwrites the key material; every later call returns null ('destroyed'). */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#rtpKeys.crypto.wipe();
    this.#rtcpKeys.crypto.wipe();
    this.#masterSalt.fill(0);
    this.#master = null;
    for (const m of [this.#txRtp, this.#rxRtp, this.#txRtcp, this.#rxRtcp]) m.clear();
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  toString(): string {
    const mki = this.mkiLength > 0 ? ` mki:${this.mkiLength}B` : '';
    return `SrtpSession(${this.suite.name}${mki}${this.#destroyed ? ' destroyed' : ''})`;
  }

  toJSON(): object {
    return { suite: this.suite.name, mkiLength: this.mkiLength, stats: { ...this.#stats }, keyUsage: this.keyUsage };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #drop(reason: SrtpDropReason): null {
    this.lastDrop = reason;
    const counter = DROP_COUNTERS[reason];
    if (counter !== null) this.#stats[counter]++;
    return null;
  }

  #mkiMatches(packet: Buffer, at: number): boolean {
    const mki = this.#mki;
    for (let i = 0; i < mki.length; i++) if (packet[at + i] !== mki[i]) return false;
    return true;
  }

  /** Session keys for `index`, re-derived when key_derivation_rate moves r on. */
  #keysFor(rtcp: boolean, index: number): ProtocolKeys {
    const keys = rtcp ? this.#rtcpKeys : this.#rtpKeys;
    const kdr = this.keyDerivationRate;
    if (kdr === 0) return keys;
    const r = Math.floor(index / kdr);
    if (r === keys.r) return keys;
    const next = deriveProtocolKeys(this.#master!, this.#masterSalt, this.suite.keyLength, rtcp, r);
    keys.crypto.wipe();
    if (rtcp) this.#rtcpKeys = next;
    else this.#rtpKeys = next;
    return next;
  }

  #useSrtp(): void {
    const n = ++this.#srtpUsed;
    if (n === Math.ceil(this.#srtpLimit / 2)) this.#notify('soft', 'srtp');
    if (n === this.#srtpLimit) this.#notify('hard', 'srtp');
  }

  #useSrtcp(): void {
    const n = ++this.#srtcpUsed;
    if (n === Math.ceil(this.#srtcpLimit / 2)) this.#notify('soft', 'srtcp');
    if (n === this.#srtcpLimit) this.#notify('hard', 'srtcp');
  }

  #notify(limit: 'soft' | 'hard', protocol: 'srtp' | 'srtcp'): void {
    try {
      this.#onKeyLimit?.(limit, protocol);
    } catch {
      // A faulty listener must not break the media path.
    }
  }
}

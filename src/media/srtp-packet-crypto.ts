// What an SRTP packet engine does (RFC 3711 §4.1.1 AES-CM, §4.2 HMAC-SHA1):
// the per-packet crypto that SrtpSession hands over once it knows a packet's
// index. srtp-engine.ts picks the engine.

/** seal()/open() flags. */
export const SRTP_ENCRYPT = 1;
/** Append the 32-bit trailer (the ROC) to the authenticated bytes. */
export const SRTP_TRAILER = 2;

/** The session keys of one protocol (SRTP or SRTCP), applied to packets. */
export interface PacketCrypto {
  /**
   * dst[from, to) = src[from, to), encrypted with the keystream of
   * (ssrc, indexHigh * 2^16 + indexLow) when flags has SRTP_ENCRYPT; then the
   * first tagLen bytes of the HMAC of dst[0, authEnd) (+ trailer when
   * SRTP_TRAILER) go to dst[tagAt]. src and dst may be the same memory.
   */
  seal(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): void;
  /**
   * True when the tagLen bytes at src[tagAt] are the HMAC of src[0, authEnd)
   * (+ trailer); only then dst[from, to) = src[from, to), decrypted when
   * SRTP_ENCRYPT. False leaves dst as it was.
   */
  open(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): boolean;
  /** Overwrites the key material; the object is unusable afterwards. */
  wipe(): void;
}

export interface SrtpEngine {
  readonly name: string;
  /** encKey: the session encryption key; authKey: the session auth key; salt: the 14-byte session salt. */
  create(encKey: Buffer, authKey: Buffer, salt: Buffer): PacketCrypto;
}

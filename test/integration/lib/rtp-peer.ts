// A phone's media end for tests: a UDP socket on the port its SDP names,
// sending 20 ms G.711 packets (SRTP-protected with its own offered key when
// the call is secure) and counting what arrives, decrypted with the key the
// other side put in its SDP. It proves media flows, and through where.
import dgram from 'node:dgram';
import { SrtpSession } from '../../../src/media/srtp.ts';
import type { SrtpSuiteName } from '../../../src/media/srtp.ts';
import { buildRtpPacket } from '../../../src/media/rtp.ts';
import { makeCryptoAttribute, masterKeys, parseCrypto, parseSdp, connectionOf } from '../../../src/sdp/index.ts';
import { randomBytes } from 'node:crypto';
import { decodeG711, encodeG711 } from '../../../src/media/g711.ts';
import { goertzelPower } from '../../../src/media/goertzel.ts';

const FRAME = 160;

export interface Received {
  from: { address: string; port: number };
  payloadType: number;
  packet: Buffer;
}

export class RtpPeer {
  readonly received: Received[] = [];
  /** Packets that failed SRTP authentication. */
  rejected = 0;
  private seq = 1;
  private ts = 0;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private sendKey: SrtpSession | undefined;
  private recvKey: SrtpSession | undefined;
  /** Our key, for the a=crypto line of our SDP (RFC 4568: each side keys what it sends). */
  readonly key = randomBytes(30);

  private constructor(readonly socket: dgram.Socket, readonly port: number) {
    socket.on('message', (msg, rinfo) => {
      let packet: Buffer | null = msg;
      if (this.recvKey) packet = this.recvKey.unprotectRtp(msg);
      if (!packet) {
        this.rejected++;
        return;
      }
      this.received.push({ from: { address: rinfo.address, port: rinfo.port }, payloadType: packet[1]! & 0x7f, packet });
    });
  }

  static async open(port = 0): Promise<RtpPeer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    return new RtpPeer(s, s.address().port);
  }

  /** Our a=crypto line value (tag 1, AES_CM_128_HMAC_SHA1_80). */
  cryptoLine(): string {
    return makeCryptoAttribute({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key: this.key.subarray(0, 16), salt: this.key.subarray(16) }).value!;
  }

  /** An SDP offer/answer for this port: plain RTP/AVP, RTP/AVP with crypto (best effort), or RTP/SAVP. */
  sdp(kind: 'rtp' | 'rtp+sdes' | 'srtp' = 'rtp', direction = 'sendrecv'): Buffer {
    const proto = kind === 'srtp' ? 'RTP/SAVP' : 'RTP/AVP';
    const lines = [
      'v=0', 'o=peer 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${this.port} ${proto} 0 8 101`,
      'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', `a=${direction}`,
    ];
    if (kind !== 'rtp') lines.push(`a=crypto:${this.cryptoLine()}`);
    return Buffer.from(lines.join('\r\n') + '\r\n');
  }

  /**
   * Takes the other side's SDP (what we got from Switchboard): where to send,
   * and, when it carries a=crypto, the key it encrypts with (we decrypt with
   * it) — we then encrypt with our own key.
   */
  connect(remoteSdp: Buffer, secure: boolean): { address: string; port: number } {
    const parsed = parseSdp(remoteSdp);
    if (!parsed.ok) throw new Error(parsed.reason);
    const conn = connectionOf(parsed.sdp, 0)!;
    const crypto = parsed.sdp.media[0]!.attributes.find((a) => a.name === 'crypto');
    if (secure && crypto) {
      const c = parseCrypto(crypto.value!);
      if (!c.ok) throw new Error(c.reason);
      const k = masterKeys(c.crypto)[0]!;
      this.recvKey = new SrtpSession({ suite: c.crypto.suiteInfo!.name as SrtpSuiteName, masterKey: k.masterKey, masterSalt: k.masterSalt });
      this.sendKey = new SrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: this.key.subarray(0, 16), masterSalt: this.key.subarray(16) });
    }
    this.target = { address: conn.address, port: conn.port };
    return this.target;
  }

  target: { address: string; port: number } | undefined;

  /** Sends n voice packets (PCMU), or telephone-event packets for a digit. */
  send(n: number, payloadType = 0, payload: Buffer = Buffer.alloc(160, 0xff)): void {
    for (let i = 0; i < n; i++) {
      const p = buildRtpPacket({ payloadType, sequenceNumber: this.seq++, timestamp: (this.ts += 160), ssrc: this.ssrc, payload });
      const out = this.sendKey ? this.sendKey.protectRtp(p)! : p;
      this.socket.send(out, this.target!.port, this.target!.address);
    }
  }

  /** RFC 4733 event for `event` (0-15): three start/continue packets, then three end packets, one timestamp. */
  sendDtmf(event: number, payloadType = 101): void {
    const ts = (this.ts += 160);
    for (let i = 0; i < 6; i++) {
      const end = i >= 3;
      const body = Buffer.from([event, (end ? 0x80 : 0) | 10, 0, 0]);
      body.writeUInt16BE((i + 1) * 160, 2);
      const p = buildRtpPacket({ payloadType, sequenceNumber: this.seq++, timestamp: ts, ssrc: this.ssrc, payload: body, marker: i === 0 });
      const out = this.sendKey ? this.sendKey.protectRtp(p)! : p;
      this.socket.send(out, this.target!.port, this.target!.address);
    }
  }

  /** Sends 8 kHz PCM as 20 ms PCMU packets at the real pace (media endpoints play out on their own clock). */
  async sendPcm(pcm: Int16Array): Promise<void> {
    const frame = new Int16Array(FRAME);
    for (let at = 0; at < pcm.length && !this.closed; at += FRAME) {
      frame.fill(0);
      frame.set(pcm.subarray(at, Math.min(at + FRAME, pcm.length)));
      const payload = Buffer.alloc(FRAME);
      encodeG711('ulaw', frame, payload);
      this.send(1, 0, payload);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A sine of `freq` Hz for `ms`, paced. */
  tone(freq: number, ms: number, amplitude = 8000): Promise<void> {
    return this.sendPcm(sine(freq, ms, amplitude));
  }

  silence(ms: number): Promise<void> {
    return this.sendPcm(new Int16Array(Math.round((ms * 8000) / 1000)));
  }

  /** The PCMU audio received so far, decoded, in arrival order. */
  audio(): Int16Array {
    const frames = this.received.filter((r) => r.payloadType === 0);
    const parts: Int16Array[] = [];
    let total = 0;
    for (const r of frames) {
      const p = r.packet;
      const start = 12 + (p[0]! & 0x0f) * 4;
      const pcm = new Int16Array(p.length - start);
      decodeG711('ulaw', p, start, pcm.length, pcm);
      parts.push(pcm);
      total += pcm.length;
    }
    const out = new Int16Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** The share of the received audio's energy at `freq` (about 1 for a pure tone there, about 0 for none). */
  share(freq: number, pcm: Int16Array = this.audio()): number {
    return toneShare(pcm, freq);
  }

  /** The last `ms` of the received audio. */
  tail(ms: number): Int16Array {
    const a = this.audio();
    return a.subarray(Math.max(0, a.length - ms * 8));
  }

  /** Milliseconds of the received audio louder than silence (20 ms frames with a mean level above 300). */
  loudMs(pcm: Int16Array = this.audio()): number {
    let frames = 0;
    for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
      let e = 0;
      for (let i = at; i < at + FRAME; i++) e += Math.abs(pcm[i]!);
      if (e / FRAME > 300) frames++;
    }
    return frames * 20;
  }

  /** Forgets what was received (the next phase of a test). */
  reset(): void {
    this.received.length = 0;
  }

  private closed = false;

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}

export function sine(freq: number, ms: number, amplitude = 8000): Int16Array {
  const n = Math.round((ms * 8000) / 1000);
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / 8000));
  return pcm;
}

/** The share of `pcm`'s energy at `freq`, measured per 20 ms block with Goertzel. */
export function toneShare(pcm: Int16Array, freq: number): number {
  let total = 0;
  let power = 0;
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
    let e = 0;
    for (let i = at; i < at + FRAME; i++) e += pcm[i]! * pcm[i]!;
    total += e;
    power += goertzelPower(pcm, freq, 8000, at, FRAME);
  }
  // Goertzel's power of a pure tone over N samples is about N/2 times the block's energy.
  return total === 0 ? 0 : power / ((total * FRAME) / 2);
}

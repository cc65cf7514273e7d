// MediaEndpoint: a media leg of our own (RFC 3550 RTP over UDP, G.711, RFC
// 4733 digits) for the voicemail, IVR, music-on-hold and conference apps. It
// knows nothing of SIP: the app host hands it SDP bodies and gets SDP back.
//
// Timing: everything audible happens on the process's media clock (see
// media-clock.ts): in the RECEIVE phase the jitter buffer yields this tick's
// frame (recording, in-band digits, takeFrame() for a mixer), in the SEND
// phase one 20 ms frame goes out (playback, a mixer's frame, or silence).
// Packet arrival only fills the jitter buffer.
//
// Hot path (each packet, each tick): fixed buffers, no closures, no regexes.
// Hostile input (bad headers, unknown payload types, another SSRC while ours
// is live, floods) is counted and dropped, never thrown.
import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import { OncePerInterval, silentLogger, type Logger } from '../lib/log.ts';
import { isWildcard } from '../lib/net.ts';
import { DtmfDetector, dtmfEvent } from './dtmf.ts';
import { OUR_TE_PT, answerSdp, judgeAnswer, judgeOffer, offerSdp, type StreamParams } from './endpoint-sdp.ts';
import { decodeG711, encodeG711, type G711Law } from './g711.ts';
import { InbandDtmfDetector } from './goertzel.ts';
import { JitterBuffer } from './jitter-buffer.ts';
import { FRAME_SAMPLES, PHASE_RECEIVE, PHASE_SEND, type MediaClock } from './media-clock.ts';
import type { MixerPort } from './mixer.ts';
import { MediaError, type PortPair, type PortPool } from './port-pool.ts';
import { RTP_HEADER_MIN, isRtcp, rtpHeaderLength, rtpPaddingLength, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from './rtp.ts';

export type DigitVia = 'rfc4733' | 'inband' | 'info';
export type PlayResult = 'done' | 'interrupted' | 'stopped' | 'closed';

/** A stream of 8 kHz PCM to play (a file being read, a generator). */
export interface AudioSource {
  /** Fills `out` from the start; returns the samples written (fewer than out.length, or 0, at the end). */
  read(out: Int16Array): number;
  /** Back to the start (for loop: true). */
  rewind?(): void;
}

export interface PlayOptions {
  loop?: boolean;
  /** A digit ends the playback with 'interrupted' (the digit is still reported to onDigit). */
  interruptOnDigit?: boolean;
}

export interface RecordOptions {
  /** Upper bound of the recording (at most MAX_RECORD_MS). */
  maxMs: number;
  /** This much continuous silence ends it (trailing silence is trimmed). */
  silenceMs?: number;
  /** Digits that end it, e.g. '#'. */
  endDigits?: string;
}

export interface RecordResult {
  pcm: Int16Array;
  endedBy: 'max' | 'silence' | 'digit' | 'stopped' | 'closed';
  digit?: string;
}

export interface MediaEndpointStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Expected minus received, from sequence numbers (RFC 3550 A.3). */
  lost: number;
  late: number;
  duplicates: number;
  /** Malformed, unknown payload type, foreign SSRC. */
  dropped: number;
  rtcpIn: number;
  rtcpOut: number;
}

export interface MediaEndpointOptions {
  pool: PortPool;
  /** Address written into SDP; default the pool's host (which must then not be a wildcard). */
  advertiseAddress?: string;
  /** The process's one media clock (a RealMediaClock; ManualMediaClock in tests). */
  clock: MediaClock;
  logger?: Logger;
  /** In-band (Goertzel) digit detection: 'auto' (when the peer has no telephone-event), 'always', 'never'. */
  inbandDtmf?: 'auto' | 'always' | 'never';
  /** Shown in logs. */
  label?: string;
}

export const MAX_RECORD_MS = 10 * 60_000;
/** RMS below this (16-bit scale, about -44 dBFS) is silence for record(). */
const SILENCE_RMS = 200;
/** Ticks a latched source or SSRC must be quiet before another may take over (2 s / 0.5 s). */
const RELATCH_TICKS = 100;
const SSRC_SWITCH_TICKS = 25;
/** The same digit by another way within this many ticks is the same key press (300 ms). */
const DIGIT_DEDUP_TICKS = 15;
/** RTCP sender report every 5 s (RFC 3550 §6.2 minimum interval). */
const RTCP_TICKS = 250;
const SEND_BUFFERS = 4;
const RECORD_CHUNK = 8000;
const NTP_EPOCH_OFFSET = 2208988800;

interface Playback {
  pcm: Int16Array | null;
  source: AudioSource | null;
  pos: number;
  loop: boolean;
  interrupt: boolean;
  /** The source ran out in this tick's frame: resolve once it is sent. */
  ending: boolean;
  resolve: (r: PlayResult) => void;
}

interface Recording {
  chunks: Int16Array[];
  length: number;
  max: number;
  silenceTicks: number;
  silentRun: number;
  endDigits: string;
  resolve: (r: RecordResult) => void;
}

const ZERO_FRAME = new Int16Array(FRAME_SAMPLES);

export class MediaEndpoint implements MixerPort {
  readonly #pool: PortPool;
  readonly #pair: PortPair;
  readonly #clock: MediaClock;
  readonly #log: Logger;
  readonly #logLimit = new OncePerInterval(10_000);
  readonly #label: string;
  readonly address: string;
  readonly #unsubscribe: Array<() => void>;
  readonly #sessionId = String(randomInt(1, 2 ** 47));
  #version = 0;
  #closed = false;
  #closing: Promise<void> | null = null;

  // Negotiated stream.
  #params: StreamParams | null = null;
  #law: G711Law = 'ulaw';
  #inbandMode: 'auto' | 'always' | 'never';
  #inband: InbandDtmfDetector | null = null;

  // Receive state.
  readonly #jitter = new JitterBuffer(2);
  readonly #dtmf = new DtmfDetector(OUR_TE_PT);
  readonly #inFrame = new Int16Array(FRAME_SAMPLES);
  #frameValid = false;
  #tick = 0;
  #ssrcIn = -1;
  #ssrcSeenTick = 0;
  #latchAddr: string | null = null;
  #latchPort = 0;
  #latchTick = 0;
  #seqBase = -1;
  #seqMax = 0;
  #seqCycles = 0;
  #received = 0;
  // Fields the jitter buffer's decode callback reads (set per packet, so the callback is one bound function).
  #pkt: Buffer = Buffer.alloc(0);
  #pktOff = 0;
  #pktLaw: G711Law = 'ulaw';
  readonly #decodeInto = (ring: Int16Array, at: number, from: number, n: number): void => {
    decodeG711(this.#pktLaw, this.#pkt, this.#pktOff + from, n, ring, at);
  };

  // Send state.
  readonly #ssrcOut = randomInt(0, 2 ** 32);
  #seqOut = randomInt(0, 0x10000);
  #tsOut = randomInt(0, 2 ** 32);
  readonly #sendBufs: Buffer[] = Array.from({ length: SEND_BUFFERS }, () => Buffer.alloc(RTP_HEADER_MIN + FRAME_SAMPLES));
  #sendBufIx = 0;
  readonly #playFrame = new Int16Array(FRAME_SAMPLES);
  #mixOut: Int16Array | undefined;
  #wasSending = false;
  #destAddr = '';
  #destPort = 0;

  #play: Playback | null = null;
  #rec: Recording | null = null;
  #digitListeners: ReadonlyArray<(digit: string, via: DigitVia) => void> = [];
  #lastDigit = '';
  #lastDigitVia: DigitVia = 'info';
  #lastDigitTick = -1e9;

  readonly #stats: MediaEndpointStats = {
    packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, lost: 0, late: 0, duplicates: 0, dropped: 0, rtcpIn: 0, rtcpOut: 0,
  };

  private constructor(pool: PortPool, pair: PortPair, address: string, opts: MediaEndpointOptions) {
    this.#pool = pool;
    this.#pair = pair;
    this.address = address;
    this.#clock = opts.clock;
    this.#log = opts.logger ?? silentLogger;
    this.#label = opts.label ?? `media ${pair.rtpPort}`;
    this.#inbandMode = opts.inbandDtmf ?? 'auto';
    pair.rtp.on('message', this.#onRtp);
    pair.rtcp.on('message', this.#onRtcp);
    // A send to an unreachable port reports ICMP errors here; never let them crash the process.
    pair.rtp.on('error', this.#onSocketError);
    pair.rtcp.on('error', this.#onSocketError);
    this.#unsubscribe = [this.#clock.subscribe(PHASE_RECEIVE, this.#onReceiveTick), this.#clock.subscribe(PHASE_SEND, this.#onSendTick)];
  }

  /** Binds an RTP/RTCP port pair from `pool`. MediaError when no pair is free or the address is unusable. */
  static async create(opts: MediaEndpointOptions): Promise<MediaEndpoint> {
    const address = opts.advertiseAddress ?? opts.pool.host;
    if (isIP(address) === 0 || isWildcard(address)) {
      throw new MediaError('invalid', `media endpoint needs an advertised IP address (pool host is ${opts.pool.host})`);
    }
    const pair = await opts.pool.allocate();
    return new MediaEndpoint(opts.pool, pair, address, opts);
  }

  get rtpPort(): number {
    return this.#pair.rtpPort;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The codec in use, once negotiated. */
  get codec(): 'PCMU' | 'PCMA' | null {
    return this.#params?.codec ?? null;
  }

  get stats(): MediaEndpointStats {
    const s = { ...this.#stats };
    s.late = this.#jitter.stats.late;
    s.duplicates = this.#jitter.stats.duplicates;
    s.lost = this.#seqBase < 0 ? 0 : Math.max(0, this.#seqCycles + this.#seqMax - this.#seqBase + 1 - this.#received);
    return s;
  }

  // ---- SDP ----

  /** Answers an offer (initial or re-INVITE). 488 when it has no plain-RTP G.711 audio stream. */
  answer(offer: Buffer): { ok: true; body: Buffer } | { ok: false; status: 488; reason: string } {
    const v = judgeOffer(offer);
    if (!v.ok) return { ok: false, status: 488, reason: v.reason };
    this.#apply(v.params);
    return { ok: true, body: answerSdp(this.#local(), v) };
  }

  /** Our offer, for an INVITE or re-INVITE without SDP. */
  offer(): Buffer {
    return offerSdp(this.#local());
  }

  /** Takes the answer to offer(); false when it declines or has nothing we speak. */
  accept(answer: Buffer): boolean {
    const p = judgeAnswer(answer);
    if (p === null) return false;
    this.#apply(p);
    return true;
  }

  #local(): { address: string; rtpPort: number; sessionId: string; version: number } {
    return { address: this.address, rtpPort: this.#pair.rtpPort, sessionId: this.#sessionId, version: ++this.#version };
  }

  #apply(p: StreamParams): void {
    const prev = this.#params;
    this.#params = p;
    this.#law = p.codec === 'PCMU' ? 'ulaw' : 'alaw';
    const wantInband = this.#inbandMode === 'always' || (this.#inbandMode === 'auto' && p.tePt === null);
    if (wantInband && this.#inband === null) this.#inband = new InbandDtmfDetector();
    else if (!wantInband) this.#inband = null;
    // A new destination (re-INVITE to another place): the old latch no longer applies.
    if (prev !== null && (prev.remote?.address !== p.remote?.address || prev.remote?.rtpPort !== p.remote?.rtpPort)) {
      this.#latchAddr = null;
    }
  }

  // ---- digits ----

  /** Calls `cb` for each digit, however it arrived. Returns the unsubscribe function. */
  onDigit(cb: (digit: string, via: DigitVia) => void): () => void {
    this.#digitListeners = [...this.#digitListeners, cb];
    return () => {
      this.#digitListeners = this.#digitListeners.filter((f) => f !== cb);
    };
  }

  /** A digit from SIP INFO (the app host parses the body). Ignored when not a DTMF character. */
  pushDigit(digit: string): void {
    if (digit.length === 1 && dtmfEvent(digit) !== undefined) this.#emitDigit(digit.toUpperCase(), 'info', 0);
  }

  #emitDigit(digit: string, via: DigitVia, trimSamples: number): void {
    if (this.#closed) return;
    if (digit === this.#lastDigit && via !== this.#lastDigitVia && this.#tick - this.#lastDigitTick <= DIGIT_DEDUP_TICKS) return;
    this.#lastDigit = digit;
    this.#lastDigitVia = via;
    this.#lastDigitTick = this.#tick;
    if (this.#play?.interrupt) this.#finishPlay('interrupted');
    const rec = this.#rec;
    if (rec !== null && rec.endDigits.includes(digit)) this.#finishRecord('digit', trimSamples, digit);
    for (const cb of this.#digitListeners) {
      try {
        cb(digit, via);
      } catch (err) {
        this.#log.error({ err, endpoint: this.#label }, 'digit listener failed');
      }
    }
  }

  // ---- playback ----

  /** Plays PCM (8 kHz) or a source; a playback already running ends with 'stopped'. */
  play(source: Int16Array | AudioSource, opts: PlayOptions = {}): Promise<PlayResult> {
    if (this.#closed) return Promise.resolve('closed');
    this.#finishPlay('stopped');
    return new Promise((resolve) => {
      const pcm = source instanceof Int16Array ? source : null;
      this.#play = {
        pcm,
        source: pcm === null ? (source as AudioSource) : null,
        pos: 0,
        loop: opts.loop === true,
        interrupt: opts.interruptOnDigit === true,
        ending: false,
        resolve,
      };
    });
  }

  /** Ends playback ('stopped') and recording ('stopped'). */
  stop(): void {
    this.#finishPlay('stopped');
    this.#finishRecord('stopped', 0);
  }

  #finishPlay(result: PlayResult): void {
    const p = this.#play;
    if (p === null) return;
    this.#play = null;
    p.resolve(result);
  }

  /** Fills #playFrame from the playback, padding with silence and marking it ending when the audio runs out. */
  #fillPlayFrame(p: Playback): void {
    const out = this.#playFrame;
    let n = 0;
    for (let guard = 0; n < FRAME_SAMPLES && guard < 16; guard++) {
      if (p.pcm !== null) {
        const take = Math.min(FRAME_SAMPLES - n, p.pcm.length - p.pos);
        out.set(p.pcm.subarray(p.pos, p.pos + take), n);
        p.pos += take;
        n += take;
        if (p.pos >= p.pcm.length && p.loop && p.pcm.length > 0) p.pos = 0;
        else if (p.pos >= p.pcm.length) break;
      } else if (p.source !== null) {
        const got = p.source.read(n === 0 ? out : out.subarray(n));
        n += Math.max(0, Math.min(got, FRAME_SAMPLES - n));
        if (n < FRAME_SAMPLES) {
          if (p.loop && p.source.rewind) p.source.rewind();
          else break;
        }
      }
    }
    if (n < FRAME_SAMPLES) {
      out.fill(0, n);
      p.ending = true;
    }
  }

  // ---- recording ----

  /** Records what the peer sends (decoded 8 kHz PCM); a recording already running ends with 'stopped'. */
  record(opts: RecordOptions): Promise<RecordResult> {
    if (this.#closed) return Promise.resolve({ pcm: new Int16Array(0), endedBy: 'closed' });
    this.#finishRecord('stopped', 0);
    const maxMs = Math.max(20, Math.min(MAX_RECORD_MS, opts.maxMs));
    return new Promise((resolve) => {
      this.#rec = {
        chunks: [],
        length: 0,
        max: Math.round((maxMs * 8000) / 1000),
        silenceTicks: opts.silenceMs !== undefined && opts.silenceMs > 0 ? Math.ceil(opts.silenceMs / 20) : 0,
        silentRun: 0,
        endDigits: (opts.endDigits ?? '').toUpperCase(),
        resolve,
      };
    });
  }

  #appendRecording(rec: Recording, frame: Int16Array): void {
    let energy = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) energy += frame[i]! * frame[i]!;
    rec.silentRun = energy < FRAME_SAMPLES * SILENCE_RMS * SILENCE_RMS ? rec.silentRun + 1 : 0;
    let off = 0;
    while (off < FRAME_SAMPLES && rec.length < rec.max) {
      const within = rec.length % RECORD_CHUNK;
      if (within === 0) rec.chunks.push(new Int16Array(Math.min(RECORD_CHUNK, rec.max - rec.length)));
      const chunk = rec.chunks[rec.chunks.length - 1]!;
      const n = Math.min(FRAME_SAMPLES - off, chunk.length - within);
      chunk.set(frame.subarray(off, off + n), within);
      off += n;
      rec.length += n;
    }
    if (rec.silenceTicks > 0 && rec.silentRun >= rec.silenceTicks) this.#finishRecord('silence', rec.silentRun * FRAME_SAMPLES);
    else if (rec.length >= rec.max) this.#finishRecord('max', 0);
  }

  #finishRecord(endedBy: RecordResult['endedBy'], trimSamples: number, digit?: string): void {
    const rec = this.#rec;
    if (rec === null) return;
    this.#rec = null;
    const length = Math.max(0, rec.length - trimSamples);
    const pcm = new Int16Array(length);
    let o = 0;
    for (const c of rec.chunks) {
      if (o >= length) break;
      const n = Math.min(c.length, length - o);
      pcm.set(c.subarray(0, n), o);
      o += n;
    }
    rec.resolve(digit === undefined ? { pcm, endedBy } : { pcm, endedBy, digit });
  }

  // ---- conference hooks (MixerPort) ----

  /** This tick's decoded frame (valid until the next tick), or undefined when nothing arrived. */
  takeFrame(): Int16Array | undefined {
    return this.#frameValid ? this.#inFrame : undefined;
  }

  /** The frame to send this tick (read in the SEND phase; playback takes precedence). Kept by reference. */
  sendFrame(pcm: Int16Array): void {
    this.#mixOut = pcm;
  }

  // ---- clock ----

  readonly #onReceiveTick = (): void => {
    this.#tick++;
    const have = this.#params !== null && this.#jitter.take(this.#inFrame);
    this.#frameValid = have;
    const frame = have ? this.#inFrame : ZERO_FRAME;
    const inband = this.#inband;
    if (inband !== null) {
      const d = inband.feed(frame);
      // The detector has seen exactly one frame per tick since it was made; the tone began that many samples ago.
      if (d !== undefined) this.#emitDigit(d, 'inband', inband.samplesFed - inband.lastDigitStart);
    }
    const rec = this.#rec;
    if (rec !== null) this.#appendRecording(rec, frame);
  };

  readonly #onSendTick = (): void => {
    const p = this.#play;
    let frame: Int16Array = ZERO_FRAME;
    if (p !== null) {
      this.#fillPlayFrame(p);
      frame = this.#playFrame;
    } else if (this.#mixOut !== undefined) {
      frame = this.#mixOut;
    }
    this.#mixOut = undefined;
    if (this.#destination()) this.#sendRtp(frame, this.#params!.pt);
    else this.#wasSending = false;
    this.#tsOut = (this.#tsOut + FRAME_SAMPLES) >>> 0;
    if (p !== null && p.ending && this.#play === p) this.#finishPlay('done');
    if (this.#tick % RTCP_TICKS === 0 && this.#stats.packetsOut > 0) this.#sendRtcp();
  };

  /**
   * Sets #destAddr/#destPort to where we send: the latched source (symmetric
   * RTP) or the SDP address. False when we must not send (peer sendonly or
   * inactive, hold address, another address family).
   */
  #destination(): boolean {
    const p = this.#params;
    if (p === null || p.peerDirection === 'sendonly' || p.peerDirection === 'inactive') return false;
    if (this.#latchAddr !== null) {
      this.#destAddr = this.#latchAddr;
      this.#destPort = this.#latchPort;
      return true;
    }
    if (p.remote === null || isIP(p.remote.address) !== this.#pair.family) return false;
    this.#destAddr = p.remote.address;
    this.#destPort = p.remote.rtpPort;
    return true;
  }

  #sendRtp(frame: Int16Array, pt: number): void {
    const buf = this.#sendBufs[this.#sendBufIx]!;
    this.#sendBufIx = (this.#sendBufIx + 1) % SEND_BUFFERS;
    buf[0] = 0x80;
    buf[1] = (this.#wasSending ? 0 : 0x80) | pt; // marker on the first packet of a talkspurt
    this.#seqOut = (this.#seqOut + 1) & 0xffff;
    buf.writeUInt16BE(this.#seqOut, 2);
    buf.writeUInt32BE(this.#tsOut, 4);
    buf.writeUInt32BE(this.#ssrcOut, 8);
    encodeG711(this.#law, frame, buf, RTP_HEADER_MIN);
    this.#pair.rtp.send(buf, 0, buf.length, this.#destPort, this.#destAddr);
    this.#wasSending = true;
    this.#stats.packetsOut++;
    this.#stats.bytesOut += FRAME_SAMPLES;
  }

  /** RFC 3550 §6.4.1 sender report plus the SDES CNAME a compound packet must carry. */
  #sendRtcp(): void {
    const p = this.#params;
    if (p === null) return;
    if (!this.#destination()) return;
    // The SDP's RTCP address when it gave one we can reach, else next to where RTP goes.
    const sdpRtcp = p.remote !== null && isIP(p.remote.rtcpAddress) === this.#pair.family;
    const rtcpAddress = sdpRtcp ? p.remote!.rtcpAddress : this.#destAddr;
    const rtcpPort = sdpRtcp ? p.remote!.rtcpPort : this.#destPort + 1;
    const cname = Buffer.from(`switchboard-${this.#ssrcOut.toString(16)}`);
    const sdesLen = 4 + 4 + 2 + cname.length + 1;
    const sdesPadded = (sdesLen + 3) & ~3;
    const b = Buffer.alloc(28 + sdesPadded);
    b[0] = 0x80;
    b[1] = 200;
    b.writeUInt16BE(6, 2);
    b.writeUInt32BE(this.#ssrcOut, 4);
    const ms = Date.now();
    const secs = Math.floor(ms / 1000);
    b.writeUInt32BE((secs + NTP_EPOCH_OFFSET) >>> 0, 8);
    b.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, 12);
    b.writeUInt32BE(this.#tsOut, 16);
    b.writeUInt32BE(this.#stats.packetsOut >>> 0, 20);
    b.writeUInt32BE(this.#stats.bytesOut >>> 0, 24);
    b[28] = 0x81;
    b[29] = 202;
    b.writeUInt16BE(sdesPadded / 4 - 1, 30);
    b.writeUInt32BE(this.#ssrcOut, 32);
    b[36] = 1; // CNAME
    b[37] = cname.length;
    cname.copy(b, 38);
    this.#pair.rtcp.send(b, 0, b.length, rtcpPort, rtcpAddress);
    this.#stats.rtcpOut++;
  }

  // ---- receive ----

  readonly #onRtp = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.#closed || this.#params === null) return;
    const hl = rtpHeaderLength(msg);
    if (hl < 0) return this.#drop('malformed RTP');
    if (isRtcp(msg)) {
      this.#stats.rtcpIn++; // RFC 5761 multiplexed RTCP: accepted and ignored
      return;
    }
    const pad = rtpPaddingLength(msg, hl);
    if (pad < 0) return this.#drop('bad RTP padding');
    const ssrc = rtpSsrc(msg);
    if (ssrc !== this.#ssrcIn) {
      // Another stream while ours is live is someone else's (or a forgery); after a pause it is a restart.
      if (this.#ssrcIn !== -1 && this.#tick - this.#ssrcSeenTick < SSRC_SWITCH_TICKS) return this.#drop('foreign SSRC');
      this.#ssrcIn = ssrc;
      this.#seqBase = -1;
      this.#jitter.reset();
      this.#inband?.reset();
    }
    const pt = rtpPayloadType(msg);
    const te = this.#params.tePt;
    let law: G711Law | null = null;
    if (pt === 0) law = 'ulaw';
    else if (pt === 8) law = 'alaw';
    else if (pt !== te && pt !== OUR_TE_PT && pt !== 13) return this.#drop('unexpected payload type');
    this.#ssrcSeenTick = this.#tick;
    this.#latch(rinfo);
    this.#countSeq(rtpSeq(msg));
    this.#stats.packetsIn++;
    const n = msg.length - hl - pad;
    this.#stats.bytesIn += n;
    if (law === null) {
      if (pt === 13) return; // comfort noise: silence is what the jitter buffer plays anyway
      this.#dtmf.payloadType = pt;
      const d = this.#dtmf.feed(msg);
      if (d !== undefined) this.#emitDigit(d.digit, 'rfc4733', d.duration);
      return;
    }
    if (n <= 0) return;
    this.#pkt = msg;
    this.#pktOff = hl;
    this.#pktLaw = law;
    this.#jitter.put(rtpTimestamp(msg), n, this.#decodeInto);
  };

  readonly #onRtcp = (msg: Buffer): void => {
    if (!this.#closed && msg.length >= 8) this.#stats.rtcpIn++; // accepted and ignored
  };

  readonly #onSocketError = (err: Error): void => {
    if (this.#logLimit.take('socket') >= 0) this.#log.debug({ err, endpoint: this.#label }, 'media socket error');
  };

  #latch(rinfo: RemoteInfo): void {
    if (this.#latchAddr === rinfo.address && this.#latchPort === rinfo.port) {
      this.#latchTick = this.#tick;
      return;
    }
    if (this.#latchAddr !== null && this.#tick - this.#latchTick < RELATCH_TICKS) return;
    this.#latchAddr = rinfo.address;
    this.#latchPort = rinfo.port;
    this.#latchTick = this.#tick;
  }

  #countSeq(seq: number): void {
    if (this.#seqBase < 0) {
      this.#seqBase = seq;
      this.#seqMax = seq;
      this.#seqCycles = 0;
      this.#received = 0;
    } else {
      const delta = (seq - this.#seqMax) & 0xffff;
      if (delta !== 0 && delta < 0x8000) {
        if (seq < this.#seqMax) this.#seqCycles += 0x10000;
        this.#seqMax = seq;
      }
    }
    this.#received++;
  }

  #drop(reason: string): void {
    this.#stats.dropped++;
    const suppressed = this.#logLimit.take(reason);
    if (suppressed >= 0) this.#log.debug({ endpoint: this.#label, reason, suppressed }, 'media endpoint dropped a packet');
  }

  // ---- close ----

  /** Stops everything, resolves pending play/record with 'closed', frees the ports. Idempotent. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#frameValid = false; // a mixer that still holds us hears silence, not our last frame
    for (const off of this.#unsubscribe) off();
    this.#finishPlay('closed');
    this.#finishRecord('closed', 0);
    this.#digitListeners = [];
    this.#pair.rtp.off('message', this.#onRtp);
    this.#pair.rtcp.off('message', this.#onRtcp);
    this.#closing = this.#pool.release(this.#pair);
    return this.#closing;
  }
}

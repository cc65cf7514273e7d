// Per-side media statistics for the relay: counters, RTP reception quality
// (loss from sequence numbers, RFC 3550 A.1/A.3; interarrival jitter, A.8)
// and what the endpoint's own RTCP reports said. Updating never allocates:
// the relay calls these for every packet.
import { parseRtcpReports } from './rtp.ts';

const SEQ_MOD = 0x10000;
/** RFC 3550 A.1: a forward jump up to this is taken as loss, a larger one as a restart. */
const MAX_DROPOUT = 3000;
/** RFC 3550 A.1: a step back of up to this is a late (reordered or duplicate) packet. */
const MAX_MISORDER = 100;
/** Sequence numbers behind the highest for which duplicates are recognised (a power of two, ≥ MAX_MISORDER). */
const DUP_WINDOW = 128;
export const DEFAULT_CLOCK_RATE = 8000;

/**
 * Reception statistics of one RTP stream (the packets one side sends us).
 * A new SSRC or a resynchronisation after a large jump starts a new epoch;
 * expected and received totals carry over, so loss covers the whole call.
 */
export class RtpReceiveStats {
  ssrc = -1;
  /** Packets that repeated a sequence number seen recently; not counted as received. */
  duplicates = 0;
  /** Packets ignored while judging a large sequence jump (A.1 bad_seq). */
  discarded = 0;
  #clockRate = DEFAULT_CLOCK_RATE;
  /** -1: every payload type; otherwise jitter only from this one (telephone-event timestamps would skew it). */
  #jitterPt = -1;
  #started = false;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #badSeq = -1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  /** Ring of DUP_WINDOW bits by extended sequence number: seen or not. */
  readonly #seen = new Uint32Array(DUP_WINDOW / 32);
  /** Interarrival jitter in timestamp units (A.8), as a float rather than A.8's fixed point. */
  #jitter = 0;
  #haveTransit = false;
  #lastTs = 0;
  #lastArrivalMs = 0;

  get clockRate(): number {
    return this.#clockRate;
  }

  /** Sets the payload clock for jitter; a change restarts the jitter estimate. */
  setClock(clockRate: number, payloadType = -1): void {
    if (!Number.isInteger(clockRate) || clockRate < 1 || clockRate > 1_000_000) {
      throw new RangeError(`clockRate must be an integer in 1..1000000, got ${clockRate}`);
    }
    if (!Number.isInteger(payloadType) || payloadType < -1 || payloadType > 127) {
      throw new RangeError(`payloadType must be an integer in 0..127 (or -1 for all), got ${payloadType}`);
    }
    if (clockRate !== this.#clockRate) {
      this.#jitter = 0;
      this.#haveTransit = false;
    }
    this.#clockRate = clockRate;
    this.#jitterPt = payloadType;
  }

  /** Accounts one RTP packet that arrived at arrivalMs (any monotonic millisecond clock). */
  record(seq: number, timestamp: number, ssrc: number, payloadType: number, arrivalMs: number): void {
    if (ssrc !== this.ssrc || !this.#started) {
      this.#newEpoch(seq);
      this.ssrc = ssrc;
    } else if (!this.#updateSeq(seq)) {
      return;
    }
    if (this.#jitterPt < 0 || payloadType === this.#jitterPt) this.#updateJitter(timestamp >>> 0, arrivalMs);
  }

  /** Packets expected from the sequence numbers seen (A.3). */
  get expected(): number {
    const cur = this.#started ? this.#cycles + this.#maxSeq - this.#baseSeq + 1 : 0;
    return this.#expectedPrior + cur;
  }

  get received(): number {
    return this.#receivedPrior + this.#received;
  }

  /** Expected minus received, floored at 0 (late packets from before an epoch start can make it negative). */
  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }

  get jitterMs(): number {
    return (this.#jitter / this.#clockRate) * 1000;
  }

  /** Jitter in timestamp units, as an RTCP report block carries it. */
  get jitterUnits(): number {
    return this.#jitter;
  }

  #newEpoch(seq: number): void {
    if (this.#started) {
      this.#expectedPrior += this.#cycles + this.#maxSeq - this.#baseSeq + 1;
      this.#receivedPrior += this.#received;
    }
    this.#started = true;
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#cycles = 0;
    this.#badSeq = -1;
    this.#received = 1;
    this.#seen.fill(0);
    this.#mark(seq);
    this.#haveTransit = false;
  }

  /** A.1 update_seq without probation. false: the packet is not counted. */
  #updateSeq(seq: number): boolean {
    const udelta = (seq - this.#maxSeq + SEQ_MOD) % SEQ_MOD;
    if (udelta === 0) {
      this.duplicates++;
      return false;
    }
    if (udelta < MAX_DROPOUT) {
      this.#advance(udelta);
      if (seq < this.#maxSeq) this.#cycles += SEQ_MOD;
      this.#maxSeq = seq;
      this.#mark(this.#cycles + seq);
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      // A big jump: the source restarted, or a stray packet. Two in a row resync.
      if (seq !== this.#badSeq) {
        this.#badSeq = (seq + 1) % SEQ_MOD;
        this.discarded++;
        return false;
      }
      this.#newEpoch(seq);
      return true;
    } else {
      const behind = SEQ_MOD - udelta;
      const ext = this.#cycles + this.#maxSeq - behind;
      if (behind < DUP_WINDOW && ext >= this.#baseSeq) {
        if (this.#isSeen(ext)) {
          this.duplicates++;
          return false;
        }
        this.#mark(ext);
      }
    }
    this.#received++;
    return true;
  }

  /** Clears the duplicate bits the highest sequence number moves past. */
  #advance(by: number): void {
    if (by >= DUP_WINDOW) {
      this.#seen.fill(0);
      return;
    }
    const top = this.#cycles + this.#maxSeq;
    for (let i = 1; i <= by; i++) {
      const slot = (top + i) & (DUP_WINDOW - 1);
      this.#seen[slot >>> 5]! &= ~(1 << (slot & 31));
    }
  }

  #mark(ext: number): void {
    const slot = ext & (DUP_WINDOW - 1);
    this.#seen[slot >>> 5]! |= 1 << (slot & 31);
  }

  #isSeen(ext: number): boolean {
    const slot = ext & (DUP_WINDOW - 1);
    return (this.#seen[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  /** A.8, with differences taken so a 32-bit timestamp wrap is harmless. */
  #updateJitter(ts: number, arrivalMs: number): void {
    if (this.#haveTransit) {
      const tsDelta = (ts - this.#lastTs) | 0;
      const arrivalDelta = ((arrivalMs - this.#lastArrivalMs) * this.#clockRate) / 1000;
      const d = Math.abs(arrivalDelta - tsDelta);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#haveTransit = true;
    this.#lastTs = ts;
    this.#lastArrivalMs = arrivalMs;
  }
}

export interface DirectionCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
}

export interface DropCounters {
  /** Packets from a source other than the latched one (or not the signalled IP before latching). */
  foreignSource: number;
  /** Refused by this side's inbound transform (SRTP auth, replay…); reasons below. */
  inbound: number;
  /** Refused by the other side's outbound transform. */
  outbound: number;
  /** Not RTP/RTCP version 2 after the inbound transform. */
  malformed: number;
  /** The other side has no remote address yet (or is on hold with 0.0.0.0). */
  noDestination: number;
  /** Errors the side's sockets reported (dgram 'error' events). */
  socketErrors: number;
  /** Packets lost to an exception while handling them (a transform that threw). */
  errors: number;
}

/** What an endpoint said in its most recent RTCP SR/RR about the media it receives. */
export interface RtcpReportSummary {
  fractionLostPercent: number;
  cumulativeLost: number;
  jitterMs: number;
  /** When it arrived (the relay's clock). */
  at: number;
}

export interface SideStatsSnapshot {
  rtp: DirectionCounters;
  rtcp: DirectionCounters;
  drops: DropCounters & { reasons: Record<string, number> };
  /** Quality of the RTP this side sends us. */
  receive: {
    ssrc: number | null;
    expected: number;
    received: number;
    lost: number;
    lossPercent: number;
    duplicates: number;
    jitterMs: number;
    clockRate: number;
  };
  /** This side's endpoint's last report on the media we send it; null before one arrived. */
  reported: RtcpReportSummary | null;
  lastPacketAt: number | null;
}

const zeroDirection = (): DirectionCounters => ({ packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 });

/** How often RTCP is parsed for reports at most: parsing allocates, and a flood should not make it cost more. */
const REPORT_PARSE_INTERVAL_MS = 500;
/** Bounds the reason table against a transform that invents reasons. */
const MAX_REASONS = 16;

/** Everything the relay counts for one side. Fields are public for the hot path; snapshot() is for readers. */
export class SideStats {
  readonly rtp: DirectionCounters = zeroDirection();
  readonly rtcp: DirectionCounters = zeroDirection();
  readonly drops: DropCounters = { foreignSource: 0, inbound: 0, outbound: 0, malformed: 0, noDestination: 0, socketErrors: 0, errors: 0 };
  readonly receive = new RtpReceiveStats();
  readonly #reasons = new Map<string, number>();
  #reported: RtcpReportSummary | null = null;
  #lastReportParse = -Infinity;
  lastPacketAt: number | null = null;

  /** Counts a transform refusal under the reason the transform gave (SrtpSession.lastDrop), if any. */
  dropReason(reason: string | null | undefined): void {
    const key = typeof reason === 'string' && reason.length > 0 ? reason : 'unspecified';
    const n = this.#reasons.get(key);
    if (n !== undefined) this.#reasons.set(key, n + 1);
    else if (this.#reasons.size < MAX_REASONS) this.#reasons.set(key, 1);
  }

  /** Reads SR/RR report blocks from a decrypted RTCP packet this side sent; at most every 500 ms. */
  rtcpReport(packet: Buffer, now: number): void {
    if (now - this.#lastReportParse < REPORT_PARSE_INTERVAL_MS) return;
    this.#lastReportParse = now;
    const reports = parseRtcpReports(packet);
    if (reports === null) return;
    for (const r of reports) {
      // The first block is the media the endpoint receives from us (one SSRC per direction here).
      const block = r.reports[0];
      if (block === undefined) continue;
      this.#reported = {
        fractionLostPercent: (block.fractionLost / 256) * 100,
        cumulativeLost: block.cumulativeLost,
        jitterMs: (block.jitter / this.receive.clockRate) * 1000,
        at: now,
      };
      return;
    }
  }

  snapshot(): SideStatsSnapshot {
    const rx = this.receive;
    const expected = rx.expected;
    const lost = rx.lost;
    return {
      rtp: { ...this.rtp },
      rtcp: { ...this.rtcp },
      drops: { ...this.drops, reasons: Object.fromEntries(this.#reasons) },
      receive: {
        ssrc: rx.ssrc < 0 ? null : rx.ssrc,
        expected,
        received: rx.received,
        lost,
        lossPercent: expected > 0 ? (lost / expected) * 100 : 0,
        duplicates: rx.duplicates,
        jitterMs: rx.jitterMs,
        clockRate: rx.clockRate,
      },
      reported: this.#reported === null ? null : { ...this.#reported },
      lastPacketAt: this.lastPacketAt,
    };
  }
}

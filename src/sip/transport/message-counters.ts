import type { SipMessage } from '../message.ts';

/** Methods counted under their own name; everything else is counted as 'other'. */
export const COUNTED_METHODS = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK',
  'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
] as const;

const OTHER = COUNTED_METHODS.length;
const METHOD_INDEX = new Map<string, number>(COUNTED_METHODS.map((m, i) => [m, i]));

/** Method names as bytes, grouped by first byte, to classify outgoing wire bytes without decoding them. */
const BY_FIRST_BYTE: Array<Array<{ index: number; bytes: Buffer }> | undefined> = [];
COUNTED_METHODS.forEach((m, index) => {
  const bytes = Buffer.from(m, 'latin1');
  (BY_FIRST_BYTE[bytes[0]!] ??= []).push({ index, bytes });
});

export interface MessageCount {
  direction: 'in' | 'out';
  count: number;
}

/**
 * SIP messages by method and by status code, in and out: plain typed arrays
 * bumped on the transport hot path (no allocation, no string building), read
 * at scrape time. Outgoing messages are classified from their wire bytes so
 * retransmissions of prepared messages are counted like first sends.
 */
export class MessageCounters {
  /** Index: position in COUNTED_METHODS, or COUNTED_METHODS.length for other methods. */
  readonly requestsIn = new Float64Array(OTHER + 1);
  readonly requestsOut = new Float64Array(OTHER + 1);
  /** Index: status - 100 (100..699). */
  readonly responsesIn = new Float64Array(600);
  readonly responsesOut = new Float64Array(600);

  countIn(message: SipMessage): void {
    if (message.kind === 'request') this.requestsIn[METHOD_INDEX.get(message.method) ?? OTHER]!++;
    else if (message.status >= 100 && message.status <= 699) this.responsesIn[message.status - 100]!++;
  }

  /** `data` is one serialized message. */
  countOut(data: Buffer): void {
    // "SIP/2.0 NNN": a response; anything else is a request line.
    if (data.length >= 12 && data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f) {
      const status = digit(data[8]!) * 100 + digit(data[9]!) * 10 + digit(data[10]!);
      if (status >= 100 && status <= 699) this.responsesOut[status - 100]!++;
      return;
    }
    this.requestsOut[methodIndexOf(data)]!++;
  }

  /** Non-zero request counts by method. */
  requests(): Array<MessageCount & { method: string }> {
    const out: Array<MessageCount & { method: string }> = [];
    for (const [direction, arr] of [['in', this.requestsIn], ['out', this.requestsOut]] as const) {
      for (let i = 0; i <= OTHER; i++) {
        const count = arr[i]!;
        if (count > 0) out.push({ direction, method: i === OTHER ? 'other' : COUNTED_METHODS[i]!, count });
      }
    }
    return out;
  }

  /** Non-zero response counts by status code. */
  responses(): Array<MessageCount & { status: number }> {
    const out: Array<MessageCount & { status: number }> = [];
    for (const [direction, arr] of [['in', this.responsesIn], ['out', this.responsesOut]] as const) {
      for (let i = 0; i < arr.length; i++) {
        const count = arr[i]!;
        if (count > 0) out.push({ direction, status: i + 100, count });
      }
    }
    return out;
  }
}

function digit(b: number): number {
  return b >= 0x30 && b <= 0x39 ? b - 0x30 : -1000;
}

function methodIndexOf(data: Buffer): number {
  const candidates = data.length > 0 ? BY_FIRST_BYTE[data[0]!] : undefined;
  if (!candidates) return OTHER;
  for (const { index, bytes } of candidates) {
    const n = bytes.length;
    if (data.length > n && data[n] === 0x20 && data.compare(bytes, 0, n, 0, n) === 0) return index;
  }
  return OTHER;
}

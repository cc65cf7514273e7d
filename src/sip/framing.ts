// Message framing on stream transports (TCP, TLS): RFC 3261 §18.3 says the
// Content-Length header is mandatory there and delimits the body; RFC 5626
// §4.4.1 adds CRLF keep-alives between messages.

import type { ParseLimits } from './message.ts';
import { CR, LF } from './syntax.ts';

export type FrameResult =
  /**
   * Not a whole message yet. Pass `resumeAt` back as `scanFrom` on the next call
   * over the same (grown) buffer, so bytes already searched are not searched again.
   */
  | { kind: 'need-more'; resumeAt?: number }
  /** A complete message occupies buf[start, end); parse it with parseMessage(buf.subarray(start, end), { stream: true }). */
  | { kind: 'message'; start: number; end: number }
  /**
   * A double-CRLF ping, with the rest of its run of CRLFs, ends at `end`:
   * answer it with a single CRLF (pong). A run is one ping however long, so a
   * flood of CRLFs costs one pass over its bytes and one answer per read.
   */
  | { kind: 'keepalive'; end: number }
  /** The stream cannot be framed any more; close the connection. */
  | { kind: 'error'; reason: string };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const NEED_MORE: FrameResult = Object.freeze({ kind: 'need-more' });

/**
 * Find the next message (or keep-alive) in `buf` from `offset`. Stray single
 * CRLFs before a message are skipped silently: they are pongs (or padding), and
 * answering them would make two peers bounce CRLFs forever; only a double
 * CRLF is a ping. Only CRLF line ends are framed (bare LF is not accepted on
 * streams). The returned message may still fail to parse; that is
 * parseMessage's business.
 */
export function frameStream(buf: Buffer, offset: number, limits: ParseLimits, scanFrom = offset): FrameResult {
  const len = buf.length;
  let i = offset;
  let ping = false;
  let afterCrlf = false;
  while (i < len) {
    const c = buf[i];
    if (c === CR) {
      if (i + 1 >= len) break;
      if (buf[i + 1] !== LF) return { kind: 'error', reason: 'Stray CR between messages' };
      if (afterCrlf) ping = true;
      afterCrlf = true;
      i += 2;
    } else if (c === LF) {
      afterCrlf = false;
      i++;
    } else {
      break;
    }
  }
  if (ping) return { kind: 'keepalive', end: i };
  if (i >= len || buf[i] === CR) return NEED_MORE;
  const start = i;
  // A peer dripping its header block a byte at a time must not make us rescan it
  // from the start on every byte: the caller tells where the search stopped.
  const headEnd = buf.indexOf(CRLFCRLF, scanFrom > start ? scanFrom : start);
  if (headEnd < 0) {
    if (len - start > limits.maxMessageBytes) return { kind: 'error', reason: 'Message too large' };
    return { kind: 'need-more', resumeAt: len - 3 > start ? len - 3 : start };
  }
  const bodyStart = headEnd + 4;
  if (bodyStart - start > limits.maxMessageBytes) return { kind: 'error', reason: 'Message too large' };
  const cl = findContentLength(buf, start, headEnd);
  if (cl === ABSENT) return { kind: 'error', reason: 'Missing Content-Length' };
  if (cl < 0) return { kind: 'error', reason: 'Malformed Content-Length' };
  const end = bodyStart + cl;
  if (end - start > limits.maxMessageBytes) return { kind: 'error', reason: 'Message too large' };
  if (end > len) return { kind: 'need-more', resumeAt: headEnd };
  return { kind: 'message', start, end };
}

const ABSENT = -1;
const INVALID = -2;

/**
 * Content-Length of the header block buf[start, headEnd): ABSENT, INVALID
 * (not a number, or several different values), or the value. Only lines
 * starting with c/C/l/L are looked at, so the scan is one indexOf per line.
 */
function findContentLength(buf: Buffer, start: number, headEnd: number): number {
  const head = buf.toString('latin1', start, headEnd);
  let found = ABSENT;
  let pos = head.indexOf('\n');
  while (pos >= 0 && pos < head.length) {
    const ls = pos + 1;
    let nl = head.indexOf('\n', ls);
    const c = head.charCodeAt(ls) | 0x20;
    if (c === 0x63 || c === 0x6c) {
      const le = nl < 0 ? head.length : nl;
      // Bounded by the line: an unbounded indexOf here would make hostile heads quadratic.
      let colon = ls;
      while (colon < le && head.charCodeAt(colon) !== 0x3a) colon++;
      if (colon > ls && colon < le) {
        let ne = colon;
        while (ne > ls && (head.charCodeAt(ne - 1) === 0x20 || head.charCodeAt(ne - 1) === 0x09)) ne--;
        const name = head.slice(ls, ne).toLowerCase();
        if (name === 'l' || name === 'content-length') {
          let value = head.slice(colon + 1, le);
          // Folded continuation lines belong to the value.
          while (nl >= 0 && (head.charCodeAt(nl + 1) === 0x20 || head.charCodeAt(nl + 1) === 0x09)) {
            const n2 = head.indexOf('\n', nl + 1);
            value += ' ' + head.slice(nl + 1, n2 < 0 ? head.length : n2);
            nl = n2;
          }
          const v = parseNonNegative(value);
          if (v < 0 || (found >= 0 && v !== found)) return INVALID;
          found = v;
        }
      }
    }
    pos = nl;
  }
  return found;
}

function parseNonNegative(s: string): number {
  let i = 0;
  let e = s.length;
  while (i < e && (s.charCodeAt(i) <= 0x20)) i++;
  while (e > i && (s.charCodeAt(e - 1) <= 0x20)) e--;
  if (i === e) return INVALID;
  let n = 0;
  for (; i < e; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return INVALID;
    n = n * 10 + c - 0x30;
    if (n > 0x7fffffff) return INVALID;
  }
  return n;
}

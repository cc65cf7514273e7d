import { describe, expect, it } from 'vitest';
import type { ParseLimits } from '../../../src/sip/message.ts';
import { DEFAULT_PARSE_LIMITS } from '../../../src/sip/message.ts';
import { frameStream, parseMessage } from '../../../src/sip/parser.ts';

function message(callId: string, body = '', extra: string[] = []): Buffer {
  const lines = [
    'MESSAGE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK' + callId,
    'From: <sip:alice@example.com>;tag=1',
    'To: <sip:bob@example.com>',
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);
}

const L = DEFAULT_PARSE_LIMITS;

describe('frameStream', () => {
  it('frames one complete message', () => {
    const m = message('one', 'hello');
    expect(frameStream(m, 0, L)).toEqual({ kind: 'message', start: 0, end: m.length });
  });

  it('asks for more while the head or the body is incomplete', () => {
    const m = message('one', 'hello world');
    for (const cut of [0, 1, 10, m.indexOf('\r\n\r\n') + 2, m.length - 1]) {
      expect(frameStream(m.subarray(0, cut), 0, L).kind, `cut ${cut}`).toBe('need-more');
    }
  });

  it('frames back-to-back messages from successive offsets', () => {
    const a = message('a', 'x');
    const b = message('b', 'yy');
    const buf = Buffer.concat([a, b]);
    const f1 = frameStream(buf, 0, L);
    expect(f1).toEqual({ kind: 'message', start: 0, end: a.length });
    const f2 = frameStream(buf, a.length, L);
    expect(f2).toEqual({ kind: 'message', start: a.length, end: buf.length });
    if (f2.kind !== 'message') throw new Error('unreachable');
    const r = parseMessage(buf.subarray(f2.start, f2.end), { stream: true });
    expect(r.ok && r.message.callId).toBe('b');
  });

  it('reports a double-CRLF ping as keepalive', () => {
    expect(frameStream(Buffer.from('\r\n\r\n'), 0, L)).toEqual({ kind: 'keepalive', end: 4 });
    const buf = Buffer.concat([Buffer.from('\r\n\r\n'), message('a')]);
    expect(frameStream(buf, 0, L)).toEqual({ kind: 'keepalive', end: 4 });
    expect(frameStream(buf, 4, L)).toEqual({ kind: 'message', start: 4, end: buf.length });
  });

  it('takes a whole run of CRLFs as one ping, in one pass', () => {
    const run = Buffer.alloc(10 * 1024 * 1024, '\r\n');
    expect(frameStream(run, 0, L)).toEqual({ kind: 'keepalive', end: run.length });
    const buf = Buffer.concat([Buffer.from('\r\n\r\n\r\n\n\r\n'), message('a')]);
    expect(frameStream(buf, 0, L)).toEqual({ kind: 'keepalive', end: 9 });
    expect(frameStream(buf, 9, L)).toEqual({ kind: 'message', start: 9, end: buf.length });
    // A CR whose LF has not come yet stays for the next read.
    expect(frameStream(Buffer.from('\r\n\r\n\r'), 0, L)).toEqual({ kind: 'keepalive', end: 4 });
  });

  it('skips a single CRLF (pong) silently, never reporting it as a ping', () => {
    const buf = Buffer.concat([Buffer.from('\r\n'), message('a')]);
    expect(frameStream(buf, 0, L)).toEqual({ kind: 'message', start: 2, end: buf.length });
    expect(frameStream(Buffer.from('\r\n'), 0, L).kind).toBe('need-more');
    expect(frameStream(Buffer.from('\r\n\r'), 0, L).kind).toBe('need-more');
    expect(frameStream(Buffer.from('\r'), 0, L).kind).toBe('need-more');
  });

  it('requires Content-Length and rejects malformed or conflicting values', () => {
    const noCl = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n');
    expect(frameStream(noCl, 0, L)).toEqual({ kind: 'error', reason: 'Missing Content-Length' });
    expect(frameStream(message('a', '', ['Content-Length: 3']), 0, L).kind).toBe('error');
    const neg = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n');
    expect(frameStream(neg, 0, L).kind).toBe('error');
  });

  it('understands compact, case-folded and folded Content-Length headers', () => {
    const compact = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabcNEXT');
    expect(frameStream(compact, 0, L)).toEqual({ kind: 'message', start: 0, end: compact.length - 4 });
    const upper = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCONTENT-LENGTH  :\r\n  2\r\n\r\nab');
    expect(frameStream(upper, 0, L)).toEqual({ kind: 'message', start: 0, end: upper.length });
    const same = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\nContent-Length: 2\r\n\r\nab');
    expect(frameStream(same, 0, L).kind).toBe('message');
    // Content-Type must not be mistaken for Content-Length.
    const ct = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Type: 5\r\nl: 1\r\n\r\nx');
    expect(frameStream(ct, 0, L)).toEqual({ kind: 'message', start: 0, end: ct.length });
  });

  it('enforces maxMessageBytes on heads that never end and on declared bodies', () => {
    const limits: ParseLimits = { ...L, maxMessageBytes: 200 };
    expect(frameStream(Buffer.alloc(300, 0x41), 0, limits)).toEqual({ kind: 'error', reason: 'Message too large' });
    expect(frameStream(Buffer.alloc(150, 0x41), 0, limits).kind).toBe('need-more');
    const big = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 500\r\n\r\n');
    expect(frameStream(big, 0, limits)).toEqual({ kind: 'error', reason: 'Message too large' });
  });

  it('reports a stray CR as an error instead of looping', () => {
    expect(frameStream(Buffer.from('\rX'), 0, L).kind).toBe('error');
  });

  it('says where to resume, so a header block arriving a byte at a time is searched once', () => {
    const whole = message('drip', 'body!', []);
    const headEnd = whole.indexOf('\r\n\r\n');
    let scanFrom = 0;
    const searchedFrom: number[] = [];
    for (let n = 1; n < headEnd + 4; n++) {
      const f = frameStream(whole.subarray(0, n), 0, L, scanFrom);
      expect(f.kind).toBe('need-more');
      const resumeAt = (f as { resumeAt?: number }).resumeAt!;
      // Never further back than three bytes before the end: a CRLFCRLF may straddle reads.
      expect(resumeAt).toBeGreaterThanOrEqual(Math.max(0, n - 3));
      searchedFrom.push(resumeAt);
      scanFrom = resumeAt;
    }
    expect(searchedFrom).toEqual([...searchedFrom].sort((a, b) => a - b));
    // Header complete, body still missing: resume at the header end, which is found again.
    const partialBody = frameStream(whole.subarray(0, whole.length - 1), 0, L, scanFrom);
    expect(partialBody).toEqual({ kind: 'need-more', resumeAt: headEnd });
    expect(frameStream(whole, 0, L, headEnd)).toEqual({ kind: 'message', start: 0, end: whole.length });
  });
});

// RFC 7339 on both sides: the Via parameters, the server's feedback from its
// admitted fractions (on manual time), and a client's reduction per peer.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/sip/parser.ts';
import { serializeMessage } from '../../../src/sip/serializer.ts';
import { parseVia } from '../../../src/sip/via.ts';
import { setTopVia } from '../../../src/sip/headers.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/sip/message.ts';
import {
  compareOcSeq, formatOcSeq, offerLoss, parseOcSeq, readFeedback, wantsLossFeedback, withFeedback,
} from '../../../src/sip/overload-via.ts';
import { OverloadControl } from '../../../src/sip/overload.ts';
import { OverloadFeedback } from '../../../src/sip/overload-client.ts';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import { ManualClock } from '../../../src/lib/time.ts';
import { harness, inbound } from './transaction/factory.ts';

let n = 0;
/** A request as it arrives off the wire, top Via with `viaParams`, a second Via on the same line. */
function wireRequest(method: string, viaParams: string, extra = ''): SipRequest {
  const i = ++n;
  const text = `${method} sip:bob@example.com SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-oc-${i}${viaParams}, SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK-first-${i}\r\n` +
    'Max-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=f1\r\nTo: <sip:bob@example.com>\r\n' +
    `Call-ID: oc-${i}@test\r\nCSeq: 1 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.reason);
  return r.message as SipRequest;
}

/** The top Via of a message as a peer reads it from the wire. */
function topViaOnWire(msg: SipMessage) {
  const r = parseMessage(serializeMessage(msg));
  if (!r.ok) throw new Error(r.reason);
  return r.message.via;
}

describe('RFC 7339 Via parameters', () => {
  it('formats oc-seq with a five-digit counter and orders it by counter, not as a decimal', () => {
    expect(formatOcSeq({ sec: 1282321615, n: 7 })).toBe('1282321615.00007');
    expect(parseOcSeq('1282321615.00007')).toEqual({ sec: 1282321615, n: 7 });
    expect(parseOcSeq('12')).toEqual({ sec: 12, n: 0 });
    expect(compareOcSeq(parseOcSeq('12.10')!, parseOcSeq('12.9')!)).toBeGreaterThan(0);
    expect(compareOcSeq(parseOcSeq('13.0')!, parseOcSeq('12.99999')!)).toBeGreaterThan(0);
    for (const bad of ['', '.5', '12.', '12.123456', '1234567890123.1', '1e3', '12.-1']) expect(parseOcSeq(bad)).toBeUndefined();
  });

  it('gives feedback only to a Via with "oc" whose oc-algo list, if any, names loss', () => {
    expect(wantsLossFeedback(parseVia('SIP/2.0/UDP a;branch=z9hG4bK1')!)).toBe(false);
    expect(wantsLossFeedback(parseVia('SIP/2.0/UDP a;branch=z9hG4bK1;oc')!)).toBe(true);
    expect(wantsLossFeedback(parseVia('SIP/2.0/UDP a;branch=z9hG4bK1;oc;oc-algo="rate, LOSS"')!)).toBe(true);
    expect(wantsLossFeedback(parseVia('SIP/2.0/UDP a;branch=z9hG4bK1;oc;oc-algo="rate"')!)).toBe(false);
  });

  it('replaces what the client offered with the chosen algorithm and the values, keeping every other parameter', () => {
    const via = parseVia('SIP/2.0/UDP a:5060;branch=z9hG4bK1;oc;oc-algo="loss,rate";rport=4000;received=192.0.2.7')!;
    const out = withFeedback(via, { reduction: 75, validityMs: 500, seq: { sec: 100, n: 2 } });
    expect(via.params.get('oc')).toBeNull(); // the request's own Via untouched
    expect([...out.params]).toEqual([
      ['branch', 'z9hG4bK1'], ['rport', '4000'], ['received', '192.0.2.7'],
      ['oc', '75'], ['oc-algo', '"loss"'], ['oc-validity', '500'], ['oc-seq', '100.00002'],
    ]);
    expect(readFeedback(out)).toEqual({ reduction: 75, validityMs: 500, seq: { sec: 100, n: 2 } });
  });

  it('reads feedback with the defaults and refuses what it cannot use', () => {
    const read = (params: string) => readFeedback(parseVia(`SIP/2.0/UDP a;branch=z9hG4bK1${params}`)!);
    expect(read(';oc=20')).toEqual({ reduction: 20, validityMs: 500, seq: undefined });
    expect(read(';oc=0;oc-validity=0;oc-seq=5.1')).toEqual({ reduction: 0, validityMs: 0, seq: { sec: 5, n: 1 } });
    expect(read(';oc')).toBeUndefined(); // our own bare offer, echoed by a server that does not throttle
    expect(read('')).toBeUndefined();
    for (const bad of [';oc=101', ';oc=-1', ';oc=x', ';oc=10;oc-algo="rate"', ';oc=10;oc-validity', ';oc=10;oc-validity=soon', ';oc=10;oc-seq=1.2.3']) {
      expect(read(bad), bad).toBeUndefined();
    }
  });

  it('offers oc with the loss algorithm on a request', () => {
    const via = offerLoss(parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1')!);
    expect(via.params.get('oc')).toBeNull();
    expect(via.params.get('oc-algo')).toBe('"loss"');
    expect(wantsLossFeedback(via)).toBe(true);
  });
});

/** A controller on manual time whose probe never comes back: it starts shedding at 400 ms. */
function overloaded(clockStart = 1_700_000_000_000) {
  const timers = new ManualTimerQueue({ clock: new ManualClock(clockStart) });
  const oc = new OverloadControl({ timers, sendProbe: () => true, sampleMs: 100, maxDelayMs: 200, ocValidityMs: 800 });
  oc.start();
  return { oc, timers };
}

describe('OverloadControl feedback to RFC 7339 clients', () => {
  it('says nothing while nothing is shed', () => {
    const { oc } = overloaded();
    const req = wireRequest('INVITE', ';oc');
    oc.feedback(req);
    expect(req.via[0]!.params.get('oc')).toBeNull();
    expect(oc.state.ocFeedback).toBe(0);
  });

  it('tells each class its share, with one oc-seq per change of the fractions', () => {
    const { oc, timers } = overloaded();
    timers.advance(500); // cut at 400 and 500 ms (two changes: oc-seq counts 2): 0.25 of those without credentials
    expect(oc.state.admittedUnauthenticated).toBe(0.25);
    const anon = wireRequest('REGISTER', ';oc;oc-algo="loss"');
    oc.feedback(anon);
    const sec = Math.floor((1_700_000_000_000 + 500) / 1000);
    expect(readFeedback(anon.via[0])).toEqual({ reduction: 75, validityMs: 800, seq: { sec, n: 2 } });
    // The Via line is rewritten with the second value kept.
    expect(topViaOnWire(anon).map((v) => v.params.get('branch'))).toEqual([anon.via[0]!.params.get('branch'), expect.stringMatching(/^z9hG4bK-first-/)]);
    const vouched = wireRequest('INVITE', ';oc', 'Proxy-Authorization: Digest username="a"\r\n');
    oc.feedback(vouched);
    expect(readFeedback(vouched.via[0])).toEqual({ reduction: 0, validityMs: 800, seq: { sec, n: 2 } });
    timers.advance(100);
    const next = wireRequest('REGISTER', ';oc');
    oc.feedback(next);
    expect(readFeedback(next.via[0])).toMatchObject({ reduction: 88, seq: { sec, n: 3 } });
    // A client that runs only another algorithm gets nothing.
    const rate = wireRequest('INVITE', ';oc;oc-algo="rate"');
    oc.feedback(rate);
    expect(rate.via[0]!.params.get('oc')).toBeNull();
    expect(oc.state.ocFeedback).toBe(3);
  });

  it('sends oc-validity=0 for one validity period once nothing is shed any more, then nothing', () => {
    const timers = new ManualTimerQueue({ clock: new ManualClock(0) });
    let probe = '';
    const oc = new OverloadControl({ timers, sendProbe: (id) => ((probe = id), true), sampleMs: 100, maxDelayMs: 200, ocValidityMs: 800, recoveryStep: 0.5 });
    oc.start();
    timers.advance(400); // one cut: 0.5
    const back = (): void => void oc.isProbe({ ...wireRequest('OPTIONS', ''), callId: probe });
    back();
    timers.advance(100); // 500: the probe's wait (400) still counts: cut to 0.25
    back();
    timers.advance(100); // 600: quick: +0.5
    expect(oc.state.admittedUnauthenticated).toBe(0.75);
    back();
    timers.advance(100); // 700: recovered
    expect(oc.state.admittedUnauthenticated).toBe(1);
    const end = wireRequest('INVITE', ';oc');
    oc.feedback(end);
    expect(readFeedback(end.via[0])).toEqual({ reduction: 0, validityMs: 0, seq: { sec: 0, n: 4 } });
    for (let i = 0; i < 7; i++) {
      back();
      timers.advance(100);
    } // 1,400: still within 800 ms of the 700 ms sample
    const late = wireRequest('INVITE', ';oc');
    oc.feedback(late);
    expect(readFeedback(late.via[0])?.validityMs).toBe(0);
    back();
    timers.advance(100);
    const after = wireRequest('INVITE', ';oc');
    oc.feedback(after);
    expect(after.via[0]!.params.get('oc')).toBeNull();
  });

  it('puts the feedback in the transaction layer\'s stateless 503, and in nothing it drops', () => {
    let verdict: 'refuse' | 'drop' = 'refuse';
    const h = harness({
      admission: {
        admit: () => verdict,
        retryAfter: () => ({ name: 'retry-after', value: '3' }),
        feedback: (req) => setTopVia(req, withFeedback(req.via[0]!, { reduction: 40, validityMs: 500, seq: { sec: 9, n: 0 } })),
      },
    });
    // The layer calls feedback only when the top Via has "oc".
    const plain = wireRequest('INVITE', '');
    h.layer.receive(inbound(plain));
    const asked = wireRequest('INVITE', ';oc');
    h.layer.receive(inbound(asked));
    verdict = 'drop';
    h.layer.receive(inbound(wireRequest('INVITE', ';oc')));
    const busy = h.sender.all(503) as SipResponse[];
    expect(busy).toHaveLength(2);
    expect(busy[0]!.via[0]!.params.has('oc')).toBe(false);
    expect(topViaOnWire(busy[1]!)[0]!.params.get('oc')).toBe('40');
    expect(topViaOnWire(busy[1]!)[0]!.params.get('oc-seq')).toBe('9.00000');
  });
});

describe('OverloadFeedback (a client of RFC 7339 servers)', () => {
  function response(viaParams: string): SipResponse {
    const text = `SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-x${viaParams}\r\n` +
      'From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
    const r = parseMessage(Buffer.from(text));
    if (!r.ok) throw new Error(r.reason);
    return r.message as SipResponse;
  }
  const sent = (fb: OverloadFeedback, peer: string, k: number): number => {
    let s = 0;
    for (let i = 0; i < k; i++) if (fb.admit(peer)) s++;
    return s;
  };

  it('sends everything until a server asks for less, then exactly its share, evenly, for oc-validity ms', () => {
    const clock = new ManualClock(1000);
    const fb = new OverloadFeedback(clock);
    expect(sent(fb, 'carrier', 10)).toBe(10);
    fb.noteResponse('carrier', response(';oc'));
    expect(sent(fb, 'carrier', 10)).toBe(10);
    fb.noteResponse('carrier', response(';oc=75;oc-algo="loss";oc-validity=2000;oc-seq=5.00001'));
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => fb.admit('carrier'))).toEqual([false, false, false, true, false, false, false, true]);
    expect(sent(fb, 'other', 4)).toBe(4);
    expect(fb.list()).toEqual([{ peer: 'carrier', reduction: 75, until: 3000, shed: 6 }]);
    clock.advance(2000);
    expect(sent(fb, 'carrier', 10)).toBe(10);
    expect(fb.list()[0]).toMatchObject({ reduction: 0, shed: 6 });
  });

  it('ignores feedback older than what it holds, refreshes on the same oc-seq, stops at oc-validity=0', () => {
    const clock = new ManualClock(0);
    const fb = new OverloadFeedback(clock);
    fb.noteResponse('t', response(';oc=50;oc-validity=1000;oc-seq=10.00002'));
    fb.noteResponse('t', response(';oc=90;oc-validity=1000;oc-seq=10.00001')); // overtaken on the way
    expect(sent(fb, 't', 10)).toBe(5);
    clock.advance(900);
    fb.noteResponse('t', response(';oc=50;oc-validity=1000;oc-seq=10.00002')); // the server repeats itself
    clock.advance(900);
    expect(sent(fb, 't', 10)).toBe(5);
    fb.noteResponse('t', response(';oc=50;oc-validity=0;oc-seq=10.00003'));
    expect(sent(fb, 't', 10)).toBe(10);
    // A response to another algorithm, or with a value out of range, changes nothing.
    fb.noteResponse('t', response(';oc=80;oc-algo="rate";oc-seq=11.0'));
    fb.noteResponse('t', response(';oc=180;oc-seq=11.0'));
    expect(sent(fb, 't', 10)).toBe(10);
    fb.noteResponse('t', response(';oc=100;oc-seq=11.0'));
    expect(sent(fb, 't', 10)).toBe(0);
  });
});

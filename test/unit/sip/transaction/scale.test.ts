import { describe, expect, it } from 'vitest';
import { UDP_PEER, harness, inbound, makeRequest, makeResponse } from './factory.ts';

const N = 100_000;

describe('scale', () => {
  // Generous timeouts: the machine is shared; the times printed are informative, not asserted.
  it(`${N} client transactions created and completed; the timer queue drains to 0`, { timeout: 60_000 }, () => {
    const h = harness();
    h.sender.keep = false;
    const requests = Array.from({ length: N }, (_, i) => makeRequest({ method: i % 2 ? 'OPTIONS' : 'INVITE' }));
    const finals = requests.map((r) => inbound(makeResponse(r, r.method === 'INVITE' ? 486 : 200, 't')));
    let responses = 0;
    const handlers = { onResponse: () => responses++, onTimeout: () => {}, onTransportError: () => {} };

    const t0 = performance.now();
    for (const r of requests) h.layer.sendRequest(r, UDP_PEER, handlers);
    const created = performance.now();
    expect(h.layer.counters.clientInvite + h.layer.counters.clientNonInvite).toBe(N);
    // Two timers each: A+B or E+F.
    expect(h.timers.size).toBe(2 * N);
    // One round of retransmissions through the heap.
    h.timers.advance(600);
    expect(h.layer.counters.retransmissionsSent).toBe(N);
    for (const f of finals) h.layer.receive(f);
    const answered = performance.now();
    expect(responses).toBe(N);
    // Only timers D and K remain, one per transaction.
    expect(h.timers.size).toBe(N);
    h.timers.advance(32_000);
    const drained = performance.now();

    expect(h.timers.size).toBe(0);
    expect(h.layer.size).toBe(0);
    expect(h.layer.counters.clientInvite + h.layer.counters.clientNonInvite).toBe(0);
    expect(h.sender.count('ACK')).toBe(N / 2);
    console.log(
      `[scale] ${N} client tx: create ${(created - t0).toFixed(0)} ms, ` +
        `retransmit+answer ${(answered - created).toFixed(0)} ms, drain ${(drained - answered).toFixed(0)} ms`,
    );
  });

  it(`${N} server transactions answered and expired; the timer queue drains to 0`, { timeout: 60_000 }, () => {
    const h = harness({}, (req, tx) => tx?.respond(makeResponse(req, req.method === 'INVITE' ? 200 : 202, 'uas')));
    h.sender.keep = false;
    const messages = Array.from({ length: N }, (_, i) => inbound(makeRequest({ method: i % 2 ? 'MESSAGE' : 'INVITE' })));
    const t0 = performance.now();
    for (const m of messages) h.layer.receive(m);
    for (const m of messages) h.layer.receive(m);
    const received = performance.now();
    expect(h.requests).toHaveLength(N);
    expect(h.layer.counters.serverInvite + h.layer.counters.serverNonInvite).toBe(N);
    h.timers.advance(32_000);
    const drained = performance.now();
    expect(h.timers.size).toBe(0);
    expect(h.layer.size).toBe(0);
    console.log(`[scale] ${N} server tx: receive x2 ${(received - t0).toFixed(0)} ms, drain ${(drained - received).toFixed(0)} ms`);
  });
});

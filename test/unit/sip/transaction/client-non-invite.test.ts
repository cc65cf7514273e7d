import { describe, expect, it } from 'vitest';
import { TCP_PEER, UDP_PEER, harness, inbound, makeRequest, makeResponse, recorder } from './factory.ts';

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('timer E doubles from T1 up to T2, timer F times out at 64*T1', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const tx = h.layer.sendRequest(makeRequest({ method: 'OPTIONS' }), UDP_PEER, handlers);
    h.timers.advance(40_000);
    const times = h.sender.times('OPTIONS');
    // 0, +500, +1000, +2000, +4000, then every 4000 until F at 32000.
    expect(times.slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11_500]);
    const gaps = times.slice(4).map((t, i) => t - times[3 + i]!);
    expect(gaps.every((g) => g === 4000)).toBe(true);
    expect(times[times.length - 1]).toBeLessThan(32_000);
    expect(times).toHaveLength(11);
    expect(events.timeouts).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('in proceeding, timer E fires every T2', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest({ method: 'REGISTER' });
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    h.timers.advance(100);
    h.layer.receive(inbound(makeResponse(req, 100)));
    expect(tx.state).toBe('proceeding');
    h.timers.advance(20_000 - 100);
    // 0, then timer E armed at 0 for 500 fires in proceeding -> next every 4000.
    expect(h.sender.times('REGISTER')).toEqual([0, 500, 4500, 8500, 12_500, 16_500]);
    expect(events.responses.map((r) => r.status)).toEqual([100]);
  });

  it('timer F still fires in proceeding', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest({ method: 'REGISTER' });
    h.layer.sendRequest(req, UDP_PEER, handlers);
    h.layer.receive(inbound(makeResponse(req, 100)));
    h.timers.advance(32_000);
    expect(events.timeouts).toBe(1);
  });

  it('final response: to the TU once, retransmissions absorbed during timer K = T4, then stray', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest({ method: 'REGISTER' });
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    h.layer.receive(inbound(makeResponse(req, 200, 'x')));
    expect(tx.state).toBe('completed');
    h.layer.receive(inbound(makeResponse(req, 200, 'x')));
    expect(events.responses).toHaveLength(1);
    expect(h.layer.counters.retransmissionsAbsorbed).toBe(1);
    h.timers.advance(60_000);
    expect(h.sender.count('REGISTER')).toBe(1);
    expect(events.timeouts).toBe(0);
    expect(tx.state).toBe('terminated');
    h.layer.receive(inbound(makeResponse(req, 200, 'x')));
    expect(h.strayResponses).toHaveLength(1);
    expect(h.layer.counters.strayResponses).toBe(1);
  });

  it('timer K lasts exactly T4 on UDP and is 0 on TCP', () => {
    const udp = harness({ t4: 2000 });
    const r1 = makeRequest({ method: 'BYE' });
    const tx1 = udp.layer.sendRequest(r1, UDP_PEER, recorder().handlers);
    udp.layer.receive(inbound(makeResponse(r1, 200, 'x')));
    udp.timers.advance(1999);
    expect(tx1.state).toBe('completed');
    udp.timers.advance(1);
    expect(tx1.state).toBe('terminated');

    const tcp = harness();
    const r2 = makeRequest({ method: 'BYE', viaTransport: 'TCP' });
    const tx2 = tcp.layer.sendRequest(r2, TCP_PEER, recorder().handlers);
    tcp.layer.receive(inbound(makeResponse(r2, 200, 'x'), TCP_PEER));
    expect(tx2.state).toBe('terminated');
    expect(tcp.timers.size).toBe(0);
  });

  it('no retransmission on TCP, F still applies', () => {
    const h = harness();
    const { events, handlers } = recorder();
    h.layer.sendRequest(makeRequest({ method: 'MESSAGE' }), TCP_PEER, handlers);
    h.timers.advance(32_000);
    expect(h.sender.count('MESSAGE')).toBe(1);
    expect(events.timeouts).toBe(1);
  });

  it('a response must match branch and CSeq method', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest({ method: 'INFO' });
    h.layer.sendRequest(req, UDP_PEER, handlers);
    const otherBranch = makeResponse(req, 200, 'x');
    otherBranch.via = [{ ...req.via[0]!, params: new Map([['branch', 'z9hG4bKsomeone-else']]) }];
    h.layer.receive(inbound(otherBranch));
    const otherMethod = makeResponse(req, 200, 'x');
    otherMethod.cseq = { seq: req.cseq.seq, method: 'CANCEL' };
    h.layer.receive(inbound(otherMethod));
    expect(events.responses).toHaveLength(0);
    expect(h.strayResponses).toHaveLength(2);
    h.layer.receive(inbound(makeResponse(req, 200, 'x')));
    expect(events.responses).toHaveLength(1);
  });

  it('T1, T2 and T4 are configurable', () => {
    const h = harness({ t1: 100, t2: 300, t4: 1000 });
    const { events, handlers } = recorder();
    const req = makeRequest({ method: 'OPTIONS' });
    h.layer.sendRequest(req, UDP_PEER, handlers);
    h.timers.advance(1500);
    expect(h.sender.times('OPTIONS')).toEqual([0, 100, 300, 600, 900, 1200, 1500]);
    h.timers.advance(6400 - 1500);
    expect(events.timeouts).toBe(1);
  });

  it('rejects non-positive timer settings', () => {
    expect(() => harness({ t1: 0 })).toThrow(RangeError);
    expect(() => harness({ t2: -1 })).toThrow(RangeError);
  });
});

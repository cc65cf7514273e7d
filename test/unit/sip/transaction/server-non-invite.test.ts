import { describe, expect, it } from 'vitest';
import { TCP_PEER, harness, inbound, makeRequest, makeResponse, retransmissionOf } from './factory.ts';

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('absorbs retransmissions: nothing in trying, last provisional in proceeding, final in completed; TU called once', () => {
    const h = harness();
    const req = makeRequest({ method: 'REGISTER' });
    h.layer.receive(inbound(req));
    const tx = h.requests[0]!.tx!;
    expect(tx.kind).toBe('non-invite');
    expect(tx.state).toBe('trying');
    h.layer.receive(inbound(retransmissionOf(req)));
    expect(h.sender.sent).toHaveLength(0);
    expect(h.layer.counters.retransmissionsAbsorbed).toBe(1);

    tx.respond(makeResponse(req, 100));
    expect(tx.state).toBe('proceeding');
    h.layer.receive(inbound(retransmissionOf(req)));
    expect(h.sender.count(100)).toBe(2);

    tx.respond(makeResponse(req, 200, 'x'));
    expect(tx.state).toBe('completed');
    h.layer.receive(inbound(retransmissionOf(req)));
    h.layer.receive(inbound(retransmissionOf(req)));
    expect(h.sender.count(200)).toBe(3);
    expect(h.requests).toHaveLength(1);
    expect(tx.respond(makeResponse(req, 500, 'x'))).toBe(false);
    expect(h.sender.count(500)).toBe(0);
  });

  it('timer J = 64*T1 on UDP, then a retransmission is a new request', () => {
    const h = harness();
    const req = makeRequest({ method: 'OPTIONS' });
    h.layer.receive(inbound(req));
    const tx = h.requests[0]!.tx!;
    tx.respond(makeResponse(req, 200, 'x'));
    h.timers.advance(31_999);
    expect(tx.state).toBe('completed');
    h.timers.advance(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
    expect(h.layer.counters.serverNonInvite).toBe(0);
    h.layer.receive(inbound(retransmissionOf(req)));
    expect(h.requests).toHaveLength(2);
  });

  it('timer J is 0 on TCP', () => {
    const h = harness();
    const req = makeRequest({ method: 'OPTIONS', viaTransport: 'TCP' });
    h.layer.receive(inbound(req, TCP_PEER));
    const tx = h.requests[0]!.tx!;
    tx.respond(makeResponse(req, 200, 'x'));
    expect(tx.state).toBe('terminated');
    expect(h.sender.sent[0]!.dest).toEqual(TCP_PEER);
    expect(h.timers.size).toBe(0);
  });

  it('a transaction the TU never answers ends after 64*T1 instead of leaking', () => {
    const h = harness({ t1: 100 });
    h.layer.receive(inbound(makeRequest({ method: 'SUBSCRIBE' })));
    const tx = h.requests[0]!.tx!;
    let ended = 0;
    tx.onTerminated = () => ended++;
    h.timers.advance(6399);
    expect(tx.state).toBe('trying');
    h.timers.advance(1);
    expect(tx.state).toBe('terminated');
    expect(ended).toBe(1);
    expect(h.layer.counters.unansweredServer).toBe(1);
    expect(tx.respond(makeResponse(tx.request, 200, 'x'))).toBe(false);
  });

  it('requests without a Via are dropped and counted', () => {
    const h = harness();
    const req = makeRequest({ method: 'OPTIONS' });
    req.via = [];
    h.layer.receive(inbound(req));
    expect(h.requests).toHaveLength(0);
    expect(h.layer.counters.droppedRequests).toBe(1);
  });
});

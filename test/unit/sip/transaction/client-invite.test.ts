import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import { TCP_PEER, UDP_PEER, harness, inbound, makeRequest, makeResponse, recorder } from './factory.ts';

describe('INVITE client transaction (RFC 3261 §17.1.1, RFC 6026)', () => {
  it('timer A retransmits at T1 doubling each time (no T2 cap), timer B times out at 64*T1', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const tx = h.layer.sendRequest(makeRequest(), UDP_PEER, handlers);
    expect(tx.state).toBe('calling');
    h.timers.advance(40_000);
    // Sends at 0, then +500, +1000, +2000, +4000, +8000, +16000 -> 0.5 1.5 3.5 7.5 15.5 31.5 s.
    expect(h.sender.times('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15_500, 31_500]);
    expect(events.timeouts).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(h.layer.counters.timeouts).toBe(1);
    expect(h.layer.counters.retransmissionsSent).toBe(6);
    expect(h.layer.counters.clientInvite).toBe(0);
    expect(h.timers.size).toBe(0);
  });

  it('timer B fires at exactly 64*T1', () => {
    const h = harness({ t1: 100 });
    const { events, handlers } = recorder();
    h.layer.sendRequest(makeRequest(), UDP_PEER, handlers);
    h.timers.advance(6399);
    expect(events.timeouts).toBe(0);
    h.timers.advance(1);
    expect(events.timeouts).toBe(1);
  });

  it('does not retransmit on a reliable transport, but still times out', () => {
    const h = harness();
    const { events, handlers } = recorder();
    h.layer.sendRequest(makeRequest(), TCP_PEER, handlers);
    h.timers.advance(40_000);
    expect(h.sender.count('INVITE')).toBe(1);
    expect(events.timeouts).toBe(1);
  });

  it('a provisional response stops A and B and reaches the TU', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest();
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    h.timers.advance(600);
    h.layer.receive(inbound(makeResponse(req, 180, 'uas')));
    expect(tx.state).toBe('proceeding');
    h.timers.advance(120_000);
    expect(h.sender.count('INVITE')).toBe(2);
    expect(events.timeouts).toBe(0);
    expect(events.responses.map((r) => r.status)).toEqual([180]);
    expect(h.timers.size).toBe(0);
  });

  it('non-2xx: ACK built inside the transaction to the same dest, retransmitted non-2xx re-ACKed and absorbed, D = 32 s on UDP', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest({ routes: ['<sip:proxy.example.com;lr>'], seq: 7 });
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    const busy = makeResponse(req, 486, 'uas-tag');
    h.layer.receive(inbound(busy));
    expect(tx.state).toBe('completed');
    expect(events.responses.map((r) => r.status)).toEqual([486]);

    const acks = h.sender.sent.filter((s) => s.message.kind === 'request' && s.message.method === 'ACK');
    expect(acks).toHaveLength(1);
    expect(acks[0]!.dest).toEqual(UDP_PEER);
    const ack = acks[0]!.message as SipRequest;
    expect(ack.uriRaw).toBe(req.uriRaw);
    expect(ack.cseq).toEqual({ seq: 7, method: 'ACK' });
    expect(ack.via).toHaveLength(1);
    expect(ack.via[0]!.params.get('branch')).toBe(req.via[0]!.params.get('branch'));
    expect(ack.to.params.get('tag')).toBe('uas-tag');
    expect(ack.callId).toBe(req.callId);
    const hv = (name: string) => ack.headers.filter((x) => x.name === name).map((x) => x.value);
    expect(hv('via')).toEqual([`SIP/2.0/UDP 192.0.2.10:5060;branch=${req.via[0]!.params.get('branch')}`]);
    expect(hv('to')[0]).toContain(';tag=uas-tag');
    expect(hv('cseq')).toEqual(['7 ACK']);
    expect(hv('route')).toEqual(['<sip:proxy.example.com;lr>']);
    expect(hv('call-id')).toEqual([req.callId]);
    expect(hv('from')).toEqual(req.headers.filter((x) => x.name === 'from').map((x) => x.value));

    h.layer.receive(inbound(makeResponse(req, 486, 'uas-tag')));
    expect(h.sender.count('ACK')).toBe(2);
    expect(events.responses).toHaveLength(1);

    h.timers.advance(31_999);
    expect(tx.state).toBe('completed');
    h.timers.advance(1);
    expect(tx.state).toBe('terminated');
    h.layer.receive(inbound(makeResponse(req, 486, 'uas-tag')));
    expect(h.strayResponses).toHaveLength(1);
  });

  it('timer D is 0 on a reliable transport', () => {
    const h = harness();
    const { handlers } = recorder();
    const req = makeRequest({ viaTransport: 'TCP' });
    const tx = h.layer.sendRequest(req, TCP_PEER, handlers);
    h.layer.receive(inbound(makeResponse(req, 603, 't'), TCP_PEER));
    expect(h.sender.count('ACK')).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('timer D is configurable', () => {
    const h = harness({ timerD: 5000 });
    const { handlers } = recorder();
    const req = makeRequest();
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    h.layer.receive(inbound(makeResponse(req, 404, 't')));
    h.timers.advance(5000);
    expect(tx.state).toBe('terminated');
  });

  it('2xx: to the TU, state accepted, retransmitted and forked 2xx also reach the TU, no ACK sent, timer M = 64*T1', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest();
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    h.layer.receive(inbound(makeResponse(req, 180, 'a')));
    h.layer.receive(inbound(makeResponse(req, 200, 'a')));
    expect(tx.state).toBe('accepted');
    h.timers.advance(1000);
    h.layer.receive(inbound(makeResponse(req, 200, 'a')));
    h.layer.receive(inbound(makeResponse(req, 200, 'fork-b')));
    h.layer.receive(inbound(makeResponse(req, 486, 'late')));
    expect(events.responses.map((r) => `${r.status}/${r.to.params.get('tag')}`)).toEqual(['180/a', '200/a', '200/a', '200/fork-b']);
    expect(h.sender.count('ACK')).toBe(0);
    expect(h.sender.count('INVITE')).toBe(1);
    h.timers.advance(64 * 500 - 1000 - 1);
    expect(tx.state).toBe('accepted');
    h.timers.advance(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('a transport error ends the transaction and is reported once, after sendRequest returned', async () => {
    const h = harness();
    const { events, handlers } = recorder();
    h.sender.failMode = 'sync';
    const tx = h.layer.sendRequest(makeRequest(), UDP_PEER, handlers);
    expect(events.errors).toHaveLength(0);
    expect(tx.state).toBe('terminated');
    await Promise.resolve();
    expect(events.errors).toHaveLength(1);
    expect(h.layer.counters.transportErrors).toBe(1);
    expect(h.timers.size).toBe(0);
  });

  it('an asynchronous transport error on a retransmission is reported and stops the timers', async () => {
    const h = harness();
    const { events, handlers } = recorder();
    const tx = h.layer.sendRequest(makeRequest(), UDP_PEER, handlers);
    h.sender.failMode = 'async';
    h.timers.advance(500);
    await Promise.resolve();
    expect(events.errors).toHaveLength(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('the CANCEL grace period ends a transaction whose INVITE is never answered finally', () => {
    const h = harness();
    const { events, handlers } = recorder();
    const req = makeRequest();
    const tx = h.layer.sendRequest(req, UDP_PEER, handlers);
    h.layer.receive(inbound(makeResponse(req, 180, 'a')));
    h.timers.advance(60_000);
    expect(tx.state).toBe('proceeding');
    tx.startCancelTimeout();
    h.timers.advance(32_000);
    expect(events.timeouts).toBe(1);
    expect(tx.state).toBe('terminated');
  });

  it('the request timeout can be set per request (B)', () => {
    const h = harness();
    const { events, handlers } = recorder();
    h.layer.sendRequest(makeRequest(), UDP_PEER, handlers, { timeoutMs: 4000 });
    h.timers.advance(3999);
    expect(events.timeouts).toBe(0);
    h.timers.advance(1);
    expect(events.timeouts).toBe(1);
  });

  it('refuses ACKs, requests without a branch and duplicate branches', () => {
    const h = harness();
    const { handlers } = recorder();
    expect(() => h.layer.sendRequest(makeRequest({ method: 'ACK' }), UDP_PEER, handlers)).toThrow(TypeError);
    expect(() => h.layer.sendRequest(makeRequest({ branch: null }), UDP_PEER, handlers)).toThrow(TypeError);
    h.layer.sendRequest(makeRequest({ branch: 'z9hG4bKdup' }), UDP_PEER, handlers);
    expect(() => h.layer.sendRequest(makeRequest({ branch: 'z9hG4bKdup' }), UDP_PEER, handlers)).toThrow(/already live/);
  });
});

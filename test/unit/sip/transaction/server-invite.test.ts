import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import type { InviteServerTransaction, ServerTransaction } from '../../../../src/sip/transaction/types.ts';
import { TCP_PEER, harness, inbound, makeRequest, makeResponse, retransmissionOf } from './factory.ts';

function ackFor(invite: SipRequest, toTag: string, branch = invite.via[0]!.params.get('branch')!): SipRequest {
  const ack = makeRequest({
    method: 'ACK',
    branch,
    callId: invite.callId,
    fromTag: invite.from.params.get('tag')!,
    toTag,
    seq: invite.cseq.seq,
  });
  return ack;
}

function serverTx(h: ReturnType<typeof harness>, i = 0): ServerTransaction {
  const tx = h.requests[i]?.tx;
  if (!tx) throw new Error('no server transaction');
  return tx;
}

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  it('sends 100 Trying after 200 ms when the TU is silent, and resends the last provisional on retransmission', () => {
    const h = harness();
    const invite = makeRequest();
    invite.headers.push({ name: 'timestamp', value: '54.2 0.1' });
    h.layer.receive(inbound(invite));
    expect(h.requests).toHaveLength(1);
    h.layer.receive(inbound(retransmissionOf(invite)));
    expect(h.sender.sent).toHaveLength(0);
    h.timers.advance(199);
    expect(h.sender.count(100)).toBe(0);
    h.timers.advance(1);
    expect(h.sender.count(100)).toBe(1);
    const trying = h.sender.last()!;
    expect(trying.kind === 'response' && trying.to.params.has('tag')).toBe(false);
    expect(trying.headers.find((x) => x.name === 'to')?.value).toBe('<sip:bob@example.com>');
    // RFC 3261 §8.2.6.1: a 100 copies the request's Timestamp.
    expect(trying.headers.filter((x) => x.name === 'timestamp').map((x) => x.value)).toEqual(['54.2 0.1']);
    expect(trying.headers.filter((x) => x.name === 'via').map((x) => x.value)).toEqual(
      invite.headers.filter((x) => x.name === 'via').map((x) => x.value),
    );
    h.layer.receive(inbound(retransmissionOf(invite)));
    expect(h.sender.count(100)).toBe(2);
    serverTx(h).respond(makeResponse(invite, 180, 'uas'));
    h.layer.receive(inbound(retransmissionOf(invite)));
    expect(h.sender.count(180)).toBe(2);
    expect(h.requests).toHaveLength(1);
    expect(h.sender.sent.every((s) => s.dest.address === '192.0.2.10')).toBe(true);
  });

  it('sends no 100 when the TU answers within 200 ms; immediate and disabled modes', () => {
    const quick = harness();
    quick.layer.receive(inbound(makeRequest()));
    quick.timers.advance(50);
    serverTx(quick).respond(makeResponse(quick.requests[0]!.req, 180, 't'));
    quick.timers.advance(1000);
    expect(quick.sender.count(100)).toBe(0);
    expect(quick.timers.size).toBe(0);

    let sentBeforeTu = -1;
    const now = harness({ autoTrying: 0 }, () => (sentBeforeTu = now.sender.count(100)));
    now.layer.receive(inbound(makeRequest()));
    expect(sentBeforeTu).toBe(1);

    const never = harness({ autoTrying: false });
    never.layer.receive(inbound(makeRequest()));
    never.timers.advance(10_000);
    expect(never.sender.sent).toHaveLength(0);
  });

  it('non-2xx final: timer G retransmits T1 doubling to T2, timer H ends it at 64*T1 with onTimeout', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = serverTx(h);
    let timeouts = 0;
    tx.onTimeout = () => timeouts++;
    tx.respond(makeResponse(invite, 486, 'uas'));
    expect(tx.state).toBe('completed');
    h.timers.advance(40_000);
    const times = h.sender.times(486);
    expect(times.slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11_500]);
    expect(times[times.length - 1]).toBe(31_500);
    expect(timeouts).toBe(1);
    expect(tx.state).toBe('terminated');
    expect(h.layer.counters.timeouts).toBe(1);
    expect(h.layer.counters.serverInvite).toBe(0);
    expect(h.timers.size).toBe(0);
  });

  it('a retransmitted INVITE in completed gets the final response again, the TU is not called', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    serverTx(h).respond(makeResponse(invite, 404, 'uas'));
    h.layer.receive(inbound(retransmissionOf(invite)));
    expect(h.sender.count(404)).toBe(2);
    expect(h.requests).toHaveLength(1);
    expect(h.layer.counters.retransmissionsAnswered).toBe(1);
  });

  it('ACK for the non-2xx is absorbed: confirmed, G stops, timer I = T4 then terminated', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = serverTx(h);
    tx.respond(makeResponse(invite, 486, 'uas'));
    h.timers.advance(600);
    h.layer.receive(inbound(ackFor(invite, 'uas')));
    expect(tx.state).toBe('confirmed');
    h.layer.receive(inbound(ackFor(invite, 'uas')));
    expect(h.strayAcks).toHaveLength(0);
    expect(h.requests).toHaveLength(1);
    h.timers.advance(4999);
    expect(tx.state).toBe('confirmed');
    expect(h.sender.count(486)).toBe(2);
    h.timers.advance(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('on TCP: no G, H still runs, I is 0', () => {
    const h = harness();
    const invite = makeRequest({ viaTransport: 'TCP' });
    h.layer.receive(inbound(invite, TCP_PEER));
    const tx = serverTx(h);
    tx.respond(makeResponse(invite, 486, 'uas'));
    h.timers.advance(10_000);
    expect(h.sender.count(486)).toBe(1);
    expect(h.sender.sent[0]!.dest).toEqual(TCP_PEER);
    h.layer.receive(inbound(ackFor(invite, 'uas'), TCP_PEER));
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('2xx: accepted, retransmitted INVITEs absorbed, ACKs go to the TU, timer L = 64*T1', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = serverTx(h);
    const ok = makeResponse(invite, 200, 'uas');
    expect(tx.respond(ok)).toBe(true);
    expect(tx.state).toBe('accepted');
    h.layer.receive(inbound(retransmissionOf(invite)));
    expect(h.sender.count(200)).toBe(1);
    expect(h.requests).toHaveLength(1);
    // A 2xx retransmission by the TU still goes through; other finals do not.
    expect(tx.respond(ok)).toBe(true);
    expect(tx.respond(makeResponse(invite, 486, 'uas'))).toBe(false);
    expect(h.sender.count(200)).toBe(2);

    h.layer.receive(inbound(ackFor(invite, 'uas', 'z9hG4bKnew-branch')));
    h.layer.receive(inbound(ackFor(invite, 'uas')));
    expect(h.strayAcks.map((a) => a.tx)).toEqual([undefined, tx]);

    h.timers.advance(31_999);
    expect(tx.state).toBe('accepted');
    h.timers.advance(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
  });

  it('without onStrayAck, ACKs for 2xx reach onRequest with no transaction', () => {
    const h = harness({ onStrayAck: undefined });
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    serverTx(h).respond(makeResponse(invite, 200, 'uas'));
    h.layer.receive(inbound(ackFor(invite, 'uas', 'z9hG4bKother')));
    expect(h.requests).toHaveLength(2);
    expect(h.requests[1]!.req.method).toBe('ACK');
    expect(h.requests[1]!.tx).toBeUndefined();
  });

  it('Retransmitter2xx re-sends the 2xx at T1 doubling to T2 until stopped, or times out at 64*T1', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = serverTx(h);
    const ok = makeResponse(invite, 200, 'uas');
    tx.respond(ok);
    let timedOut = 0;
    const r = h.layer.retransmit2xx(tx as InviteServerTransaction, ok, () => timedOut++);
    h.timers.advance(8000);
    expect(h.sender.times(200)).toEqual([0, 500, 1500, 3500, 7500]);
    r.stop();
    h.timers.advance(60_000);
    expect(h.sender.count(200)).toBe(5);
    expect(timedOut).toBe(0);
    expect(r.active).toBe(false);

    const h2 = harness();
    const invite2 = makeRequest();
    h2.layer.receive(inbound(invite2));
    const tx2 = serverTx(h2);
    const ok2 = makeResponse(invite2, 200, 'uas');
    tx2.respond(ok2);
    let timedOut2 = 0;
    h2.layer.retransmit2xx(tx2 as InviteServerTransaction, ok2, () => timedOut2++);
    h2.timers.advance(31_999);
    expect(timedOut2).toBe(0);
    h2.timers.advance(1);
    expect(timedOut2).toBe(1);
    // Still sent after the transaction ended at timer L (32 s): straight to the transport.
    expect(h2.sender.times(200).at(-1)).toBe(31_500);
    expect(h2.timers.size).toBe(0);
  });

  it('a transport error on respond terminates the transaction and tells the TU', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = serverTx(h);
    const errors: Error[] = [];
    tx.onTransportError = (e) => errors.push(e);
    h.sender.failMode = 'sync';
    tx.respond(makeResponse(invite, 486, 'uas'));
    expect(errors).toHaveLength(1);
    expect(tx.state).toBe('terminated');
    expect(h.timers.size).toBe(0);
    expect(h.layer.counters.transportErrors).toBe(1);
  });

  it('answers 503 without a transaction once maxServerTransactions is reached', () => {
    const h = harness({ maxServerTransactions: 2 });
    for (let i = 0; i < 3; i++) h.layer.receive(inbound(makeRequest()));
    expect(h.requests).toHaveLength(2);
    expect(h.sender.count(503)).toBe(1);
    const busy = h.sender.all(503)[0]!;
    expect(busy.to.params.get('tag')).toBeTruthy();
    expect(busy.headers.find((x) => x.name === 'to')?.value).toBe(`<sip:bob@example.com>;tag=${busy.to.params.get('tag')}`);
    expect(busy.headers.some((x) => x.name === 'retry-after')).toBe(true);
    expect(h.layer.counters.overloadRejected).toBe(1);
  });
});

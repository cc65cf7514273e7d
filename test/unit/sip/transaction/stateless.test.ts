import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import { statelessResponse, statelessTag } from '../../../../src/sip/transaction/stateless.ts';
import { harness, inbound, makeRequest, retransmissionOf } from './factory.ts';

/** A screen that challenges every INVITE without a Proxy-Authorization header, as the PBX does. */
function challengeUnauthenticated(req: SipRequest) {
  if (req.method !== 'INVITE' || req.headers.some((h) => h.name === 'proxy-authorization')) return undefined;
  return statelessResponse(req, 407, 'Proxy Authentication Required', [{ name: 'proxy-authenticate', value: 'Digest realm="x", nonce="n"' }]);
}

describe('stateless answers from the screen hook (RFC 3261 §8.2.7)', () => {
  it('sends the screen\'s response once, keeps no transaction and never retransmits it', () => {
    const h = harness({ screen: challengeUnauthenticated });
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    expect(h.sender.count(407)).toBe(1);
    expect(h.requests).toHaveLength(0);
    expect(h.layer.size).toBe(0);
    expect(h.timers.size).toBe(0);
    expect(h.layer.counters.statelessResponses).toBe(1);
    h.timers.advance(64_000);
    expect(h.sender.count(407)).toBe(1);
    expect(h.sender.count(100)).toBe(0);
  });

  it('answers each retransmission again with the same To tag, and the ACK to it reaches no transaction', () => {
    const h = harness({ screen: challengeUnauthenticated });
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    h.layer.receive(inbound(retransmissionOf(invite)));
    const [first, second] = h.sender.all(407);
    const tag = first!.to.params.get('tag');
    expect(tag).toBe(statelessTag(invite));
    expect(second!.to.params.get('tag')).toBe(tag);
    const ack = makeRequest({ method: 'ACK', branch: invite.via[0]!.params.get('branch')!, callId: invite.callId, fromTag: invite.from.params.get('tag')!, toTag: tag!, seq: 1 });
    h.layer.receive(inbound(ack));
    // Handed on as an ACK of no transaction: the user-agent core drops it (no dialog has that tag).
    expect(h.strayAcks).toEqual([{ ack, tx: undefined }]);
    expect(h.sender.sent).toHaveLength(2);
  });

  it('lets through what the screen does not answer, and never screens retransmissions of a live transaction', () => {
    let screened = 0;
    const h = harness({
      screen: (req) => {
        screened++;
        return challengeUnauthenticated(req);
      },
    });
    const invite = makeRequest();
    invite.headers.push({ name: 'proxy-authorization', value: 'Digest username="a"' });
    h.layer.receive(inbound(invite));
    expect(h.requests).toHaveLength(1);
    expect(h.requests[0]!.tx).toBeDefined();
    h.layer.receive(inbound(retransmissionOf(invite)));
    expect(screened).toBe(1);
    expect(h.layer.counters.statelessResponses).toBe(0);
  });

  it('gives different transactions different tags', () => {
    const a = makeRequest();
    const b = makeRequest({ callId: a.callId });
    expect(statelessTag(a)).not.toBe(statelessTag(b));
    expect(statelessTag(a)).toMatch(/^sl[0-9a-z]+$/);
  });
});

import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import { buildCancel } from '../../../../src/sip/transaction/build.ts';
import { generateBranch } from '../../../../src/sip/ids.ts';
import { harness, inbound, makeRequest, makeResponse, retransmissionOf } from './factory.ts';

/** A request of `method` sharing the dialog-less identity of `base` (same branch unless given). */
function sibling(base: SipRequest, method: string, overrides: { branch?: string | null; toTag?: string } = {}): SipRequest {
  return makeRequest({
    method,
    branch: overrides.branch === undefined ? (base.via[0]!.params.get('branch') ?? null) : overrides.branch,
    uri: base.uriRaw,
    callId: base.callId,
    fromTag: base.from.params.get('tag')!,
    toTag: overrides.toTag,
    seq: base.cseq.seq,
  });
}

describe('server transaction matching (RFC 3261 §17.2.3)', () => {
  it('CANCEL gets its own transaction and finds its INVITE by branch', () => {
    const h = harness();
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const inviteTx = h.requests[0]!.tx!;
    const cancel = sibling(invite, 'CANCEL');
    h.layer.receive(inbound(cancel));
    expect(h.requests).toHaveLength(2);
    const cancelTx = h.requests[1]!.tx!;
    expect(cancelTx).not.toBe(inviteTx);
    expect(cancelTx.kind).toBe('non-invite');
    expect(h.layer.findInviteServerTransactionForCancel(cancel)).toBe(inviteTx);
    expect(h.layer.findInviteServerTransactionForCancel(sibling(invite, 'CANCEL', { branch: 'z9hG4bKother' }))).toBeUndefined();
    // The CANCEL's retransmission matches the CANCEL transaction, not the INVITE.
    cancelTx.respond(makeResponse(cancel, 200, 'uas'));
    h.layer.receive(inbound(retransmissionOf(cancel)));
    expect(h.sender.count(200)).toBe(2);
    expect(h.requests).toHaveLength(2);
  });

  it('the same branch from a different sent-by, or with another method, is a different transaction', () => {
    const h = harness();
    const a = makeRequest({ method: 'OPTIONS', branch: 'z9hG4bKsame' });
    const b = makeRequest({ method: 'OPTIONS', branch: 'z9hG4bKsame', viaHost: '198.51.100.7' });
    const c = makeRequest({ method: 'INFO', branch: 'z9hG4bKsame' });
    for (const r of [a, b, c]) h.layer.receive(inbound(r));
    expect(h.requests).toHaveLength(3);
    expect(new Set(h.requests.map((r) => r.tx)).size).toBe(3);
  });

  it('a response with an unknown branch is stray and reaches onStrayResponse', () => {
    const h = harness();
    const req = makeRequest({ method: 'OPTIONS' });
    h.layer.receive(inbound(makeResponse(req, 200, 'x')));
    expect(h.strayResponses).toHaveLength(1);
    expect(h.layer.counters.strayResponses).toBe(1);
  });

  describe('RFC 2543 fallback (no magic cookie)', () => {
    it('matches INVITE retransmissions and absorbs the ACK for a non-2xx by the To tag of our response', () => {
      const h = harness();
      const invite = makeRequest({ branch: null });
      h.layer.receive(inbound(invite));
      h.layer.receive(inbound(retransmissionOf(invite)));
      expect(h.requests).toHaveLength(1);
      const tx = h.requests[0]!.tx!;
      tx.respond(makeResponse(invite, 486, 'ours'));
      h.layer.receive(inbound(retransmissionOf(invite)));
      expect(h.sender.count(486)).toBe(2);

      h.layer.receive(inbound(sibling(invite, 'ACK', { toTag: 'not-ours' })));
      expect(tx.state).toBe('completed');
      expect(h.strayAcks).toHaveLength(1);
      h.layer.receive(inbound(sibling(invite, 'ACK', { toTag: 'ours' })));
      expect(tx.state).toBe('confirmed');
      expect(h.strayAcks).toHaveLength(1);
    });

    it('works with a non-cookie branch value too, and tells requests apart by CSeq, Call-ID, From tag and Request-URI', () => {
      const h = harness();
      const base = makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c1', fromTag: 'f1', seq: 5 });
      h.layer.receive(inbound(base));
      h.layer.receive(inbound(makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c1', fromTag: 'f1', seq: 5 })));
      expect(h.requests).toHaveLength(1);
      h.layer.receive(inbound(makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c1', fromTag: 'f1', seq: 6 })));
      h.layer.receive(inbound(makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c2', fromTag: 'f1', seq: 5 })));
      h.layer.receive(inbound(makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c1', fromTag: 'f2', seq: 5 })));
      h.layer.receive(inbound(makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c1', fromTag: 'f1', seq: 5, uri: 'sip:carol@example.com' })));
      h.layer.receive(inbound(makeRequest({ method: 'OPTIONS', branch: 'legacy1', callId: 'c1', fromTag: 'f1', seq: 5, toTag: 't' })));
      expect(h.requests).toHaveLength(6);
    });

    it('an INVITE differing only in the To tag is not a retransmission', () => {
      const h = harness();
      const invite = makeRequest({ branch: null });
      h.layer.receive(inbound(invite));
      h.layer.receive(inbound(sibling(invite, 'INVITE', { branch: null, toTag: 'dialog' })));
      expect(h.requests).toHaveLength(2);
      expect(h.requests[1]!.tx).not.toBe(h.requests[0]!.tx);
    });

    it('finds the INVITE for a CANCEL when the To tags agree', () => {
      const h = harness();
      const invite = makeRequest({ branch: null });
      h.layer.receive(inbound(invite));
      const cancel = sibling(invite, 'CANCEL', { branch: null });
      expect(h.layer.findInviteServerTransactionForCancel(cancel)).toBe(h.requests[0]!.tx);
      expect(h.layer.findInviteServerTransactionForCancel(sibling(invite, 'CANCEL', { branch: null, toTag: 'x' }))).toBeUndefined();
    });
  });
});

describe('buildCancel', () => {
  it('copies Request-URI, Call-ID, From, To (no tag), CSeq number, top Via and Route', () => {
    const invite = makeRequest({ routes: ['<sip:p1;lr>', '<sip:p2;lr>'], seq: 42, branch: generateBranch() });
    const cancel = buildCancel(invite);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uriRaw).toBe(invite.uriRaw);
    expect(cancel.cseq).toEqual({ seq: 42, method: 'CANCEL' });
    expect(cancel.via).toEqual([invite.via[0]]);
    expect(cancel.to.params.has('tag')).toBe(false);
    const hv = (r: SipRequest, n: string) => r.headers.filter((x) => x.name === n).map((x) => x.value);
    expect(hv(cancel, 'route')).toEqual(['<sip:p1;lr>', '<sip:p2;lr>']);
    expect(hv(cancel, 'via')).toEqual(hv(invite, 'via'));
    expect(hv(cancel, 'to')).toEqual(hv(invite, 'to'));
    expect(hv(cancel, 'from')).toEqual(hv(invite, 'from'));
    expect(hv(cancel, 'cseq')).toEqual(['42 CANCEL']);
    expect(hv(cancel, 'max-forwards')).toEqual(['70']);
  });

  it('is matched on the client side by branch and method CANCEL, separately from the INVITE', () => {
    const h = harness();
    const invite = makeRequest({ branch: generateBranch() });
    const got: string[] = [];
    const handlers = (name: string) => ({
      onResponse: (r: { status: number }) => got.push(`${name}:${r.status}`),
      onTimeout: () => got.push(`${name}:timeout`),
      onTransportError: () => got.push(`${name}:error`),
    });
    h.layer.sendRequest(invite, { transport: 'udp', address: '192.0.2.10', port: 5060 }, handlers('invite'));
    h.layer.receive(inbound(makeResponse(invite, 180, 'u')));
    const cancel = buildCancel(invite);
    h.layer.sendRequest(cancel, { transport: 'udp', address: '192.0.2.10', port: 5060 }, handlers('cancel'));
    h.layer.receive(inbound(makeResponse(cancel, 200, 'u')));
    h.layer.receive(inbound(makeResponse(invite, 487, 'u')));
    expect(got).toEqual(['invite:180', 'cancel:200', 'invite:487']);
  });
});

// Retransmissions re-send bytes made once (MessageSender.prepare / sendPrepared),
// and a completed transaction keeps those bytes, not message objects.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../../../../src/sip/message.ts';
import { parseMessage } from '../../../../src/sip/parser.ts';
import { ManualTimerQueue } from '../../../../src/sip/timer-queue.ts';
import { TransactionLayer } from '../../../../src/sip/transaction/layer.ts';
import type { InviteServerTransaction, ServerTransaction } from '../../../../src/sip/transaction/types.ts';
import { FakeSender, UDP_PEER, harness, inbound, makeRequest, makeResponse, recorder, retransmissionOf } from './factory.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** WeakRef targets stay alive until the current job ends: let it end, then collect. */
async function collect(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  gc();
}

describe('retransmissions re-send prepared bytes', () => {
  it('non-INVITE server: provisional and final serialized once each, every retransmission answered with the same bytes', () => {
    const h = harness();
    const req = makeRequest({ method: 'REGISTER' });
    h.layer.receive(inbound(req));
    const tx = h.requests[0]!.tx!;
    tx.respond(makeResponse(req, 100));
    h.layer.receive(inbound(retransmissionOf(req)));
    expect(h.sender.calls).toEqual({ send: 0, prepare: 1, sendPrepared: 2 });
    expect(h.sender.sent[1]!.prepared).toBe(h.sender.sent[0]!.prepared);

    tx.respond(makeResponse(req, 200, 'x'));
    for (let i = 0; i < 5; i++) h.layer.receive(inbound(retransmissionOf(req)));
    expect(h.sender.calls).toEqual({ send: 0, prepare: 2, sendPrepared: 8 });
    const finals = h.sender.sent.slice(2);
    expect(finals).toHaveLength(6);
    const first = finals[0]!.prepared!;
    expect(first.data.toString('latin1')).toMatch(/^SIP\/2\.0 200 /);
    for (const s of finals) {
      expect(s.prepared).toBe(first);
      expect(s.dest).toEqual(UDP_PEER);
    }
    expect(h.layer.counters.retransmissionsAnswered).toBe(6);
  });

  it('INVITE server non-2xx: timer G and retransmitted INVITEs re-send the bytes made by respond()', () => {
    const h = harness({ autoTrying: false });
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = h.requests[0]!.tx!;
    tx.respond(makeResponse(invite, 486, 'busy'));
    h.timers.advance(500);
    h.layer.receive(inbound(retransmissionOf(invite)));
    h.timers.advance(1000);
    expect(h.sender.count(486)).toBe(4);
    expect(h.sender.calls.prepare).toBe(1);
    expect(h.sender.calls.send).toBe(0);
    expect(new Set(h.sender.sent.map((s) => s.prepared)).size).toBe(1);
  });

  it('INVITE server 2xx: the TU re-sending the same object reuses its bytes; a new object is serialized', () => {
    const h = harness({ autoTrying: false });
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = h.requests[0]!.tx! as InviteServerTransaction;
    const ok = makeResponse(invite, 200, 'uas');
    tx.respond(ok);
    const r = h.layer.retransmit2xx(tx, ok);
    h.timers.advance(500 + 1000 + 2000);
    expect(r.retransmissions).toBe(3);
    expect(h.sender.count(200)).toBe(4);
    expect(h.sender.calls.prepare).toBe(1);
    expect(tx.respond(makeResponse(invite, 200, 'uas'))).toBe(true);
    expect(h.sender.calls.prepare).toBe(2);
    r.stop();
  });

  it('2xx re-sends that outlast "accepted" are serialized once more, then reused', () => {
    const h = harness({ autoTrying: false, t1: 100, t2: 100 });
    const invite = makeRequest();
    h.layer.receive(inbound(invite));
    const tx = h.requests[0]!.tx! as InviteServerTransaction;
    const ok = makeResponse(invite, 200, 'uas');
    tx.respond(ok);
    h.layer.close();
    expect(tx.state).toBe('terminated');
    h.layer.retransmit2xx(tx, ok);
    h.timers.advance(300);
    expect(h.sender.count(200)).toBe(4);
    expect(h.sender.calls.prepare).toBe(2);
  });

  it('client transactions: timers A and E re-send the request bytes; the ACK is made once for every retransmitted non-2xx', () => {
    const h = harness();
    const { handlers } = recorder();
    h.layer.sendRequest(makeRequest({ method: 'OPTIONS' }), UDP_PEER, handlers);
    h.timers.advance(500 + 1000 + 2000);
    expect(h.sender.count('OPTIONS')).toBe(4);
    expect(h.sender.calls.prepare).toBe(1);
    expect(new Set(h.sender.sent.map((s) => s.prepared)).size).toBe(1);

    const inv = harness();
    const invite = makeRequest();
    inv.layer.sendRequest(invite, UDP_PEER, handlers);
    inv.timers.advance(500 + 1000);
    const busy = makeResponse(invite, 486, 'uas');
    for (let i = 0; i < 3; i++) inv.layer.receive(inbound(busy));
    expect(inv.sender.count('INVITE')).toBe(3);
    expect(inv.sender.count('ACK')).toBe(3);
    // One for the INVITE, one for the ACK.
    expect(inv.sender.calls.prepare).toBe(2);
    const acks = inv.sender.sent.filter((s) => s.message.kind === 'request' && s.message.method === 'ACK');
    expect(new Set(acks.map((s) => s.prepared)).size).toBe(1);
    expect(inv.sender.calls.send).toBe(0);
  });
});

/** A layer whose TU answers everything with 200 and keeps only weak references. */
function weakHarness(keepHandles: boolean) {
  const timers = new ManualTimerQueue();
  const sender = new FakeSender(timers.clock);
  sender.keep = false;
  const requests: WeakRef<SipRequest>[] = [];
  const responses: WeakRef<SipResponse>[] = [];
  const handles: ServerTransaction[] = [];
  const layer = new TransactionLayer({
    sender,
    timers,
    clock: timers.clock,
    onRequest: (req, tx) => {
      const res = makeResponse(req, 200, 'uas');
      tx!.respond(res);
      requests.push(new WeakRef(req));
      responses.push(new WeakRef(res));
      if (keepHandles) handles.push(tx!);
    },
  });
  return { timers, sender, layer, requests, responses, handles };
}

describe('completed server transactions hold no message objects', () => {
  it('the request and response of a completed non-INVITE are collectable while it still answers retransmissions', async () => {
    const h = weakHarness(false);
    const branches = ['z9hG4bK-w1', 'z9hG4bK-w2', 'z9hG4bK-w3'];
    for (const branch of branches) h.layer.receive(inbound(makeRequest({ method: 'REGISTER', branch })));
    await collect();
    expect(h.layer.counters.serverNonInvite).toBe(3);
    expect(h.requests.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
    expect(h.responses.map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
    // Still matched and answered from the kept bytes.
    h.layer.receive(inbound(makeRequest({ method: 'REGISTER', branch: branches[1] })));
    expect(h.layer.counters.retransmissionsAnswered).toBe(1);
    expect(h.sender.count(200)).toBe(4);
  });

  it('control: while the TU keeps its handle, request and last response stay reachable through it', async () => {
    const h = weakHarness(true);
    h.layer.receive(inbound(makeRequest({ method: 'REGISTER' })));
    await collect();
    const req = h.requests[0]!.deref();
    expect(req).toBeDefined();
    expect(h.handles[0]!.request).toBe(req);
    expect(h.handles[0]!.lastResponse).toBe(h.responses[0]!.deref());
    expect(h.handles[0]!.lastResponse?.status).toBe(200);
    expect(h.handles[0]!.state).toBe('completed');
    h.timers.advance(32_000);
    expect(h.handles[0]!.state).toBe('terminated');
  });

  it('hooks set on the handle fire from the transaction after the handle is gone', async () => {
    const h = weakHarness(false);
    let ended = 0;
    const layer = new TransactionLayer({
      sender: h.sender,
      timers: h.timers,
      clock: h.timers.clock,
      onRequest: (req, tx) => {
        tx!.onTerminated = () => ended++;
        tx!.respond(makeResponse(req, 200, 'uas'));
      },
    });
    layer.receive(inbound(makeRequest({ method: 'OPTIONS' })));
    await collect();
    h.timers.advance(32_000);
    expect(ended).toBe(1);
    expect(layer.size).toBe(0);
  });

  it('the matching key does not keep the parsed request text alive', async () => {
    // 300 requests with ~30 KB of header text each: ~9 MB if anything kept slices of them.
    const N = 300;
    const pad = 'x'.repeat(4_990);
    const datagram = (i: number) => {
      let text = `OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-pin-${i}\r\n`;
      text += `From: <sip:alice@example.org>;tag=f${i}\r\nTo: <sip:bob@example.com>\r\nCall-ID: pin-${i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n`;
      for (let k = 0; k < 6; k++) text += `X-Pad-${k}: ${i}-${pad}\r\n`;
      return Buffer.from(text + 'Content-Length: 0\r\n\r\n');
    };
    const run = async (keepSlices: boolean): Promise<number> => {
      const h = weakHarness(false);
      const kept: string[] = [];
      await collect();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < N; i++) {
        const parsed = parseMessage(datagram(i));
        if (!parsed.ok) throw new Error(parsed.reason);
        if (keepSlices) kept.push(parsed.message.via[0]!.params.get('branch')!);
        h.layer.receive(inbound(parsed.message));
      }
      await collect();
      expect(h.layer.counters.serverNonInvite).toBe(N);
      expect(kept).toHaveLength(keepSlices ? N : 0);
      return process.memoryUsage().heapUsed - before;
    };
    // The control proves the measurement sees pinned text: a short slice per message keeps it all.
    const pinned = await run(true);
    const held = await run(false);
    expect(pinned).toBeGreaterThan(6 * 2 ** 20);
    expect(held).toBeLessThan(2 * 2 ** 20);
  });
});

import { describe, expect, it } from 'vitest';
import { OverloadControl } from '../../../src/sip/overload.ts';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import { harness, inbound, makeRequest, retransmissionOf } from './transaction/factory.ts';

const ANON = makeRequest({ method: 'INVITE' });
const VOUCHED = makeRequest({ method: 'INVITE' });
VOUCHED.headers.push({ name: 'proxy-authorization', value: 'Digest username="a"' });

/**
 * A controller on manual time whose loop turns the test plays: each turn
 * reads `perTurn` datagrams and takes 1 ms; turns end when the test says.
 */
function rig() {
  const timers = new ManualTimerQueue();
  let endTurn: (() => void) | undefined;
  const oc = new OverloadControl({ timers, afterTurn: (fn) => void (endTurn = fn), sampleMs: 100, maxBacklogMs: 50, retryAfterSec: 2 });
  oc.start();
  /** `ms` of loop turns of `perTurn` datagrams each, one per ms. */
  const turns = (ms: number, perTurn: number): void => {
    for (let t = 0; t < ms; t++) {
      for (let i = 0; i < perTurn; i++) oc.received();
      endTurn?.();
      endTurn = undefined;
      timers.advance(1);
    }
  };
  /** How many of `n` requests of a class are admitted. */
  const admitted = (req: typeof ANON, n: number): number => {
    let k = 0;
    for (let i = 0; i < n; i++) if (oc.admit(req) === 'admit') k++;
    return k;
  };
  return { oc, timers, turns, admitted };
}

describe('OverloadControl (RFC 3261 §21.5.4)', () => {
  it('admits everything while the socket drains, bursts of full turns included', () => {
    const { oc, turns, admitted } = rig();
    // 40 ms of full turns (a burst) in every 100 ms, then turns that drain it.
    for (let i = 0; i < 10; i++) {
      turns(40, 32);
      turns(60, 3);
    }
    expect(oc.state).toMatchObject({ admitted: 1, admittedUnauthenticated: 1, refused: 0, dropped: 0 });
    expect(admitted(ANON, 50)).toBe(50);
    expect(admitted(VOUCHED, 50)).toBe(50);
  });

  it('never counts full turns with pauses between them (the socket drained) as a backlog', () => {
    const { oc, turns } = rig();
    for (let i = 0; i < 100; i++) {
      turns(1, 40);
      turns(6, 0);
    }
    expect(oc.state.backlogMs).toBeLessThan(5);
    expect(oc.state.admittedUnauthenticated).toBe(1);
  });

  it('once the socket stays backlogged past maxBacklogMs, drops requests without credentials first, halving per sample, evenly', () => {
    const { oc, turns, admitted } = rig();
    turns(100, 32);
    expect(oc.state.backlogMs).toBeGreaterThan(50);
    expect(oc.state.admittedUnauthenticated).toBe(0.5);
    expect(oc.state.admitted).toBe(1);
    turns(100, 32);
    expect(oc.state.admittedUnauthenticated).toBe(0.25);
    // Deterministic: every fourth one, and the ones with credentials all taken.
    const verdicts = [0, 1, 2, 3, 4, 5, 6, 7].map(() => oc.admit(ANON));
    expect(verdicts).toEqual(['drop', 'drop', 'drop', 'admit', 'drop', 'drop', 'drop', 'admit']);
    expect(admitted(VOUCHED, 40)).toBe(40);
    expect(oc.state.dropped).toBe(6);
    expect(oc.state.refused).toBe(0);
  });

  it('refuses requests with credentials (503) only once those without are all dropped', () => {
    const { oc, turns, admitted } = rig();
    for (let i = 0; i < 7; i++) turns(100, 32);
    expect(oc.state.admittedUnauthenticated).toBe(0);
    expect(oc.state.admitted).toBe(1);
    turns(100, 32);
    expect(oc.state.admitted).toBe(0.5);
    expect(admitted(VOUCHED, 100)).toBe(50);
    expect(oc.state.refused).toBe(50);
    expect(admitted(ANON, 100)).toBe(0);
  });

  it('recovers step by step without a long backlog, those with credentials first', () => {
    const { oc, turns } = rig();
    for (let i = 0; i < 9; i++) turns(100, 32);
    expect(oc.state.admitted).toBe(0.25);
    turns(100, 2);
    expect(oc.state.admitted).toBeCloseTo(0.3, 10);
    turns(1500, 2);
    expect(oc.state.admitted).toBe(1);
    expect(oc.state.admittedUnauthenticated).toBeGreaterThan(0);
    turns(2000, 2);
    expect(oc.state.admittedUnauthenticated).toBe(1);
  });

  it('spreads Retry-After over [base, 2 base] seconds', () => {
    const { oc, turns } = rig();
    for (let i = 0; i < 9; i++) turns(100, 32);
    const values = new Set<string>();
    for (let i = 0; i < 12; i++) if (oc.admit(VOUCHED) === 'refuse') values.add(oc.retryAfter().value);
    expect([...values].sort()).toEqual(['2', '3', '4']);
  });

  it('stops sampling when stopped', () => {
    const { oc, timers } = rig();
    expect(timers.size).toBe(1);
    oc.stop();
    expect(timers.size).toBe(0);
  });
});

describe('the transaction layer under overload', () => {
  /** A layer whose admission refuses everything it is asked about. */
  function shedding() {
    let asked = 0;
    const h = harness({
      admission: {
        admit: () => {
          asked++;
          return 'refuse';
        },
        retryAfter: () => ({ name: 'retry-after', value: '7' }),
      },
    });
    return { h, asked: () => asked };
  }

  it('refuses new out-of-dialog requests with a stateless 503 and Retry-After, keeping nothing', () => {
    const { h } = shedding();
    h.layer.receive(inbound(makeRequest({ method: 'INVITE' })));
    h.layer.receive(inbound(makeRequest({ method: 'REGISTER' })));
    h.layer.receive(inbound(makeRequest({ method: 'OPTIONS' })));
    expect(h.requests).toHaveLength(0);
    expect(h.sender.count(503)).toBe(3);
    const busy = h.sender.all(503)[0]!;
    expect(busy.headers.find((x) => x.name === 'retry-after')?.value).toBe('7');
    expect(busy.to.params.get('tag')).toBeTruthy();
    expect(h.layer.size).toBe(0);
    expect(h.layer.counters.overloadShed).toBe(3);
    h.timers.advance(64_000);
    expect(h.sender.count(503)).toBe(3);
  });

  it('drops what the admission says to drop, unanswered', () => {
    const h = harness({ admission: { admit: () => 'drop', retryAfter: () => ({ name: 'retry-after', value: '2' }) } });
    h.layer.receive(inbound(makeRequest({ method: 'INVITE' })));
    expect(h.sender.sent).toHaveLength(0);
    expect(h.requests).toHaveLength(0);
    expect(h.layer.counters.overloadDropped).toBe(1);
  });

  it('never refuses in-dialog requests, CANCEL, ACK or retransmissions of live transactions', () => {
    let admit: 'admit' | 'refuse' = 'admit';
    const h = harness({ admission: { admit: () => admit, retryAfter: () => ({ name: 'retry-after', value: '2' }) } });
    const invite = makeRequest({ method: 'INVITE' });
    h.layer.receive(inbound(invite));
    expect(h.requests).toHaveLength(1);
    admit = 'refuse';
    h.layer.receive(inbound(retransmissionOf(invite)));
    h.layer.receive(inbound(makeRequest({ method: 'CANCEL', branch: invite.via[0]!.params.get('branch')!, callId: invite.callId, fromTag: invite.from.params.get('tag')! })));
    h.layer.receive(inbound(makeRequest({ method: 'BYE', toTag: 'callee' })));
    h.layer.receive(inbound(makeRequest({ method: 'INVITE', toTag: 'callee' })));
    h.layer.receive(inbound(makeRequest({ method: 'ACK', toTag: 'callee' })));
    expect(h.sender.count(503)).toBe(0);
    expect(h.requests.map((r) => r.req.method)).toEqual(['INVITE', 'CANCEL', 'BYE', 'INVITE']);
    expect(h.strayAcks).toHaveLength(1);
    expect(h.layer.counters.overloadShed).toBe(0);
  });
});

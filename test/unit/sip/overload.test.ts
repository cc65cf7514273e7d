import { describe, expect, it } from 'vitest';
import { OverloadControl } from '../../../src/sip/overload.ts';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import { harness, inbound, makeRequest, retransmissionOf } from './transaction/factory.ts';

/** A controller on manual time whose busy fraction the test sets per sample. */
function rig(opts: { minRequestsPerSec?: number } = {}) {
  const timers = new ManualTimerQueue();
  let busy = 0;
  const oc = new OverloadControl({ timers, busy: () => busy, sampleMs: 100, targetUtilization: 0.9, minRequestsPerSec: opts.minRequestsPerSec ?? 100, retryAfterSec: 2 });
  oc.start();
  /** One sample period with `n` new requests offered at busy fraction `u`; returns how many were admitted. */
  const period = (u: number, n = 50): number => {
    let admitted = 0;
    for (let i = 0; i < n; i++) if (oc.admit()) admitted++;
    busy = u;
    timers.advance(100);
    return admitted;
  };
  return { oc, timers, period };
}

describe('OverloadControl (RFC 3261 §21.5.4)', () => {
  it('admits everything while the loop is under its target', () => {
    const { oc, period } = rig();
    for (let i = 0; i < 20; i++) expect(period(0.85)).toBe(50);
    expect(oc.state).toEqual({ admitted: 1, utilization: 0.85, shed: 0 });
  });

  it('halves the admitted fraction per sample while saturated, and admits exactly that fraction, evenly', () => {
    const { oc, period } = rig();
    period(1);
    expect(oc.state.admitted).toBe(0.5);
    expect(period(1, 100)).toBe(50);
    expect(oc.state.admitted).toBe(0.25);
    // Deterministic: every fourth request, never two refusals' worth of credit lost.
    const taken: boolean[] = [];
    for (let i = 0; i < 8; i++) taken.push(oc.admit());
    expect(taken).toEqual([false, false, false, true, false, false, false, true]);
    expect(oc.state.shed).toBe(50 + 6);
  });

  it('cuts less just above the target', () => {
    const { oc, period } = rig();
    period(0.95);
    expect(oc.state.admitted).toBeCloseTo(0.75, 10);
  });

  it('recovers step by step once the loop is under its target again', () => {
    const { oc, period } = rig();
    for (let i = 0; i < 10; i++) period(1);
    expect(oc.state.admitted).toBeLessThan(0.001);
    period(0.5);
    expect(oc.state.admitted).toBeCloseTo(0.05, 2);
    for (let i = 0; i < 25; i++) period(0.5);
    expect(oc.state.admitted).toBe(1);
    expect(period(0.5, 30)).toBe(30);
  });

  it('does not shed when the loop is busy with something other than SIP (few requests)', () => {
    const { oc, period } = rig({ minRequestsPerSec: 100 });
    // 100/s at 100 ms samples is 10 per sample: 9 is below it.
    for (let i = 0; i < 10; i++) period(1, 9);
    expect(oc.state.admitted).toBe(1);
    period(1, 10);
    expect(oc.state.admitted).toBe(0.5);
  });

  it('spreads Retry-After over [base, 2 base] seconds', () => {
    const { oc, period } = rig();
    period(1);
    period(1);
    const values = new Set<string>();
    for (let i = 0; i < 12; i++) if (!oc.admit()) values.add(oc.retryAfter().value);
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
          return false;
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

  it('never refuses in-dialog requests, CANCEL, ACK or retransmissions of live transactions', () => {
    let admit = true;
    const h = harness({ admission: { admit: () => admit, retryAfter: () => ({ name: 'retry-after', value: '2' }) } });
    const invite = makeRequest({ method: 'INVITE' });
    h.layer.receive(inbound(invite));
    expect(h.requests).toHaveLength(1);
    admit = false;
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

import { describe, expect, it } from 'vitest';
import { OverloadControl, probeRequest } from '../../../src/sip/overload.ts';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import { harness, inbound, makeRequest, retransmissionOf } from './transaction/factory.ts';

const ANON = makeRequest({ method: 'INVITE' });
const VOUCHED = makeRequest({ method: 'INVITE' });
VOUCHED.headers.push({ name: 'proxy-authorization', value: 'Digest username="a"' });

/**
 * A controller on manual time whose probes the test delivers: each sample
 * period, the probe sent comes back after `delay` ms (or never).
 */
function rig() {
  const timers = new ManualTimerQueue();
  const sent: string[] = [];
  const oc = new OverloadControl({ timers, sendProbe: (id) => sent.push(id) > 0, sampleMs: 100, maxDelayMs: 200, retryAfterSec: 2 });
  oc.start();
  const local = { address: '192.0.2.1', port: 5060 };
  /** Delivers the latest probe after `delay` ms, then runs to the next sample. */
  const period = (delay: number): void => {
    const start = timers.clock.now() % 100;
    const left = 100 - start;
    if (delay < left) {
      timers.advance(delay);
      expect(oc.isProbe(probeRequest(sent.at(-1)!, local))).toBe(true);
      timers.advance(left - delay);
    } else {
      timers.advance(left);
    }
  };
  /** How many of `n` requests of a class are admitted. */
  const admitted = (req: typeof ANON, n: number): number => {
    let k = 0;
    for (let i = 0; i < n; i++) if (oc.admit(req) === 'admit') k++;
    return k;
  };
  return { oc, timers, sent, local, period, admitted };
}

describe('OverloadControl (RFC 3261 §21.5.4)', () => {
  it('sends one probe per sample and admits everything while probes come back quickly', () => {
    const { oc, sent, period, admitted } = rig();
    for (let i = 0; i < 20; i++) period(30);
    expect(sent).toHaveLength(21);
    expect(new Set(sent).size).toBe(21);
    expect(oc.state).toMatchObject({ admitted: 1, admittedUnauthenticated: 1, delayMs: 30, refused: 0, dropped: 0 });
    expect(admitted(ANON, 50)).toBe(50);
    expect(admitted(VOUCHED, 50)).toBe(50);
  });

  it('takes only its own probes: other OPTIONS and a forged probe id pass on to the server', () => {
    const { oc, local } = rig();
    expect(oc.isProbe(makeRequest({ method: 'OPTIONS' }))).toBe(false);
    expect(oc.isProbe(probeRequest('someone-elses-probe-1', local))).toBe(false);
    expect(oc.isProbe(makeRequest({ method: 'INVITE' }))).toBe(false);
  });

  it('once probes wait past maxDelayMs two samples running, drops requests without credentials first, halving per sample, evenly', () => {
    const { oc, timers, sent, period, admitted } = rig();
    // Never back: at 300 ms the probe has waited 300 ms; at 400 ms, the second sample over the limit.
    period(1000);
    period(1000);
    period(1000);
    expect(oc.state.delayMs).toBe(300);
    expect(oc.state.admittedUnauthenticated).toBe(1);
    period(1000);
    expect(oc.state.admittedUnauthenticated).toBe(0.5);
    expect(sent).toHaveLength(1);
    period(1000);
    expect(oc.state.admittedUnauthenticated).toBe(0.25);
    expect(oc.state.admitted).toBe(1);
    // Deterministic: every fourth one, and the ones with credentials all taken.
    const verdicts = [0, 1, 2, 3, 4, 5, 6, 7].map(() => oc.admit(ANON));
    expect(verdicts).toEqual(['drop', 'drop', 'drop', 'admit', 'drop', 'drop', 'drop', 'admit']);
    expect(admitted(VOUCHED, 40)).toBe(40);
    // A trusted server's request carries no digest: its verified TLS certificate puts it with the credentialed ones (D-06).
    expect([0, 1, 2, 3].map(() => oc.admit(ANON, true))).toEqual(['admit', 'admit', 'admit', 'admit']);
    expect(oc.state.dropped).toBe(6);
    expect(oc.state.refused).toBe(0);
    // A probe lost for 10 limits (2 s) is replaced, and still counted meanwhile.
    timers.advance(2000);
    expect(sent).toHaveLength(2);
  });

  it('sheds nothing for one long wait alone (a stall: a full GC, the process descheduled)', () => {
    const { oc, period } = rig();
    period(1000);
    period(1000);
    // Back 250 ms after it left: measured, over the limit, but the sample before was not.
    period(50);
    expect(oc.state.delayMs).toBe(250);
    period(10);
    expect(oc.state.admittedUnauthenticated).toBe(1);
  });

  it('sheds nothing for a pause it is told it caused itself (a heap trim), and goes on seeing load after it', () => {
    const { oc, timers, sent, local, period } = rig();
    period(30);
    // A 350 ms full GC: no tick runs, the probe waits in the socket the whole time.
    timers.clock.set(timers.clock.now() + 350);
    oc.excusePause();
    timers.advance(0);
    expect(oc.isProbe(probeRequest(sent.at(-1)!, local))).toBe(true);
    period(10);
    period(10);
    expect(oc.state.admittedUnauthenticated).toBe(1);
    // Real load afterwards (probes never come back) is still shed.
    for (let i = 0; i < 5; i++) period(1000);
    expect(oc.state.admittedUnauthenticated).toBeLessThan(1);
  });

  it('holds while the wait is over the limit but shorter than the last probe\'s (the queue is draining)', () => {
    const { oc, timers, sent, local } = rig();
    timers.advance(950);
    expect(oc.isProbe(probeRequest(sent.at(-1)!, local))).toBe(true);
    timers.advance(50);
    // Cut at 400-1000 ms: those without credentials are all dropped now.
    expect(oc.state.admittedUnauthenticated).toBe(0);
    expect(oc.state.admitted).toBe(1);
    // The next probe waits 400 ms by 1,400 ms, two samples over the limit, but under 950: held.
    timers.advance(400);
    expect(oc.state.delayMs).toBe(400);
    expect(oc.state.admitted).toBe(1);
    // Once it has waited as long as the last one, the queue is not draining: cut.
    timers.advance(600);
    expect(oc.state.admitted).toBe(0.5);
  });

  it('refuses requests with credentials (503) only once those without are all dropped', () => {
    const { oc, period, admitted } = rig();
    for (let i = 0; i < 10; i++) period(1000);
    expect(oc.state.admittedUnauthenticated).toBe(0);
    expect(oc.state.admitted).toBe(1);
    period(1000);
    expect(oc.state.admitted).toBe(0.5);
    expect(admitted(VOUCHED, 100)).toBe(50);
    expect(oc.state.refused).toBe(50);
    expect(admitted(ANON, 100)).toBe(0);
  });

  it('recovers step by step once probes are quick again, those with credentials first', () => {
    const { oc, period } = rig();
    for (let i = 0; i < 12; i++) period(1000);
    expect(oc.state.admitted).toBe(0.25);
    // The lost probe comes back at last, 1.1 s late: one more cut; the next ones are quick.
    period(10);
    expect(oc.state.admitted).toBe(0.125);
    period(10);
    expect(oc.state.admitted).toBeCloseTo(0.175, 10);
    for (let i = 0; i < 17; i++) period(10);
    expect(oc.state.admitted).toBe(1);
    expect(oc.state.admittedUnauthenticated).toBe(0);
    for (let i = 0; i < 20; i++) period(10);
    expect(oc.state.admittedUnauthenticated).toBe(1);
  });

  it('holds the fractions while the wait is between half the limit and the limit', () => {
    const { oc, period } = rig();
    for (let i = 0; i < 4; i++) period(1000);
    period(10);
    const held = oc.state.admittedUnauthenticated;
    expect(held).toBe(0.25);
    period(150);
    period(150);
    expect(oc.state.admittedUnauthenticated).toBe(held);
  });

  it('spreads Retry-After over [base, 2 base] seconds', () => {
    const { oc, period } = rig();
    for (let i = 0; i < 11; i++) period(1000);
    const values = new Set<string>();
    for (let i = 0; i < 12; i++) if (oc.admit(VOUCHED) === 'refuse') values.add(oc.retryAfter().value);
    expect([...values].sort()).toEqual(['2', '3', '4']);
  });

  it('never sheds without a UDP listener to probe', () => {
    const timers = new ManualTimerQueue();
    const oc = new OverloadControl({ timers, sendProbe: () => false, sampleMs: 100, maxDelayMs: 200 });
    oc.start();
    timers.advance(10_000);
    expect(oc.state).toMatchObject({ admitted: 1, admittedUnauthenticated: 1, delayMs: 0 });
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

  it('refuses with 503 instead of dropping over TCP and TLS, where no retransmission would come', () => {
    const h = harness({ admission: { admit: () => 'drop', retryAfter: () => ({ name: 'retry-after', value: '2' }) } });
    for (const transport of ['tcp', 'tls'] as const) {
      h.layer.receive(inbound(makeRequest({ method: 'REGISTER' }), { transport, address: '192.0.2.7', port: 5070, connectionId: 7 }));
    }
    expect(h.sender.count(503)).toBe(2);
    expect(h.requests).toHaveLength(0);
    expect(h.layer.counters.overloadDropped).toBe(0);
    expect(h.layer.counters.overloadShed).toBe(2);
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

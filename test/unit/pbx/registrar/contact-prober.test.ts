// The OPTIONS keepalive's schedule and bounds, on manual time through a real
// transaction layer (only the wire is recorded): probes spread evenly over
// the interval, each contact once; at most maxOutstanding in flight; any
// answer is reachable, silence past the timeout unreachable; contacts that
// left or were registered again through another worker are dropped.
import { describe, expect, it } from 'vitest';
import { ContactProber } from '../../../../src/pbx/registrar/contact-prober.ts';
import type { LiveBinding } from '../../../../src/pbx/registrar/location.ts';
import { createResponse } from '../../../../src/sip/serializer.ts';
import type { SipRequest } from '../../../../src/sip/message.ts';
import { harness, inbound } from '../../sip/transaction/factory.ts';

function binding(n: number, updatedAt = 0): LiveBinding {
  const port = 20000 + n;
  return {
    aor: `sip:${1000 + n}@d`, contactUri: `sip:${1000 + n}@192.0.2.20:${port}`, contactRaw: '', callId: 'c', cseq: 1, expiresAt: 1e15, q: null, path: [],
    instanceId: null, regId: null, pubGruu: null, tempGruu: null, transport: 'udp', sourceAddress: '192.0.2.20', sourcePort: port,
    localAddress: null, localPort: null, userAgent: null, updatedAt,
  };
}

function setup(o: { maxOutstanding?: number } = {}) {
  const h = harness();
  const prober = new ContactProber({
    transactions: h.layer, timers: h.timers, now: () => h.timers.clock.now(), localEndpoint: () => ({ address: '192.0.2.1', port: 5060 }),
    domain: 'd', intervalMs: 10_000, timeoutMs: 4_000, ...o,
  });
  prober.start();
  const options = () => h.sender.all('OPTIONS') as SipRequest[];
  /** Answers every probe not answered yet with `status` (as a phone refusing OPTIONS would). */
  let answered = 0;
  const answerAll = (status: number) => {
    for (const req of options().slice(answered)) {
      const dest = h.sender.sent.find((s) => s.message === req)!.dest;
      h.layer.receive(inbound(createResponse(req, status, 'Whatever'), dest));
    }
    answered = options().length;
  };
  return { h, prober, options, answerAll };
}

describe('ContactProber', () => {
  it('probes each of 100 contacts once per interval, ten a second, and takes even a 405 as reachable', () => {
    const { h, prober, options, answerAll } = setup();
    for (let n = 0; n < 100; n++) prober.track(binding(n));
    expect(prober.stats()).toEqual({ reachable: 0, unreachable: 0, unknown: 100 });
    const perSecond: number[] = [];
    for (let s = 0; s < 10; s++) {
      const before = options().length;
      h.timers.advance(1000);
      perSecond.push(options().length - before);
      answerAll(405);
    }
    expect(perSecond).toEqual(Array(10).fill(10));
    expect(new Set(options().map((r) => r.uri.port)).size).toBe(100);
    expect(options()[0]!.uriRaw).toBe('sip:1000@192.0.2.20:20000');
    expect(prober.stats()).toEqual({ reachable: 100, unreachable: 0, unknown: 0 });
    expect(prober.state('sip:1000@d', 'sip:1000@192.0.2.20:20000')).toMatchObject({ state: 'reachable', rttMs: 0 });
    expect(prober.unreachableAors()).toEqual([]);
  });

  it('keeps at most maxOutstanding probes in flight, and makes the silent ones unreachable after the timeout', () => {
    const { h, prober, options } = setup({ maxOutstanding: 5 });
    for (let n = 0; n < 100; n++) prober.track(binding(n));
    const probed = () => new Set(options().map((r) => r.uri.port)).size;
    h.timers.advance(1000);
    expect(probed()).toBe(5);
    h.timers.advance(1000);
    expect(probed()).toBe(5);
    h.timers.advance(3000);
    // The first five gave up at 4 s (their retransmissions are the only other sends): five new ones went out.
    expect(new Set(options().map((r) => r.uri.port)).size).toBe(10);
    expect(prober.stats()).toMatchObject({ unreachable: 5 });
    expect(prober.unreachableAors()).toHaveLength(5);
  });

  it('drops a contact that left or that another worker registered again, and its count with it', () => {
    const { h, prober, options, answerAll } = setup();
    prober.track(binding(1));
    prober.track(binding(2));
    for (let s = 0; s < 10; s++) {
      h.timers.advance(1000);
      answerAll(200);
    }
    expect(prober.stats()).toMatchObject({ reachable: 2 });
    // Binding 1 re-registered through another worker (newer write), binding 2 gone.
    prober.bindingsChanged('sip:1001@d', [binding(1, 5)]);
    prober.bindingsChanged('sip:1002@d', []);
    expect(prober.stats()).toEqual({ reachable: 0, unreachable: 0, unknown: 0 });
    const sent = options().length;
    h.timers.advance(20_000);
    expect(options().length).toBe(sent);
    // Two phones on one AOR: each probed; one leaving keeps the other.
    const second = { ...binding(4), contactUri: 'sip:1004@192.0.2.21:5060', sourceAddress: '192.0.2.21', sourcePort: 5060 };
    prober.track(binding(4));
    prober.track(second);
    expect(prober.states('sip:1004@d').map(([c]) => c)).toEqual(['sip:1004@192.0.2.20:20004', 'sip:1004@192.0.2.21:5060']);
    prober.bindingsChanged('sip:1004@d', [second]);
    expect(prober.states('sip:1004@d').map(([c]) => c)).toEqual(['sip:1004@192.0.2.21:5060']);
    prober.bindingsChanged('sip:1004@d', []);
    expect(prober.stats()).toEqual({ reachable: 0, unreachable: 0, unknown: 0 });
    const sentNow = options().length;
    // A TCP binding is not probed: its connection tells.
    prober.track({ ...binding(3), transport: 'tcp' });
    h.timers.advance(20_000);
    expect(options().length).toBe(sentNow);
    expect(sentNow).toBe(sent);
  });
});

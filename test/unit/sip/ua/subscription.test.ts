import { describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../../../../src/sip/message.ts';
import { newVia } from '../../../../src/sip/dialog.ts';
import { formatSubscriptionState, NotifierSubscription, parseEvent, parseSubscriptionState, Subscriber } from '../../../../src/sip/ua/subscription.ts';
import type { NotifyInfo } from '../../../../src/sip/ua/subscription.ts';
import { header, request, responseTo, uaHarness, UDP_PEER } from './helpers.ts';

const contact = { uri: { scheme: 'sip', user: 'pbx', host: '192.0.2.1', port: 5060, params: new Map(), headers: new Map() }, params: new Map() };
const via = () => newVia('udp', { address: '192.0.2.1', port: 5060 });

describe('Subscription-State and Event headers', () => {
  it('parse and format', () => {
    expect(parseSubscriptionState('active;expires=600')).toEqual({ state: 'active', expires: 600 });
    expect(parseSubscriptionState('Terminated; reason=Probation ;retry-after=30')).toEqual({ state: 'terminated', reason: 'probation', retryAfter: 30 });
    expect(parseSubscriptionState('')).toBeUndefined();
    expect(formatSubscriptionState({ state: 'terminated', reason: 'noresource' })).toBe('terminated;reason=noresource');
    expect(parseEvent('Presence;id=7')).toEqual({ package: 'presence', id: '7' });
  });
});

function notifierSetup(expires = 'Expires: 600') {
  const h = uaHarness();
  const ended: string[] = [];
  const refreshes: number[] = [];
  let sub: NotifierSubscription | undefined;
  h.core.handle('SUBSCRIBE', (req, tx) => {
    sub = NotifierSubscription.accept(req, tx, {
      transactions: h.layer, timers: h.timers, dest: UDP_PEER, via, contact, dialogs: h.core.dialogs,
      defaultExpires: 3600, maxExpires: 1800, minExpires: 60,
      initial: { state: 'active', body: Buffer.from('<x/>'), contentType: 'application/x+xml' },
      onTerminated: (_s, reason) => ended.push(reason),
      onRefresh: () => refreshes.push(1),
    });
  });
  const subscribe = request('SUBSCRIBE', { callId: 'sub1@test', fromTag: 'alice1', extra: ['Event: presence', expires] });
  h.receive(subscribe);
  return { h, ended, refreshes, sub: () => sub!, subscribe };
}

describe('NotifierSubscription (RFC 6665 §4.2)', () => {
  it('accepts with 200, Expires and Contact, then NOTIFYs at once with Subscription-State active;expires', () => {
    const { h, sub } = notifierSetup();
    const ok = h.sentResponses()[0]!;
    expect(ok.status).toBe(200);
    expect(header(ok, 'expires')).toBe('600');
    expect(header(ok, 'contact')).toBe('<sip:pbx@192.0.2.1:5060>');
    const n = h.sentRequests('NOTIFY')[0]!;
    expect(n.uri.user).toBe('alice');
    expect(header(n, 'event')).toBe('presence');
    expect(header(n, 'subscription-state')).toBe('active;expires=600');
    expect(n.body.toString()).toBe('<x/>');
    expect(n.to.params.get('tag')).toBe('alice1');
    expect(n.from.params.get('tag')).toBe(ok.to.params.get('tag'));
    expect(h.core.dialogs.get(sub().dialog.key)).toBe(sub());
  });

  it('423 below Min-Expires; caps at maxExpires', () => {
    const a = notifierSetup('Expires: 10');
    expect(a.h.sentResponses()[0]!.status).toBe(423);
    expect(header(a.h.sentResponses()[0]!, 'min-expires')).toBe('60');
    const b = notifierSetup('Expires: 99999');
    expect(header(b.h.sentResponses()[0]!, 'expires')).toBe('1800');
  });

  it('sends one NOTIFY at a time, coalescing what waits', () => {
    const { h, sub } = notifierSetup();
    sub().notify({ state: 'active', body: Buffer.from('a') });
    sub().notify({ state: 'active', body: Buffer.from('b') });
    expect(h.sentRequests('NOTIFY')).toHaveLength(1);
    h.receive(responseTo(h.sentRequests('NOTIFY')[0]!, 200));
    const ns = h.sentRequests('NOTIFY');
    expect(ns).toHaveLength(2);
    expect(ns[1]!.body.toString()).toBe('b');
    expect(ns[1]!.cseq.seq).toBe(ns[0]!.cseq.seq + 1);
  });

  it('refresh: 200 with the new Expires and a NOTIFY; Expires: 0 ends with a terminated NOTIFY', () => {
    const { h, sub, refreshes, ended } = notifierSetup();
    h.receive(responseTo(h.sentRequests('NOTIFY')[0]!, 200));
    const toTag = sub().dialog.localTag;
    h.receive(request('SUBSCRIBE', { callId: 'sub1@test', fromTag: 'alice1', toTag, seq: 2, extra: ['Event: presence', 'Expires: 300'] }));
    expect(h.sentResponses().at(-1)!.status).toBe(200);
    expect(header(h.sentResponses().at(-1)!, 'expires')).toBe('300');
    expect(refreshes).toHaveLength(1);
    const n2 = h.sentRequests('NOTIFY')[1]!;
    expect(header(n2, 'subscription-state')).toBe('active;expires=300');
    h.receive(responseTo(n2, 200));
    h.receive(request('SUBSCRIBE', { callId: 'sub1@test', fromTag: 'alice1', toTag, seq: 3, extra: ['Event: presence', 'Expires: 0'] }));
    const n3 = h.sentRequests('NOTIFY')[2]!;
    expect(header(n3, 'subscription-state')).toBe('terminated;reason=timeout');
    expect(ended).toEqual([]);
    h.receive(responseTo(n3, 200));
    expect(ended).toEqual(['timeout']);
    expect(h.core.dialogs.size).toBe(0);
  });

  it('489 for a refresh with another Event, 500 for an old CSeq', () => {
    const { h, sub } = notifierSetup();
    const toTag = sub().dialog.localTag;
    h.receive(request('SUBSCRIBE', { callId: 'sub1@test', fromTag: 'alice1', toTag, seq: 2, extra: ['Event: dialog'] }));
    expect(h.sentResponses().at(-1)!.status).toBe(489);
    h.receive(request('SUBSCRIBE', { callId: 'sub1@test', fromTag: 'alice1', toTag, seq: 1, extra: ['Event: presence'] }));
    expect(h.sentResponses().at(-1)!.status).toBe(500);
  });

  it('expires on the timer with terminated;reason=timeout', () => {
    const { h, ended } = notifierSetup();
    h.receive(responseTo(h.sentRequests('NOTIFY')[0]!, 200));
    h.timers.advance(600_000);
    const n = h.sentRequests('NOTIFY')[1]!;
    expect(header(n, 'subscription-state')).toBe('terminated;reason=timeout');
    h.receive(responseTo(n, 200));
    expect(ended).toEqual(['timeout']);
  });

  it('a 481 to a NOTIFY ends the subscription', () => {
    const { h, ended } = notifierSetup();
    h.receive(responseTo(h.sentRequests('NOTIFY')[0]!, 481));
    expect(ended).toEqual(['notify-failed']);
    expect(h.core.dialogs.size).toBe(0);
  });
});

function subscriberSetup() {
  const h = uaHarness();
  const notes: NotifyInfo[] = [];
  const ends: { reason: string; retryAfter?: number; status?: number }[] = [];
  const aor = (user: string) => ({ uri: { scheme: 'sip', user, host: 'example.com', params: new Map(), headers: new Map() }, params: new Map() });
  const sub = new Subscriber({
    transactions: h.layer, timers: h.timers, dest: UDP_PEER, via, contact, dialogs: h.core.dialogs,
    event: { package: 'message-summary' }, accept: ['application/simple-message-summary'], expires: 3600,
    target: { uri: 'sip:bob@example.com', from: aor('pbx'), to: aor('bob') },
    credentials: { username: 'pbx', password: 'pw' },
    onNotify: (i) => notes.push(i),
    onTerminated: (_s, reason, d) => ends.push({ reason, ...d }),
  });
  sub.subscribe();
  const sent = (): SipRequest => h.sentRequests('SUBSCRIBE').at(-1)!;
  const notify = (o: { seq: number; state: string; toTag?: string; fromTag?: string; body?: string; event?: string }): SipRequest =>
    request('NOTIFY', {
      callId: sub.callId, toTag: o.toTag ?? sub.localTag, fromTag: o.fromTag ?? 'bobtag', seq: o.seq, body: o.body,
      extra: [`Event: ${o.event ?? 'message-summary'}`, `Subscription-State: ${o.state}`, ...(o.body ? ['Content-Type: application/simple-message-summary'] : [])],
    });
  return { h, sub, notes, ends, sent, notify };
}

describe('Subscriber (RFC 6665 §4.1)', () => {
  it('sends SUBSCRIBE with Event, Accept and Expires, answers the challenge, takes the 2xx dialog and NOTIFYs', () => {
    const { h, sub, notes, sent, notify } = subscriberSetup();
    const s1 = sent();
    expect(header(s1, 'event')).toBe('message-summary');
    expect(header(s1, 'accept')).toBe('application/simple-message-summary');
    expect(header(s1, 'expires')).toBe('3600');
    h.receive(responseTo(s1, 407, { toTag: 'p', extra: ['Proxy-Authenticate: Digest realm="r", nonce="n"'] }));
    const s2 = sent();
    expect(s2.cseq.seq).toBe(2);
    h.receive(responseTo(s2, 200, { toTag: 'bobtag', extra: ['Expires: 600', 'Contact: <sip:bob@192.0.2.20>'] }));
    expect(sub.dialog?.remoteTag).toBe('bobtag');
    h.receive(notify({ seq: 1, state: 'active;expires=600', body: 'Messages-Waiting: yes' }));
    expect(h.sentResponses().at(-1)!.status).toBe(200);
    expect(notes[0]!.state).toEqual({ state: 'active', expires: 600 });
    expect(notes[0]!.body.toString()).toBe('Messages-Waiting: yes');
    expect(sub.state).toBe('active');
  });

  it('takes the dialog from a NOTIFY that overtakes the 2xx (half key)', () => {
    const { h, sub, notes, sent, notify } = subscriberSetup();
    h.receive(notify({ seq: 1, state: 'pending;expires=3600' }));
    expect(notes).toHaveLength(1);
    expect(sub.dialog?.remoteTarget.host).toBe('192.0.2.10');
    h.receive(responseTo(sent(), 202, { toTag: 'bobtag', extra: ['Expires: 3600'] }));
    expect(h.core.dialogs.size).toBe(1);
    expect(sub.state).toBe('pending');
    h.receive(notify({ seq: 2, state: 'active;expires=3500', fromTag: 'fork2' }));
    expect(h.sentResponses().at(-1)!.status).toBe(481);
  });

  it('refreshes before expiry inside the dialog, and reports terminated with its reason', () => {
    const { h, sub, ends, sent, notify } = subscriberSetup();
    h.receive(responseTo(sent(), 200, { toTag: 'bobtag', extra: ['Expires: 600', 'Contact: <sip:bob@192.0.2.20>'] }));
    h.timers.advance(600_000 - 32_000);
    const r = sent();
    expect(r.to.params.get('tag')).toBe('bobtag');
    expect(r.uri.host).toBe('192.0.2.20');
    expect(r.cseq.seq).toBe(2);
    h.receive(responseTo(r, 200, { extra: ['Expires: 100'] }));
    expect(sub.expiresAt).toBe(h.timers.clock.now() + 100_000);
    h.receive(notify({ seq: 1, state: 'terminated;reason=probation;retry-after=20' }));
    expect(ends).toEqual([{ reason: 'probation', retryAfter: 20 }]);
    expect(h.core.dialogs.size).toBe(0);
  });

  it('unsubscribes with Expires: 0 and ends on the terminating NOTIFY', () => {
    const { h, sub, ends, sent, notify } = subscriberSetup();
    h.receive(responseTo(sent(), 200, { toTag: 'bobtag', extra: ['Expires: 600', 'Contact: <sip:bob@192.0.2.20>'] }));
    sub.unsubscribe();
    expect(header(sent(), 'expires')).toBe('0');
    h.receive(responseTo(sent(), 200, { extra: ['Expires: 0'] }));
    h.receive(notify({ seq: 1, state: 'terminated;reason=timeout' }));
    expect(ends.map((e) => e.reason)).toEqual(['timeout']);
  });

  it('a refusal of the initial SUBSCRIBE is reported as rejected with its status', () => {
    const { h, ends, sent } = subscriberSetup();
    const res: SipResponse = responseTo(sent(), 489, { toTag: 'x' });
    h.receive(res);
    expect(ends).toEqual([{ reason: 'rejected', status: 489 }]);
    expect(h.core.dialogs.size).toBe(0);
  });
});

describe('subscriptions: more edges', () => {
  it('a fetch (Expires: 0) gets 200 Expires: 0 and one NOTIFY terminated with the state', () => {
    const { h, ended } = notifierSetup('Expires: 0');
    expect(header(h.sentResponses()[0]!, 'expires')).toBe('0');
    const n = h.sentRequests('NOTIFY')[0]!;
    expect(header(n, 'subscription-state')).toBe('terminated;reason=timeout');
    expect(n.body.toString()).toBe('<x/>');
    h.receive(responseTo(n, 200));
    expect(ended).toEqual(['timeout']);
  });

  it('pending then active (authorization granted later), terminate with a reason and retry-after', () => {
    const h = uaHarness();
    let sub: NotifierSubscription | undefined;
    h.core.handle('SUBSCRIBE', (req, tx) => {
      sub = NotifierSubscription.accept(req, tx, { transactions: h.layer, timers: h.timers, dest: UDP_PEER, via, contact, dialogs: h.core.dialogs, defaultExpires: 3600, status: 202, initial: { state: 'pending' } });
    });
    h.receive(request('SUBSCRIBE', { extra: ['Event: presence'] }));
    expect(h.sentResponses()[0]!.status).toBe(202);
    expect(header(h.sentResponses()[0]!, 'expires')).toBe('3600');
    expect(header(h.sentRequests('NOTIFY')[0]!, 'subscription-state')).toBe('pending;expires=3600');
    h.receive(responseTo(h.sentRequests('NOTIFY')[0]!, 200));
    h.timers.advance(10_000);
    sub!.notify({ state: 'active', body: Buffer.from('open'), contentType: 'application/pidf+xml' });
    expect(header(h.sentRequests('NOTIFY')[1]!, 'subscription-state')).toBe('active;expires=3590');
    h.receive(responseTo(h.sentRequests('NOTIFY')[1]!, 200));
    sub!.terminate('probation', undefined, undefined, 60);
    expect(header(h.sentRequests('NOTIFY')[2]!, 'subscription-state')).toBe('terminated;reason=probation;retry-after=60');
  });

  it('the subscriber ends with refresh-failed when a refresh gets 481', () => {
    const { h, ends, sent } = subscriberSetup();
    h.receive(responseTo(sent(), 200, { toTag: 'bobtag', extra: ['Expires: 60', 'Contact: <sip:bob@192.0.2.20>'] }));
    h.timers.advance(30_000);
    h.receive(responseTo(sent(), 481));
    expect(ends).toEqual([{ reason: 'refresh-failed', status: 481 }]);
    expect(h.core.dialogs.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { NameAddr, SipRequest } from '../../../../src/sip/message.ts';
import { Dialog, newVia } from '../../../../src/sip/dialog.ts';
import { parseUri } from '../../../../src/sip/uri.ts';
import type { DialogUsage } from '../../../../src/sip/ua/core.ts';
import { parseReferTo, parseSipfrag, ReferNotifier, sendRefer, sipfrag } from '../../../../src/sip/ua/refer.ts';
import type { ReferSubscriber } from '../../../../src/sip/ua/refer.ts';
import { formatReplaces, matchReplaces, parseReplaces, referToWithReplaces, replacesDialogKey, replacesOf } from '../../../../src/sip/ua/replaces.ts';
import { header, request, responseTo, uaHarness, UDP_PEER } from './helpers.ts';
import type { UaHarness } from './helpers.ts';

const na = (user: string, host: string): NameAddr => ({ uri: parseUri(`sip:${user}@${host}`)!, params: new Map() });

describe('Replaces (RFC 3891)', () => {
  it('parses, formats and round-trips through a Refer-To URI header', () => {
    const r = parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only')!;
    expect(r).toEqual({ callId: '98732@sip.example.com', toTag: 'ff87ff', fromTag: 'r33th4x0r', earlyOnly: true });
    expect(formatReplaces(r)).toBe('98732@sip.example.com;to-tag=ff87ff;from-tag=r33th4x0r;early-only');
    expect(parseReplaces('abc;to-tag=1')).toBeUndefined();
    const value = referToWithReplaces(parseUri('sip:carol@192.0.2.30')!, { ...r, earlyOnly: false });
    expect(value).toBe('<sip:carol@192.0.2.30?Replaces=98732%40sip.example.com%3Bto-tag%3Dff87ff%3Bfrom-tag%3Dr33th4x0r>');
    const back = parseReferTo(value)!;
    expect(back.replaces).toEqual({ ...r, earlyOnly: false });
    expect(back.target.headers.size).toBe(0);
    expect(back.target.user).toBe('carol');
  });

  it('matching rules of §3 from the UAS view (to-tag is ours)', () => {
    const dialogs = new Map([
      [replacesDialogKey({ callId: 'c1', toTag: 'mine', fromTag: 'theirs', earlyOnly: false }), { state: 'confirmed' as const, initiatedLocally: false, id: 1 }],
      [replacesDialogKey({ callId: 'c2', toTag: 'mine', fromTag: 'theirs', earlyOnly: false }), { state: 'early' as const, initiatedLocally: true, id: 2 }],
      [replacesDialogKey({ callId: 'c3', toTag: 'mine', fromTag: 'theirs', earlyOnly: false }), { state: 'early' as const, initiatedLocally: false, id: 3 }],
      [replacesDialogKey({ callId: 'c4', toTag: 'mine', fromTag: 'theirs', earlyOnly: false }), { state: 'terminated' as const, initiatedLocally: true, id: 4 }],
    ]);
    const look = (k: string) => dialogs.get(k);
    const m = (v: string) => matchReplaces(parseReplaces(v) ?? 'bad', look);
    expect(m('c1;to-tag=mine;from-tag=theirs')).toMatchObject({ ok: true, dialog: { id: 1 } });
    expect(m('c1;to-tag=theirs;from-tag=mine')).toMatchObject({ ok: false, status: 481 });
    expect(m('c1;to-tag=mine;from-tag=theirs;early-only')).toMatchObject({ ok: false, status: 486 });
    expect(m('c2;to-tag=mine;from-tag=theirs;early-only')).toMatchObject({ ok: true, dialog: { id: 2 } });
    expect(m('c3;to-tag=mine;from-tag=theirs')).toMatchObject({ ok: false, status: 481 });
    expect(m('c4;to-tag=mine;from-tag=theirs')).toMatchObject({ ok: false, status: 603 });
    expect(m('garbage')).toMatchObject({ ok: false, status: 400 });
    const two = request('INVITE', { extra: ['Replaces: a;to-tag=1;from-tag=2', 'Replaces: b;to-tag=1;from-tag=2'] });
    expect(replacesOf(two)).toBe('bad');
    expect(replacesOf(request('INVITE'))).toBe('none');
  });
});

describe('Refer-To and sipfrag', () => {
  it('name-addr and addr-spec forms', () => {
    expect(parseReferTo('"Carol" <sip:carol@example.com;user=phone>')!.target.params.get('user')).toBe('phone');
    expect(parseReferTo('sip:carol@example.com')!.target.host).toBe('example.com');
    expect(parseReferTo('<not a uri>')).toBeUndefined();
    expect(parseSipfrag(sipfrag(180, 'Ringing'))).toEqual({ status: 180, reason: 'Ringing' });
    expect(parseSipfrag(Buffer.from('INVITE sip:x SIP/2.0\r\n'))).toBeUndefined();
  });
});

/** Two UAs in a confirmed dialog, their messages carried between them as bytes. */
function pair() {
  const a = uaHarness();
  const b = uaHarness();
  const aliceAt = { address: '192.0.2.10', port: 5060 };
  const bobAt = { address: '192.0.2.20', port: 5060 };
  const dA = new Dialog({ callId: 'xfer@test', localTag: 'ta', remoteTag: 'tb', local: na('alice', 'example.org'), remote: na('bob', 'example.com'), remoteTarget: parseUri('sip:bob@192.0.2.20')!, routeSet: [], localSeq: 1, remoteSeq: 1, secure: false });
  const dB = new Dialog({ callId: 'xfer@test', localTag: 'tb', remoteTag: 'ta', local: na('bob', 'example.com'), remote: na('alice', 'example.org'), remoteTarget: parseUri('sip:alice@192.0.2.10')!, routeSet: [], localSeq: 1, remoteSeq: 1, secure: false });
  const ctx = (h: UaHarness, me: { address: string; port: number }, user: string) => ({
    transactions: h.layer, timers: h.timers, dest: UDP_PEER, via: () => newVia('udp', me),
    contact: { uri: parseUri(`sip:${user}@${me.address}`)!, params: new Map() },
  });
  // Each side's "INVITE usage" owns the dialog and forwards what belongs to the REFER machinery.
  const state = { referrers: [] as ReferSubscriber[], notifiers: [] as ReferNotifier[], referBehaviour: {} as { noReferSub?: boolean } };
  const ownerA: DialogUsage = {
    onRequest(req, tx, inb) {
      const r = state.referrers.find((x) => x.matches(req));
      if (r) r.onRequest(req, tx, inb);
    },
  };
  const ownerB: DialogUsage = {
    onRequest(req, tx) {
      if (req.method === 'REFER' && tx && dB.acceptRemoteSeq(req)) {
        const n = ReferNotifier.accept(req, tx, { ...ctx(b, bobAt, 'bob'), dialog: dB, ...state.referBehaviour });
        if (n) state.notifiers.push(n);
      }
    },
  };
  a.core.dialogs.add(dA.key, ownerA);
  b.core.dialogs.add(dB.key, ownerB);
  let ia = 0;
  let ib = 0;
  const pump = () => {
    for (let moved = true; moved;) {
      moved = false;
      const sa = a.sent();
      for (; ia < sa.length; ia++) { b.receive(sa[ia]!, { transport: 'udp', ...aliceAt }); moved = true; }
      const sb = b.sent();
      for (; ib < sb.length; ib++) { a.receive(sb[ib]!, { transport: 'udp', ...bobAt }); moved = true; }
    }
  };
  return { a, b, dA, dB, ctx: () => ctx(a, aliceAt, 'alice'), state, pump };
}

describe('REFER end to end (RFC 3515)', () => {
  it('202, NOTIFY 100 Trying, progress, final 200 OK with terminated;reason=noresource', () => {
    const p = pair();
    const progress: number[] = [];
    const done: { status?: number; reason: string }[] = [];
    const r = sendRefer({ ...p.ctx(), dialog: p.dA, referTo: '<sip:carol@192.0.2.30>', referredBy: '<sip:alice@example.org>', onProgress: (s) => progress.push(s), onDone: (d) => done.push(d) });
    p.state.referrers.push(r);
    p.pump();
    const refer = p.b.sentResponses()[0]!;
    expect(refer.status).toBe(202);
    const n = p.state.notifiers[0]!;
    expect(n.referTo.target.user).toBe('carol');
    expect(n.referredBy).toBe('<sip:alice@example.org>');
    const notify1 = p.b.sentRequests('NOTIFY')[0]!;
    expect(header(notify1, 'event')).toBe('refer');
    expect(header(notify1, 'content-type')).toBe('message/sipfrag;version=2.0');
    expect(header(notify1, 'subscription-state')).toBe('active;expires=180');
    expect(notify1.body.toString()).toBe('SIP/2.0 100 Trying\r\n');
    n.progress(180, 'Ringing');
    p.pump();
    n.progress(200, 'OK');
    p.pump();
    const last = p.b.sentRequests('NOTIFY').at(-1)!;
    expect(header(last, 'subscription-state')).toBe('terminated;reason=noresource');
    expect(last.body.toString()).toBe('SIP/2.0 200 OK\r\n');
    expect(progress).toEqual([100, 180, 200]);
    expect(done).toEqual([{ status: 200, reason: 'done' }]);
    expect(n.subscription?.terminated).toBe(true);
  });

  it('a second REFER in the dialog: NOTIFYs carry id=<CSeq of the REFER>', () => {
    const p = pair();
    const first = sendRefer({ ...p.ctx(), dialog: p.dA, referTo: '<sip:carol@192.0.2.30>' });
    p.state.referrers.push(first);
    p.pump();
    const done: number[] = [];
    const second = sendRefer({ ...p.ctx(), dialog: p.dA, referTo: '<sip:dave@192.0.2.40>', onDone: (d) => done.push(d.status ?? 0) });
    p.state.referrers.push(second);
    p.pump();
    const n2 = p.b.sentRequests('NOTIFY').at(-1)!;
    expect(header(n2, 'event')).toBe(`refer;id=${second.uac.current.cseq.seq}`);
    p.state.notifiers[1]!.progress(486, 'Busy Here');
    p.pump();
    expect(done).toEqual([486]);
    expect(first.matches(p.b.sentRequests('NOTIFY').at(-1)!)).toBe(false);
  });

  it('Refer-Sub: false (RFC 4488): 200 with Refer-Sub: false, and no NOTIFY', () => {
    const p = pair();
    const done: string[] = [];
    const r = sendRefer({ ...p.ctx(), dialog: p.dA, referTo: '<sip:carol@192.0.2.30>', noReferSub: true, onDone: (d) => done.push(d.reason) });
    p.state.referrers.push(r);
    p.pump();
    const sentRefer: SipRequest = p.a.sentRequests('REFER')[0]!;
    expect(header(sentRefer, 'refer-sub')).toBe('false');
    const res = p.b.sentResponses()[0]!;
    expect(res.status).toBe(200);
    expect(header(res, 'refer-sub')).toBe('false');
    p.state.notifiers[0]!.progress(200, 'OK');
    p.pump();
    expect(p.b.sentRequests('NOTIFY')).toHaveLength(0);
    expect(done).toEqual(['no-subscription']);
  });

  it('400 for a REFER without a usable Refer-To; the sender reports rejected', () => {
    const p = pair();
    const done: { status?: number; reason: string }[] = [];
    const r = sendRefer({ ...p.ctx(), dialog: p.dA, referTo: '<bad uri>', onDone: (d) => done.push(d) });
    p.state.referrers.push(r);
    p.pump();
    expect(done).toEqual([{ status: 400, reason: 'rejected' }]);
  });
});

describe('REFER outside a dialog', () => {
  it('creates a dialog with the 202 and owns it for the implicit subscription', () => {
    const h = uaHarness();
    const got: ReferNotifier[] = [];
    const ctx = { transactions: h.layer, timers: h.timers, dest: UDP_PEER, via: () => newVia('udp', { address: '192.0.2.1', port: 5060 }), contact: na('pbx', '192.0.2.1') };
    h.core.handle('REFER', (req, tx) => { const n = ReferNotifier.accept(req, tx, { ...ctx, dialogs: h.core.dialogs }); if (n) got.push(n); });
    h.receive(request('REFER', { callId: 'ood@test', extra: ['Refer-To: sip:carol@192.0.2.30?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2'] }));
    const res = h.sentResponses()[0]!;
    expect(res.status).toBe(202);
    const n = got[0]!;
    expect(res.to.params.get('tag')).toBe(n.dialog.localTag);
    expect(n.referTo.replaces).toEqual({ callId: 'abc@h', toTag: '1', fromTag: '2', earlyOnly: false });
    expect(h.core.dialogs.get(n.dialog.key)).toBe(n);
    n.progress(503, 'Service Unavailable');
    h.receive(responseTo(h.sentRequests('NOTIFY')[0]!, 200));
    h.receive(responseTo(h.sentRequests('NOTIFY')[1]!, 200));
    expect(h.sentRequests('NOTIFY')[1]!.body.toString()).toBe('SIP/2.0 503 Service Unavailable\r\n');
    expect(h.core.dialogs.size).toBe(0);
  });
});

// Message waiting indication (RFC 3842) on manual time, through real SIP on
// loopback: message-summary subscriptions from two phones of one user, the
// lamp following deposits and folder moves made through the store (as the
// voicemail application makes them), refresh, expiry, unsubscribe, the
// refusals, unsolicited NOTIFYs for phones that do not subscribe, and counts
// after a restart on the same data directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../features/rig.ts';
import { TestPhone } from '../lib/phone.ts';
import { startTestServer, tempDataDir } from '../lib/server.ts';
import type { SipRequest } from '../../../src/sip/message.ts';
import { getHeader } from '../../../src/sip/headers.ts';
import { parseMessageSummary } from '../../../src/pbx/mwi/message-summary.ts';
import { MAX_SUBSCRIPTIONS_PER_MAILBOX } from '../../../src/pbx/mwi/mwi-service.ts';
import { waitUntil } from '../../lib/wait.ts';

let rig: Rig;
let n = 3100;
const next = () => String(n++);
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64)]);
const meta = { caller: '2000', callerName: 'Caller', receivedAt: Date.now(), durationMs: 3000 };

beforeAll(async () => {
  rig = await Rig.start();
});
afterAll(() => rig.stop());

/** What a NOTIFY says: waiting, voice new/old, and its Subscription-State. */
function summary(req: SipRequest): { waiting: boolean; voice: string; state: string } {
  const s = parseMessageSummary(req.body)!;
  const v = s.counts.get('voice-message')!;
  return { waiting: s.waiting, voice: `${v.new}/${v.old}`, state: getHeader(req, 'subscription-state')!.split(';')[0]! };
}

async function nthNotify(phone: TestPhone, callId: string | undefined, count: number): Promise<SipRequest> {
  expect(await waitUntil(() => phone.notifiesOf(callId).length >= count)).toBe(true);
  return phone.notifiesOf(callId)[count - 1]!;
}

/** A second phone of an existing user, registered. */
async function secondPhone(ext: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: rig.ts.host, port: rig.ts.sipPort, domain: 'test.local' } });
  rig.phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

describe('message-summary subscriptions', () => {
  it('both phones of a user are told at once, then on every change: lamp on with a new message, off once it is saved', async () => {
    const ext = next();
    const a = await rig.phone(ext);
    const b = await secondPhone(ext);
    const sa = await a.subscribe({ expires: 600 });
    const sb = await b.subscribe({ expires: 600 });
    expect([sa.res.status, sb.res.status]).toEqual([200, 200]);
    expect(getHeader(sa.res, 'expires')).toBe('600');
    expect(summary(await nthNotify(a, sa.sub.callId, 1))).toEqual({ waiting: false, voice: '0/0', state: 'active' });
    expect(summary(await nthNotify(b, sb.sub.callId, 1))).toEqual({ waiting: false, voice: '0/0', state: 'active' });
    expect(getHeader(a.notifiesOf(sa.sub.callId)[0]!, 'content-type')).toBe('application/simple-message-summary');
    expect(rig.server.mwi.subscriptionCount).toBeGreaterThanOrEqual(2);

    const m = await rig.server.store.voicemail.deposit(ext, meta, wav);
    expect(summary(await nthNotify(a, sa.sub.callId, 2))).toEqual({ waiting: true, voice: '1/0', state: 'active' });
    expect(summary(await nthNotify(b, sb.sub.callId, 2))).toEqual({ waiting: true, voice: '1/0', state: 'active' });
    expect(parseMessageSummary(a.notifiesOf(sa.sub.callId)[1]!.body)!.account).toBe(`sip:${ext}@test.local`);

    await rig.server.store.voicemail.setFolder(ext, m.id, 'saved');
    expect(summary(await nthNotify(a, sa.sub.callId, 3))).toEqual({ waiting: false, voice: '0/1', state: 'active' });
    expect(summary(await nthNotify(b, sb.sub.callId, 3))).toEqual({ waiting: false, voice: '0/1', state: 'active' });

    await rig.server.store.voicemail.remove(ext, m.id);
    expect(summary(await nthNotify(b, sb.sub.callId, 4))).toEqual({ waiting: false, voice: '0/0', state: 'active' });
  });

  it('another user’s mailbox is not told: a deposit for 2 leaves 1’s subscription silent', async () => {
    const one = next();
    const two = next();
    const a = await rig.phone(one);
    await rig.user(two);
    const s = await a.subscribe({ expires: 600 });
    await nthNotify(a, s.sub.callId, 1);
    await rig.server.store.voicemail.deposit(two, meta, wav);
    // The feed has delivered the deposit (poll() waits for any look in progress) and nothing went to 1.
    await rig.server.mwi.poll();
    expect(a.notifiesOf(s.sub.callId)).toHaveLength(1);
    await rig.server.store.voicemail.deposit(one, meta, wav);
    const second = await nthNotify(a, s.sub.callId, 2);
    expect(summary(second).voice).toBe('1/0');
    expect(a.notifiesOf(s.sub.callId)).toHaveLength(2);
  });

  it('a subscription follows its user through a renumbering (the mailbox moved with the user)', async () => {
    const ext = next();
    const renumbered = next();
    const a = await rig.phone(ext);
    const s = await a.subscribe({ expires: 600 });
    await nthNotify(a, s.sub.callId, 1);
    await rig.server.store.voicemail.deposit(ext, meta, wav);
    await nthNotify(a, s.sub.callId, 2);
    await rig.server.store.users.update(ext, { extension: renumbered });
    await rig.sync();
    await rig.server.mwi.poll();
    await rig.server.store.voicemail.deposit(renumbered, meta, wav);
    const after = await waitUntil(() => summary(a.notifiesOf(s.sub.callId).at(-1)!).voice === '2/0');
    expect(after).toBe(true);
    expect(parseMessageSummary(a.notifiesOf(s.sub.callId).at(-1)!.body)!.account).toBe(`sip:${renumbered}@test.local`);
  });

  it('the voicemail number stands for the subscriber’s own mailbox', async () => {
    const ext = next();
    const a = await rig.phone(ext);
    await rig.server.store.voicemail.deposit(ext, meta, wav);
    const s = await a.subscribe({ target: '8000', expires: 600 });
    expect(s.res.status).toBe(200);
    expect(summary(await nthNotify(a, s.sub.callId, 1))).toMatchObject({ waiting: true, voice: '1/0' });
  });

  it('refusals: 403 for another user’s mailbox, 489 for another package, 423 below the minimum, 406 for a body it cannot take', async () => {
    const ext = next();
    const other = next();
    const a = await rig.phone(ext);
    await rig.user(other);
    expect((await a.subscribe({ target: other })).res.status).toBe(403);
    const bad = await a.subscribe({ event: 'presence' });
    expect(bad.res.status).toBe(489);
    expect(getHeader(bad.res, 'allow-events')).toBe('message-summary');
    const brief = await a.subscribe({ expires: 10 });
    expect(brief.res.status).toBe(423);
    expect(getHeader(brief.res, 'min-expires')).toBe('60');
    expect((await a.subscribe({ accept: 'application/pidf+xml' })).res.status).toBe(406);
    expect(a.notifies).toHaveLength(0);
  });

  it('Expires: the default when none is asked for, capped at the maximum', async () => {
    const a = await rig.phone(next());
    const plain = await a.subscribe({ accept: 'application/simple-message-summary' });
    expect([plain.res.status, getHeader(plain.res, 'expires')]).toEqual([200, '3600']);
    const long = await a.subscribe({ expires: 999_999 });
    expect([long.res.status, getHeader(long.res, 'expires')]).toEqual([200, '86400']);
  });

  it('a SUBSCRIBE with wrong credentials is refused (407) and keeps nothing', async () => {
    const ext = next();
    await rig.user(ext);
    const before = rig.server.mwi.subscriptionCount;
    const wrong = await TestPhone.start({ ext, password: 'not-the-password', server: { host: rig.ts.host, port: rig.ts.sipPort, domain: 'test.local' } });
    rig.phones.push(wrong);
    const s = await wrong.subscribe({ expires: 600 });
    expect(s.res.status).toBe(407);
    expect(rig.server.mwi.subscriptionCount).toBe(before);
    expect(wrong.notifies).toHaveLength(0);
  });

  it('refresh extends (and is told the state again), expiry terminates with reason=timeout, Expires: 0 unsubscribes', async () => {
    const ext = next();
    const a = await rig.phone(ext);
    const s = await a.subscribe({ expires: 120 });
    await nthNotify(a, s.sub.callId, 1);
    await rig.advance(100_000);
    const r = await a.subscribe({ refresh: s.sub, expires: 120 });
    expect(r.res.status).toBe(200);
    expect(summary(await nthNotify(a, s.sub.callId, 2)).state).toBe('active');
    // 100 s after the refresh the first grant would have run out; the refreshed one has not.
    await rig.advance(100_000);
    expect(a.notifiesOf(s.sub.callId)).toHaveLength(2);
    await rig.advance(21_000);
    const ended = await nthNotify(a, s.sub.callId, 3);
    expect(getHeader(ended, 'subscription-state')).toBe('terminated;reason=timeout');
    // A refresh of an ended subscription is refused.
    expect((await a.subscribe({ refresh: s.sub, expires: 120 })).res.status).toBe(481);

    const u = await a.subscribe({ expires: 600 });
    await nthNotify(a, u.sub.callId, 1);
    expect((await a.subscribe({ refresh: u.sub, expires: 0 })).res.status).toBe(200);
    const last = await nthNotify(a, u.sub.callId, 2);
    expect(getHeader(last, 'subscription-state')).toBe('terminated;reason=timeout');
  });
});

describe('bounds', () => {
  it(`a mailbox holds at most ${MAX_SUBSCRIPTIONS_PER_MAILBOX} subscriptions: the oldest goes, and its refresh gets 481`, async () => {
    const ext = next();
    const a = await rig.phone(ext);
    const before = rig.server.mwi.subscriptionCount;
    const subs = [];
    for (let i = 0; i <= MAX_SUBSCRIPTIONS_PER_MAILBOX; i++) {
      const s = await a.subscribe({ expires: 600 });
      expect(s.res.status).toBe(200);
      subs.push(s.sub);
    }
    expect(rig.server.mwi.subscriptionCount - before).toBe(MAX_SUBSCRIPTIONS_PER_MAILBOX);
    expect((await a.subscribe({ refresh: subs[0], expires: 600 })).res.status).toBe(481);
    expect((await a.subscribe({ refresh: subs[1], expires: 600 })).res.status).toBe(200);
  });
});

describe('unsolicited MWI', () => {
  it('a phone of a user in unsolicited mode is told when it registers and on every change, outside any dialog', async () => {
    const ext = next();
    await rig.user(ext, { mwi: 'unsolicited' });
    await rig.server.store.voicemail.deposit(ext, meta, wav);
    // The feed has seen the deposit (no phone to tell yet): what follows is the REGISTER's doing.
    await rig.server.mwi.poll();
    const a = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: rig.ts.host, port: rig.ts.sipPort, domain: 'test.local' } });
    rig.phones.push(a);
    const registration = 'mwi-unsolicited-registration';
    expect((await a.register(3600, undefined, registration)).status).toBe(200);
    const first = await nthNotify(a, undefined, 1);
    expect(summary(first)).toEqual({ waiting: true, voice: '1/0', state: 'active' });
    expect(getHeader(first, 'event')).toBe('message-summary');
    expect(first.uri.port).toBe(a.local.port);
    // A refresh (same Call-ID) tells nothing: the next NOTIFY is the one of the change below.
    expect((await a.register(3600, undefined, registration)).status).toBe(200);
    const [m] = await rig.server.store.voicemail.list(ext);
    await rig.server.store.voicemail.setFolder(ext, m!.id, 'saved');
    const second = await nthNotify(a, undefined, 2);
    expect(summary(second)).toEqual({ waiting: false, voice: '0/1', state: 'active' });
    expect(second.callId).toBe(first.callId);
    expect(second.cseq.seq).toBeGreaterThan(first.cseq.seq);
    expect(a.notifiesOf(undefined)).toHaveLength(2);
  });

  it('over TCP: the unsolicited NOTIFY and a subscription\'s NOTIFYs come back over the phone\'s own connection', async () => {
    const ext = next();
    await rig.user(ext, { mwi: 'unsolicited' });
    const a = await rig.phone(ext, {}, { transport: 'tcp' });
    const first = await nthNotify(a, undefined, 1);
    expect(first.via[0]!.transport).toBe('TCP');
    expect(summary(first)).toMatchObject({ waiting: false, voice: '0/0' });
    const s = await a.subscribe({ expires: 600 });
    expect(s.res.status).toBe(200);
    await nthNotify(a, s.sub.callId, 1);
    await rig.server.store.voicemail.deposit(ext, meta, wav);
    expect(summary(await nthNotify(a, undefined, 2))).toMatchObject({ waiting: true, voice: '1/0' });
    expect(summary(await nthNotify(a, s.sub.callId, 2))).toMatchObject({ waiting: true, voice: '1/0' });
    // The phone listens on TCP too, but no connection was opened towards it: every NOTIFY used the phone's own.
    expect(a.transport.connectionCount()).toBe(1);
  });

  it('a user in subscribe mode gets no unsolicited NOTIFY', async () => {
    const ext = next();
    const a = await rig.phone(ext);
    await rig.server.store.voicemail.deposit(ext, meta, wav);
    const s = await a.subscribe({ expires: 600 });
    await nthNotify(a, s.sub.callId, 1);
    expect(a.notifiesOf(undefined)).toHaveLength(0);
  });
});

describe('status and metrics', () => {
  it('the extension detail shows the mailbox; switchboard_voicemail_messages counts every mailbox by folder, following changes', async () => {
    const ext = next();
    await rig.user(ext);
    const total = async () => {
      let t = { new: 0, saved: 0 };
      for (const c of (await rig.server.store.voicemail.allCounts()).values()) t = { new: t.new + c.new, saved: t.saved + c.saved };
      return t;
    };
    const m = await rig.server.store.voicemail.deposit(ext, meta, wav);
    await rig.server.store.voicemail.deposit(ext, meta, wav);
    await rig.server.store.voicemail.setFolder(ext, m.id, 'saved');
    await rig.server.mwi.poll();
    const t = await total();
    expect(t.saved).toBeGreaterThanOrEqual(1);
    // The extension detail (API, web UI, `user show`) shows the mailbox too.
    expect((await rig.server.extensions.detail(ext))!.voicemail).toEqual({ enabled: true, new: 1, saved: 1 });
    const text = await rig.server.metrics();
    expect(text).toContain(`switchboard_voicemail_messages{folder="new"} ${t.new}`);
    expect(text).toContain(`switchboard_voicemail_messages{folder="saved"} ${t.saved}`);
  });
});

describe('after a restart', () => {
  it('counts come from the store: a phone subscribing to the restarted server sees the message left before', async () => {
    const dataDir = tempDataDir();
    const first = await startTestServer({ manualTime: true, dataDir });
    await first.server.store.users.add({ extension: '4100', password: 'pw-4100' });
    await first.server.store.voicemail.deposit('4100', meta, wav);
    const m2 = await first.server.store.voicemail.deposit('4100', { ...meta, receivedAt: meta.receivedAt + 1 }, wav);
    await first.server.store.voicemail.setFolder('4100', m2.id, 'saved');
    await first.stop();
    const again = await startTestServer({ manualTime: true, dataDir });
    try {
      const a = await TestPhone.start({ ext: '4100', password: 'pw-4100', server: { host: again.host, port: again.sipPort, domain: 'test.local' } });
      try {
        const s = await a.subscribe({ expires: 600 });
        expect(s.res.status).toBe(200);
        expect(summary(await nthNotify(a, s.sub.callId, 1))).toEqual({ waiting: true, voice: '1/1', state: 'active' });
      } finally {
        await a.stop();
      }
    } finally {
      await again.stop();
    }
  });
});

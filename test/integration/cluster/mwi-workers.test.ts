// MWI with two workers: a subscription lives in the worker that took its
// SUBSCRIBE (the To tag of the 200 names it), and every worker follows the
// mailbox feed, so a message deposited by another process (here the test,
// on the same database, as another worker's voicemail application would)
// reaches phones subscribed on either worker. Unsolicited NOTIFYs come from
// the one worker that holds the phone's registration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import { openStore, type SqliteStore } from '../../../src/store/index.ts';
import { parseMessageSummary } from '../../../src/pbx/mwi/message-summary.ts';
import { waitUntil } from '../../lib/wait.ts';

const USERS = [{ ext: '7001', password: 'pw-seven-one-secret' }, { ext: '7002', password: 'pw-seven-two-secret' }];
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64)]);

let sb: SwitchboardHandle;
let store: SqliteStore;
const phones: TestPhone[] = [];

beforeAll(async () => {
  sb = await startSwitchboard({ workers: 2, users: USERS, readyTimeoutMs: 60_000 });
  store = openStore(sb.dataDir);
}, 90_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await store?.close();
  await sb?.stop();
});

const phoneFor = async (ext: string): Promise<TestPhone> => {
  const p = await TestPhone.start({ ext, password: USERS.find((u) => u.ext === ext)!.password, server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
  phones.push(p);
  return p;
};
const waiting = (req: SipRequest | undefined) => req && parseMessageSummary(req.body)?.waiting;
type SipRequest = TestPhone['notifies'][number];

describe('MWI with two workers', () => {
  it('phones subscribed on worker 1 and on worker 2 both see a message deposited by another process, and see it saved', async () => {
    // New phones (new source ports) until one subscription is held by each worker.
    const byWorker = new Map<number, { phone: TestPhone; callId: string }>();
    for (let i = 0; i < 24 && byWorker.size < 2; i++) {
      const p = await phoneFor('7001');
      const s = await p.subscribe({ expires: 600 });
      expect(s.res.status).toBe(200);
      const worker = ownerOfId(tagOf(s.res.to));
      expect([1, 2]).toContain(worker);
      if (!byWorker.has(worker)) byWorker.set(worker, { phone: p, callId: s.sub.callId });
    }
    expect([...byWorker.keys()].sort()).toEqual([1, 2]);
    for (const { phone, callId } of byWorker.values()) {
      expect(await waitUntil(() => phone.notifiesOf(callId).length >= 1)).toBe(true);
      expect(waiting(phone.notifiesOf(callId)[0])).toBe(false);
    }
    const m = await store.voicemail.deposit('7001', { caller: '7002', callerName: '', receivedAt: Date.now(), durationMs: 2000 }, wav);
    for (const { phone, callId } of byWorker.values()) {
      expect(await waitUntil(() => waiting(phone.notifiesOf(callId).at(-1)) === true)).toBe(true);
    }
    await store.voicemail.setFolder('7001', m.id, 'saved');
    for (const { phone, callId } of byWorker.values()) {
      expect(await waitUntil(() => waiting(phone.notifiesOf(callId).at(-1)) === false)).toBe(true);
      expect(parseMessageSummary(phone.notifiesOf(callId).at(-1)!.body)!.counts.get('voice-message')).toMatchObject({ new: 0, old: 1 });
    }
  });

  it('an unsolicited-mode phone is told once per change, by the worker holding its registration', async () => {
    await store.users.update('7002', { mwi: 'unsolicited' });
    const p = await phoneFor('7002');
    // The workers follow the directory by polling it: register once they know the mode.
    expect(await waitUntil(async () => {
      expect((await p.register()).status).toBe(200);
      return p.notifiesOf(undefined).length >= 1;
    }, 15_000, 500)).toBe(true);
    const before = p.notifiesOf(undefined).length;
    await store.voicemail.deposit('7002', { caller: '7001', callerName: '', receivedAt: Date.now(), durationMs: 2000 }, wav);
    expect(await waitUntil(() => waiting(p.notifiesOf(undefined).at(-1)) === true)).toBe(true);
    const m2 = await store.voicemail.deposit('7002', { caller: '7001', callerName: '', receivedAt: Date.now(), durationMs: 2000 }, wav);
    expect(await waitUntil(() => parseMessageSummary(p.notifiesOf(undefined).at(-1)!.body)!.counts.get('voice-message')!.new === 2)).toBe(true);
    await store.voicemail.remove('7002', m2.id);
    expect(await waitUntil(() => parseMessageSummary(p.notifiesOf(undefined).at(-1)!.body)!.counts.get('voice-message')!.new === 1)).toBe(true);
    // Three changes, three NOTIFYs: one worker sent them (the other holds no binding of this phone).
    expect(p.notifiesOf(undefined).length - before).toBe(3);
    expect(new Set(p.notifiesOf(undefined).map((n) => n.callId)).size).toBe(1);
  });
});

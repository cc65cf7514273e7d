import { describe, expect, it } from 'vitest';
import type { CdrInput, Store } from '../../../../src/store/index.ts';
import { storePerTest, type StoreEngine, type TestDatabase } from '../engines.ts';
import { storeError } from '../helpers.ts';

let seq = 0;
export function cdr(over: Partial<CdrInput> = {}): CdrInput {
  seq++;
  return {
    callRef: `call-${seq}`, direction: 'internal', caller: '1001', callerName: 'Alice', callerExtension: '1001',
    callee: '1002', calleeExtension: '1002', trunk: null, startedAt: 1_000_000 + seq * 1000, answeredAt: null,
    endedAt: 1_000_000 + seq * 1000 + 500, disposition: 'no-answer', status: 480, reason: '', codec: null, legs: [], segments: [],
    media: null, ...over,
  };
}

export function cdrsSuite(engine: StoreEngine): void {
  describe(`CdrRepository (${engine.name})`, () => {
    let t: TestDatabase;
    let store: Store;
    const errors: Error[] = [];

    storePerTest(engine, (db, s) => {
      t = db;
      store = s;
      errors.length = 0;
    }, { onError: (e) => errors.push(e), flushIntervalMs: 20 });

    it('round-trips every field, legs and segments included', async () => {
      const input = cdr({
        direction: 'outbound', callee: '900301234', calleeExtension: null, trunk: 'pstn', answeredAt: 1_500_000,
        endedAt: 1_560_000, disposition: 'answered', status: 200, codec: 'PCMA',
        legs: [{ target: 'sip:0301234@gw.example.com', status: 200, callId: 'leg-1@sb' }, { target: 'sip:x@y', status: 486, callId: 'leg-2@sb', reason: 'Busy Here' }],
        media: {
          connectionType: 'SRTP-RTP relayed',
          caller: { address: '192.0.2.10:4000', stream: 'SRTP', packetsIn: 1500, packetsOut: 1490, lost: 3, lossPercent: 0.2, jitterMs: 1.25 },
          callee: { address: '[2001:db8::5]:30000', stream: 'RTP', packetsIn: 1490, packetsOut: 1500, lost: 0, lossPercent: 0, jitterMs: 0.5 },
        },
        segments: [{ a: '1001', b: '900301234', startedAt: 1_500_000, endedAt: 1_530_000 }, { a: '1003', b: '900301234', startedAt: 1_530_000, endedAt: 1_560_000 }],
      });
      store.cdrs.enqueue(input);
      const [got, ...rest] = await store.cdrs.list();
      expect(rest).toEqual([]);
      expect(got!.id).toBeGreaterThan(0);
      const { id: _id, ...fields } = got!;
      expect(fields).toEqual(input);
    });

    it('lists by extension and kind: placed, received (answered), missed (not answered)', async () => {
      const placed = cdr({ caller: '1001', callerExtension: '1001', callee: '1002', calleeExtension: '1002', answeredAt: 1, disposition: 'answered', status: 200 });
      const received = cdr({ caller: '1002', callerExtension: '1002', callee: '1001', calleeExtension: '1001', answeredAt: 2, disposition: 'answered', status: 200 });
      const missed = cdr({ caller: '1003', callerExtension: '1003', callee: '1001', calleeExtension: '1001', disposition: 'no-answer' });
      const inbound = cdr({ direction: 'inbound', caller: '+4930999', callerExtension: null, callee: '+493055', calleeExtension: '1001', trunk: 'pstn', disposition: 'cancelled', status: 487 });
      const outbound = cdr({ direction: 'outbound', caller: '1002', callerExtension: '1002', callee: '900', calleeExtension: null, trunk: 'pstn', disposition: 'busy', status: 486 });
      for (const c of [placed, received, missed, inbound, outbound]) store.cdrs.enqueue(c);
      const refs = async (q: Parameters<typeof store.cdrs.list>[0]) => (await store.cdrs.list(q)).map((c) => c.callRef);
      expect(await refs({ extension: '1001' })).toEqual([inbound, missed, received, placed].map((c) => c.callRef));
      expect(await refs({ extension: '1001', kind: 'placed' })).toEqual([placed.callRef]);
      expect(await refs({ extension: '1001', kind: 'received' })).toEqual([received.callRef]);
      expect(await refs({ extension: '1001', kind: 'missed' })).toEqual([inbound.callRef, missed.callRef]);
      expect(await refs({ extension: '1002', kind: 'placed' })).toEqual([outbound.callRef, received.callRef]);
      expect(await refs({ kind: 'missed' })).toEqual([inbound.callRef, missed.callRef]);
      expect(await refs({})).toHaveLength(5);
      expect(await store.cdrs.count({ extension: '1001' })).toBe(4);
      expect(await store.cdrs.count({ extension: '1001', kind: 'missed' })).toBe(2);
      expect(await store.cdrs.count()).toBe(5);
      expect(await refs({ extension: '4040' })).toEqual([]);
    });

    it('filters by since (inclusive), newest first, and pages with offset and limit', async () => {
      const all = Array.from({ length: 25 }, () => cdr());
      for (const c of all) store.cdrs.enqueue(c);
      const newestFirst = [...all].reverse().map((c) => c.callRef);
      expect((await store.cdrs.list({ since: all[20]!.startedAt })).map((c) => c.callRef)).toEqual(newestFirst.slice(0, 5));
      expect(await store.cdrs.count({ since: all[20]!.startedAt })).toBe(5);
      const pages: string[] = [];
      for (let offset = 0; offset < 30; offset += 10) pages.push(...(await store.cdrs.list({ offset, limit: 10 })).map((c) => c.callRef));
      expect(pages).toEqual(newestFirst);
      expect(await store.cdrs.list({ limit: 0 })).toHaveLength(1);
      expect(await store.cdrs.list({ limit: 5000 })).toHaveLength(25);
      expect((await store.cdrs.list({ offset: -3, limit: 2 })).map((c) => c.callRef)).toEqual(newestFirst.slice(0, 2));
    });

    it('keeps the reason of a refused call and finds it by id', async () => {
      const refused = cdr({ direction: 'outbound', callee: '900301234', calleeExtension: null, disposition: 'rejected', status: 403, reason: 'Outbound Calls Not Permitted' });
      store.cdrs.enqueue(refused);
      const [listed] = await store.cdrs.list();
      expect([listed!.status, listed!.reason, listed!.media]).toEqual([403, 'Outbound Calls Not Permitted', null]);
      expect(await store.cdrs.get(listed!.id)).toEqual(listed);
      expect(await store.cdrs.get(listed!.id + 1000)).toBeUndefined();
    });

    it('filters by until, direction, disposition, status, trunk and text, alone and together', async () => {
      const a = cdr({ direction: 'outbound', callee: '900301234', calleeExtension: null, trunk: 'pstn', disposition: 'rejected', status: 403, reason: 'Outbound Calls Not Permitted' });
      const b = cdr({ direction: 'internal', disposition: 'no-answer', status: 408, reason: 'nobody answered' });
      const c = cdr({ direction: 'inbound', caller: '+4930_99%', callerName: 'Zoë Müller', callerExtension: null, trunk: 'sip-two', disposition: 'answered', status: 200, answeredAt: 5 });
      const d = cdr({ direction: 'outbound', callee: '900777', calleeExtension: null, trunk: 'pstn', disposition: 'busy', status: 486 });
      for (const x of [a, b, c, d]) store.cdrs.enqueue(x);
      const refs = async (q: Parameters<typeof store.cdrs.list>[0]) => (await store.cdrs.list(q)).map((x) => x.callRef);
      expect(await refs({ until: c.startedAt })).toEqual([b.callRef, a.callRef]);
      expect(await refs({ since: b.startedAt, until: d.startedAt })).toEqual([c.callRef, b.callRef]);
      expect(await refs({ direction: 'outbound' })).toEqual([d.callRef, a.callRef]);
      expect(await refs({ disposition: 'rejected' })).toEqual([a.callRef]);
      expect(await refs({ status: 408 })).toEqual([b.callRef]);
      expect(await refs({ trunk: 'pstn' })).toEqual([d.callRef, a.callRef]);
      expect(await refs({ trunk: 'pstn', status: 486 })).toEqual([d.callRef]);
      expect(await refs({ search: '0301' })).toEqual([a.callRef]);
      expect(await refs({ search: 'zoë MÜller' })).toEqual([c.callRef]); // the caller's name, letter case aside
      expect(await refs({ search: '_99%' })).toEqual([c.callRef]);
      expect(await refs({ search: '%' })).toEqual([c.callRef]); // a literal %, not a wildcard
      expect(await refs({ extension: '1001', disposition: 'no-answer' })).toEqual([b.callRef]);
      expect(await store.cdrs.count({ direction: 'outbound', trunk: 'pstn' })).toBe(2);
      const dir = await storeError(() => store.cdrs.list({ direction: 'sideways' as never }));
      expect([dir.code, dir.field]).toEqual(['invalid', 'direction']);
      const disp = await storeError(() => store.cdrs.count({ disposition: 'lost' as never }));
      expect([disp.code, disp.field]).toEqual(['invalid', 'disposition']);
    });

    it('walks the whole log with the keyset cursor, same-millisecond calls included', async () => {
      const all = [cdr({ startedAt: 7 }), cdr({ startedAt: 7 }), cdr({ startedAt: 7 }), cdr({ startedAt: 9 }), cdr({ startedAt: 3 })];
      for (const x of all) store.cdrs.enqueue(x);
      const seen: string[] = [];
      let after: { startedAt: number; id: number } | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await store.cdrs.list({ after, limit: 2 });
        if (page.length === 0) break;
        seen.push(...page.map((x) => x.callRef));
        const last = page[page.length - 1]!;
        after = { startedAt: last.startedAt, id: last.id };
      }
      expect(seen).toEqual([all[3], all[2], all[1], all[0], all[4]].map((x) => x!.callRef));
    });

    it('orders calls that started in the same millisecond by insertion, newest first', async () => {
      const a = cdr({ startedAt: 5 });
      const b = cdr({ startedAt: 5 });
      store.cdrs.enqueue(a);
      store.cdrs.enqueue(b);
      expect((await store.cdrs.list()).map((c) => c.callRef)).toEqual([b.callRef, a.callRef]);
    });

    it('refuses an unknown kind', async () => {
      const e = await storeError(() => store.cdrs.list({ kind: 'lost' as never }));
      expect([e.code, e.field]).toEqual(['invalid', 'kind']);
    });

    it('survives close and reopen, including records still queued at close', async () => {
      const slow = await t.open({ flushIntervalMs: 60_000 });
      const c = cdr({ codec: 'G722' });
      slow.cdrs.enqueue(c);
      expect(slow.cdrs.pending).toBe(1);
      await slow.close();
      slow.cdrs.enqueue(cdr());
      const again = await t.open();
      expect((await again.cdrs.list()).map((x) => [x.callRef, x.codec])).toEqual([[c.callRef, 'G722']]);
    });

    it('drops a record the database refuses without blocking the others', async () => {
      store.cdrs.enqueue(cdr({ callRef: 'good' }));
      store.cdrs.enqueue(cdr({ callRef: 'bad', caller: null as never }));
      await store.cdrs.flush();
      expect((await store.cdrs.list()).map((c) => c.callRef)).toEqual(['good']);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/bad/);
      expect(store.cdrs.pending).toBe(0);
    });
  });
}

// The audit log keeps the newest N entries: trim() deletes the older ones without scanning.
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreEngine, TestDatabase } from '../engines.ts';

const entry = (i: number) => ({ at: 1_000 + i, actor: 'admin', sourceIp: '127.0.0.1', action: `change ${i}`, target: `user:${i}`, before: null, after: { i } });

export function auditTrimSuite(engine: StoreEngine): void {
  describe(`audit log trimming (${engine.name})`, () => {
    let stores: TestDatabase;
    afterEach(() => stores.cleanup());

    it('keeps the newest entries and deletes the rest', async () => {
      stores = await engine.fresh();
      const audit = (await stores.open()).admin.audit;
      expect(await audit.trim(10)).toBe(0); // empty log
      for (let i = 1; i <= 25; i++) await audit.append(entry(i));
      expect(await audit.trim(30)).toBe(0);
      expect(await audit.count()).toBe(25);
      expect(await audit.trim(10)).toBe(15);
      expect(await audit.count()).toBe(10);
      const kept = await audit.list({ limit: 1000 });
      expect(kept.map((e) => e.action)).toEqual(Array.from({ length: 10 }, (_, k) => `change ${25 - k}`));
      expect(await audit.trim(10)).toBe(0);
      // New entries push the oldest out, one for one.
      await audit.append(entry(26));
      expect(await audit.trim(10)).toBe(1);
      expect((await audit.list({ limit: 1000 })).at(-1)!.action).toBe('change 17');
      expect(await audit.trim(0)).toBe(10);
      expect(await audit.count()).toBe(0);
    });

    it('survives a reopen: ids keep growing, so trimming stays exact', async () => {
      stores = await engine.fresh();
      const first = await stores.open();
      for (let i = 1; i <= 5; i++) await first.admin.audit.append(entry(i));
      await first.admin.audit.trim(2);
      await first.close();
      const audit = (await stores.open()).admin.audit;
      for (let i = 6; i <= 8; i++) await audit.append(entry(i));
      expect(await audit.trim(4)).toBe(1);
      expect((await audit.list()).map((e) => e.action)).toEqual(['change 8', 'change 7', 'change 6', 'change 5']);
    });

    it('refuses a nonsensical limit', async () => {
      stores = await engine.fresh();
      const audit = (await stores.open()).admin.audit;
      await expect(audit.trim(-1)).rejects.toThrow(/whole number/);
      await expect(audit.trim(1.5)).rejects.toThrow(/whole number/);
    });
  });
}

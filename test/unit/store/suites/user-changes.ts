import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, UserChange } from '../../../../src/store/index.ts';
import type { StoreEngine, TestDatabase } from '../engines.ts';

// Two stores on one database stand for the server and the CLI (or two
// nodes): two connections, nothing shared but the database.
export function userChangesSuite(engine: StoreEngine): void {
  describe(`user change feed (${engine.name})`, () => {
    let t: TestDatabase;
    let server: Store;
    let cli: Store;

    beforeEach(async () => {
      t = await engine.fresh();
      server = await t.open();
      cli = await t.open();
    });
    afterEach(() => t.cleanup());

    it('logs add, update, rename and remove in order', async () => {
      const start = await server.users.lastChangeSeq();
      await cli.users.add({ extension: '100', password: 'a' });
      await cli.users.update('100', { name: 'X' });
      await cli.users.update('100', { extension: '101' });
      await cli.users.remove('101');
      const changes = await server.users.pollChanges(start);
      expect(changes.map((c) => [c.extension, c.op])).toEqual([
        ['100', 'add'], ['100', 'update'], ['100', 'remove'], ['101', 'add'], ['101', 'remove'],
      ]);
      expect(changes.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5].map((n) => start + n));
      expect(await server.users.pollChanges(start, 2)).toHaveLength(2);
      expect(await server.users.pollChanges(changes[4]!.seq)).toEqual([]);
    });

    it('a watcher on one connection sees writes made on the other, and its own', async () => {
      const seen: UserChange[][] = [];
      const w = server.users.watchChanges((c, reset) => {
        expect(reset).toBe(false);
        seen.push([...c]);
      }, { intervalMs: 0 });
      expect(await w.poll()).toBe(false);
      await cli.users.add({ extension: '100', password: 'a' });
      // Heard by this poll, or already by a wake-up (PostgreSQL's NOTIFY) that ran before it: the listener says which.
      await w.poll();
      expect(seen.map((b) => b.map((c) => c.op))).toEqual([['add']]);
      expect((await server.users.getByExtension('100'))?.password).toBe('a');
      expect(await w.poll()).toBe(false);
      await server.users.update('100', { password: 'b' });
      await w.poll();
      expect((await cli.users.getByExtension('100'))?.password).toBe('b');
      expect(seen.map((b) => b.map((c) => c.op))).toEqual([['add'], ['update']]);
      w.stop();
    });

    it('the timer delivers a change from the other connection within the interval', async () => {
      const got = new Promise<readonly UserChange[]>((resolve) => {
        const w = server.users.watchChanges((c) => {
          w.stop();
          resolve(c);
        }, { intervalMs: 20 });
      });
      await cli.users.add({ extension: '555', password: 'a' });
      const changes = await got;
      expect(changes.map((c) => c.extension)).toEqual(['555']);
    });

    it('trims the log and tells a reader that fell behind to reload', async () => {
      await t.cleanup();
      t = await engine.fresh();
      const a = await t.open({ changeLogKeep: 3 });
      const b = await t.open({ changeLogKeep: 3 });
      for (let i = 0; i < 6; i++) await b.users.add({ extension: String(100 + i), password: 'p' });
      const calls: [string[], boolean][] = [];
      const w2 = a.users.watchChanges((c, reset) => void calls.push([c.map((x) => x.extension), reset]), { intervalMs: 0, afterSeq: 0 });
      await w2.poll();
      expect(calls).toEqual([[['103', '104', '105'], true]]);
      expect(await a.users.pollChanges(0)).toHaveLength(3);
      w2.stop();
    });
  });
}

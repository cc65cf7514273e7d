import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore, UserChange } from '../../../src/store/index.ts';
import { tempStores } from './helpers.ts';

// Two stores on one file stand for the server and the CLI: two processes,
// two connections, nothing shared but the database.
describe('user change feed', () => {
  let t: ReturnType<typeof tempStores>;
  let server: SqliteStore;
  let cli: SqliteStore;

  beforeEach(() => {
    t = tempStores();
    server = t.open();
    cli = t.open();
  });
  afterEach(() => t.cleanup());

  it('logs add, update, rename and remove in order', async () => {
    const start = await server.users.lastChangeSeq();
    await cli.users.add({ extension: '100', password: 'a' });
    await cli.users.update('100', { fullName: 'X' });
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
    expect(await w.poll()).toBe(true);
    expect((await server.users.getByExtension('100'))?.password).toBe('a');
    expect(await w.poll()).toBe(false);
    await server.users.update('100', { password: 'b' });
    expect(await w.poll()).toBe(true);
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
    t = tempStores();
    const a = t.open({ changeLogKeep: 3 });
    const b = t.open({ changeLogKeep: 3 });
    for (let i = 0; i < 6; i++) await b.users.add({ extension: String(100 + i), password: 'p' });
    const calls: [string[], boolean][] = [];
    const w2 = a.users.watchChanges((c, reset) => void calls.push([c.map((x) => x.extension), reset]), { intervalMs: 0, afterSeq: 0 });
    await w2.poll();
    expect(calls).toEqual([[['103', '104', '105'], true]]);
    expect(a.db.prepare('SELECT count(*) FROM user_changes').pluck().get()).toBe(3);
    w2.stop();
  });

  it('follows users written by another process while this one writes registrations', async () => {
    const seen: string[] = [];
    const w = server.users.watchChanges((c) => {
      for (const x of c) seen.push(`${x.op}:${x.extension}`);
    }, { intervalMs: 10 });
    // Keep this process writing too, so the two contend for the write lock.
    const writer = setInterval(() => {
      server.registrations.enqueueUpsert({
        aor: 'sip:x@h', contactUri: 'sip:x@c', contactRaw: '<sip:x@c>', callId: 'c', cseq: seen.length,
        expiresAt: 1, q: null, path: [], instanceId: null, regId: null, pubGruu: null, tempGruu: null,
        transport: 'udp', sourceAddress: '192.0.2.1', sourcePort: 5060, localAddress: null, localPort: null,
        userAgent: null, updatedAt: 1,
      });
    }, 2);
    const script = fileURLToPath(new URL('./cli-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, t.dir, '50'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    clearInterval(writer);
    w.stop();
    await w.poll();
    expect(seen).toHaveLength(51);
    expect(seen[0]).toBe('add:7000');
    expect(seen[50]).toBe('remove:7000');
    expect(await server.users.count()).toBe(49);
    expect((await server.users.getByExtension('7049'))?.password).toBe('pw49');
  }, 20_000);
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../../src/store/index.ts';
import { tempStores } from './helpers.ts';
import { sqliteEngine } from './engines.ts';
import { userChangesSuite } from './suites/user-changes.ts';

userChangesSuite(sqliteEngine);

// The server and the CLI as two processes on one SQLite file.
describe('user change feed (SQLite, two processes)', () => {
  let t: ReturnType<typeof tempStores>;
  let server: SqliteStore;
  let cli: SqliteStore;

  beforeEach(() => {
    t = tempStores();
    server = t.open();
    cli = t.open();
  });
  afterEach(() => t.cleanup());

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

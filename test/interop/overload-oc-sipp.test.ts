// SIPp (nobody here wrote it) as an RFC 7339 upstream: it registers with
// "oc" in its Via against a server that sheds requests without credentials
// (its overload control driven on manual time: the probe waits as long as
// the test says). Its first REGISTER is dropped, the retransmission let in
// (half are admitted); the 401 tells it to drop 50 %, the 200 to its
// REGISTER with credentials (a class not shed) 0 %, both valid 500 ms,
// with one oc-seq.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../integration/lib/server.ts';
import type { TestServer } from '../integration/lib/server.ts';
import { ManualClock } from '../../src/lib/time.ts';
import { ManualTimerQueue } from '../../src/lib/timer-queue.ts';
import { makeTempDir, removeDir, requireTool } from './harness.ts';
import { describeSipp, runSipp } from './sipp.ts';
import { sippUsersCsv } from './users.ts';
import { waitUntil } from '../lib/wait.ts';

const overloadTimers = new ManualTimerQueue({ clock: new ManualClock(Date.now()) });
let ts: TestServer;
let work: string;

beforeAll(async () => {
  requireTool('sipp');
  work = makeTempDir('sipp-oc');
  ts = await startTestServer({ overloadTimers });
  await ts.server.store.users.add({ extension: '3100', password: 'pw-3100-secret' });
  await ts.server.directory.poll();
});

afterAll(async () => {
  await ts?.stop();
  if (work) removeDir(work);
});

describe('SIPp as an RFC 7339 upstream', () => {
  it('reads oc=50 in the 401 and oc=0 in the 200 while the server sheds half of the requests without credentials', async () => {
    // The first probe came back at once; the next is left unread for 400 ms: one cut, half admitted.
    expect(await waitUntil(() => ts.server.transport.stats.received >= 1)).toBe(true);
    overloadTimers.advance(500);
    expect(ts.server.overload!.state).toMatchObject({ admittedUnauthenticated: 0.5, admitted: 1 });
    const logFile = join(work, 'oc.log');
    const r = await runSipp({
      scenario: 'register_oc.xml',
      remotePort: ts.sipPort,
      usersCsv: sippUsersCsv([{ ext: '3100', password: 'pw-3100-secret' }], 'test.local'),
      authUri: 'test.local',
      calls: 1,
      rate: 1,
      recvTimeoutMs: 10_000,
      workDir: work,
      timeoutMs: 30_000,
      extraArgs: ['-trace_logs', '-log_file', logFile],
    });
    const why = describeSipp(r);
    expect(r.stats?.successful, why).toBe(1);
    expect(r.code, why).toBe(0);
    const log = readFileSync(logFile, 'utf8');
    const seen = [...log.matchAll(/^(\d{3}) oc=(\d+) oc-validity=(\d+) oc-seq=(\S+)$/gm)].map((m) => [m[1], m[2], m[3], m[4]]);
    expect(seen.map((s) => s.slice(0, 3)), log).toEqual([['401', '50', '500'], ['200', '0', '500']]);
    expect(seen[0]![3]).toBe(seen[1]![3]);
    // SIPp's first REGISTER was the one dropped; its retransmission got in.
    expect(ts.server.overload!.state.dropped).toBe(1);
  });
});

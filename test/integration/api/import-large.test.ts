// Issue 11 item 4: a big user import must not hold up SIP. 100,000 rows used
// to block the event loop 3.3 s; now they are a job, read as a stream and
// applied in slices, while a pinger on its own thread (a separate event loop,
// so its clock is not held up by ours) sends OPTIONS every 50 ms, and the
// CPU time of the longest event-loop turn is held near a normal answer's.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';
import { startPinger } from '../lib/options-pinger.ts';
import { openStore } from '../../../src/store/index.ts';

const ROWS = 100_000;
const PING_MS = 50;
/** Far under the 3.3 s this file blocked SIP for; a slice is ~10 ms, the rest is room for a machine shared by parallel test runs (load 8 on 2 cores seen). */
const MAX_GAP_MS = 1000;
/**
 * CPU time of the longest turn of this thread's event loop (the server runs on it). Unlike the gaps above it does
 * not grow while a loaded machine leaves the process unscheduled, so it can be held near a SIP answer's normal delay.
 */
const MAX_TURN_CPU_MS = 150;

/** Samples this thread's CPU time every millisecond: the most used between two samples is the longest turn's CPU. */
function turnCpuMonitor(): { stop: () => number } {
  let last = process.threadCpuUsage();
  let max = 0;
  const timer = setInterval(() => {
    const now = process.threadCpuUsage();
    max = Math.max(max, (now.user - last.user + now.system - last.system) / 1000);
    last = now;
  }, 1);
  return { stop: () => (clearInterval(timer), max) };
}

describe('big user imports', () => {
  let s: ApiTestServer;
  beforeAll(async () => {
    s = await startWithApi();
  });
  afterAll(() => s.ts.stop());

  it('runs as a job with progress while every OPTIONS is answered promptly', async () => {
    const lines = ['extension,name,password'];
    for (let i = 0; i < ROWS; i++) lines.push(`${300000 + i},User ${i},Import-Pw-${i}`);
    const file = lines.join('\n');

    const pinger = await startPinger(s.ts.host, s.ts.sipPort, PING_MS);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const turns = turnCpuMonitor();
    const started = await s.admin.request('POST', '/api/users/import', { raw: file, contentType: 'text/csv' });
    expect(started.status, started.text).toBe(202);
    expect(started.json).toMatchObject({ state: 'running', total: ROWS, dryRun: false });
    expect(started.headers.location).toBe(`/api/users/import/jobs/${started.json.id}`);
    const second = await s.admin.request('POST', '/api/users/import', { raw: file, contentType: 'text/csv' });
    expect(second.status, second.text).toBe(409);

    // Follow the job; bounded in count and time.
    const progress: number[] = [];
    let job = started.json;
    const deadline = Date.now() + 240_000;
    for (let polls = 0; job.state === 'running' && polls < 5000 && Date.now() < deadline; polls++) {
      await new Promise((r) => setTimeout(r, 200));
      const r = await s.admin.get(`/api/users/import/jobs/${started.json.id}?limit=1`);
      expect(r.status, r.text).toBe(200);
      job = r.json;
      progress.push(job.done);
    }
    loop.disable();
    const turnCpu = turns.stop();
    const pings = await pinger.stop();

    expect(job).toMatchObject({ state: 'done', applied: true, total: ROWS, done: ROWS, summary: { add: ROWS, update: 0, error: 0 } });
    expect(job.finishedAt).toBeGreaterThanOrEqual(job.startedAt);
    // Progress was seen between the start and the end, and never went back.
    expect(progress.some((d) => d > 0 && d < ROWS)).toBe(true);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // The report, a page at a time: the last rows, numbered as in the file (header = 1).
    const tail = await s.admin.get(`/api/users/import/jobs/${started.json.id}?offset=${ROWS - 2}&limit=10`);
    expect(tail.json.rows).toMatchObject({ total: ROWS, offset: ROWS - 2, limit: 10 });
    expect(tail.json.rows.items).toEqual([
      expect.objectContaining({ row: ROWS, extension: String(300000 + ROWS - 2), action: 'add' }),
      expect.objectContaining({ row: ROWS + 1, extension: String(300000 + ROWS - 1), action: 'add' }),
    ]);
    // Every row is stored.
    const users = await s.admin.get('/api/users?limit=1&search=3');
    expect(users.json.total).toBe(ROWS);

    console.log(`100,000 rows: longest event-loop turn ${turnCpu.toFixed(1)} ms of CPU`);
    expect(turnCpu).toBeLessThan(MAX_TURN_CPU_MS);
    expect(pings.sent).toBeGreaterThan(20);
    expect(pings.unanswered).toBe(0);
    expect(pings.answered).toBe(pings.sent);
    expect(pings.maxGap).toBeLessThan(MAX_GAP_MS);
    expect(pings.maxLatency).toBeLessThan(MAX_GAP_MS);
    expect(loop.max / 1e6).toBeLessThan(MAX_GAP_MS);
    console.log(`100,000 rows: ${pings.sent} OPTIONS, longest answer ${pings.maxLatency.toFixed(1)} ms, longest gap ${pings.maxGap.toFixed(1)} ms, ` +
      `event loop delay max ${(loop.max / 1e6).toFixed(1)} ms, import ${job.finishedAt - job.startedAt} ms`);
  }, 300_000);

  it('exports those 100,000 users as a stream, in creation order, while OPTIONS are answered promptly', async () => {
    const pinger = await startPinger(s.ts.host, s.ts.sipPort, PING_MS);
    const csv = await s.admin.get('/api/users/export');
    const json = await s.admin.get('/api/users/export?format=json');
    const pings = await pinger.stop();
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toMatch(/^extension,name,authUser,/);
    expect(lines.at(-1)).toBe('');
    const exts = lines.slice(1, -1).map((l) => l.split(',', 1)[0]);
    expect(exts).toHaveLength(ROWS);
    expect(exts.slice(0, 2)).toEqual(['300000', '300001']);
    expect(exts.at(-1)).toBe(String(300000 + ROWS - 1));
    expect(new Set(exts).size).toBe(ROWS);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const records = JSON.parse(json.text) as { extension: string }[];
    expect(records).toHaveLength(ROWS);
    expect(records[ROWS - 1]!.extension).toBe(String(300000 + ROWS - 1));
    expect(pings.unanswered).toBe(0);
    expect(pings.maxGap).toBeLessThan(MAX_GAP_MS);
  }, 120_000);

  it('dry-runs a big file as a job too, changing nothing, and pages its errors by action', async () => {
    const lines = ['extension,fullName,password'];
    for (let i = 0; i < 30_000; i++) lines.push(`${600000 + i},Dry run user number ${i},Dry-Run-Pw-${i}`);
    lines[101] = '=1+1,Formula,Dry-Run-Pw-x';
    lines[20_001] = '620000,No password,';
    const file = lines.join('\n');
    expect(file.length).toBeGreaterThan(1024 * 1024);
    const before = await s.ts.server.store.users.count();

    const started = await s.admin.request('POST', '/api/users/import?dryRun=true', { raw: file, contentType: 'text/csv' });
    expect(started.status, started.text).toBe(202);
    let job = started.json;
    const deadline = Date.now() + 120_000;
    for (let polls = 0; job.state === 'running' && polls < 1000 && Date.now() < deadline; polls++) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await s.admin.get(`/api/users/import/jobs/${job.id}?limit=1`)).json;
    }
    expect(job).toMatchObject({ state: 'done', dryRun: true, applied: false, total: 30_000, summary: { add: 29_998, update: 0, error: 2 } });
    const errors = await s.admin.get(`/api/users/import/jobs/${job.id}?action=error`);
    expect(errors.json.rows.total).toBe(2);
    expect(errors.json.rows.items.map((r: { row: number; error: string }) => [r.row, r.error.split(':')[0]])).toEqual([[102, 'extension'], [20_002, 'password']]);
    expect(await s.ts.server.store.users.count()).toBe(before);
    expect((await s.admin.get('/api/users/600000')).status).toBe(404);
    expect((await s.admin.get('/api/users/import/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  }, 180_000);

  it('a server that stops ends its running import between chunks, keeping exactly the rows it reported', async () => {
    const own = await startWithApi();
    const lines = ['extension,fullName,password'];
    for (let i = 0; i < 40_000; i++) lines.push(`${700000 + i},Stopped import user number ${i},Stopped-Pw-${i}`);
    // partial: written chunk by chunk at once, without checking the whole file first.
    const started = await own.admin.request('POST', '/api/users/import?partial=true', { raw: lines.join('\n'), contentType: 'text/csv' });
    expect(started.status, started.text).toBe(202);
    // Let some chunks land first.
    for (let polls = 0; polls < 300; polls++) {
      const r = await own.admin.get(`/api/users/import/jobs/${started.json.id}?limit=1`);
      if (r.json.done > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await own.ts.stop();
    const failed = own.ts.log.entries.filter((e) => e.msg === 'user import failed');
    expect(failed).toHaveLength(1);
    const { done, err } = failed[0]!.obj as { done: number; err: Error };
    expect(err.message).toBe('stopped: the server is stopping');
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(40_000);
    // What the job reported is what the database holds, and nothing was written after the stop.
    const store = openStore(own.ts.dataDir);
    try {
      expect(await store.users.count()).toBe(done);
    } finally {
      await store.close();
    }
  }, 120_000);
});

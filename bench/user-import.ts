// User import benchmark (issue 11 item 4): a CSV file of N rows (default
// 450,000, about 10 MB: the file that used to block SIP for 10+ s at 1 GB
// RSS) posted to the management API of a server in this process (SQLite on
// disk, HTTPS) while a pinger thread sends OPTIONS every 50 ms. Prints the
// import's time, the process's RSS before and at its peak (sampled every
// 100 ms; the bench's own copy of the file is in it too), the event loop's
// longest delay and the longest OPTIONS answer, and the machine's load.
//
//   node --import tsx bench/user-import.ts [--rows N] [--dry-run]
//
// Exit code 1 when the plumbing broke (the job failed, rows missing), never for a figure.
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { machineLines } from './lib/machine.ts';
import { startWithApi } from '../test/integration/api/client.ts';
import { startPinger } from '../test/integration/lib/options-pinger.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '450000' }, 'dry-run': { type: 'boolean', default: false } } });
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1 || rows > 2_000_000) throw new Error('--rows must be an integer in 1..2000000');
const dryRun = values['dry-run'];

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

for (const line of machineLines()) console.log(line);
console.log(`load before: ${load()}`);
const s = await startWithApi();
try {
  const lines = ['extension,name,password'];
  for (let i = 0; i < rows; i++) lines.push(`${1_000_000 + i},u${i},pw${i}`);
  const file = lines.join('\n');
  lines.length = 0;
  console.log(`file: ${rows} rows, ${(file.length / 1e6).toFixed(1)} MB${dryRun ? ', dry run' : ''}`);

  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 100);
  const pinger = await startPinger(s.ts.host, s.ts.sipPort, 50);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  const started = await s.admin.request('POST', `/api/users/import?dryRun=${dryRun}`, { raw: file, contentType: 'text/csv' });
  // A file of up to 1 MiB is answered at once (200, the report); a bigger one is a job (202).
  if (started.status !== 202 && started.status !== 200) throw new Error(`import answered ${started.status}: ${started.text.slice(0, 300)}`);
  const accepted = performance.now() - t0;
  let job = started.status === 200
    ? { state: 'done', done: started.json.rows.length, summary: started.json.summary }
    : started.json;
  for (let polls = 0; job.state === 'running' && polls < 20_000; polls++) {
    await new Promise((r) => setTimeout(r, 500));
    job = (await s.admin.get(`/api/users/import/jobs/${job.id}?limit=1`)).json;
  }
  const took = performance.now() - t0;
  loop.disable();
  clearInterval(sampler);
  const pings = await pinger.stop();
  console.log(`import: ${job.state}, ${JSON.stringify(job.summary)}, ${started.status} after ${(accepted / 1000).toFixed(1)} s, done after ${(took / 1000).toFixed(1)} s ` +
    `(${Math.round(rows / (took / 1000))} rows/s)`);
  console.log(`rss: ${mib(rssBefore)} before, ${mib(rssPeak)} peak`);
  console.log(`sip: ${pings.sent} OPTIONS, ${pings.unanswered} unanswered, longest answer ${pings.maxLatency.toFixed(0)} ms, longest gap ${pings.maxGap.toFixed(0)} ms`);
  console.log(`event loop delay: max ${(loop.max / 1e6).toFixed(0)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms`);
  console.log(`load after: ${load()}`);
  if (job.state !== 'done' || job.done !== rows) process.exitCode = 1;
} finally {
  await s.ts.stop();
}

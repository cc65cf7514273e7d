// Status list of every extension (issue 12 item 1): GET /api/status/extensions
// computes each user's state on the management worker at every request (the
// page polls it every few seconds). N users (default 10,000, a tenth of them
// registered) are imported into a server in this process; the bench times the
// view's list() for a first page sorted by extension, by state, and filtered
// to failed ones. Prints the machine and the median and worst of 20 runs each.
//
//   node --import tsx bench/extension-list.ts [--users N]
import { parseArgs } from 'node:util';
import { machineLines } from './lib/machine.ts';
import { startTestServer } from '../test/integration/lib/server.ts';
import { PRODUCTION_OVERLOAD } from '../test/lib/overload-config.ts';
import type { ListQuery } from '../src/pbx/status/extension-view.ts';

const { values } = parseArgs({ options: { users: { type: 'string', default: '10000' } } });
const users = Number(values.users);
if (!Number.isInteger(users) || users < 1 || users > 1_000_000) throw new Error('--users must be an integer in 1..1000000');

for (const line of machineLines()) console.log(line);
const ts = await startTestServer({ config: { sip: { overload: PRODUCTION_OVERLOAD } } });
try {
  const lines = ['extension,password'];
  for (let i = 0; i < users; i++) lines.push(`${100_000 + i},pw-${i}-long-enough`);
  await ts.server.store.users.importCsv(lines.join('\n'));
  await ts.server.directory.poll();
  const now = ts.server.clock.now();
  for (let i = 0; i < users; i += 10) {
    ts.server.location.put({
      aor: `sip:${100_000 + i}@test.local`, contactUri: `sip:${100_000 + i}@192.0.2.1:${10_000 + (i % 50_000)}`, contactRaw: '', callId: `c${i}`, cseq: 1,
      expiresAt: now + 3_600_000, q: null, path: [], instanceId: null, regId: null, pubGruu: null, tempGruu: null, transport: 'udp',
      sourceAddress: '192.0.2.1', sourcePort: 10_000 + (i % 50_000), localAddress: null, localPort: null, userAgent: 'bench', updatedAt: now,
    });
  }
  console.log(`users: ${ts.server.directory.size}, registered: ${ts.server.location.aorCount}`);
  const base: ListQuery = { sort: 'extension', desc: false, offset: 0, limit: 50 };
  for (const [name, q] of [['by extension', base], ['by state', { ...base, sort: 'state' }], ['failed only', { ...base, state: 'failed' }]] as const) {
    const times: number[] = [];
    for (let r = 0; r < 20; r++) {
      const t0 = performance.now();
      const page = await ts.server.extensions.list(q);
      times.push(performance.now() - t0);
      if (r === 0 && page.total === 0 && q.state === undefined) throw new Error('empty list');
    }
    times.sort((a, b) => a - b);
    console.log(`list ${name}: median ${times[10]!.toFixed(1)} ms, worst ${times[19]!.toFixed(1)} ms`);
  }
} finally {
  await ts.stop();
}

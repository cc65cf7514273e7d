// Registration loss window under kill -9 (issue 11, "Durability"): N phones
// register at once against a server of two workers; when half have their
// answer the server is SIGKILLed, so REGISTERs are in every stage (arriving,
// authenticated, committing, answered) at that moment. Afterwards the
// database is read: every phone answered 200 OK must be in it. The target is
// zero acknowledged registrations lost; the figure before group commit was
// 5 of 1,031 (the issue) and 12 of 300 (test/interop/faults/kill-registrations.test.ts
// run against the old acknowledgement).
//
//   node --import tsx bench/kill-loss.ts [--phones N] [--rounds R] [--workers W]
//
// Exit code 1 when a round lost an acknowledged registration or the plumbing broke.
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TestPhone } from '../test/integration/lib/phone.ts';
import { importUsers, makeTempDir, removeDir, startSwitchboard } from '../test/interop/harness.ts';
import { PRODUCTION_OVERLOAD } from '../test/lib/overload-config.ts';
import { makeUsers } from '../test/interop/users.ts';
import { machineLines } from './lib/machine.ts';

const { values } = parseArgs({ options: { phones: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' }, workers: { type: 'string', default: '2' } } });
const phonesN = Number(values.phones);
const rounds = Number(values.rounds);
const workers = Number(values.workers);
if (!(phonesN >= 10 && phonesN <= 20_000 && rounds >= 1 && rounds <= 20 && workers >= 1 && workers <= 8)) {
  throw new Error('--phones 10..20000, --rounds 1..20, --workers 1..8');
}

for (const l of machineLines()) console.log(l);
console.log(`load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const users = makeUsers(phonesN, 30000);
let failed = false;
for (let round = 1; round <= rounds; round++) {
  const dataDir = makeTempDir('kill-loss');
  const phones: TestPhone[] = [];
  try {
    await importUsers(dataDir, users);
    const sb = await startSwitchboard({ dataDir, workers, tls: false, readyTimeoutMs: 60_000, config: { sip: { overload: PRODUCTION_OVERLOAD } } });
    for (const u of users) phones.push(await TestPhone.start({ ext: u.ext, password: u.password, server: { host: '127.0.0.1', port: sb.udpPort, domain: sb.domain } }));
    const acknowledged = new Set<string>();
    let answered = 0;
    let killedAt = 0;
    const t0 = performance.now();
    const dead = new Promise<void>((resolve) => {
      for (const p of phones) {
        void p.register(3600).then((r) => {
          if (killedAt) return;
          answered++;
          if (r.status === 200) acknowledged.add(p.opts.ext);
          if (answered === phonesN / 2) {
            killedAt = performance.now();
            void sb.kill().then(resolve);
          }
        }, () => {});
      }
    });
    await Promise.race([dead, new Promise((r) => setTimeout(r, 60_000))]);
    if (!killedAt) throw new Error('the storm never reached half its answers');
    const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
    const stored = new Set((db.prepare('SELECT aor FROM registrations').all() as { aor: string }[]).map((r) => /^sip:(\d+)@/.exec(r.aor)![1]!));
    db.close();
    const lost = [...acknowledged].filter((e) => !stored.has(e)).length;
    if (lost > 0) failed = true;
    const rate = Math.round(answered / ((killedAt - t0) / 1000));
    console.log(`round ${round}: ${phonesN} phones, ${workers} workers, answers at ${rate}/s; killed after ${acknowledged.size} acknowledged: ${stored.size} stored, ${lost} acknowledged but lost`);
    await sb.stop();
  } finally {
    for (const p of phones) await p.stop();
    removeDir(dataDir);
  }
}
console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exitCode = failed ? 1 : 0;

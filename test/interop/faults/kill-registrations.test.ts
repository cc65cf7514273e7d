// kill -9 in the middle of a registration storm (issue 11, "Durability"):
// every REGISTER the server answered 200 OK before it died is in the
// database afterwards. Before group commit the write-behind queue lost the
// last ~20 ms of acknowledged registrations (5 of 1,031 in the report).
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { TestPhone } from '../../integration/lib/phone.ts';
import { importUsers, makeTempDir, removeDir, startSwitchboard } from '../harness.ts';
import type { SwitchboardHandle } from '../harness.ts';
import { makeUsers } from '../users.ts';

const USERS = makeUsers(600, 22000);
const dataDir = makeTempDir('kill9');
let sb: SwitchboardHandle | undefined;
const phones: TestPhone[] = [];

afterAll(async () => {
  for (const p of phones) await p.stop();
  await sb?.stop();
  removeDir(dataDir);
});

describe('kill -9 during a registration storm', () => {
  it('loses no registration that was answered 200 OK', async () => {
    await importUsers(dataDir, USERS);
    sb = await startSwitchboard({ dataDir, workers: 2, tls: false });
    for (const u of USERS) {
      phones.push(await TestPhone.start({ ext: u.ext, password: u.password, server: { host: '127.0.0.1', port: sb.udpPort, domain: sb.domain } }));
    }
    const acknowledged = new Set<string>();
    let answered = 0;
    const server = sb;
    let killed: Promise<void> | undefined;
    let onKilled: () => void = () => {};
    const dead = new Promise<void>((r) => (onKilled = r));
    // All at once; the server dies when half have their answer, so REGISTERs are in every stage at that moment.
    // (The rest time out in the phones' transactions; nobody waits for them.)
    for (const p of phones) {
      void p.register(3600).then((r) => {
        if (killed) return;
        answered++;
        if (r.status === 200) acknowledged.add(p.opts.ext);
        if (answered === phones.length / 2) killed = server.kill().then(onKilled);
      }, () => {});
    }
    await Promise.race([dead, new Promise((r) => setTimeout(r, 30_000))]);
    expect(killed, 'the server was killed mid-storm').toBeDefined();
    await killed;
    expect(acknowledged.size).toBeGreaterThan(100);

    const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true });
    let stored: Set<string>;
    try {
      const rows = db.prepare('SELECT aor FROM registrations').all() as { aor: string }[];
      stored = new Set(rows.map((r) => /^sip:(\d+)@/.exec(r.aor)![1]!));
    } finally {
      db.close();
    }
    const lost = [...acknowledged].filter((ext) => !stored.has(ext));
    console.log(`kill -9: ${acknowledged.size} acknowledged before the kill, ${stored.size} stored, ${lost.length} acknowledged but lost`);
    expect(lost).toEqual([]);
  });
});

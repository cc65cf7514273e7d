// The System API with `switchboard start --workers 2`: every worker is
// listed, the log view gathers warnings from both workers over their link,
// and a backup uploaded through the web UI is applied by the next
// `switchboard start` (the old data moved aside).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../api/client.ts';
import { freePort, startSwitchboard, switchboardCli, type SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import { tempDataDir } from '../lib/server.ts';
import { waitUntil } from '../../lib/wait.ts';
import { PENDING_RESTORE } from '../../../src/ops/backup.ts';

let sb: SwitchboardHandle | undefined;
let httpPort = 0;
const phones: TestPhone[] = [];

async function admin(password: string, newPassword?: string): Promise<ApiClient> {
  const api = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(sb!.dataDir, 'certs', 'ca.crt'), 'utf8'));
  if (newPassword) await api.loginChanging('admin', password, newPassword);
  else expect((await api.login('admin', password)).status).toBe(200);
  return api;
}

beforeAll(async () => {
  httpPort = await freePort();
  // Our own data directory: the harness removes the ones it made at stop, and this one must survive a restart.
  sb = await startSwitchboard({ workers: 2, dataDir: tempDataDir(), users: [{ ext: '3001', password: 'pw-three-one-secret' }], readyTimeoutMs: 60_000, http: `127.0.0.1:${httpPort}` });
}, 90_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await sb?.stop();
});

describe('System API in a cluster of two workers', () => {
  it('lists both workers and gathers the warnings of both', async () => {
    const api = await admin(/^Initial admin password: (\S+)$/m.exec(sb!.output())![1]!, 'Cluster-System-Pass-7');
    const sys = (await api.get('/api/system')).json;
    expect(sys.workers.map((w: { worker: number }) => w.worker)).toEqual([1, 2]);
    expect(sys.capacity.limits.workers).toBe(2);
    // Junk from many source ports: the kernel spreads the flows over both workers, each warns once per source.
    const seen = new Set<number>();
    for (let round = 0; round < 10 && seen.size < 2; round++) {
      for (let i = 0; i < 16; i++) {
        const s = createSocket('udp4');
        await new Promise<void>((r) => s.send(Buffer.from('JUNK\r\n\r\n'), sb!.udpPort, '127.0.0.1', () => r()));
        s.close();
      }
      await waitUntil(async () => {
        const log = (await api.get('/api/system/log')).json.items as { msg: string; worker: number }[];
        for (const l of log) if (l.msg === 'SIP transport problem') seen.add(l.worker);
        return seen.size >= 2;
      }, 2000, 200);
    }
    expect([...seen].sort()).toEqual([1, 2]);
  }, 60_000);

  it('applies a backup staged through the API at the next switchboard start', async () => {
    const api = await admin('Cluster-System-Pass-7');
    const backup = await api.get('/api/system/backup');
    expect(backup.status).toBe(200);
    // Changed after the backup: the restore takes it back.
    expect((await switchboardCli(['user', 'add', '--ext', '3002', '--password', 'pw-three-two-secret', '--data-dir', sb!.dataDir])).code).toBe(0);
    const staged = await api.request('POST', '/api/system/restore', { raw: backup.body, contentType: 'application/octet-stream' });
    expect(staged.status, staged.text).toBe(201);
    const dataDir = sb!.dataDir;
    await sb!.stop();
    sb = await startSwitchboard({ workers: 2, dataDir, readyTimeoutMs: 60_000, http: `127.0.0.1:${httpPort}` });
    expect(existsSync(join(dataDir, PENDING_RESTORE))).toBe(false);
    expect(readdirSync(dataDir).some((n) => n.startsWith('before-restore-')), `${readdirSync(dataDir).join(' ')}\n${sb.output().slice(0, 3000)}`).toBe(true);
    const users = await switchboardCli(['user', 'list', '--data-dir', dataDir]);
    expect(users.stdout).toContain('3001');
    expect(users.stdout).not.toContain('3002');
    const p = await TestPhone.start({ ext: '3001', password: 'pw-three-one-secret', server: { host: '127.0.0.1', port: sb.udpPort, domain: sb.domain } });
    phones.push(p);
    expect((await p.register()).status).toBe(200);
    expect((await (await admin('Cluster-System-Pass-7')).get('/api/system')).json.workers).toHaveLength(2);
  }, 120_000);
});

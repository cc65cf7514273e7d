// The extension detail with two workers (issue 12 item 1): a refusal and a
// phone's reachability are known only to the worker whose socket the phone's
// flow lands on, so the management worker (1) must ask the other. Phones
// here are picked to land on worker 2; the management API and
// `switchboard user show` (supervisor -> worker 1 -> every worker) both
// show what worker 2 saw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../api/client.ts';
import { freePort, startSwitchboard, switchboardCli } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import { TestClient } from '../lib/sip-client.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import { waitUntil } from '../../lib/wait.ts';
import type { ExtensionDetail, ExtensionList } from '../../../src/model/extension-detail.ts';

const USERS = [{ ext: '5001', password: 'pw-five-one-secret' }, { ext: '5002', password: 'pw-five-two-secret' }];

let sb: SwitchboardHandle;
let api: ApiClient;
const phones: TestPhone[] = [];

beforeAll(async () => {
  const httpPort = await freePort();
  sb = await startSwitchboard({
    workers: 2, users: USERS, readyTimeoutMs: 60_000, http: `127.0.0.1:${httpPort}`,
    config: { registrar: { keepaliveSec: 2, keepaliveTimeoutSec: 1 } },
  });
  const adminPassword = /^Initial admin password: (\S+)$/m.exec(sb.output())?.[1] ?? '';
  api = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(sb.dataDir, 'certs', 'ca.crt'), 'utf8'));
  await api.loginChanging('admin', adminPassword, 'Cluster-Detail-Pass-7');
}, 90_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await sb?.stop();
});

const detail = async (ext: string) => (await api.get(`/api/users/${ext}/detail`)).json as ExtensionDetail;

describe('extension detail with two workers', () => {
  it('shows a refusal seen by worker 2 on the management worker, in the API and the CLI', async () => {
    // New sockets until one's flow lands on worker 2 (the To tag of its answer to an OPTIONS names the
    // worker; the stateless 401 does not), each from its own loopback address (no pair ban in the way).
    let worker = 0;
    for (let i = 0; i < 24 && worker !== 2; i++) {
      const c = await new TestClient('udp', sb.host, sb.udpPort, {}, 0, `127.0.0.${60 + i}`).open();
      try {
        worker = ownerOfId(tagOf((await c.request('OPTIONS', { user: '5001' })).to));
        if (worker !== 2) continue;
        const res = await c.register('5001', 'wrong-password', { headers: [{ name: 'user-agent', value: `Probe ${i}` }] });
        expect(res.status).toBe(401);
        const d = await detail('5001');
        expect(d.lastFailure).toMatchObject({ reason: 'wrong-password', userAgent: `Probe ${i}`, address: `127.0.0.${60 + i}`, port: c.localPort });
        const cli = await switchboardCli(['user', 'show', '--ext', '5001', '--data-dir', sb.dataDir]);
        expect(cli.stdout).toContain(`ua="Probe ${i}"`);
        expect(cli.stdout).toMatch(/^last failure .*wrong password/m);
      } finally {
        c.close();
      }
    }
    expect(worker).toBe(2);
    const list = (await api.get('/api/status/extensions?state=failed')).json as ExtensionList;
    expect(list.items.map((r) => r.extension)).toEqual(['5001']);
    expect((await api.get('/api/users/5999/detail')).status).toBe(404);
  });

  it('probes a UDP phone from the worker holding it and shows it reachable, then unreachable once gone', async () => {
    let phone: TestPhone | undefined;
    for (let i = 0; i < 24 && !phone; i++) {
      const p = await TestPhone.start({ ext: '5002', password: 'pw-five-two-secret', server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
      const ok = await p.register(300);
      expect(ok.status).toBe(200);
      if (ownerOfId(tagOf(ok.to)) === 2) phone = p;
      else {
        expect((await p.register(0)).status).toBe(200);
        await p.stop();
      }
    }
    expect(phone).toBeDefined();
    phones.push(phone!);
    const state = async () => (await detail('5002')).contacts[0]?.reachability.state;
    expect(await waitUntil(async () => (await state()) === 'reachable', 10_000, 200)).toBe(true);
    await phone!.stop();
    phones.splice(0);
    expect(await waitUntil(async () => (await state()) === 'unreachable', 15_000, 200)).toBe(true);
    const d = await detail('5002');
    expect(d.registered).toBe(true);
    const list = (await api.get('/api/status/extensions?state=unreachable')).json as ExtensionList;
    expect(list.items.map((r) => [r.extension, r.state])).toEqual([['5002', 'unreachable']]);
  });
});

// Upstream lines against a second Switchboard as the upstream registrar
// (issue 15 items 1 and 5): registration on both sides, status and counters,
// a wrong password's reason (once in the log), refresh cycles on manual time,
// and recovery when the upstream comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askControlSocket, controlSocketPath } from '../../../src/pbx/status/control-socket.ts';
import type { GatewayStatus } from '../../../src/model/gateway.ts';
import { refreshDelaySec } from '../../../src/sip/ua/register-client.ts';
import { main } from '../../../src/cli/main.ts';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { startWithApi, type ApiTestServer } from '../api/client.ts';
import { addLines, GATEWAY_DOMAIN, startUpstream, startUpstreamAgain, stopAll, type PairLine } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;
let api: ApiTestServer;

const lines = () => gw.server.gateway.lines!;
const upstreamHas = (user: string) => upstream.server.location.isRegistered(`sip:${user}@upstream.test`);
const upstreamConfig = { registrar: { minExpiresSec: 30 } };
const LINES: PairLine[] = [
  { extension: '1001', upstreamUser: '41510', ipei: '05003 0733588' },
  // The upstream account's password is Up-41511-secret.
  { extension: '1002', upstreamUser: '41511', password: 'not-the-password' },
];

beforeAll(async () => {
  upstream = await startUpstream(LINES, upstreamConfig);
  api = await startWithApi({ sip: { domain: GATEWAY_DOMAIN } }, { manualTime: true });
  gw = api.ts;
  await addLines(gw, { port: upstream.sipPort, lines: LINES, settings: { registerExpiresSec: 60 } });
}, 30_000);

afterAll(() => stopAll(gw, upstream));

describe('gateway lines against a Switchboard upstream', () => {
  it('registers the line on both sides and reports it', async () => {
    await until(() => lines().lineStatus('1001')?.registration === 'registered', '1001 registered');
    expect(upstreamHas('41510')).toBe(true);
    const binding = upstream.server.location.lookup('sip:41510@upstream.test')[0]!;
    // The upstream's location holds the gateway's contact: its UDP port, the upstream user.
    expect(binding.contactUri).toBe(`sip:41510@127.0.0.1:${gw.sipPort}`);
    // +sip.instance is the line's own, stable UUID (RFC 5626).
    expect(binding.instanceId).toMatch(/^<?urn:uuid:[0-9a-f-]{36}>?$/);
    const s = lines().lineStatus('1001')!;
    expect(s.registeredVia).toBe(`udp:127.0.0.1:${upstream.sipPort}`);
    expect(s.aor).toBe('sip:41510@upstream.test');
    expect(s.failure).toBeNull();
  });

  it('says wrong password for a refused line, in the status and once in the log', async () => {
    await until(() => lines().lineStatus('1002')?.failure?.code === 'wrong-password', '1002 refused');
    const s = lines().lineStatus('1002')!;
    expect(s.registration).toBe('failed');
    expect(s.failure!.text).toContain('wrong password');
    // The status line is said once: "(401 Unauthorized)", not "(401 401 Unauthorized)".
    expect(s.failure!.text).toContain('(401 Unauthorized)');
    expect(upstreamHas('41511')).toBe(false);
    // The control socket (what `switchboard gateway status` reads) says the same, with the counters.
    const answer = await askControlSocket<{ gateway: GatewayStatus }>(controlSocketPath(gw.dataDir), { op: 'gateway-status' }, 5000);
    const viaSocket = answer.gateway.lines.find((l) => l.extension === '1002')!;
    expect(viaSocket.failure!.code).toBe('wrong-password');
    expect(answer.gateway.counters).toEqual({ sipUsers: 2, subscribed: 0, registered: 1, total: 2 });
    // The CLI and the API say the same.
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
    try {
      expect(await main(['gateway', 'status', '--data-dir', gw.dataDir])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const cliLine = out.join('').split('\n').find((l) => l.startsWith('user 1002'))!;
    expect(cliLine).toContain('reason wrong-password: wrong password');
    expect(out.join('')).toContain('SIP users 2  subscribed 0  registered 1  total 2');
    const r = await api.admin.get('/api/gateway/status');
    expect(r.status).toBe(200);
    expect(r.json.lines.find((l: { extension: string }) => l.extension === '1002').failure.code).toBe('wrong-password');
    expect(r.text).not.toContain('not-the-password');
    const again = await api.admin.post('/api/gateway/lines/reregister', { extensions: ['1001'] });
    expect(again.json).toEqual({ lines: 1 });
    // Metrics and the alarm say the same.
    const metrics = await gw.server.metrics();
    expect(metrics).toContain('switchboard_gateway_lines{state="registered"} 1');
    expect(metrics).toContain('switchboard_gateway_lines{state="failed"} 1');
    expect(gw.server.alarms.list().find((a) => a.kind === 'gateway-lines')?.text).toContain('1 of 2 gateway lines not registered');
    // A retry later (the slow retry of D-08) logs nothing new.
    await gw.advance(5 * 60_000 + 1000);
    await until(() => (lines().lineStatus('1002')?.failure?.at ?? 0) > s.failure!.at, 'the slow retry');
    const logged = gw.log.entries.filter((e) => e.msg?.includes('gateway line 1002 not registered'));
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(gw.log.entries)).not.toContain('not-the-password');
  });

  it('refreshes before expiry, three cycles', async () => {
    let last = lines().lineStatus('1001')!.expiresAt!;
    for (let cycle = 0; cycle < 3; cycle++) {
      await gw.advance(refreshDelaySec(60) * 1000 + 100);
      await until(() => (lines().lineStatus('1001')?.expiresAt ?? 0) > last, `refresh ${cycle + 1}`);
      last = lines().lineStatus('1001')!.expiresAt!;
      expect(lines().lineStatus('1001')!.registration).toBe('registered');
      expect(upstreamHas('41510')).toBe(true);
    }
  });

  it('re-registers by itself when the upstream comes back', async () => {
    await upstream.stop();
    // The next refresh finds nobody: failed with a reason, no operator action.
    await gw.advance(refreshDelaySec(60) * 1000 + 100);
    for (let i = 0; i < 10 && lines().lineStatus('1001')!.registration === 'registered'; i++) await gw.advance(17_000);
    await until(() => lines().lineStatus('1001')!.registration === 'failed', '1001 failed');
    expect(['no-answer', 'refused']).toContain(lines().lineStatus('1001')!.failure!.code);
    upstream = await startUpstreamAgain(upstream, upstreamConfig);
    // Backoff is bounded (at most 5 minutes): time moves, the line comes back.
    for (let i = 0; i < 40 && lines().lineStatus('1001')!.registration !== 'registered'; i++) {
      await gw.advance(10_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(() => lines().lineStatus('1001')!.registration === 'registered', '1001 registered again');
    await until(() => upstreamHas('41510'), 'upstream binding again');
  }, 30_000);

  it('applies a corrected password live (the changed line registers again), and a removed line unregisters', async () => {
    await gw.server.store.gateway.updateLine('1002', { password: 'Up-41511-secret' });
    await until(() => lines().lineStatus('1002')?.registration === 'registered', '1002 registered with the new password');
    await until(() => upstreamHas('41511'), 'upstream binding of 41511');
    expect(lines().lineStatus('1002')!.failure).toBeNull();
    await gw.server.store.gateway.removeLine('1002');
    await until(() => lines().lineStatus('1002') === undefined, '1002 gone from the lines');
    await until(() => !upstreamHas('41511'), 'the upstream binding removed');
  });
});

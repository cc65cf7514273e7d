// Real softphone and pinger against a Switchboard process: baresip registers
// over UDP, TCP and TLS (TLS trusting the CA Switchboard exports), a wrong
// password does not register, and sipsak's OPTIONS gets 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaresipAccount, SipTransport } from './baresip.ts';
import { baresipRegister, writeBaresipConfig } from './baresip.ts';
import { describeRun, fixture, freePort, removeDir, requireTool, startSwitchboard } from './harness.ts';
import { SIPSAK_PORT_RANGE, sipsakOptions } from './sipsak.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = makeUsers(4, 30000);

const dirs: string[] = [];
const env = fixture(
  async () => {
    requireTool('baresip');
    requireTool('sipsak');
    // 4-digit SIP port: sipsak 0.9.8 mangles 5-digit ones (see sipsak.ts).
    const server = await startSwitchboard({ domain: DOMAIN, users: USERS, sipPort: await freePort(SIPSAK_PORT_RANGE) });
    try {
      return { server, caFile: await server.exportCa() };
    } catch (err) {
      await server.stop();
      throw err;
    }
  },
  async ({ server }) => {
    for (const d of dirs) removeDir(d);
    await server.stop();
  },
);
const running = () => env.get().server;

function account(i: number, transport: SipTransport, password?: string): BaresipAccount {
  const s = running();
  const u = USERS[i];
  if (u === undefined) throw new Error(`no test user ${i}`);
  const port = transport === 'tls' ? s.tlsPort : transport === 'tcp' ? s.tcpPort : s.udpPort;
  return { user: u.ext, password: password ?? u.password, domain: DOMAIN, proxyHost: s.host, proxyPort: port, transport };
}

async function register(a: BaresipAccount): Promise<Awaited<ReturnType<typeof baresipRegister>>> {
  const cfg = await writeBaresipConfig({ account: a, caFile: a.transport === 'tls' ? env.get().caFile : undefined });
  dirs.push(cfg.dir);
  return baresipRegister(cfg, 20_000);
}

describe('baresip and sipsak against Switchboard', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each([
    [0, 'udp'],
    [1, 'tcp'],
    [2, 'tls'],
  ] as const)('baresip user %i registers over %s', async (i, transport) => {
    const r = await register(account(i, transport));
    const why = `${r.hint ?? ''}\n${describeRun(r.run)}\n${running().output()}`;
    expect(r.failed, why).toBe(false);
    expect(r.registered, why).toBe(true);
    expect(r.run.stdout, why).toContain(`{0/${transport.toUpperCase()}/v4} 200 OK`);
  });

  it('baresip with a wrong password is not registered', async () => {
    const r = await register(account(3, 'udp', 'not-the-password'));
    const why = `${r.hint ?? ''}\n${describeRun(r.run)}\n${running().output()}`;
    expect(r.registered, why).toBe(false);
    expect(r.failed, why).toBe(true);
    // Refused for the password, not for some other reason.
    expect(r.run.stdout, why).toMatch(/reg: sip:\S+: 40[13] /);
  });

  it.each(['udp', 'tcp'] as const)('sipsak OPTIONS over %s gets 200', async (transport) => {
    const s = running();
    const r = await sipsakOptions(s.host, s.udpPort, transport);
    const why = `${describeRun(r.run)}\n${s.output()}`;
    expect(r.status, why).toMatch(/^SIP\/2\.0 200\b/);
    expect(r.run.code, why).toBe(0);
  });
});

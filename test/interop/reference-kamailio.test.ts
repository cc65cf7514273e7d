// The same scenarios and generated client configs, run against Kamailio (the
// reference registrar of bench/kamailio/). When a Switchboard interop test
// fails, this file tells whether the tools and scenarios themselves work on
// this machine, and it keeps the benchmark's Kamailio config honest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KamailioHandle } from '../../bench/kamailio/server.ts';
import { startKamailio } from '../../bench/kamailio/server.ts';
import { baresipRegister, writeBaresipConfig } from './baresip.ts';
import type { SipTransport } from './baresip.ts';
import { describeRun, fixture, freePort, makeTempDir, removeDir, requireTool } from './harness.ts';
import type { SippTransport } from './sipp.ts';
import { describeSipp, runSipp } from './sipp.ts';
import { SIPSAK_PORT_RANGE, sipsakOptions } from './sipsak.ts';
import { makeUsers, sippUsersCsv } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = makeUsers(1000, 20000);

// Two registrars, one per credential back end of bench/kamailio/config.ts.
const env = fixture(
  async () => {
    for (const t of ['kamailio', 'sipp', 'baresip', 'sipsak', 'openssl']) requireTool(t);
    const work = makeTempDir('reference');
    // 4-digit port: sipsak 0.9.8 mangles 5-digit ones (see sipsak.ts).
    const port = await freePort(SIPSAK_PORT_RANGE);
    const htable = await startKamailio({ users: USERS, domain: DOMAIN, tcp: true, authBackend: 'htable', port, tls: true });
    try {
      const dbText = await startKamailio({ users: USERS, domain: DOMAIN, tcp: true, authBackend: 'db_text' });
      return { work, htable, dbText };
    } catch (err) {
      await htable.stop();
      throw err;
    }
  },
  async ({ work, htable, dbText }) => {
    await htable.stop();
    await dbText.stop();
    removeDir(work);
  },
);

async function register(k: KamailioHandle, transport: SippTransport, n: number): Promise<void> {
  const users = USERS.slice(0, n);
  const r = await runSipp({
    scenario: 'register_auth.xml',
    remotePort: k.port,
    transport,
    usersCsv: sippUsersCsv(users, DOMAIN),
    authUri: DOMAIN,
    calls: n,
    rate: 500,
    recvTimeoutMs: 10_000,
    keys: { expires: '600' },
    workDir: env.get().work,
    timeoutMs: 60_000,
  });
  const why = `${describeSipp(r)}\n${k.output()}`;
  expect(r.stats?.successful, why).toBe(n);
  expect(r.stats?.failed, why).toBe(0);
  expect(r.code, why).toBe(0);
}

describe('interop tooling against the Kamailio reference', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('SIPp registers 1,000 users over UDP (htable credentials)', async () => {
    await register(env.get().htable, 'u1', 1000);
  });

  it('SIPp registers 1,000 users over TCP t1 (htable credentials)', async () => {
    await register(env.get().htable, 't1', 1000);
  });

  it('SIPp registers 1,000 users over TCP tn (htable credentials)', async () => {
    await register(env.get().htable, 'tn', 1000);
  });

  it('SIPp registers 200 users over UDP (db_text credentials)', async () => {
    await register(env.get().dbText, 'u1', 200);
  });

  it('SIPp wrong-password scenario sees only refusals', async () => {
    const k = env.get().htable;
    const users = USERS.slice(0, 10);
    const r = await runSipp({
      scenario: 'register_wrongpass.xml',
      remotePort: k.port,
      usersCsv: sippUsersCsv(users, DOMAIN, { password: () => 'wrong' }),
      authUri: DOMAIN,
      calls: users.length,
      rate: 20,
      recvTimeoutMs: 10_000,
      workDir: env.get().work,
      timeoutMs: 60_000,
      traceMessages: true,
    });
    const why = describeSipp(r);
    expect(r.stats?.successful, why).toBe(users.length);
    expect(r.code, why).toBe(0);
    expect(r.messages).toMatch(/^SIP\/2\.0 401/m);
    expect(r.messages).not.toMatch(/^SIP\/2\.0 200/m);
  });

  it.each(['udp', 'tcp', 'tls'] as const)('baresip registers over %s and is refused with a wrong password', async (transport: SipTransport) => {
    const k = env.get().htable;
    const u = USERS[5];
    if (u === undefined) throw new Error('no user');
    for (const [password, shouldRegister] of [[u.password, true], ['wrong', false]] as const) {
      const cfg = await writeBaresipConfig({
        account: { user: u.ext, password, domain: DOMAIN, proxyHost: k.host, proxyPort: transport === 'tls' ? k.tlsPort : k.port, transport },
        caFile: transport === 'tls' ? k.certFile : undefined,
      });
      const r = await baresipRegister(cfg, 20_000);
      removeDir(cfg.dir);
      const why = describeRun(r.run);
      expect(r.registered, why).toBe(shouldRegister);
      expect(r.failed, why).toBe(!shouldRegister);
      if (!shouldRegister) expect(r.run.stdout, why).toMatch(/reg: sip:\S+: 401 /);
      else expect(r.run.stdout, why).toContain(`{0/${transport.toUpperCase()}/v4} 200 OK`);
    }
  });

  it.each(['udp', 'tcp'] as const)('sipsak OPTIONS over %s gets 200', async (transport) => {
    const k = env.get().htable;
    const r = await sipsakOptions(k.host, k.port, transport);
    expect(r.status, describeRun(r.run)).toMatch(/^SIP\/2\.0 200\b/);
  });
});

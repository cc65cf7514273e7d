// SIPp (a program nobody here wrote) registers many users against a real
// Switchboard process with digest auth over UDP and TCP, and a wrong password
// is never accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool, startSwitchboard } from './harness.ts';
import type { SippRun, SippTransport } from './sipp.ts';
import { describeSipp, runSipp } from './sipp.ts';
import { makeUsers, sippUsersCsv } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = makeUsers(1000, 20000);

const env = fixture(
  async () => {
    requireTool('sipp');
    const work = makeTempDir('sipp-register');
    try {
      return { work, server: await startSwitchboard({ domain: DOMAIN, users: USERS, tls: false }) };
    } catch (err) {
      removeDir(work);
      throw err;
    }
  },
  async ({ work, server }) => {
    await server.stop();
    removeDir(work);
  },
);
const running = () => env.get().server;

async function registerAll(transport: SippTransport): Promise<SippRun> {
  const s = running();
  return runSipp({
    scenario: 'register_auth.xml',
    remotePort: s.udpPort || s.tcpPort,
    transport,
    usersCsv: sippUsersCsv(USERS, DOMAIN),
    authUri: DOMAIN,
    calls: USERS.length,
    rate: 200,
    recvTimeoutMs: 10_000,
    keys: { expires: '600' },
    workDir: env.get().work,
    timeoutMs: 120_000,
  });
}

function expectAllRegistered(r: SippRun, n: number): void {
  const why = `${describeSipp(r)}\n${running().output()}`;
  expect(r.stats, why).not.toBeNull();
  expect(r.stats?.failed, why).toBe(0);
  expect(r.stats?.successful, why).toBe(n);
  expect(r.code, why).toBe(0);
}

describe('SIPp REGISTER with digest auth against Switchboard', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('registers 1,000 users over UDP with zero failures', async () => {
    expectAllRegistered(await registerAll('u1'), USERS.length);
  });

  it('registers 1,000 users over one TCP connection (t1)', async () => {
    expectAllRegistered(await registerAll('t1'), USERS.length);
  });

  it('registers 1,000 users over a TCP connection each (tn)', async () => {
    expectAllRegistered(await registerAll('tn'), USERS.length);
  });

  // Last on purpose, and only a few users: repeated auth failures from one
  // address may rightly trigger the server's ban, which must not hit the
  // registration tests above.
  it('refuses a wrong password with 401/403 and never answers 200', async () => {
    const s = running();
    const victims = USERS.slice(0, 3);
    const r = await runSipp({
      scenario: 'register_wrongpass.xml',
      remotePort: s.udpPort,
      transport: 'u1',
      usersCsv: sippUsersCsv(victims, DOMAIN, { password: (u) => `${u.password}WRONG` }),
      authUri: DOMAIN,
      calls: victims.length,
      rate: 10,
      recvTimeoutMs: 10_000,
      workDir: env.get().work,
      timeoutMs: 60_000,
      traceMessages: true,
    });
    const why = `${describeSipp(r)}\n${s.output()}`;
    // The scenario only completes on 401 or 403 after the wrong credentials.
    expect(r.stats?.successful, why).toBe(victims.length);
    expect(r.stats?.failed, why).toBe(0);
    expect(r.code, why).toBe(0);
    expect(r.messages, 'SIPp message trace is empty').toContain('REGISTER sip:');
    expect(r.messages).not.toMatch(/^SIP\/2\.0 200/m);
  });

  it('stops cleanly on SIGTERM (exit code 0)', async () => {
    const s = running();
    const code = await s.stop();
    expect(code, s.output()).toBe(0);
  });
});

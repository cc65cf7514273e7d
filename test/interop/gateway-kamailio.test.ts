// Debian's Kamailio as the upstream registrar of the gateway's lines (issue
// 15 "Done when"): 4,096 gateway users registered and refreshed for three
// cycles, counted on Kamailio's side (its registrar statistics); then two
// Kamailio instances as proxies of priority 1 and 2: the first is killed
// mid-run and every line moves to the second, and back when it returns.
// The gateway runs on manual time, so a 60 s expiry's refresh comes when the
// test moves the clock; the REGISTERs themselves are real, over loopback UDP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshDelaySec } from '../../src/sip/ua/register-client.ts';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { startKamailioRegistrar, type KamailioRegistrar } from './lib/kamailio-registrar.ts';
import { makeUsers, passwordOf } from './users.ts';

const N = 4096;
const FIRST_UPSTREAM = 41510;
const FIRST_LOCAL = 10000;
const EXPIRES = 60;

let k1: KamailioRegistrar;
let k2: KamailioRegistrar;
let gw: TestServer;
const upstreamUsers = makeUsers(N, FIRST_UPSTREAM);

const lines = () => gw.server.gateway.lines!;
const registeredVia = (k: KamailioRegistrar) => lines().status().lines.filter((l) => l.registeredVia === `udp:127.0.0.1:${k.port}`).length;

async function until(check: () => boolean | Promise<boolean>, what: string, ms: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

beforeAll(async () => {
  k1 = await startKamailioRegistrar({ users: upstreamUsers, domain: 'lab.test' });
  k2 = await startKamailioRegistrar({ users: upstreamUsers, domain: 'lab.test' });
  gw = await startTestServer({ manualTime: true, config: { sip: { domain: 'gw.test' } } });
  const store = gw.server.store;
  await store.inBatches(async (batch) => {
    for (let i = 0; i < N; i += 256) {
      await batch(async (s) => {
        for (let j = i; j < Math.min(N, i + 256); j++) {
          const ext = String(FIRST_LOCAL + j);
          await s.users.add({ extension: ext, password: passwordOf(ext, 'hs') });
          await s.gateway.setLine({ extension: ext, upstreamUser: upstreamUsers[j]!.ext, password: upstreamUsers[j]!.password });
        }
      });
    }
  });
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${k1.port};transport=udp`, priority: 1 });
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${k2.port};transport=udp`, priority: 2 });
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await k1?.stop();
  await k2?.stop();
});

describe('4,096 gateway lines against Kamailio', () => {
  it('registers every line, one REGISTER exchange at a time (B-01 max pending 1), and keeps them for three refresh cycles', async () => {
    // MWI off: this measures registrations only (Kamailio here answers SUBSCRIBE with 405, and the
    // subscriptions would share the pending slots and Kamailio's CPU with the REGISTERs).
    await gw.server.store.gateway.updateSettings({ mode: 'gateway', defaultDomain: 'lab.test', transport: 'udp', registerExpiresSec: EXPIRES, maxPendingRegistrations: 1, mwi: false });
    const took = await until(() => lines().tally().registered === N, 'every line registered', 120_000);
    console.log(`gateway-kamailio: ${N} lines registered in ${took} ms (max pending 1)`);
    expect(await k1.contacts()).toBe(N);
    expect(await k1.acceptedRegs()).toBeGreaterThanOrEqual(N);
    expect(lines().status().counters).toMatchObject({ sipUsers: N, registered: N, total: N });
    expect(lines().status().lines.filter((l) => l.mwi !== 'off').length).toBe(0);
    for (let cycle = 1; cycle <= 3; cycle++) {
      const before = await k1.acceptedRegs();
      await gw.advance(refreshDelaySec(EXPIRES) * 1000 + 100);
      const t = await until(async () => (await k1.acceptedRegs()) - before >= N, `refresh cycle ${cycle}`, 50_000);
      console.log(`gateway-kamailio: refresh cycle ${cycle}: ${N} REGISTERs accepted by Kamailio in ${t} ms`);
      expect(await k1.contacts()).toBe(N);
      expect(lines().tally()).toEqual({ registered: N, failed: 0, total: N });
    }
  }, 400_000);

  it('moves every line to the priority 2 proxy when the first is killed, and back when it returns', async () => {
    const port = k1.port;
    await k1.stop();
    const killedAt = Date.now();
    // The next refresh finds the first proxy silent: Timer F (16 s of gateway time) blacklists it, the rest go to the second.
    await gw.advance(refreshDelaySec(EXPIRES) * 1000 + 100);
    await new Promise((r) => setTimeout(r, 300));
    await gw.advance(16_001);
    const moved = await until(() => registeredVia(k2) === N, 'every line via the second proxy', 120_000);
    console.log(`gateway-kamailio: failover: ${N} lines registered via the second proxy ${Date.now() - killedAt} ms (real) after the kill, 16 s of Timer F on the gateway's clock (${moved} ms after it)`);
    expect(await k2.contacts()).toBe(N);
    expect(lines().counters.failovers).toBeGreaterThanOrEqual(1);

    k1 = await startKamailioRegistrar({ users: upstreamUsers, domain: 'lab.test', port });
    const backAt = Date.now();
    // The blacklist (30 s) ends and the fail-back check moves the lines back.
    await gw.advance(31_000);
    await gw.advance(31_000);
    await until(() => registeredVia(k1) === N, 'every line back via the first proxy', 120_000);
    console.log(`gateway-kamailio: fail-back: ${N} lines back on the first proxy ${Date.now() - backAt} ms (real) after it returned`);
    expect(await k1.contacts()).toBe(N);
  }, 400_000);
});

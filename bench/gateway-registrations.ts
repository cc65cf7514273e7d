// Upstream registrations of the handset gateway held with refresh (issue 15
// "bench"): N lines (default 10,000) of gateway Switchboards in this process
// (a capacity profile caps one gateway at 4,096 lines, so N is split over
// as few gateways as that allows) register to Debian's Kamailio on loopback UDP and stay registered for
// --hold-sec (refreshes on real time, expiry --expires). Prints the machine,
// the time to register every line, each refresh wave as Kamailio counted it,
// and the CPU and memory of Switchboard (this process) and Kamailio (its
// process tree; RSS sums its processes, so its shared memory counts more than once).
//
//   node --import tsx bench/gateway-registrations.ts [--lines 10000] [--expires 60] [--hold-sec 100] [--pending 1]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { intOption } from './lib/micro.ts';
import { machineLines } from './lib/machine.ts';
import { treeCpu, treePids } from './lib/cpu.ts';
import { startTestServer } from '../test/integration/lib/server.ts';
import { PRODUCTION_OVERLOAD } from '../test/lib/overload-config.ts';
import { startKamailioRegistrar } from '../test/interop/lib/kamailio-registrar.ts';
import { makeUsers, passwordOf } from '../test/interop/users.ts';

const { values } = parseArgs({ options: {
  lines: { type: 'string', default: '10000' }, expires: { type: 'string', default: '60' },
  'hold-sec': { type: 'string', default: '100' }, pending: { type: 'string', default: '1' },
} });
const N = intOption('lines', values.lines, 1, 100_000);
const expires = intOption('expires', values.expires, 30, 3600);
const holdSec = intOption('hold-sec', values['hold-sec'], 0, 3600);
const pending = intOption('pending', values.pending, 1, 1024);

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

for (const line of machineLines()) console.log(line);
const users = makeUsers(N, 41510);
const kam = await startKamailioRegistrar({ users, domain: 'lab.test' });
const GATEWAY_MAX = 4096;
const gws = await Promise.all(Array.from({ length: Math.ceil(N / GATEWAY_MAX) }, () => startTestServer({ config: { sip: { domain: 'gw.test', overload: PRODUCTION_OVERLOAD } } })));
try {
  const share = Math.ceil(N / gws.length);
  await Promise.all(gws.map(async (gw, g) => {
    const store = gw.server.store;
    await store.inBatches(async (batch) => {
      for (let i = g * share; i < Math.min(N, (g + 1) * share); i += 500) {
        await batch(async (s) => {
          for (let j = i; j < Math.min(N, (g + 1) * share, i + 500); j++) {
            const ext = String(100_000 + j);
            await s.users.add({ extension: ext, password: passwordOf(ext, 'hs') });
            await s.gateway.setLine({ extension: ext, upstreamUser: users[j]!.ext, password: users[j]!.password });
          }
        });
      }
    });
    await store.gateway.addProxy({ uri: `sip:127.0.0.1:${kam.port};transport=udp`, priority: 1 });
  }));
  const cpu0 = process.cpuUsage();
  const k0 = treeCpu(kam.pid)!;
  const t0 = Date.now();
  await Promise.all(gws.map((gw) => gw.server.store.gateway.updateSettings({
    // MWI off: registrations only (with it on every line also SUBSCRIBEs and Kamailio answers 405).
    mode: 'gateway', defaultDomain: 'lab.test', transport: 'udp', registerExpiresSec: expires, maxPendingRegistrations: pending, mwi: false,
  })));
  const tally = () => gws.map((gw) => gw.server.gateway.lines!.tally()).reduce((a, b) => ({ registered: a.registered + b.registered, failed: a.failed + b.failed, total: a.total + b.total }));
  while (tally().registered < N) {
    if (Date.now() - t0 > 600_000) throw new Error(`only ${tally().registered} of ${N} registered after 600 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const regMs = Date.now() - t0;
  console.log(`lines: ${N} on ${gws.length} gateway(s), max pending ${pending} each, expires ${expires} s: every line registered in ${(regMs / 1000).toFixed(1)} s (${Math.round(N / (regMs / 1000))} lines/s)`);
  const holdStart = Date.now();
  let last = await kam.acceptedRegs();
  while (Date.now() - holdStart < holdSec * 1000) {
    await new Promise((r) => setTimeout(r, 10_000));
    const now = await kam.acceptedRegs();
    const t = tally();
    console.log(`+${Math.round((Date.now() - holdStart) / 1000)} s: Kamailio accepted ${now - last} REGISTERs in 10 s; gateways ${t.registered} registered, ${t.failed} failed; Kamailio contacts ${await kam.contacts()}`);
    last = now;
  }
  const wall = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const k1 = treeCpu(kam.pid)!;
  const kamRss = treePids(kam.pid).reduce((sum, pid) => sum + rssKb(pid), 0);
  console.log(`switchboard: CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s over ${wall.toFixed(0)} s (${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)} % of a core), RSS ${mb(process.memoryUsage().rss / 1024)}, heap used ${mb(process.memoryUsage().heapUsed / 1024)}`);
  console.log(`kamailio: CPU ${(k1.total - k0.total).toFixed(1)} s (${(((k1.total - k0.total) / wall) * 100).toFixed(1)} % of a core), RSS summed over its processes ${mb(kamRss)}`);
  const final = tally();
  if (final.registered !== N) console.log(`NOT HELD: ${final.registered} of ${N} registered at the end`);
} finally {
  await Promise.all(gws.map((gw) => gw.stop()));
  await kam.stop();
}

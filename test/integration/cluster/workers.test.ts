// `switchboard start --workers 2`: two real worker processes on the same SIP
// ports (SO_REUSEPORT). The kernel puts each phone's flow on one worker; the
// phones here are picked so that caller and callee land on different ones,
// which is the case every message-ownership rule exists for: the callee's
// answers and requests reach the worker that does not hold the call, and must
// be handed over, not answered wrongly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, switchboardCli } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import type { TransportName } from '../../../src/sip/message.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import type { WorkerSummary } from '../../../src/pbx/status/control-socket.ts';
import { waitUntil } from '../../lib/wait.ts';

const USERS = ['1001', '1002', '1003', '1004'].map((ext) => ({ ext, password: `pw-${ext}-secret` }));
const password = (ext: string): string => USERS.find((u) => u.ext === ext)!.password;

let sb: SwitchboardHandle;
const phones: TestPhone[] = [];

beforeAll(async () => {
  sb = await startSwitchboard({ workers: 2, users: USERS, readyTimeoutMs: 60_000 });
}, 90_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await sb?.stop();
});

async function workers(): Promise<WorkerSummary[]> {
  const out = await switchboardCli(['status', '--json', '--data-dir', sb.dataDir]);
  return (JSON.parse(out.stdout) as { workers: WorkerSummary[] }).workers;
}

/**
 * A registered phone whose flow (UDP source port, or TCP connection) the
 * kernel gave to `worker`: the worker that answered a REGISTER names itself
 * in the To tag of its 200. Phones landing elsewhere unregister and go.
 */
async function phoneOn(worker: number, ext: string, transport: TransportName = 'udp'): Promise<TestPhone> {
  for (let attempt = 0; attempt < 24; attempt++) {
    const phone = await TestPhone.start({ ext, password: password(ext), transport, server: { host: sb.host, port: transport === 'udp' ? sb.udpPort : sb.tcpPort, domain: sb.domain } });
    const ok = await phone.register(300);
    expect(ok.status).toBe(200);
    if (ownerOfId(tagOf(ok.to)) === worker) {
      phones.push(phone);
      return phone;
    }
    expect((await phone.register(0)).status).toBe(200);
    await phone.stop();
  }
  throw new Error(`no ${transport} flow landed on worker ${worker} in 24 tries`);
}

describe('two workers on one SIP port', () => {
  it('answers from both workers: every worker names itself in the tags it mints', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 24 && seen.size < 2; i++) {
      const phone = await TestPhone.start({ ext: '1004', password: password('1004'), server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
      const res = await phone.request('OPTIONS');
      seen.add(ownerOfId(tagOf(res.to)));
      await phone.stop();
    }
    expect([...seen].sort()).toEqual([1, 2]);
    const w = await workers();
    expect(w.map((x) => x.worker)).toEqual([1, 2]);
    expect(new Set(w.map((x) => x.pid)).size).toBe(2);
  });

  it('connects a call from a phone on worker 1 to a phone on worker 2, and hangs it up from either side', async () => {
    const a = await phoneOn(1, '1001');
    const b = await phoneOn(2, '1002');
    // Both workers hold both registrations: the other one sent it over the link.
    expect(await waitUntil(async () => (await workers()).every((w) => w.bindings >= 2), 10_000)).toBe(true);
    const before = (await workers())[1]!.forwarded;

    const call = a.call('1002');
    const res = await call.final;
    expect(res.status).toBe(200);
    expect(b.incoming).toHaveLength(1);
    // B's 180/200 reached worker 2 (B's flow) and were handed to worker 1, which holds the call.
    expect((await workers())[1]!.forwarded).toBeGreaterThan(before);
    expect(await waitUntil(() => b.incoming[0]!.acked !== undefined, 5000)).toBe(true);

    // B hangs up: its BYE lands on worker 2, goes to worker 1, and A hears it.
    const bye = await b.inDialog(b.incoming[0]!.dialog!, 'BYE');
    expect(bye.status).toBe(200);
    expect((await a.waitRequest('BYE')).method).toBe('BYE');
    expect(await waitUntil(async () => (await workers()).every((w) => w.calls === 0), 10_000)).toBe(true);

    // And the other way round: A (worker 1) ends a second call, B hears the BYE from worker 1's call.
    const second = a.call('1002');
    expect((await second.final).status).toBe(200);
    expect((await a.inDialog(second.dialog!, 'BYE')).status).toBe(200);
    expect((await b.waitRequest('BYE')).callId).toBe(b.incoming[1]!.invite.callId);
  });

  it('sends a call set up on worker 2 over the TCP connection worker 1 holds', async () => {
    const c = await phoneOn(1, '1003', 'tcp');
    const a = await phoneOn(2, '1004');
    expect(await waitUntil(async () => (await workers()).every((w) => w.bindings >= 4), 10_000)).toBe(true);
    const w1 = (await workers())[0]!;
    expect(w1.connections).toBeGreaterThanOrEqual(1);

    const call = a.call('1003');
    expect((await call.final).status).toBe(200);
    // C got the INVITE over the connection it registered on (it has no other: its listener is for this test only).
    expect(c.incoming).toHaveLength(1);
    expect(c.incoming[0]!.invite.via[0]!.transport.toUpperCase()).toBe('TCP');
    expect(await waitUntil(() => c.incoming[0]!.acked !== undefined, 5000)).toBe(true);
    expect((await c.inDialog(c.incoming[0]!.dialog!, 'BYE')).status).toBe(200);
    expect((await a.waitRequest('BYE')).callId).toBe(call.invite.callId);
  });

  it('restarts a killed worker, which knows every registration again and takes calls', async () => {
    const [, w2] = await workers();
    process.kill(w2!.pid, 'SIGKILL');
    let now: WorkerSummary[] = [];
    expect(await waitUntil(async () => {
      now = await workers().catch(() => []);
      return now.length === 2 && now[1]!.pid !== w2!.pid;
    }, 20_000, 200)).toBe(true);
    // Loaded from the store (each worker writes behind what it registered): nothing was lost with the worker.
    expect(now[1]!.bindings).toBe(now[0]!.bindings);

    // The kernel re-spreads flows over the new socket set; whichever worker each phone lands on now, calls work.
    const a = await phoneOn(1, '1001');
    const b = await phoneOn(2, '1002');
    const call = a.call('1002');
    expect((await call.final).status).toBe(200);
    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect((await b.waitRequest('BYE')).callId).toBe(b.incoming[0]!.invite.callId);
  });

  it('refuses to start a cluster on a SIP port another process holds', async () => {
    const taken = await startSwitchboard({ workers: 2, sipPort: sb.udpPort, readyTimeoutMs: 30_000 }).then(
      (h) => h.stop().then(() => 'started'),
      (err: Error) => err.message,
    );
    expect(taken).toMatch(/exited early \(code 1[\s\S]*SIP (UDP|TCP) 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });
});

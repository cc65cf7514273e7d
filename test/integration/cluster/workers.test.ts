// `switchboard start --workers 2`: two real worker processes on the same SIP
// ports (SO_REUSEPORT). The kernel puts each phone's flow on one worker; the
// phones here are picked so that caller and callee land on different ones,
// which is the case every message-ownership rule exists for: the callee's
// answers and requests reach the worker that does not hold the call, and must
// be handed over, not answered wrongly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../api/client.ts';
import { statusSnapshotSchema } from '../../../src/model/status.ts';
import { freePort, processAlive as alive, startSwitchboard, switchboardCli } from '../../interop/harness.ts';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import { phoneOnWorker } from './phone-on.ts';
import { TestClient } from '../lib/sip-client.ts';
import type { TransportName } from '../../../src/sip/message.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';
import type { WorkerSummary } from '../../../src/pbx/status/control-socket.ts';
import { waitUntil } from '../../lib/wait.ts';
import { referToWithReplaces } from '../../../src/sip/ua/replaces.ts';
import { audioPort, sipfragStatuses, until } from '../features/rig.ts';
import { createRequire } from 'node:module';
import { passwordOf } from '../../interop/users.ts';

/** A short code as a phone puts it in a Request-URI: '#' is escaped (RFC 3261 §25.1). */
const code = (s: string): string => s.replace(/#/g, '%23');

const USERS = Array.from({ length: 24 }, (_, i) => String(1001 + i)).map((ext) => ({ ext, password: passwordOf(ext) }));
const password = (ext: string): string => USERS.find((u) => u.ext === ext)!.password;

let sb: SwitchboardHandle;
const phones: TestPhone[] = [];

let httpPort = 0;
beforeAll(async () => {
  httpPort = await freePort();
  sb = await startSwitchboard({
    workers: 2, users: USERS, readyTimeoutMs: 60_000, http: `127.0.0.1:${httpPort}`,
    // Set before the workers start, so no call is routed with a user as it was before (a call keeps the users it rang).
    beforeStart: async (dataDir) => {
      for (const ext of ['1011', '1012', '1013']) await switchboardCli(['user', 'set', '--ext', ext, '--pickup-group', '3', '--data-dir', dataDir]);
      await switchboardCli(['huntgroup', 'add', '--number', '7000', '--name', 'Ward desk', '--strategy', 'rotary', '--members', '1016,1017,1018', '--data-dir', dataDir]);
    },
  });
  // Printed once, before the ready line; taken now, before the workers' logs push it out of the kept output.
  adminPassword = /^Initial admin password: (\S+)$/m.exec(sb.output())?.[1] ?? '';
}, 90_000);
let adminPassword = '';
let admin: ApiClient | undefined;

/** The management API as admin: logged in once with the first start's password, changed as the first login requires. */
async function adminApi(): Promise<ApiClient> {
  if (admin) return admin;
  const api = new ApiClient(`https://127.0.0.1:${httpPort}`, readFileSync(join(sb.dataDir, 'certs', 'ca.crt'), 'utf8'));
  await api.loginChanging('admin', adminPassword, 'Cluster-Status-Pass-7');
  return (admin = api);
}

/** GET over the management server's HTTPS (its certificate is our own CA's: not checked here). */
function getText(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: httpPort, path, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

afterAll(async () => {
  for (const p of phones) await p.stop();
  if (!stopped) await sb?.stop();
});
let stopped = false;

async function workers(): Promise<WorkerSummary[]> {
  const out = await switchboardCli(['status', '--json', '--data-dir', sb.dataDir]);
  return (JSON.parse(out.stdout) as { workers: WorkerSummary[] }).workers;
}

/** A registered phone of `ext` whose flow the kernel gave to `worker`. */
async function phoneOn(worker: number, ext: string, transport: TransportName = 'udp'): Promise<TestPhone> {
  const phone = await phoneOnWorker(sb, worker, { ext, password: password(ext), transport });
  phones.push(phone);
  return phone;
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
    const a = await phoneOn(1, '1014');
    const b = await phoneOn(2, '1015');
    const call = a.call('1015');
    expect((await call.final).status).toBe(200);
    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect((await b.waitRequest('BYE')).callId).toBe(b.incoming[0]!.invite.callId);
  });

  it('joins an attended transfer whose consultation call the kernel gave to the other worker', async () => {
    const a = await phoneOn(1, '1005');
    const b = await phoneOn(2, '1006');
    const c = await phoneOn(2, '1007');
    const first = a.call('1006');
    expect((await first.final).status).toBe(200);
    const forwardedBefore = (await workers())[1]!.forwarded;
    // B's consultation INVITE lands on worker 2; B's other call is on worker 1, which takes it.
    const second = b.call('1007');
    expect((await second.final).status).toBe(200);
    expect((await workers())[1]!.forwarded).toBeGreaterThan(forwardedBefore);
    const d = second.dialog!;
    const value = referToWithReplaces({ scheme: 'sip', user: '1007', host: sb.domain, params: new Map(), headers: new Map() }, { callId: d.callId, toTag: d.remoteTag, fromTag: d.localTag, earlyOnly: false });
    expect((await b.inDialog(b.incoming[0]!.dialog!, 'REFER', { headers: [{ name: 'refer-to', value }] })).status).toBe(202);
    // A and C are joined: A is re-offered C's media, B's two calls end, B hears 200 in the NOTIFY.
    const reinvite = await a.waitRequest('INVITE');
    expect(audioPort(reinvite.body)).toBe(c.mediaPort);
    await until(() => b.requests.filter((r) => r.method === 'BYE').length === 2, 'both BYEs at B');
    await until(() => sipfragStatuses(b).includes(200), 'the final NOTIFY');
    expect((await a.inDialog(first.dialog!, 'BYE')).status).toBe(200);
    await c.waitRequest('BYE');
  });

  it('unparks, from a phone on worker 2, a call parked on worker 1', async () => {
    const a = await phoneOn(1, '1008');
    const b = await phoneOn(2, '1009');
    const d = await phoneOn(2, '1010');
    const x = a.call('1009');
    expect((await x.final).status).toBe(200);
    await until(() => b.incoming[0]!.acked !== undefined, 'the ACK at B');
    // A's ACK reaches worker 1 straight, B's REFER through worker 2: one may overtake the other.
    const r = await b.inDialog(b.incoming[0]!.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: `<sip:${code('*37*7#')}@${sb.domain}>` }] });
    expect(r.status).toBe(202);
    await until(() => sipfragStatuses(b).includes(200), 'parked');
    const status = JSON.parse((await switchboardCli(['status', '--json', '--data-dir', sb.dataDir])).stdout) as { parked: { slot: string }[] };
    expect(status.parked.map((p) => p.slot)).toEqual(['7']);

    const unpark = d.call(code('*38*7#'));
    const res = await unpark.final;
    expect(res.status).toBe(200);
    expect(audioPort(res.body)).toBe(a.mediaPort);
    const join = await a.waitRequest('INVITE', 2);
    expect(audioPort(join.body)).toBe(d.mediaPort);
    expect((await d.inDialog(unpark.dialog!, 'BYE')).status).toBe(200);
    await a.waitRequest('BYE');
  });

  it('picks up, from a phone on worker 2, a call ringing on worker 1', async () => {
    const a = await phoneOn(1, '1011');
    const b = await phoneOn(2, '1012');
    b.behaviour = 'ring';
    const picker = await phoneOn(2, '1013');
    const x = a.call('1012');
    await b.waitIncoming();
    // Users 1011-1013 share pickup group 3 (set before the start).
    const picked = await picker.call(code('*30')).final;
    expect(picked.status).toBe(200);
    expect((await x.final).status).toBe(200);
    await until(() => b.incoming[0]!.cancelled, 'the ringing phone cancelled');
  });

  it('turns a rotary hunt group on from the member rung last, whichever worker rang it', async () => {
    const members = ['1016', '1017', '1018'];
    const phonesOf = new Map<string, TestPhone>();
    for (const ext of members) {
      const p = await TestPhone.start({ ext, password: password(ext), server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
      phones.push(p);
      expect((await p.register(300)).status).toBe(200);
      phonesOf.set(ext, p);
    }
    const x = await phoneOn(1, '1019');
    const y = await phoneOn(2, '1020');
    expect(await waitUntil(async () => (await workers()).every((w) => w.bindings >= 5), 10_000)).toBe(true);
    const rung: string[] = [];
    // Callers alternate between the workers; each call is answered by the member rung and hung up.
    for (const caller of [x, y, x, y]) {
      const before = new Map(members.map((m) => [m, phonesOf.get(m)!.incoming.length]));
      const call = caller.call('7000');
      expect((await call.final).status).toBe(200);
      const answered = members.filter((m) => phonesOf.get(m)!.incoming.length > before.get(m)!);
      rung.push(...answered);
      expect((await caller.inDialog(call.dialog!, 'BYE')).status).toBe(200);
      // The member hears the end of the call before the next one comes.
      for (const m of answered) {
        const leg = phonesOf.get(m)!.incoming.at(-1)!;
        expect(await waitUntil(() => phonesOf.get(m)!.requests.some((r) => r.method === 'BYE' && r.callId === leg.invite.callId), 5000)).toBe(true);
      }
    }
    expect(rung).toEqual(['1016', '1017', '1018', '1016']);
  });

  it('shows a call held by worker 2 in the management server\'s status: asked for once (REST), and live while a feed watches', async () => {
    const a = await phoneOn(2, '1021');
    const b = await phoneOn(2, '1022');
    const api = await adminApi();

    const call = a.call('1022');
    const answered = await call.final;
    expect(answered.status, answered.reason).toBe(200);
    // Nobody watches: worker 1 asks worker 2 for its snapshot.
    const rest = await api.get('/api/status');
    expect(rest.status).toBe(200);
    const mine = (rest.json.calls as { caller: string; callee: string; state: string }[]).filter((c) => c.caller === '1021');
    expect(mine).toEqual([expect.objectContaining({ callee: '1022', state: 'connected' })]);
    const users = await api.get('/api/status/users?extensions=1021,1001');
    expect(users.json.items.map((i: { extension: string; state: string }) => [i.extension, i.state])).toEqual([['1021', 'connected'], ['1001', 'idle']]);

    // A feed: its snapshot carries the call, and worker 2 reports the hang-up as it happens.
    const WebSocket = createRequire(import.meta.url)('ws');
    const ws = new WebSocket(`wss://127.0.0.1:${httpPort}/api/status/ws`, { ca: api.ca, headers: { cookie: `sb_session=${api.cookie}` } });
    const messages: { type: string; status?: { calls: { caller: string }[] }; call?: { caller: string }; ended?: boolean }[] = [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString())));
    try {
      await until(() => messages.length > 0, 'the feed\'s snapshot');
      expect(messages[0]!.type).toBe('snapshot');
      expect(messages[0]!.status!.calls.map((c) => c.caller)).toContain('1021');
      expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
      await until(() => messages.some((m) => m.type === 'call' && m.call!.caller === '1021' && m.ended === true), 'the call\'s end on the feed');
    } finally {
      ws.close();
    }
  });

  it('serves every worker\'s metrics on the one management server, labelled by worker', async () => {
    const res = await getText('/metrics');
    expect(res.status).toBe(200);
    // Both workers answered SIP in the tests above: each one's responses are there, apart.
    for (const w of ['1', '2']) expect(res.body).toMatch(new RegExp(`^switchboard_sip_responses_total\\{[^}]*worker="${w}"[^}]*\\} [1-9]`, 'm'));
    expect(res.body).toMatch(/^process_resident_memory_bytes\{worker="2"\} \d/m);
    // Each worker's overload probe came back to it, whichever worker the kernel gave it to: nobody sheds.
    for (const w of ['1', '2']) {
      const ratios = [...res.body.matchAll(new RegExp(`^switchboard_sip_admitted_ratio\\{[^}]*worker="${w}"[^}]*\\} (\\S+)`, 'gm'))].map((m) => Number(m[1]));
      expect(ratios.length).toBe(2);
      expect(ratios).toEqual([1, 1]);
      const delay = new RegExp(`^switchboard_sip_receive_delay_seconds\\{worker="${w}"\\} (\\S+)`, 'm').exec(res.body);
      expect(Number(delay![1])).toBeLessThan(0.2);
    }
  });

  it('counts each SIP message once across the workers, though one worker read it and the other handled it', async () => {
    // A (UDP, worker 1) calls B (TCP, worker 2): whichever worker holds the call, the other reads or writes some of its messages.
    const a = await phoneOn(1, '1023');
    const b = await phoneOn(2, '1024', 'tcp');
    expect(await waitUntil(async () => (await workers()).every((w) => w.bindings >= 2), 10_000)).toBe(true);
    /** switchboard_sip_requests_total summed over the workers, by "direction method". */
    const requests = async (): Promise<Map<string, number>> => {
      const sums = new Map<string, number>();
      for (const m of (await getText('/metrics')).body.matchAll(/^switchboard_sip_requests_total\{([^}]*)\} (\S+)$/gm)) {
        const label = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(m[1]!)?.[1];
        const key = `${label('direction')} ${label('method')}`;
        sums.set(key, (sums.get(key) ?? 0) + Number(m[2]));
      }
      return sums;
    };
    const before = await requests();
    const call = a.call('1024');
    expect((await call.final).status).toBe(200);
    expect(await waitUntil(() => b.incoming[0]?.acked !== undefined, 5000)).toBe(true);
    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect((await b.waitRequest('BYE')).callId).toBe(b.incoming[0]!.invite.callId);
    const after = await requests();
    const moved = Object.fromEntries([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, d]) => d !== 0));
    // A's first INVITE is challenged (407, ACKed), the second connects; B gets one INVITE, ACK and BYE.
    expect(moved).toEqual({ 'in INVITE': 2, 'out INVITE': 1, 'in ACK': 2, 'out ACK': 1, 'in BYE': 1, 'out BYE': 1 });
  });

  it('lists each worker in the management API\'s /api/status: what it holds and its overload state', async () => {
    expect(adminPassword.length).toBeGreaterThanOrEqual(16);
    const api = await adminApi();
    const a = await phoneOn(1, '1014');
    const b = await phoneOn(2, '1015');
    const cli = await workers();
    // Both workers hold both phones' registrations (worker 2's came to worker 1 over the link, and back).
    expect(await waitUntil(async () => (await workers()).every((w) => w.bindings === cli[0]!.bindings), 10_000)).toBe(true);
    const call = a.call('1015');
    expect((await call.final).status).toBe(200);

    const res = await api.get('/api/status');
    expect(res.status, res.text).toBe(200);
    const status = statusSnapshotSchema.parse(res.json);
    const listed = status.workers!;
    expect(listed.map((w) => w.worker)).toEqual([1, 2]);
    expect(listed.map((w) => w.pid)).toEqual(cli.map((w) => w.pid));
    const bindings = (await workers())[0]!.bindings;
    expect(bindings).toBeGreaterThanOrEqual(2);
    for (const w of listed) {
      expect(w.bindings).toBe(bindings);
      // Nobody sheds on this quiet rig: every share admitted, the probe back well within the limit.
      expect(w.overload).toMatchObject({ enabled: true, admitted: 1, admittedUnauthenticated: 1, refused: expect.any(Number), dropped: expect.any(Number), trunks: [] });
      expect(w.overload!.receiveDelayMs).toBeLessThan(200);
    }
    // The call is held by the worker that took A's INVITE (A's flow is on worker 1).
    expect(listed.map((w) => w.calls)).toEqual([cli[0]!.calls + 1, cli[1]!.calls]);
    expect(status.overload).toMatchObject({ enabled: true, admitted: 1, admittedUnauthenticated: 1 });
    expect(status.overload!.receiveDelayMs).toBe(Math.max(...listed.map((w) => w.overload!.receiveDelayMs)));
    // Both phones, registered on different workers, are in the one list of extensions.
    for (const ext of ['1014', '1015']) expect(status.extensions.find((e) => e.extension === ext)?.registered).toBe(true);
    expect(status.calls).toHaveLength(listed[0]!.calls + listed[1]!.calls);

    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    await b.waitRequest('BYE');
    // The CLI shows the same workers with their overload state.
    const text = (await switchboardCli(['status', '--data-dir', sb.dataDir])).stdout;
    expect(text).toMatch(/^worker 1 pid=\d+ calls=\d+ bindings=\d+ connections=\d+ forwarded=\d+ delay=\d+ms admitted=1 admitted-unauthenticated=1 refused=\d+ dropped=\d+ oc-feedback=\d+$/m);
    expect(text).toMatch(/^worker 2 pid=.* admitted=1 admitted-unauthenticated=1 /m);
    expect(text).toMatch(/^overload delay=\d+ms admitted=1 /m);
  });

  it('lists every worker\'s SIP bans in one list and lifts a ban on every worker that holds it (CLI and API)', async () => {
    const ip = '127.0.0.50';
    const bansCli = async () => JSON.parse((await switchboardCli(['bans', '--json', '--data-dir', sb.dataDir])).stdout) as Array<{ scope: string; user?: string; ip?: string; workers?: number[] }>;
    const pairBan = async () => (await bansCli()).find((b) => b.scope === 'pair' && b.user === '1021' && b.ip === ip);
    // Each socket's flow lands on one worker; new sockets until both hold the pair ban (each counts on its own).
    for (let i = 0; i < 24 && (await pairBan())?.workers?.length !== 2; i++) {
      const c = await new TestClient('udp', sb.host, sb.udpPort, {}, 0, ip).open();
      try {
        for (let n = 0; n < 5; n++) await c.register('1021', `wrong-${n}`);
      } finally {
        c.close();
      }
    }
    expect((await pairBan())?.workers).toEqual([1, 2]);
    const api = await adminApi();
    expect((await api.get('/api/bans')).json.items).toContainEqual(expect.objectContaining({ kind: 'sip', scope: 'pair', user: '1021', ip, workers: [1, 2] }));
    const lifted = await switchboardCli(['bans', 'lift', 'sip', 'pair', '--user', '1021', '--ip', ip, '--data-dir', sb.dataDir]);
    expect(lifted.stdout.trim()).toBe('lifted 2');
    expect(await pairBan()).toBeUndefined();
    // Whichever worker a new flow lands on, the right password gets in again.
    for (let i = 0; i < 6; i++) {
      const c = await new TestClient('udp', sb.host, sb.udpPort, {}, 0, ip).open();
      try {
        expect((await c.register('1021', password('1021'), { expires: 0 })).status).toBe(200);
      } finally {
        c.close();
      }
    }
  });

  it('shows in the management server\'s call log a call that worker 2 refused', async () => {
    const api = await adminApi();
    let attempts = 0;
    let byWorker2 = false;
    for (let tries = 0; tries < 24 && !byWorker2; tries++) {
      const p = await TestPhone.start({ ext: '1018', password: password('1018'), server: { host: sb.host, port: sb.udpPort, domain: sb.domain } });
      const res = await p.call('4999').final;
      await p.stop();
      expect(res.status).toBe(404);
      attempts++;
      byWorker2 = ownerOfId(tagOf(res.to)) === 2;
    }
    expect(byWorker2).toBe(true);
    // Each attempt is a record, whichever worker refused it; the last one was worker 2's.
    const found = async () => (await api.get('/api/calls?status=404&search=4999&extension=1018')).json;
    expect(await waitUntil(async () => (await found()).total === attempts, 5000)).toBe(true);
    expect((await found()).items[0]).toMatchObject({ caller: '1018', callee: '4999', disposition: 'rejected', status: 404 });
  });

  it('refuses to start a cluster on a SIP port another process holds', async () => {
    const taken = await startSwitchboard({ workers: 2, sipPort: sb.udpPort, readyTimeoutMs: 30_000 }).then(
      (h) => h.stop().then(() => 'started'),
      (err: Error) => err.message,
    );
    expect(taken).toMatch(/exited early \(code 1[\s\S]*SIP (UDP|TCP) 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const pids = (await workers()).map((w) => w.pid);
    stopped = true;
    expect(await sb.stop()).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });
});

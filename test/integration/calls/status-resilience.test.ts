// Live status (snapshot, event stream, the `switchboard status` command over
// the control socket) and the resilience of calls: a TCP connection that drops
// mid-call, and a restart with registrations kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';
import type { StatusEvent } from '../../../src/pbx/status/status.ts';
import { queryStatus } from '../../../src/cli/status.ts';
import { cli } from '../lib/cli.ts';


let ts: TestServer;
const phones: TestPhone[] = [];

async function phone(ext: string, o: Partial<PhoneOptions> = {}): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

beforeAll(async () => {
  ts = await startTestServer();
  for (let i = 0; i < 10; i++) await ts.server.store.users.add({ extension: String(6000 + i), password: `pw-${6000 + i}`, name: `Handset ${i}` });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts.stop();
});

describe('live status', () => {
  it('shows extensions idle, ringing and connected, and the call with its codec, as events and snapshots', async () => {
    const events: StatusEvent[] = [];
    const off = ts.server.status.subscribe((e) => events.push(e));
    const a = await phone('6000');
    const b = await phone('6001', { behaviour: 'ring' });
    await waitUntil(() => events.some((e) => e.type === 'extension' && e.extension.extension === '6001' && e.extension.registered));
    let snap = await queryStatus(ts.dataDir);
    const ext = snap.extensions.find((e) => e.extension === '6001')!;
    expect(ext).toMatchObject({ registered: true, state: 'idle', name: 'Handset 1' });
    expect(ext.contacts[0]).toMatchObject({ transport: 'udp', address: '127.0.0.1', port: b.local.port });

    const call = a.call('6001');
    const inc = await b.waitIncoming();
    await waitUntil(() => events.some((e) => e.type === 'extension' && e.extension.extension === '6001' && e.extension.state === 'ringing'));
    snap = await queryStatus(ts.dataDir);
    expect(snap.calls).toHaveLength(1);
    expect(snap.calls[0]).toMatchObject({ state: 'ringing', caller: '6000', callee: '6001' });
    b.answer(inc);
    expect((await call.final).status).toBe(200);
    await waitUntil(() => events.some((e) => e.type === 'call' && e.call.state === 'connected'));
    snap = await queryStatus(ts.dataDir);
    expect(snap.calls[0]).toMatchObject({ state: 'connected', codec: 'PCMU', connectionType: 'RTP Direct Media' });
    expect(snap.extensions.find((e) => e.extension === '6000')!.state).toBe('connected');

    const r = await cli('status', '--data-dir', ts.dataDir);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.some((l) => /^extension 6001 registered connected RTP udp 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    expect(lines.some((l) => /^call \S+ connected 6000 -> 6001 \d\d:\d\d:\d\d PCMU RTP Direct Media$/.test(l))).toBe(true);
    const j = await cli('status', '--json', '--data-dir', ts.dataDir);
    expect(JSON.parse(j.stdout).calls[0].codec).toBe('PCMU');

    await a.inDialog(call.dialog!, 'BYE');
    await waitUntil(() => events.some((e) => e.type === 'call' && e.ended));
    await waitUntil(() => events.some((e) => e.type === 'extension' && e.extension.extension === '6001' && e.extension.state === 'idle' && e.extension.calls === 0));
    expect((await queryStatus(ts.dataDir)).calls).toHaveLength(0);
    off();
  });

  it('says so, with exit code 1, when no server runs on the data directory', async () => {
    const r = await cli('status', '--data-dir', '/tmp/no-such-switchboard-dir');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no server is running/);
  });
});

describe('resilience', () => {
  it('keeps a call whose TCP connection dropped when the phone reconnects and sends in-dialog requests again', async () => {
    const a = await phone('6002', { transport: 'tcp' });
    const b = await phone('6003');
    const call = a.call('6003');
    expect((await call.final).status).toBe(200);
    const inc = b.incoming[0]!;
    // The handset's connection dies (roaming, a NAT flush): it reconnects, re-registers, and carries on.
    await a.transport.stop();
    await a.transport.start();
    expect((await a.register()).status).toBe(200);
    expect((await a.inDialog(call.dialog!, 'INVITE', { body: Buffer.from(inc.invite.body) })).status).toBe(200);
    // Requests toward the handset now use its new connection.
    const bye = await b.inDialog(inc.dialog!, 'BYE');
    expect(bye.status).toBe(200);
    expect((await a.waitRequest('BYE')).callId).toBe(call.invite.callId);
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  });

  it('reaches a callee whose TCP connection dropped, through the connection it re-registered on', async () => {
    const a = await phone('6006');
    const b = await phone('6007', { transport: 'tcp' });
    const call = a.call('6007');
    expect((await call.final).status).toBe(200);
    await b.transport.stop();
    await b.transport.start();
    expect((await b.register()).status).toBe(200);
    // Nothing came from B in the dialog since; A hangs up and B must still hear it.
    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect((await b.waitRequest('BYE')).callId).toBe(b.incoming[0]!.invite.callId);
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  });

  it('routes new calls at once after a restart, from the registrations it kept', async () => {
    const a = await phone('6004');
    const b = await phone('6005');
    await ts.stop();
    ts = await startTestServer({ dataDir: ts.dataDir, sipPort: ts.sipPort, tlsPort: ts.tlsPort });
    const call = a.call('6005');
    expect((await call.final).status).toBe(200);
    expect(b.incoming).toHaveLength(1);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  });
});

// The extension detail (issue 12 item 1) against a real server: each refused
// REGISTER leaves its reason in plain words (wrong password, banned,
// transport not allowed, disabled), and the OPTIONS keepalive, on manual
// time, turns a UDP phone that went away unreachable without unregistering it.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from './lib/sip-client.ts';
import { TestPhone } from './lib/phone.ts';
import { startTestServer } from './lib/server.ts';
import type { TestServer } from './lib/server.ts';
import { waitUntil } from '../lib/wait.ts';
import { switchboardCli } from '../interop/harness.ts';

const running: TestServer[] = [];
const clients: TestClient[] = [];
const phones: TestPhone[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of phones.splice(0)) await p.stop();
  for (const s of running.splice(0)) await s.stop();
});

const UA = [{ name: 'user-agent', value: 'DeskPhone 9.1' }];

async function server(config: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const ts = await startTestServer(config);
  running.push(ts);
  return ts;
}

async function client(ts: TestServer): Promise<TestClient> {
  const c = await new TestClient('udp', ts.host, ts.sipPort).open();
  clients.push(c);
  return c;
}

describe('registration failures', () => {
  it('says "wrong password" with the time, source, transport and user agent, and the phone shows as failed in the list', async () => {
    const ts = await server();
    await ts.server.store.users.add({ extension: '4100', password: 'right-pass-1', name: 'Ward desk' });
    await ts.server.store.users.add({ extension: '4101', password: 'right-pass-2' });
    await ts.server.directory.poll();
    const c = await client(ts);
    const before = ts.server.clock.now();
    expect((await c.register('4100', 'wrong', { headers: UA })).status).toBe(401);
    const d = await ts.server.extensions.detail('4100');
    expect(d?.registered).toBe(false);
    expect(d?.lastFailure).toMatchObject({
      reason: 'wrong-password', method: 'REGISTER', address: '127.0.0.1', port: c.localPort, transport: 'udp', userAgent: 'DeskPhone 9.1', user: '4100',
    });
    expect(d?.lastFailure?.text).toMatch(/wrong password/);
    expect(d?.lastFailure?.at).toBeGreaterThanOrEqual(before);
    expect(d?.lastSeen).toBeNull();
    // The command line asks the running server over its control socket: the same detail, in words and as JSON.
    // The stored gateway line shows too (never its password).
    await ts.server.store.gateway.setLine({ extension: '4100', upstreamUser: '41510', password: 'Up-Secret-3', ipei: '05003 0733588' });
    const text = await switchboardCli(['user', 'show', '--ext', '4100', '--data-dir', ts.dataDir]);
    expect(text.stdout).toMatch(/^gateway line 4100\tupstream=41510\tauth-user=-\tpassword=set\tipei=05003 0733588\t/m);
    expect(text.stdout).not.toContain('Up-Secret-3');
    expect(text.stdout).toMatch(/^last failure .* wrong password \(digest response did not match\)  REGISTER from udp 127\.0\.0\.1:\d+ ua="DeskPhone 9\.1"$/m);
    expect(text.stdout).toMatch(/^registration not registered$/m);
    const json = JSON.parse((await switchboardCli(['user', 'show', '--ext', '4100', '--json', '--data-dir', ts.dataDir])).stdout) as typeof d;
    expect(json?.lastFailure?.reason).toBe('wrong-password');
    expect((json as unknown as { gatewayLine: { hasPassword: boolean } }).gatewayLine).toMatchObject({ upstreamUser: '41510', hasPassword: true });
    await expect(switchboardCli(['user', 'show', '--ext', '4999', '--data-dir', ts.dataDir])).rejects.toThrow(/no user 4999/);

    const failed = await ts.server.extensions.list({ state: 'failed', sort: 'extension', desc: false, offset: 0, limit: 10 });
    expect(failed.items.map((r) => r.extension)).toEqual(['4100']);
    expect(failed.counts).toMatchObject({ failed: 1, unregistered: 2, registered: 0 });

    // Registering with the right password: last seen, registered, no longer "failed" (the refusal stays in the detail).
    expect((await c.register('4100', 'right-pass-1', { headers: UA })).status).toBe(200);
    const ok = await ts.server.extensions.detail('4100');
    expect(ok?.registered).toBe(true);
    expect(ok?.lastSeen).toMatchObject({ method: 'REGISTER', address: '127.0.0.1', transport: 'udp' });
    expect(ok?.contacts[0]).toMatchObject({ transport: 'udp', userAgent: 'DeskPhone 9.1', reachability: { state: 'unknown' } });
    expect(ok?.recentFailures).toHaveLength(1);
    const after = await ts.server.extensions.list({ sort: 'state', desc: false, offset: 0, limit: 10 });
    expect(after.items.map((r) => [r.extension, r.state])).toEqual([['4100', 'registered'], ['4101', 'unregistered']]);
    // Its last REGISTER is its last sighting in the list (from the binding); 4101 was never seen.
    expect(after.items.map((r) => r.lastSeen !== null && r.lastSeen >= before)).toEqual([true, false]);
  });

  it('says "banned until" once the guard bans the pair, and keeps nothing per unknown name', async () => {
    const ts = await server({ config: { auth: { pairFailures: 2 } } });
    await ts.server.store.users.add({ extension: '4200', password: 'right-pass-1' });
    await ts.server.directory.poll();
    const c = await client(ts);
    for (let i = 0; i < 2; i++) expect((await c.register('4200', `wrong-${i}`)).status).toBe(401);
    expect((await c.register('4200', 'wrong-3')).status).toBe(403);
    const d = await ts.server.extensions.detail('4200');
    expect(d?.lastFailure?.reason).toBe('banned');
    expect(d?.lastFailure?.until).toBeGreaterThan(ts.server.clock.now());
    expect(d?.lastFailure?.text).toMatch(/^banned until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // The two wrong passwords came from one socket within a second: one refusal.
    expect(d?.recentFailures.map((f) => f.reason)).toEqual(['banned', 'wrong-password']);
    // Unknown names: no detail, and only the small global ring holds them (bounded however many come).
    for (let i = 0; i < 80; i++) await c.register(`ghost${i}`, 'x');
    expect(await ts.server.extensions.detail('ghost1')).toBeUndefined();
    const strangers = await ts.server.extensions.strangers();
    // A flood from one source is one entry a second: the first name is the one kept.
    expect(strangers).toHaveLength(1);
    expect(strangers[0]).toMatchObject({ reason: 'unknown-user', user: 'ghost0', address: '127.0.0.1', text: 'unknown user name' });
  });

  it('says "transport not allowed" for a TLS-only user over UDP, "account disabled", and credentials used for another extension', async () => {
    const ts = await server();
    await ts.server.store.users.add({ extension: '4300', password: 'right-pass-1', media: { transport: 'tls' } });
    await ts.server.store.users.add({ extension: '4301', password: 'right-pass-2', enabled: false });
    await ts.server.directory.poll();
    const c = await client(ts);
    expect((await c.register('4300', 'right-pass-1')).status).toBe(403);
    const tlsOnly = await ts.server.extensions.detail('4300');
    expect(tlsOnly?.lastFailure).toMatchObject({ reason: 'transport', transport: 'udp' });
    expect(tlsOnly?.lastFailure?.text).toMatch(/^transport not allowed/);
    expect((await c.register('4301', 'right-pass-2')).status).toBe(401);
    const disabled = await ts.server.extensions.detail('4301');
    expect(disabled?.enabled).toBe(false);
    expect(disabled?.lastFailure).toMatchObject({ reason: 'disabled', text: 'account disabled' });
    // 4300's password for 4301's registration: on 4300's detail, naming the extension it was used for.
    expect((await c.register('4301', 'right-pass-1', { authUser: '4300' })).status).toBe(403);
    expect((await ts.server.extensions.detail('4300'))?.lastFailure).toMatchObject({ reason: 'wrong-user', text: 'its credentials used for another extension (registering 4301)' });
  });
});

describe('TLS handshakes and calls', () => {
  it('lists a failed TLS handshake on the detail of the user seen at that address, and nowhere else', async () => {
    const ts = await server();
    await ts.server.store.users.add({ extension: '4500', password: 'right-pass-1' });
    await ts.server.store.users.add({ extension: '4501', password: 'right-pass-2' });
    await ts.server.directory.poll();
    // Plain text to the TLS port from 127.0.0.45: the handshake fails there.
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host: ts.host, port: ts.tlsPort, localAddress: '127.0.0.45' }, () => s.end('REGISTER sip:test.local SIP/2.0\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    expect(await waitUntil(() => ts.server.transport.stats.tlsHandshakeFailures > 0, 3000)).toBe(true);
    const c = await new TestClient('udp', ts.host, ts.sipPort, {}, 0, '127.0.0.45').open();
    clients.push(c);
    expect((await c.register('4500', 'wrong')).status).toBe(401);
    const d = await ts.server.extensions.detail('4500');
    expect(d?.tlsFailures).toHaveLength(1);
    expect(d?.tlsFailures[0]).toMatchObject({ reason: 'tls', method: 'TLS', address: '127.0.0.45', transport: 'tls' });
    expect(d?.tlsFailures[0]?.text).toMatch(/^TLS handshake failed from 127\.0\.0\.45: ./);
    expect((await ts.server.extensions.detail('4501'))?.tlsFailures).toEqual([]);
  });

  it('shows a call in progress (state in-call, the call on the detail) and then among the recent calls', async () => {
    const ts = await server();
    await ts.server.store.users.add({ extension: '4600', password: 'right-pass-1' });
    await ts.server.store.users.add({ extension: '4601', password: 'right-pass-2' });
    await ts.server.directory.poll();
    const domain = { host: ts.host, port: ts.sipPort, domain: 'test.local' };
    const a = await TestPhone.start({ ext: '4600', password: 'right-pass-1', server: domain });
    const b = await TestPhone.start({ ext: '4601', password: 'right-pass-2', server: domain });
    phones.push(a, b);
    expect((await a.register()).status).toBe(200);
    expect((await b.register()).status).toBe(200);
    const call = a.call('4601');
    expect((await call.final).status).toBe(200);
    const during = await ts.server.extensions.detail('4601');
    expect(during?.state).toBe('connected');
    expect(during?.calls.map((x) => [x.caller, x.calleeExtension])).toEqual([['4600', '4601']]);
    const busy = await ts.server.extensions.list({ state: 'in-call', sort: 'extension', desc: false, offset: 0, limit: 10 });
    expect(busy.items.map((r) => [r.extension, r.state, r.callState])).toEqual([['4600', 'in-call', 'connected'], ['4601', 'in-call', 'connected']]);
    expect((await a.inDialog(call.dialog!, 'BYE')).status).toBe(200);
    expect(await waitUntil(async () => (await ts.server.extensions.detail('4601'))!.recentCalls.length === 1, 3000)).toBe(true);
    const after = await ts.server.extensions.detail('4601');
    expect(after?.calls).toEqual([]);
    expect(after?.recentCalls[0]).toMatchObject({ caller: '4600', callee: '4601', disposition: 'answered', status: 200 });
  });
});

describe('OPTIONS keepalive', () => {
  it('finds a registered UDP phone reachable, then unreachable once it is gone, keeping its binding', async () => {
    const ts = await server({ manualTime: true, config: { registrar: { keepaliveSec: 10, keepaliveTimeoutSec: 4 } } });
    await ts.server.store.users.add({ extension: '4400', password: 'right-pass-1' });
    await ts.server.directory.poll();
    const phone = await TestPhone.start({ ext: '4400', password: 'right-pass-1', server: { host: ts.host, port: ts.sipPort, domain: 'test.local' } });
    phones.push(phone);
    expect((await phone.register(600)).status).toBe(200);
    const reach = async () => (await ts.server.extensions.detail('4400'))!.contacts[0]!.reachability;
    expect((await reach()).state).toBe('unknown');

    // One interval: the contact's turn comes; the phone answers over real UDP.
    await ts.advance(10_000);
    await waitUntil(async () => (await reach()).state === 'reachable', 3000);
    const r = await reach();
    expect(r.rttMs).not.toBeNull();
    expect(r.lastProbeAt).not.toBeNull();
    expect(ts.server.prober?.stats()).toMatchObject({ reachable: 1, unreachable: 0 });

    await phone.stop();
    phones.splice(0);
    // Its next turn, then the probe's timeout: well within a minute.
    for (let t = 0; t < 16_000 && (await reach()).state !== 'unreachable'; t += 500) await ts.advance(500);
    expect((await reach()).state).toBe('unreachable');
    expect(ts.server.prober?.stats()).toMatchObject({ reachable: 0, unreachable: 1 });
    expect(await ts.server.metrics()).toMatch(/^switchboard_contacts_probed\{state="unreachable"\} 1$/m);
    const d = await ts.server.extensions.detail('4400');
    expect(d?.registered).toBe(true);
    const list = await ts.server.extensions.list({ state: 'unreachable', sort: 'extension', desc: false, offset: 0, limit: 10 });
    expect(list.items.map((x) => [x.extension, x.state])).toEqual([['4400', 'unreachable']]);
    // Its registration runs out as any does; then it is no longer probed (nor counted).
    await ts.advance(600_000);
    expect((await ts.server.extensions.detail('4400'))?.registered).toBe(false);
    expect(ts.server.prober?.stats()).toEqual({ reachable: 0, unreachable: 0, unknown: 0 });
  });
});

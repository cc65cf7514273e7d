// Signalling transport policy (SPEC, §4.5, issue "Media" item 6):
// TLS-only users, Strict SIPS for devices outside the local networks, and
// sips: URIs kept end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import { TransportPolicy } from '../../../src/security/transport-policy.ts';
import { waitUntil } from '../../lib/wait.ts';

let ts: TestServer;
const phones: TestPhone[] = [];

async function phone(ext: string, o: Partial<PhoneOptions> = {}): Promise<TestPhone> {
  const tls = o.transport === 'tls';
  const c = ts.server.certificates;
  const p = await TestPhone.start({
    ext, password: `pw-${ext}`,
    server: { host: ts.host, port: tls ? ts.tlsPort : ts.sipPort, domain: 'test.local' },
    ...(tls ? { tls: { caPem: c.caCertPem, certPem: c.certPem, keyPem: c.keyPem } } : {}),
    ...o,
  });
  phones.push(p);
  return p;
}

beforeAll(async () => {
  ts = await startTestServer();
  for (let i = 0; i < 10; i++) await ts.server.store.users.add({ extension: String(8000 + i), password: `pw-${8000 + i}` });
  await ts.server.store.users.update('8001', { media: { transport: 'tls' } });
  await ts.server.store.users.update('8003', { media: { transport: 'tls' } });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts.stop();
});

describe('TLS-only users', () => {
  it('refuses their REGISTER over UDP or TCP (403) and takes it over TLS', async () => {
    expect((await (await phone('8001')).register()).status).toBe(403);
    expect((await (await phone('8001', { transport: 'tcp' })).register()).status).toBe(403);
    expect((await (await phone('8001', { transport: 'tls' })).register()).status).toBe(200);
  });

  it('refuses their calls over UDP, and rings them over TLS only', async () => {
    const caller = await phone('8003');
    expect((await caller.register()).status).toBe(403);
    const a = await phone('8000');
    expect((await a.register()).status).toBe(200);
    const b = await phone('8001', { transport: 'tls' });
    expect((await b.register()).status).toBe(200);
    expect((await caller.call('8000').final).status).toBe(403);
    const call = a.call('8001');
    expect((await call.final).status).toBe(200);
    expect(b.incoming.length).toBe(1);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  });
});

describe('sips: end to end', () => {
  it('refuses a sips: call arriving in the clear, and keeps sips: identities on a TLS call', async () => {
    const a = await phone('8004');
    expect((await a.register()).status).toBe(200);
    const b = await phone('8005', { transport: 'tls' });
    expect((await b.register()).status).toBe(200);
    const clear = a.call('8005', { uri: 'sips' });
    expect((await clear.final).status).toBe(403);
    const c = await phone('8006', { transport: 'tls' });
    expect((await c.register()).status).toBe(200);
    const call = c.call('8005', { uri: 'sips' });
    expect((await call.final).status).toBe(200);
    const inv = b.incoming.at(-1)!.invite;
    expect(inv.to.uri.scheme).toBe('sips');
    expect(inv.from.uri.scheme).toBe('sips');
    expect(inv.headers.find((h) => h.name === 'contact')!.value).toMatch(/^<sips:/);
    expect(call.responses.find((r) => r.status === 200)!.headers.find((h) => h.name === 'contact')!.value).toMatch(/^<sips:/);
    await c.inDialog(call.dialog!, 'BYE');
    expect(await waitUntil(() => ts.server.calls.activeCount === 0)).toBe(true);
  });
});

describe('Strict SIPS', () => {
  it('tells local from remote devices by the configured networks', () => {
    const p = new TransportPolicy(true, ['10.0.0.0/8', '127.0.0.0/8', '::1/128']);
    expect(p.refusal('udp', '10.4.5.6', false)).toBeUndefined();
    expect(p.refusal('udp', '::ffff:127.0.0.1', false)).toBeUndefined();
    expect(p.refusal('tcp', '198.51.100.7', false)).toBe('Strict SIPS: Use TLS');
    expect(p.refusal('tls', '198.51.100.7', false)).toBeUndefined();
    expect(new TransportPolicy(false).refusal('udp', '198.51.100.7', false)).toBeUndefined();
    expect(new TransportPolicy(false).refusal('udp', '10.0.0.1', true)).toBe('TLS Required');
    expect(() => new TransportPolicy(true, ['10.0.0.0/33'])).toThrow(/CIDR/);
  });

  it('refuses a REGISTER over UDP from outside the local networks', async () => {
    const strict = await startTestServer({ config: { sip: { strictSips: true, localNetworks: ['10.0.0.0/8'] } } });
    await strict.server.store.users.add({ extension: '8100', password: 'pw-8100' });
    await strict.server.directory.poll();
    const p = await TestPhone.start({ ext: '8100', password: 'pw-8100', server: { host: strict.host, port: strict.sipPort, domain: 'test.local' } });
    const r = await p.register();
    expect(r.status).toBe(403);
    expect(r.reason).toBe('Strict SIPS: Use TLS');
    await p.stop();
    await strict.stop();
  });
});

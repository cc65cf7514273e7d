// Calls out through a SIP trunk (prefix routing, digit manipulation,
// permission, the peer's digest challenge), calls in by DID, and the
// registration of Switchboard to a trunk that asks for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, freePort } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import { getHeader } from '../../../src/sip/headers.ts';
import { waitUntil } from '../../lib/wait.ts';

let ts: TestServer;
const phones: TestPhone[] = [];

async function phone(ext: string, o: Partial<PhoneOptions> = {}, register = true): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
  phones.push(p);
  if (register) expect((await p.register()).status).toBe(200);
  return p;
}

async function reload(): Promise<void> {
  await ts.server.trunks.poll();
}

let pstn: TestPhone;
let carrier: TestPhone;

beforeAll(async () => {
  ts = await startTestServer();
  const users = ts.server.store.users;
  await users.add({ extension: '5000', password: 'pw-5000', name: 'Ward Nurse', outboundCalls: true });
  await users.add({ extension: '5001', password: 'pw-5001' });
  await users.add({ extension: '5002', password: 'pw-5002', outboundCalls: false });
  await ts.server.directory.poll();
  // The "PSTN gateway": a plain peer that answers whatever it is sent.
  pstn = await phone('pstn', { behaviour: 'ring-answer', port: await freePort() }, false);
  await ts.server.store.trunks.add({ name: 'pstn', host: '127.0.0.1', port: pstn.local.port, transport: 'udp', prefix: '9', strip: 1, addPrefix: '' });
  // An ITSP that wants registration and challenges INVITEs.
  carrier = await phone('carrier', { behaviour: 'answer', port: await freePort(), challenge: { user: 'acct77', password: 's3cret', realm: 'itsp.example' } }, false);
  await ts.server.store.trunks.add({
    name: 'itsp', host: '127.0.0.1', port: carrier.local.port, transport: 'udp', prefix: '00', strip: 2, addPrefix: '+',
    registerUser: 'acct77', registerPassword: 's3cret',
  });
  await ts.server.store.trunks.addDid('5551000', '5001');
  await reload();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts.stop();
});

const allEnded = () => waitUntil(() => ts.server.calls.activeCount === 0, 5000);

describe('outbound through a trunk', () => {
  it('routes by prefix, strips the prefix digit, and keeps the caller ID', async () => {
    const a = await phone('5000');
    const call = a.call('9555123');
    expect((await call.final).status).toBe(200);
    const inc = pstn.incoming.at(-1)!;
    expect(inc.invite.uri.user).toBe('555123');
    expect(inc.invite.from.uri.user).toBe('5000');
    expect(getHeader(inc.invite, 'p-asserted-identity')).toBe('"Ward Nurse" <sip:5000@test.local>');
    await a.inDialog(call.dialog!, 'BYE');
    await pstn.waitRequest('BYE');
    expect(await allEnded()).toBe(true);
    const cdr = (await ts.server.store.cdrs.list({ extension: '5000', kind: 'placed' }))[0]!;
    expect(cdr).toMatchObject({ direction: 'outbound', callee: '9555123', trunk: 'pstn', disposition: 'answered' });
  });

  it('refuses outbound calls to users without the permission (403), and records the attempt', async () => {
    const b = await phone('5002');
    const before = pstn.incoming.length;
    expect((await b.call('9555123').final).status).toBe(403);
    expect(pstn.incoming.length).toBe(before);
    expect((await ts.server.store.cdrs.list({ extension: '5002' }))[0]).toMatchObject({ disposition: 'rejected', status: 403, trunk: 'pstn' });
  });

  it('answers the trunk challenge with the trunk credentials and adds the prefix', async () => {
    const a = await phone('5000');
    const call = a.call('0044123456');
    expect((await call.final).status).toBe(200);
    const inc = carrier.incoming.at(-1)!;
    expect(inc.invite.uri.user).toBe('+44123456');
    expect(getHeader(inc.invite, 'proxy-authorization')).toContain('username="acct77"');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('registers to the trunk that asks for it, with its credentials', async () => {
    expect(await waitUntil(() => ts.server.trunkRegistrar.status().some((s) => s.state === 'registered'), 5000)).toBe(true);
    const reg = carrier.registers.at(-1)!;
    expect(reg.from.uri.user).toBe('acct77');
    expect(getHeader(reg, 'authorization')).toContain('username="acct77"');
    const status = ts.server.trunkRegistrar.status();
    expect(status.map((s) => s.trunk)).toEqual(['itsp']);
  });

  it('follows trunk changes made while running (CLI or API edit the same store)', async () => {
    await ts.server.store.trunks.update('pstn', { prefix: '8' });
    await reload();
    const a = await phone('5000');
    expect((await a.call('9555123').final).status).toBe(404);
    const call = a.call('8555123');
    expect((await call.final).status).toBe(200);
    await a.inDialog(call.dialog!, 'BYE');
    await ts.server.store.trunks.update('pstn', { prefix: '9' });
    await reload();
    expect(await allEnded()).toBe(true);
  });
});

describe('a TLS trunk', () => {
  it('reaches a peer over TLS, verifying its certificate', async () => {
    const c = ts.server.certificates;
    const peer = await phone('tlspeer', {
      transport: 'tls', behaviour: 'answer', port: await freePort(),
      tls: { caPem: c.caCertPem, certPem: c.certPem, keyPem: c.keyPem },
    }, false);
    await ts.server.store.trunks.add({ name: 'secure', host: '127.0.0.1', port: peer.local.port, transport: 'tls', prefix: '7', strip: 1 });
    await reload();
    const a = await phone('5000');
    const call = a.call('7123');
    expect((await call.final).status).toBe(200);
    expect(peer.incoming.at(-1)!.invite.uri.user).toBe('123');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
    await ts.server.store.trunks.remove('secure');
    await reload();
  });
});

describe('inbound from a trunk', () => {
  it('rings the extension a DID maps to, without asking the trunk for credentials', async () => {
    const b = await phone('5001');
    const call = pstn.call('5551000', { headers: [] });
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(call.challenged).toBeUndefined();
    const inc = b.incoming.at(-1)!;
    expect(inc.invite.uri.user).toBe('5001');
    expect(inc.invite.from.uri.user).toBe('pstn');
    await pstn.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
    expect((await ts.server.store.cdrs.list({ extension: '5001', kind: 'received' }))[0]).toMatchObject({ direction: 'inbound', trunk: 'pstn', callee: '5551000' });
  });

  it('answers 404 for a number that is no DID (no trunk-to-trunk relay)', async () => {
    expect((await pstn.call('9555999').final).status).toBe(404);
    expect((await pstn.call('5000').final).status).toBe(404);
  });
});

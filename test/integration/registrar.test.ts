import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHeader, getHeaders, parseNameAddrList } from '../../src/sip/headers.ts';
import { TestClient } from './lib/sip-client.ts';
import { DigestClient } from '../../src/sip/digest-client.ts';
import { startTestServer } from './lib/server.ts';
import type { TestServer } from './lib/server.ts';

let ts: TestServer;
const clients: TestClient[] = [];

async function client(transport: 'udp' | 'tcp' = 'udp'): Promise<TestClient> {
  const c = await new TestClient(transport, ts.host, ts.sipPort).open();
  clients.push(c);
  return c;
}

function contactsOf(res: { headers: { name: string; value: string }[] }) {
  const out: { uri: string; expires?: string; params: Map<string, string | null> }[] = [];
  for (const h of res.headers) {
    if (h.name !== 'contact') continue;
    const list = parseNameAddrList(h.value);
    if (!Array.isArray(list)) continue;
    for (const na of list) out.push({ uri: `${na.uri.scheme}:${na.uri.user}@${na.uri.host}:${na.uri.port}`, expires: na.params.get('expires') ?? undefined, params: na.params });
  }
  return out;
}

beforeAll(async () => {
  ts = await startTestServer({ config: { auth: { algorithms: ['SHA-256', 'MD5'] }, registrar: { minExpiresSec: 60, maxExpiresSec: 3600, defaultExpiresSec: 1800, maxContactsPerAor: 3 } } });
  const users = ts.server.store.users;
  await users.add({ extension: '1001', password: 'pw-1001' });
  await users.add({ extension: '1002', password: 'pw-1002', authUser: 'handset-1002' });
  await users.add({ extension: '1003', password: 'pw-1003' });
  await users.add({ extension: '1004', password: 'pw-1004', enabled: false });
  // 2000-2009: the brute-force test; 2100-2109: one user per registrar-rule test.
  for (let i = 0; i < 10; i++) await users.add({ extension: String(2000 + i), password: `pw-${2000 + i}` });
  for (let i = 0; i < 10; i++) await users.add({ extension: String(2100 + i), password: `pw-${2100 + i}` });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await ts.stop();
});

describe('OPTIONS', () => {
  it.each(['udp', 'tcp'] as const)('answers 200 with Allow, Accept and Supported over %s', async (t) => {
    const c = await client(t);
    const res = await c.request('OPTIONS');
    expect(res.status).toBe(200);
    expect(getHeader(res, 'allow')).toContain('REGISTER');
    expect(getHeader(res, 'allow')).toContain('INVITE');
    expect(getHeader(res, 'accept')).toBe('application/sdp');
    expect(getHeaders(res, 'supported')).toEqual(expect.arrayContaining(['path']));
    // GRUU is not offered: nothing would route a request to one device (RFC 5627 withdrawn, see registrar.ts).
    expect(getHeaders(res, 'supported')).not.toContain('gruu');
    expect(res.to.params.get('tag')).toBeTruthy();
  });
});

describe('REGISTER with digest authentication', () => {
  it('challenges with SHA-256 and MD5, then accepts the right password (both algorithms)', async () => {
    const c = await client();
    const first = await c.request('REGISTER', { user: '1001' });
    expect(first.status).toBe(401);
    const challenges = getHeaders(first, 'www-authenticate');
    expect(challenges.some((v) => v.includes('algorithm=SHA-256'))).toBe(true);
    expect(challenges.some((v) => v.includes('algorithm=MD5'))).toBe(true);
    expect(challenges.every((v) => v.includes('realm="test.local"') && v.includes('qop="auth"'))).toBe(true);
    for (const algorithm of ['SHA-256', 'MD5'] as const) {
      const ok = await c.register('1001', 'pw-1001', { algorithm });
      expect(ok.status).toBe(200);
      const contacts = contactsOf(ok);
      expect(contacts).toHaveLength(1);
      expect(contacts[0]!.uri).toBe(`sip:1001@127.0.0.1:${c.localPort}`);
      expect(Number(contacts[0]!.expires)).toBe(1800);
      expect(getHeader(ok, 'date')).toMatch(/GMT$/);
    }
    const bindings = ts.server.location.lookup('sip:1001@test.local');
    expect(bindings).toHaveLength(1);
    expect(bindings[0]!.sourcePort).toBe(c.localPort);
  });

  it('uses the auth user name, not the extension, in the digest (SPEC A-02)', async () => {
    const c = await client();
    expect((await c.register('1002', 'pw-1002', { authUser: 'handset-1002' })).status).toBe(200);
    // Right password of another user: the digest user must own the extension.
    expect((await c.register('1002', 'pw-1003', { authUser: '1003' })).status).toBe(403);
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const c = await client();
    const wrong = await c.register('1003', 'not-it');
    const unknown = await c.register('9999', 'whatever');
    const disabled = await c.register('1004', 'pw-1004');
    for (const r of [wrong, unknown, disabled]) {
      expect(r.status).toBe(401);
      expect(r.reason).toBe(wrong.reason);
      expect(r.headers.map((h) => h.name)).toEqual(wrong.headers.map((h) => h.name));
    }
    expect(ts.server.location.lookup('sip:1003@test.local')).toHaveLength(0);
  });

  it('bans a (source, user) pair after repeated failures without locking out its neighbours', async () => {
    const c = await client();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await c.register('2000', 'bad')).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([403, 403]);
    // The right password from the same address is refused while the pair is banned ...
    expect((await c.register('2000', 'pw-2000')).status).toBe(403);
    // ... but the other users behind that address are not affected.
    for (let i = 1; i < 10; i++) expect((await c.register(String(2000 + i), `pw-${2000 + i}`)).status).toBe(200);
    expect(ts.log.entries.filter((e) => e.msg?.includes('temporary ban'))).toHaveLength(1);
  });
});

describe('registrar rules (RFC 3261 §10.3)', () => {
  it('refuses a too-brief interval with 423 and Min-Expires, and caps long ones', async () => {
    const c = await client();
    const brief = await c.register('1003', 'pw-1003', { expires: 10 });
    expect(brief.status).toBe(423);
    expect(getHeader(brief, 'min-expires')).toBe('60');
    const capped = await c.register('1003', 'pw-1003', { expires: 99999 });
    expect(capped.status).toBe(200);
    expect(Number(contactsOf(capped)[0]!.expires)).toBe(3600);
  });

  it('prefers the Contact expires parameter over the Expires header, keeps q, removes with expires=0', async () => {
    const c = await client();
    const contact = `<sip:1001@127.0.0.1:${c.localPort}>;expires=120;q=0.7`;
    const res = await c.register('1001', 'pw-1001', { contact: null, expires: 600, headers: [{ name: 'contact', value: contact }] });
    expect(res.status).toBe(200);
    const mine = contactsOf(res).find((x) => x.uri.endsWith(`:${c.localPort}`))!;
    expect(mine.expires).toBe('120');
    expect(mine.params.get('q')).toBe('0.7');
    const removed = await c.register('1001', 'pw-1001', { contact: null, headers: [{ name: 'contact', value: `<sip:1001@127.0.0.1:${c.localPort}>;expires=0` }] });
    expect(removed.status).toBe(200);
    expect(contactsOf(removed).some((x) => x.uri.endsWith(`:${c.localPort}`))).toBe(false);
  });

  it('keeps several contacts per user, at most maxContactsPerAor (oldest dropped)', async () => {
    const cs = [await client(), await client(), await client(), await client()];
    for (const c of cs) expect((await c.register('2105', 'pw-2105')).status).toBe(200);
    const bindings = ts.server.location.lookup('sip:2105@test.local');
    expect(bindings).toHaveLength(3);
    expect(bindings.map((b) => b.sourcePort).sort()).toEqual(cs.slice(1).map((c) => c.localPort).sort());
  });

  it('orders by Call-ID/CSeq: an older CSeq on the same Call-ID gets 500 and changes nothing', async () => {
    const c = await client();
    expect((await c.register('2106', 'pw-2106', { expires: 600 })).status).toBe(200);
    const before = ts.server.location.lookup('sip:2106@test.local')[0]!;
    // Authenticate properly, but with a CSeq lower than the accepted one.
    const challenge = await c.request('REGISTER', { user: '2106' });
    const digest = new DigestClient({ username: '2106', password: 'pw-2106' });
    const authorization = digest.authorize(digest.chooseChallenge(getHeaders(challenge, 'www-authenticate'))!, 'REGISTER', `sip:${ts.host}:${ts.sipPort}`)!;
    const stale = await c.request('REGISTER', { user: '2106', cseq: 1, headers: [{ name: 'authorization', value: authorization }, { name: 'expires', value: '60' }] });
    expect(stale.status).toBe(500);
    const after = ts.server.location.lookup('sip:2106@test.local');
    expect(after).toHaveLength(1);
    expect(after[0]!.expiresAt).toBe(before.expiresAt);
  });

  it('unregisters everything with "Contact: *" and Expires: 0, and rejects "*" otherwise', async () => {
    const a = await client();
    const b = await client();
    await a.register('2107', 'pw-2107');
    await b.register('2107', 'pw-2107');
    expect(ts.server.location.lookup('sip:2107@test.local')).toHaveLength(2);
    const bad = await a.register('2107', 'pw-2107', { contact: null, headers: [{ name: 'contact', value: '*' }] });
    expect(bad.status).toBe(400);
    const ok = await a.register('2107', 'pw-2107', { contact: null, expires: 0, headers: [{ name: 'contact', value: '*' }] });
    expect(ok.status).toBe(200);
    expect(contactsOf(ok)).toHaveLength(0);
    expect(ts.server.location.lookup('sip:2107@test.local')).toHaveLength(0);
  });

  it('answers a query (no Contact) with the current bindings', async () => {
    const c = await client();
    await c.register('2108', 'pw-2108');
    const q = await c.register('2108', 'pw-2108', { contact: null });
    expect(q.status).toBe(200);
    expect(contactsOf(q)).toHaveLength(1);
  });

  it('stores and echoes Path when the UA supports it (RFC 3327)', async () => {
    const c = await client();
    const res = await c.register('2109', 'pw-2109', {
      headers: [
        { name: 'supported', value: 'path' },
        { name: 'path', value: '<sip:edge.example;lr>' },
      ],
    });
    expect(res.status).toBe(200);
    expect(getHeaders(res, 'path')).toEqual(['<sip:edge.example;lr>']);
    expect(ts.server.location.lookup('sip:2109@test.local')[0]!.path).toEqual(['<sip:edge.example;lr>']);
  });

  it('hands out no GRUU, even to an instance that supports them, and keeps the instance (RFC 5627 not offered)', async () => {
    const c = await client();
    const instance = '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>';
    const res = await c.register('2104', 'pw-2104', {
      contact: null,
      headers: [
        { name: 'supported', value: 'gruu, outbound' },
        { name: 'contact', value: `<sip:2104@127.0.0.1:${c.localPort}>;+sip.instance="${instance}"` },
      ],
    });
    expect(res.status).toBe(200);
    const contact = contactsOf(res)[0]!;
    expect(contact.params.has('pub-gruu')).toBe(false);
    expect(contact.params.has('temp-gruu')).toBe(false);
    expect(contact.params.get('+sip.instance')).toBe('"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"');
    expect(getHeaders(res, 'require')).toEqual([]);
    const [binding] = ts.server.location.lookup('sip:2104@test.local');
    expect(binding).toMatchObject({ instanceId: 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', pubGruu: null, tempGruu: null });
  });
});

describe('other requests', () => {
  it('answers unknown methods with 501 and known-but-unsupported ones with 405, both with Allow', async () => {
    const c = await client();
    const unknown = await c.request('FROBNICATE');
    expect(unknown.status).toBe(501);
    expect(getHeader(unknown, 'allow')).toContain('OPTIONS');
    const pub = await c.request('PUBLISH');
    expect(pub.status).toBe(405);
    // SUBSCRIBE is served (message-summary, src/pbx/mwi/) and, like INVITE, challenged first.
    expect((await c.request('SUBSCRIBE')).status).toBe(407);
  });

  it('refuses unsupported Require options with 420 and Unsupported', async () => {
    const c = await client();
    const res = await c.request('OPTIONS', { headers: [{ name: 'require', value: 'nosuchext, path' }] });
    expect(res.status).toBe(420);
    expect(getHeader(res, 'unsupported')).toBe('nosuchext');
  });

  it('refuses a non-SIP Request-URI scheme with 416', async () => {
    const c = await client();
    const res = await c.request('OPTIONS', { uri: 'tel:+358401234567' });
    expect(res.status).toBe(416);
  });
});

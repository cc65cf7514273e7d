// The provisioning listeners (HTTPS, and HTTP when the bootstrap exception
// is on) against hostile request lines (team standard "bad input"):
// traversal in every encoding, very long URLs, other devices' MACs in any
// case, unknown MACs in bulk, methods other than GET/HEAD/PUT. Each gets its
// error (404, 405, 431, 429) or is dropped, never a file it may not have and
// never a key; the request log stays bounded, each source is logged once,
// and the device keeps getting its file.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../lib/server.ts';
import { challenges, connect, digestAuthorization, digestRequest, rawExchange, rawRequest, untilClosed, type RawAnswer, type RawTarget } from './raw-http.ts';

const A = '0004f20000a1';
const B = '0004f20000b2';
const SECRET: Record<string, string> = { [A]: 'Line-A-secret-1001', [B]: 'Line-B-secret-1002' };

/** Raw request targets that try to climb out of the served names. */
function traversals(token: string): string[] {
  return [
    '/../../etc/passwd',
    '/..',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E%2F%2E%2E%2Fcerts%2Fserver.key',
    '/..%2fconfig.json',
    '/certs%2fca.key',
    '/certs/ca.key',
    '/..\\..\\certs\\ca.key',
    '/%5c..%5ccerts%5cca.key',
    '/avayab179.xml%00',
    '/avayab179.xml%00.txt',
    '/%zz',
    '/%',
    `/d/${token}/..%2f..%2fcerts%2fca.key`,
    `/d/${token}/%2e%2e/avayab179.xml`,
    `/d/${token}%2f..%2f..%2fca.key`,
    `/d/..%2f${token}/avayab179.xml`,
    '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
    'avayab179.xml',
    'http://127.0.0.1/avayab179.xml',
    '*',
  ];
}

function expectNothingLeaked(r: RawAnswer, what: string): void {
  expect(r.status, what).not.toBe(200);
  expect(r.body, what).not.toContain('PRIVATE KEY');
  expect(r.body, what).not.toContain('root:');
  for (const s of Object.values(SECRET)) expect(r.body, what).not.toContain(s);
}

/** Every file under dir, relative. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('provisioning server: hostile paths and methods', () => {
  let ts: TestServer;
  let https: RawTarget;
  let httpT: RawTarget;
  const secrets = new Map<string, { password: string; token: string }>();
  const from = (t: RawTarget, source: string): RawTarget => ({ ...t, from: source });
  const expectOwnFile = async (mac: string, source = '127.0.0.1') => {
    const r = await digestRequest(from(https, source), { path: '/avayab179.xml' }, mac, secrets.get(mac)!.password);
    expect(r.status).toBe(200);
    expect(r.body).toContain(SECRET[mac]);
    for (const [m, s] of Object.entries(SECRET)) if (m !== mac) expect(r.body).not.toContain(s);
  };
  const warningsFrom = (source: string) => ts.log.entries.filter((e) => e.level === 'warn' && (e.obj as { source?: string }).source === source);

  beforeAll(async () => {
    // Server time stands still: every source stays inside one log interval however slow the machine.
    const port = await freePort();
    ts = await startTestServer({ provisioning: true, manualTime: true, config: { provisioning: { http: { listen: `127.0.0.1:${port}`, bootstrap: true } } } });
    for (const [mac, ext] of [[A, '1001'], [B, '1002']] as const) {
      await ts.server.store.users.add({ extension: ext, password: SECRET[mac]! });
      secrets.set(mac, (await ts.server.store.devices.add({ mac, family: 'avaya-b179', extensions: [ext] })).secrets);
    }
    https = { port: ts.server.provisioning!.https.port, ca: ts.server.certificates.caCertPem };
    httpT = { port: ts.server.provisioning!.http!.port };
  });
  afterAll(() => ts?.stop());

  it('answers traversal in every encoding with 404 (400 where the request line does not parse, 403 on HTTP), over HTTPS and HTTP, with or without credentials', async () => {
    const before = filesUnder(ts.dataDir);
    const token = secrets.get(A)!.token;
    for (const path of traversals(token)) {
      for (const [name, t] of [['https', https], ['http', httpT]] as const) {
        const r = await rawRequest(from(t, '127.0.0.20'), { path });
        expectNothingLeaked(r, `${name} ${path}`);
        // 401 where the decoded name climbs nowhere (certs/ca.key is just a name no device has).
        expect([400, 401, 403, 404], `${name} ${path}`).toContain(r.status);
        if (path.includes('..') || /%2e%2e/i.test(path)) expect([400, 403, 404], `${name} ${path}`).toContain(r.status);
      }
      // With A's valid credentials the path is still refused before anything is looked up.
      const c = challenges(await rawRequest(from(https, '127.0.0.21'), { path: '/avayab179.xml' }))[0]!;
      const authorization = digestAuthorization({ username: A, password: secrets.get(A)!.password, method: 'GET', uri: path, challenge: c });
      const r = await rawRequest(from(https, '127.0.0.21'), { path, headers: { Authorization: authorization } });
      expectNothingLeaked(r, `authenticated ${path}`);
      // And as uploads: nothing is written anywhere.
      const put = await rawRequest(from(https, '127.0.0.21'), { method: 'PUT', path, headers: { Authorization: authorization }, body: 'x' });
      expectNothingLeaked(put, `PUT ${path}`);
    }
    // Raw NUL and control characters in the request line: the parser refuses them (400), no file.
    for (const bad of ['GET /avayab179.xml\0 HTTP/1.1', 'GET /ava\x01yab179.xml HTTP/1.1', 'GET /a b c HTTP/1.1']) {
      const r = await rawExchange(from(https, '127.0.0.20'), `${bad}\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expectNothingLeaked(r, JSON.stringify(bad));
      expect([0, 400], JSON.stringify(bad)).toContain(r.status);
    }
    expect(filesUnder(ts.dataDir).filter((f) => !f.startsWith('store') && !before.includes(f))).toEqual([]);
    await expectOwnFile(A);
  });

  it("serves the root CA only under its own names, not under names every JavaScript object has", async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'CA.PEM']) {
      const r = await rawRequest(from(https, '127.0.0.25'), { path: `/${name}` });
      expect(r.status, name).toBe(401);
    }
    expect((await rawRequest(from(https, '127.0.0.25'), { path: '/ca.pem' })).body).toBe(ts.server.certificates.caCertPem);
  });

  it('closes a connection whose request body was not read (a GET or 405 declaring a body it never sends) instead of waiting for it', async () => {
    for (const [method, want] of [['GET', 401], ['HEAD', 401], ['POST', 405], ['DELETE', 405]] as const) {
      for (const framing of ['Content-Length: 100000000', 'Transfer-Encoding: chunked']) {
        const s = await connect(from(https, '127.0.0.26'));
        const closed = untilClosed(s);
        s.write(`${method} /avayab179.xml HTTP/1.1\r\nHost: x\r\n${framing}\r\n\r\n`);
        const head = await new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
        expect(head, `${method} ${framing}`).toMatch(new RegExp(`^HTTP/1\\.1 ${want} `));
        expect(head.toLowerCase(), `${method} ${framing}`).toContain('connection: close');
        s.destroy();
        await closed;
      }
    }
    // Without a body the connection stays open for the next request, even after a 405.
    for (const method of ['GET', 'POST']) {
      const s = await connect(from(https, '127.0.0.26'));
      s.write(`${method} /ca.pem HTTP/1.1\r\nHost: x\r\n\r\n`);
      const head = await new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
      expect(head.toLowerCase(), method).toContain('connection: keep-alive');
      s.destroy();
    }
  });

  it("keeps control characters (terminal escapes) out of the request log and a device's last fetch", async () => {
    const path = '/%1b]0;owned%07%1b[2J%c2%9b31m%0d%0aFAKE.cfg';
    const forged = `Digest username="${A}", realm="switchboard provisioning", nonce="forged", uri="${path}", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c", response="${'0'.repeat(64)}"`;
    expect((await rawRequest(from(https, '127.0.0.27'), { path, headers: { Authorization: forged } })).status).toBe(401);
    await ts.server.provisioning!.flush();
    const files = [ts.server.provisioning!.recent()[0]!.file, (await ts.server.store.devices.get(A))!.lastFetch!.file];
    for (const f of files) {
      expect(f).toContain('FAKE.cfg');
      expect(f).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it('answers long URLs with 404 and URLs beyond the header limit with 431, on both listeners', async () => {
    for (const t of [https, httpT]) {
      expect((await rawRequest(from(t, '127.0.0.22'), { path: `/${'a'.repeat(600)}` })).status).toBe(404);
      expect((await rawRequest(from(t, '127.0.0.22'), { path: `/avayab179.xml?${'q'.repeat(7000)}` })).status).toBe(t === https ? 401 : 403);
      expect((await rawRequest(from(t, '127.0.0.22'), { path: `/${'a'.repeat(9000)}` })).status).toBe(431);
    }
    await expectOwnFile(A);
  });

  it("gives a device nothing under another device's MAC, in any case, and nothing for MACs nobody has", async () => {
    const { password, token } = secrets.get(A)!;
    const names = [B, B.toUpperCase(), B.match(/../g)!.join(':'), B.match(/../g)!.join('-').toUpperCase()].flatMap((m) =>
      [`/${m}.cfg`, `/${m}-app.log`, `/${m}-upload-CallServer.cfg`, `/${m}/avayab179.xml`, `/SEP${m}.cnf.xml`, `/cfg${m}.xml`]);
    for (const path of names) {
      const r = await digestRequest(from(https, '127.0.0.23'), { path }, A, password);
      expect(r.status, path).toBe(404);
      expectNothingLeaked(r, path);
      const byToken = await rawRequest(from(https, '127.0.0.23'), { path: `/d/${token}${path}` });
      expect(byToken.status, path).toBe(404);
      expectNothingLeaked(byToken, path);
    }
  });

  it('keeps the request log bounded under unknown MACs in bulk and closes a spraying source after 20 failures', async () => {
    const source = '127.0.0.30';
    const c = challenges(await rawRequest(from(https, source), { path: '/avayab179.xml' }))[0]!;
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const mac = `02${i.toString(16).padStart(10, '0')}`;
      const h = digestAuthorization({ username: mac, password: 'whatever', method: 'GET', uri: `/${mac}.cfg`, challenge: c, nc: i + 1 });
      statuses.push((await rawRequest(from(https, source), { path: `/${mac}.cfg`, headers: { Authorization: h } })).status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(21).every((s) => s === 429)).toBe(true);
    // Unauthenticated fetches of unknown MACs' files from many sources: challenges, nothing kept per request.
    for (let i = 0; i < 300; i++) {
      const r = await rawRequest(from(https, `127.0.2.${(i % 200) + 1}`), { path: `/${(0x020000000000 + i).toString(16)}.cfg` });
      expect(r.status).toBe(401);
    }
    const recent = ts.server.provisioning!.recent();
    expect(recent.length).toBe(500);
    expect(warningsFrom(source)).toHaveLength(1);
    await ts.server.provisioning!.flush();
    expect((await ts.server.store.devices.list()).map((d) => d.mac).sort()).toEqual([A, B]);
    // The device from another address is unaffected.
    await expectOwnFile(B, '127.0.0.31');
  });

  it('answers methods other than GET, HEAD and PUT with 405 and Allow, or drops them; HEAD gives no body', async () => {
    for (const t of [https, httpT]) {
      for (const method of ['POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'MKCOL']) {
        const r = await rawRequest(from(t, '127.0.0.24'), { method, path: '/avayab179.xml', body: 'x' });
        expect(r.status, method).toBe(405);
        expect(r.headers.get('allow'), method).toEqual(['GET, HEAD, PUT']);
        expectNothingLeaked(r, method);
      }
      // Methods Node's parser does not know: 400 from the parser.
      for (const method of ['CONNECT', 'FOO', 'get', 'G\x01T']) {
        const r = await rawRequest(from(t, '127.0.0.24'), { method, path: '/avayab179.xml' });
        expect([0, 400, 405], method).toContain(r.status);
        expectNothingLeaked(r, method);
      }
    }
    const head = await digestRequest(from(https, '127.0.0.1'), { method: 'HEAD', path: '/avayab179.xml' }, A, secrets.get(A)!.password);
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length')?.[0])).toBeGreaterThan(0);
    expect(head.body).toBe('');
    await expectOwnFile(A);
  });

  it('logs each source once per interval, never a secret, and keeps URL tokens out of the request log', async () => {
    for (const source of ['127.0.0.20', '127.0.0.22', '127.0.0.23', '127.0.0.24']) expect(warningsFrom(source).length, source).toBe(1);
    const logged = JSON.stringify(ts.log.entries) + JSON.stringify(ts.server.provisioning!.recent());
    for (const s of [...secrets.values()].flatMap((x) => [x.password, x.token])) expect(logged).not.toContain(s);
    expect(existsSync(join(ts.dataDir, 'provisioning', 'uploads', B))).toBe(false);
  });
});

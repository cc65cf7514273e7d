// Phone uploads (C-16) under hostile input (team standard "bad input"):
// bodies over the limit (declared or chunked), more files than a device may
// keep (one by one and all at once), another device's name in any case, no
// credentials, and bodies that never finish. Each is refused (413, 507,
// 403, 401) or cut, nothing lands where it should not, and the device keeps
// getting its file meanwhile.
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { challenges, connect, digestAuthorization, digestRequest, rawRequest, requestBytes, untilClosed, type RawTarget } from './raw-http.ts';

const A = '0004f20000a1';
const B = '0004f20000b2';
const C = '0004f20000c3';
const MAX_BYTES = 1024;
const MAX_FILES = 3;

describe('provisioning server: hostile uploads', () => {
  let ts: TestServer;
  let t: RawTarget;
  const secrets = new Map<string, { password: string; token: string }>();
  const uploads = (mac: string): string[] => {
    try {
      return readdirSync(join(ts.dataDir, 'provisioning', 'uploads', mac)).sort();
    } catch {
      return [];
    }
  };
  const put = (mac: string, name: string, body: string | Buffer, headers: Record<string, string> = {}, from = '127.0.0.1') =>
    digestRequest({ ...t, from }, { method: 'PUT', path: `/${name}`, body, headers }, mac, secrets.get(mac)!.password);
  const expectOwnFile = async (mac: string) => {
    const r = await digestRequest(t, { path: '/avayab179.xml' }, mac, secrets.get(mac)!.password);
    expect(r.status).toBe(200);
    expect(r.body).toContain(`secret-${mac}`);
  };

  beforeAll(async () => {
    ts = await startTestServer({ provisioning: true, config: { provisioning: { maxUploadBytes: MAX_BYTES, maxUploadsPerDevice: MAX_FILES, requestTimeoutSec: 2, headersTimeoutSec: 2 } } });
    for (const [mac, ext] of [[A, '1001'], [B, '1002'], [C, '1003']] as const) {
      await ts.server.store.users.add({ extension: ext, password: `secret-${mac}` });
      secrets.set(mac, (await ts.server.store.devices.add({ mac, family: 'avaya-b179', extensions: [ext] })).secrets);
    }
    t = { port: ts.server.provisioning!.https.port, ca: ts.server.certificates.caCertPem };
  });
  afterAll(() => ts?.stop());

  it('refuses bodies over the limit, declared or chunked, with 413 and stores nothing', async () => {
    const declared = await put(A, `${A}-app.log`, 'x'.repeat(MAX_BYTES + 1));
    expect(declared.status).toBe(413);
    expect(declared.headers.get('connection')).toEqual(['close']);
    // Chunked, no length declared: cut once the limit is passed.
    const chunk = 'y'.repeat(600);
    const chunked = `${(600).toString(16)}\r\n${chunk}\r\n`.repeat(4) + '0\r\n\r\n';
    const r = await put(A, `${A}-boot.log`, chunked, { 'Transfer-Encoding': 'chunked' });
    expect(r.status).toBe(413);
    expect(uploads(A)).toEqual([]);
    // At the limit it is taken.
    expect((await put(A, `${A}-app.log`, 'z'.repeat(MAX_BYTES))).status).toBe(201);
    expect((await readFile(join(ts.dataDir, 'provisioning', 'uploads', A, `${A}-app.log`))).length).toBe(MAX_BYTES);
  });

  it('keeps no more than maxUploadsPerDevice files, one by one or all at once', async () => {
    const got: number[] = [];
    for (const n of ['one', 'two', 'three', 'four']) got.push((await put(B, `${B}-${n}.log`, n)).status);
    expect(got).toEqual([201, 201, 201, 507]);
    // Replacing a kept file is fine.
    expect((await put(B, `${B}-one.log`, 'again')).status).toBe(201);
    expect(uploads(B)).toEqual([`${B}-one.log`, `${B}-three.log`, `${B}-two.log`]);
    // Twelve different names at once, for a device with none: still three kept.
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => put(C, `${C}-burst-${i}.log`, `burst ${i}`)));
    expect(all.filter((r) => r.status === 201)).toHaveLength(MAX_FILES);
    expect(all.filter((r) => r.status !== 201).every((r) => r.status === 507)).toBe(true);
    expect(uploads(C)).toHaveLength(MAX_FILES);
  });

  it("refuses another device's name in any case, and names that are no upload, with 403", async () => {
    const before = uploads(B);
    for (const name of [`${B}-app.log`, `${B.toUpperCase()}-app.log`, `${B}-upload-CallServer.cfg`, `${A}-app.txt`, `${A}-upload-x.xml`, `${A}.cfg`, 'avayab179.xml', `${A}-${'l'.repeat(120)}.log`]) {
      const r = await put(A, name, 'not mine');
      expect(r.status, name).toBe(403);
    }
    expect(uploads(B)).toEqual(before);
    expect(uploads(A)).toEqual([`${A}-app.log`]);
  });

  it('refuses uploads without credentials (401) or with a wrong password, and takes them by URL token', async () => {
    const none = await rawRequest(t, { method: 'PUT', path: `/${A}-none.log`, body: 'anonymous' });
    expect(none.status).toBe(401);
    const wrong = await digestRequest(t, { method: 'PUT', path: `/${A}-wrong.log`, body: 'guess' }, A, 'not-the-password');
    expect(wrong.status).toBe(401);
    // A token in another device's name: 403; in its own: stored.
    expect((await rawRequest(t, { method: 'PUT', path: `/d/${secrets.get(A)!.token}/${B}-app.log`, body: 'x' })).status).toBe(403);
    expect((await rawRequest(t, { method: 'PUT', path: `/d/${secrets.get(C)!.token}/${C}-burst-0.log`, body: 'by token' })).status).toBe(201);
    expect(uploads(A)).toEqual([`${A}-app.log`]);
  });

  it('takes a client that goes away in the middle of an upload in its stride: nothing stored, no error logged', async () => {
    const path = `/${B}-gone.log`;
    const c = challenges(await rawRequest(t, { method: 'PUT', path, body: '' }))[0]!;
    const authorization = digestAuthorization({ username: B, password: secrets.get(B)!.password, method: 'PUT', uri: path, challenge: c });
    for (const chunked of [false, true]) {
      const s = await connect(t);
      const closed = untilClosed(s);
      const headers: Record<string, string> = { Authorization: authorization, ...(chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': '900' }) };
      s.write(requestBytes({ method: 'PUT', path, headers }));
      s.write(chunked ? '10\r\n0123456789abcdef\r\n' : 'half of it');
      // Gone once the server has the headers and part of the body: the device's next fetch shows it was read.
      await expectOwnFile(B);
      s.destroy();
      await closed;
    }
    await expectOwnFile(B);
    expect(uploads(B)).not.toContain(`${B}-gone.log`);
    expect(ts.log.entries.filter((e) => e.level === 'error')).toEqual([]);
  });

  it('cuts a body that never finishes after requestTimeoutSec, without an error logged, and serves devices meanwhile', async () => {
    const path = `/${A}-slow.log`;
    const c = challenges(await rawRequest(t, { method: 'PUT', path, body: '' }))[0]!;
    const authorization = digestAuthorization({ username: A, password: secrets.get(A)!.password, method: 'PUT', uri: path, challenge: c });
    const slow = await connect(t);
    const closed = untilClosed(slow, 15_000);
    const head = requestBytes({ method: 'PUT', path, headers: { Authorization: authorization, 'Content-Length': '1000' } });
    slow.write(head);
    slow.write('only a little');
    // Served while the upload hangs.
    await expectOwnFile(B);
    const answer = (await closed).toString('latin1');
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(uploads(A)).toEqual([`${A}-app.log`]);
    expect(ts.log.entries.filter((e) => e.level === 'error')).toEqual([]);
    await expectOwnFile(A);
  });
});

// Done-when (issue 14): curl with a device's credentials fetches its own file
// over HTTPS, verified against the exported root CA, and is refused another
// device's file; HTTP is refused unless the bootstrap exception is on.
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../lib/cli.ts';
import { freePort, startTestServer, tempDataDir, type TestServer } from '../lib/server.ts';
import { curl } from './lib.ts';

const B179 = '0004f2000179';
const J179 = '0004f2000046';
const OFF = '0004f20000ff';

describe('provisioning server (real curl, real HTTPS)', () => {
  let ts: TestServer;
  let base: string;
  let caFile: string;
  const secrets = new Map<string, { password: string; token: string }>();

  beforeAll(async () => {
    ts = await startTestServer({ provisioning: true });
    const { store } = ts.server;
    await store.users.add({ extension: '1001', password: 'Line-1001-secret', name: 'Conference room' });
    await store.users.add({ extension: '1002', password: 'Line-1002-secret' });
    await store.users.add({ extension: '1003', password: 'Line-1003-secret' });
    for (const [mac, family, ext] of [[B179, 'avaya-b179', '1001'], [J179, 'avaya-46xx', '1002'], [OFF, 'avaya-b179', '1003']] as const) {
      const { secrets: s } = await store.devices.add({ mac, family, extensions: [ext], enabled: mac !== OFF });
      secrets.set(mac, s);
    }
    base = `https://127.0.0.1:${ts.server.provisioning!.https.port}`;
    caFile = join(tempDataDir(), 'ca.pem');
    const exported = await cli('cert', 'export-ca', '--out', caFile, '--data-dir', ts.dataDir);
    expect(exported.code).toBe(0);
  });
  afterAll(() => ts?.stop());

  const digest = (mac: string, password = secrets.get(mac)!.password) => ['--cacert', caFile, '--digest', '-u', `${mac}:${password}`];

  it("serves a device its own file by digest, verified against the exported root CA, and records the fetch", async () => {
    const r = await curl(...digest(B179), `${base}/avayab179.xml`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<user>1001</user>');
    expect(r.body).toContain('<password>Line-1001-secret</password>');
    expect(r.body).not.toContain('Line-1003-secret');
    await ts.server.provisioning!.flush();
    const d = await ts.server.store.devices.get(B179);
    expect(d!.lastFetch).toMatchObject({ file: '/avayab179.xml', status: 200, result: 'served', source: '127.0.0.1' });
    expect(ts.server.provisioning!.recent()[0]).toMatchObject({ mac: B179, status: 200, method: 'GET' });
    // The password was never logged.
    expect(JSON.stringify(ts.log.entries)).not.toContain(secrets.get(B179)!.password);
  });

  it("refuses another device's file and a wrong password", async () => {
    // J179 (46xx) asks for the B179's file: not one of its files, nothing leaked.
    const other = await curl(...digest(J179), `${base}/avayab179.xml`);
    expect(other.status).toBe(404);
    expect(other.body).not.toContain('1001');
    // The B179's own per-MAC file, and the disabled one's, asked for by the B179: its own only.
    expect((await curl(...digest(B179), `${base}/avaya-${B179}.xml`)).status).toBe(200);
    const foreign = await curl(...digest(B179), `${base}/avaya-${OFF}.xml`);
    expect(foreign.status).toBe(404);
    expect(foreign.body).not.toContain('1003');
    const own = await curl(...digest(J179), `${base}/46xxsettings.txt`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('SET SIP_CONTROLLER_LIST');
    // The B179's password does not open the J179, nor the reverse.
    const wrong = await curl(...digest(J179, secrets.get(B179)!.password), `${base}/46xxsettings.txt`);
    expect(wrong.status).toBe(401);
    const none = await curl('--cacert', caFile, `${base}/46xxsettings.txt`);
    expect(none.status).toBe(401);
    await ts.server.provisioning!.flush();
    expect((await ts.server.store.devices.get(J179))!.lastFetch).toMatchObject({ status: 401, result: 'refused: wrong password' });
  });

  it('serves by URL token; an unknown token is a 404', async () => {
    const r = await curl('--cacert', caFile, `${base}/d/${secrets.get(B179)!.token}/avayab179.xml`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<user>1001</user>');
    const bad = await curl('--cacert', caFile, `${base}/d/${'A'.repeat(32)}/avayab179.xml`);
    expect(bad.status).toBe(404);
    // The token is a secret: the request log, the device's last fetch and the server log show none.
    expect(ts.server.provisioning!.recent()[1]).toMatchObject({ mac: B179, status: 200, file: '/d/…/avayab179.xml' });
    await ts.server.provisioning!.flush();
    expect((await ts.server.store.devices.get(B179))!.lastFetch!.file).toBe('/d/…/avayab179.xml');
    expect(JSON.stringify(ts.log.entries)).not.toContain('A'.repeat(32));
    expect(JSON.stringify(ts.server.provisioning!.recent())).not.toContain(secrets.get(B179)!.token);
  });

  it('refuses a disabled device with 403, after its credentials proved it', async () => {
    expect((await curl(...digest(OFF), `${base}/avayab179.xml`)).status).toBe(403);
    expect((await curl('--cacert', caFile, `${base}/d/${secrets.get(OFF)!.token}/avayab179.xml`)).status).toBe(403);
  });

  it('answers a refused configuration with 409 and the reason in the request log', async () => {
    await ts.server.store.devices.update(J179, { options: { firmware: 'j100', mediaEncryption: '10' } });
    const r = await curl(...digest(J179), `${base}/46xxsettings.txt`);
    expect(r.status).toBe(409);
    const logged = ts.server.provisioning!.recent().find((q) => q.mac === J179 && q.status === 409);
    expect(logged!.result).toMatch(/^refused: /);
    await ts.server.store.devices.update(J179, { options: {} });
  });

  it('gives the root CA without authentication as PEM, DER and .crt', async () => {
    const ca = ts.server.certificates;
    const pem = await curl('--cacert', caFile, `${base}/ca.pem`);
    expect(pem.status).toBe(200);
    expect(pem.body).toBe(ca.caCertPem);
    for (const name of ['ca.der', 'ca.crt']) {
      const out = join(tempDataDir(), name);
      const r = await curl('--cacert', caFile, '-o', out, `${base}/${name}`);
      expect(r.status).toBe(200);
      expect(new X509Certificate(await readFile(out)).fingerprint256).toBe(new X509Certificate(ca.caCertPem).fingerprint256);
    }
  });

  it('takes uploads from their own device only (C-16)', async () => {
    const file = join(tempDataDir(), 'app.log');
    await writeFile(file, 'boot ok\n');
    const put = await curl(...digest(B179), '-T', file, `${base}/${B179}-app.log`);
    expect(put.status).toBe(201);
    expect(await readFile(join(ts.dataDir, 'provisioning', 'uploads', B179, `${B179}-app.log`), 'utf8')).toBe('boot ok\n');
    const foreign = await curl(...digest(B179), '-T', file, `${base}/${J179}-app.log`);
    expect(foreign.status).toBe(403);
    expect(existsSync(join(ts.dataDir, 'provisioning', 'uploads', J179))).toBe(false);
  });

  it('refuses plain HTTP: nothing answers HTTP on the HTTPS port, and no HTTP listener is on', async () => {
    const r = await curl(`http://127.0.0.1:${ts.server.provisioning!.https.port}/avayab179.xml`);
    expect(r.exit).not.toBe(0);
    expect(r.status).toBe(0);
    expect(ts.server.provisioning!.http).toBeUndefined();
  });

  it('answers hostile requests with the right error and keeps serving', async () => {
    const c = ['--cacert', caFile];
    expect((await curl(...c, '-X', 'DELETE', `${base}/avayab179.xml`)).status).toBe(405);
    expect((await curl(...c, `${base}/%zz`)).status).toBe(404);
    expect((await curl(...c, '--path-as-is', `${base}/../../etc/passwd`)).status).toBe(404);
    expect((await curl(...c, `${base}/${'a'.repeat(600)}`)).status).toBe(404);
    expect((await curl(...c, '-H', `Authorization: Digest ${'x'.repeat(9000)}`, `${base}/avayab179.xml`)).status).toBe(431);
    expect((await curl(...c, '-H', 'Authorization: Digest username="0004f2000179", realm="x", nonce="y", uri="/", response="z"', `${base}/avayab179.xml`)).status).toBe(401);
    expect((await curl(...c, '-H', 'Authorization: Basic QUFB', `${base}/avayab179.xml`)).status).toBe(401);
    // A junk TLS client hello: that connection closes, the server goes on.
    const sock = connect(ts.server.provisioning!.https.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      sock.on('connect', () => sock.write(Buffer.alloc(512, 0x16)));
      sock.on('close', () => resolve());
      sock.on('error', () => undefined);
    });
    expect((await curl(...digest(B179), `${base}/avayab179.xml`)).status).toBe(200);
  });

  it('refuses a source after repeated wrong passwords (429), other sources unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await curl(...digest(OFF, 'wrong'), `${base}/avayab179.xml`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    // The ban is of this (source, device) pair: another device from the same source still gets in.
    expect((await curl(...digest(B179), `${base}/avayab179.xml`)).status).toBe(200);
  });
});

describe('provisioning server: the HTTP bootstrap exception (A-14, §4.6)', () => {
  let ts: TestServer;
  let httpBase: string;

  beforeAll(async () => {
    const port = await freePort();
    // 127.0.0.2 is the LAN here; 127.0.0.1 counts as a remote source.
    ts = await startTestServer({
      provisioning: true,
      config: { sip: { localNetworks: ['127.0.0.2/32'] }, provisioning: { http: { listen: `127.0.0.1:${port}`, bootstrap: true } } },
    });
    await ts.server.store.users.add({ extension: '1001', password: 'Line-1001-secret' });
    await ts.server.store.devices.add({ mac: B179, family: 'avaya-b179', extensions: ['1001'] });
    httpBase = `http://127.0.0.1:${ts.server.provisioning!.http!.port}`;
  });
  afterAll(() => ts?.stop());

  it("serves a family's bootstrap files over HTTP to a local source (the 11xx policy file and root)", async () => {
    const policy = await curl('--interface', '127.0.0.2', `${httpBase}/11xxsecpolicy.txt`);
    expect(policy.status).toBe(200);
    expect(policy.body.length).toBeGreaterThan(0);
    const root = await curl('--interface', '127.0.0.2', `${httpBase}/WebRootCA.pem`);
    expect([root.status, root.body]).toEqual([200, ts.server.certificates.caCertPem]);
    // The same file to a source outside the local networks: refused.
    expect((await curl(`${httpBase}/11xxsecpolicy.txt`)).status).toBe(403);
  });

  it('serves over HTTP nothing but bootstrap files: never a credentials file, nor the token or upload routes', async () => {
    for (const path of ['/avayab179.xml', `/avaya-${B179}.xml`, '/46xxsettings.txt', '/ca.pem', `/d/${'A'.repeat(32)}/avayab179.xml`]) {
      const r = await curl('--interface', '127.0.0.2', httpBase + path);
      expect(r.status, path).toBe(403);
      expect(r.body).not.toContain('Line-1001-secret');
    }
    const file = join(tempDataDir(), 'x.log');
    await writeFile(file, 'x');
    expect((await curl('--interface', '127.0.0.2', '-T', file, `${httpBase}/${B179}-app.log`)).status).toBe(403);
  });
});

// Backup and restore, the System API and its access rules: a backup taken
// from a running server (CLI and web) restores into a new data directory
// with its users, trunks, settings and certificates, and a phone registers
// to the restored server; bad, cut, foreign and newer backups are refused
// with a reason; a web upload is staged and applied at the next start.
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWith, ADMIN_PASSWORD, ApiClient, startWithApi, type ApiTestServer } from './client.ts';
import { cli } from '../lib/cli.ts';
import { TestPhone } from '../lib/phone.ts';
import { waitUntil } from '../../lib/wait.ts';
import { captureLogger, startTestServer, tempDataDir, type TestServer } from '../lib/server.ts';
import { decodeBackup, encodeBackup } from '../../../src/ops/backup-archive.ts';
import { applyStagedRestore, PENDING_RESTORE, SCHEMA_VERSION } from '../../../src/ops/backup.ts';

let s: ApiTestServer;
let roles: Record<'admin' | 'security' | 'operator', ApiClient>;
const phones: TestPhone[] = [];
const others: TestServer[] = [];

beforeAll(async () => {
  s = await startWithApi({ auth: { pairFailures: 2 } });
  roles = {
    admin: await accountWith(s, 'cfg', ['admin']),
    security: await accountWith(s, 'sec', ['security-admin']),
    operator: await accountWith(s, 'ops', ['operator']),
  };
  expect((await s.admin.post('/api/users', { extension: '2001', password: 'Backup-two-one-pw', name: 'Ward 7' })).status).toBe(201);
  expect((await s.admin.post('/api/trunks', { name: 'itsp', host: 'sip.example.net', transport: 'udp', registerUser: 'acct', registerPassword: 'Trunk-Secret-9' })).status).toBe(201);
  expect((await s.admin.put('/api/settings', { media: { dtmf: 'info' } })).status).toBe(200);
}, 120_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  for (const o of others) await o.stop();
  await s.ts.stop();
});

async function phone(ts: TestServer, ext: string, password: string): Promise<TestPhone> {
  // The directory polls the store: the user is there within a poll.
  expect(await waitUntil(() => ts.server.directory.byExtension(ext) !== undefined, 5000)).toBe(true);
  const p = await TestPhone.start({ ext, password, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' } });
  phones.push(p);
  return p;
}

/** Users, trunks, settings and the CA of the first server are in `ts`. */
async function expectRestored(ts: TestServer): Promise<void> {
  const user = await ts.server.store.users.getByExtension('2001');
  expect(user?.name).toBe('Ward 7');
  expect((await ts.server.store.trunks.get('itsp'))?.registerPassword).toBe('Trunk-Secret-9');
  expect(await waitUntil(() => ts.server.systemMedia.current.dtmf === 'info', 5000)).toBe(true);
  expect(ts.server.certificates.caCertPem).toBe(s.ts.server.certificates.caCertPem);
  expect(ts.server.certificates.fingerprintSha256).toBe(s.ts.server.certificates.fingerprintSha256);
  // The administrator accounts came along: the old password logs in.
  const admin = new ApiClient(ts.server.http!.url, ts.server.certificates.caCertPem);
  expect((await admin.login('admin', ADMIN_PASSWORD)).status).toBe(200);
  const p = await phone(ts, '2001', 'Backup-two-one-pw');
  expect((await p.register()).status).toBe(200);
}

describe('backup and restore from the command line', () => {
  it('backs up the running server and restores into a new data directory; a phone registers there', async () => {
    const before = await phone(s.ts, '2001', 'Backup-two-one-pw');
    expect((await before.register()).status).toBe(200);
    const file = join(tempDataDir(), 'b.swb');
    const out = await cli('backup', '--out', file, '--data-dir', s.ts.dataDir);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('switchboard.db');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const m = decodeBackup(readFileSync(file), SCHEMA_VERSION).manifest;
    expect(m.files.map((f) => f.name).sort()).toEqual(['certs/ca.crt', 'certs/ca.key', 'certs/server.crt', 'certs/server.key', 'switchboard.db']);
    expect(m.schemaVersion).toBe(SCHEMA_VERSION);

    const dir = join(tempDataDir(), 'restored');
    const r = await cli('restore', '--in', file, '--data-dir', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(dir, 'switchboard.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'certs', 'ca.key')).mode & 0o777).toBe(0o600);

    // Not over a data directory that has a database.
    const again = await cli('restore', '--in', file, '--data-dir', dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already has a database/);

    const ts = await startTestServer({ dataDir: dir, http: true });
    others.push(ts);
    await expectRestored(ts);
  }, 120_000);

  it('refuses damaged, foreign, cut and newer backups, saying why, and writes nothing', async () => {
    const file = join(tempDataDir(), 'b.swb');
    expect((await cli('backup', '--out', file, '--data-dir', s.ts.dataDir)).code).toBe(0);
    const good = readFileSync(file);
    const contents = decodeBackup(good, SCHEMA_VERSION);
    const dbIndex = [...contents.files.keys()].indexOf('switchboard.db');
    const flipped = new Map(contents.files);
    const db = Buffer.from(flipped.get('switchboard.db')!);
    db.fill(0x55, 0, 16);
    flipped.set('switchboard.db', db);
    const tampered = encodeBackup({ ...contents.manifest }, contents.files);
    // The manifest of the real one with the bytes of another: the checksum must catch it.
    const raw = (await import('node:zlib')).gunzipSync(tampered);
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 0x01;
    const cases: [string, Buffer, RegExp][] = [
      ['not gzip', Buffer.from('hello, this is not a backup'), /not a complete gzip file/],
      ['cut short', good.subarray(0, Math.floor(good.length / 2)), /not a complete gzip file/],
      ['foreign gzip', gzipSync(Buffer.from('{"format":1}')), /does not start like one/],
      ['checksum', gzipSync(raw), /does not match its checksum/],
      ['newer schema', encodeBackup({ ...contents.manifest, schemaVersion: SCHEMA_VERSION + 1, version: '9.0.0' }, contents.files), /newer Switchboard \(9\.0\.0/],
      ['damaged database', encodeBackup({ ...contents.manifest }, flipped), /damaged|check|not a database|malformed/i],
    ];
    expect(dbIndex).toBeGreaterThanOrEqual(0);
    for (const [what, bytes, reason] of cases) {
      const f = join(tempDataDir(), `${what}.swb`);
      writeFileSync(f, bytes);
      const dir = join(tempDataDir(), 'target');
      const r = await cli('restore', '--in', f, '--data-dir', dir);
      expect(r.code, `${what}: ${r.stdout}`).toBe(2);
      expect(r.stderr, what).toMatch(reason);
      expect(existsSync(join(dir, 'switchboard.db')), what).toBe(false);
    }
  }, 120_000);

  it('refuses a PostgreSQL store, naming pg_dump', async () => {
    const r = await cli('backup', '--out', join(tempDataDir(), 'x.swb'), '--store', 'postgres://sb@127.0.0.1/none');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pg_dump/);
  });
});

describe('the System API', () => {
  it('lets a security administrator only download a backup or stage a restore; everyone reads the system', async () => {
    for (const c of [roles.operator, roles.admin]) {
      const r = await c.get('/api/system/backup');
      expect(r.status).toBe(403);
      expect(r.json.role).toBe('security-admin');
      expect((await c.request('POST', '/api/system/restore', { raw: Buffer.from('x'), contentType: 'application/octet-stream' })).status).toBe(403);
      expect((await c.get('/api/system/restore')).status).toBe(403);
    }
    for (const c of [roles.operator, roles.admin, roles.security]) {
      expect((await c.get('/api/system')).status).toBe(200);
      expect((await c.get('/api/system/log')).status).toBe(200);
      expect((await c.get('/api/certificates')).status).toBe(200);
    }
    expect((await s.client().get('/api/system')).status).toBe(401);
    expect((await s.client().get('/api/system/backup')).status).toBe(401);
  });

  it('describes the running system, its certificates (no key) and its recent warnings without secrets', async () => {
    const sys = (await roles.operator.get('/api/system')).json;
    expect(sys.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(sys.uptimeSec).toBeGreaterThanOrEqual(0);
    expect(sys.listeners).toEqual(expect.arrayContaining([
      { transport: 'udp', address: '127.0.0.1', port: s.ts.sipPort },
      expect.objectContaining({ transport: 'https' }),
    ]));
    expect(sys.workers).toHaveLength(1);
    expect(sys.storage).toMatchObject({ kind: 'sqlite', location: join(s.ts.dataDir, 'switchboard.db') });
    expect(sys.storage.sizeBytes).toBeGreaterThan(0);
    expect(sys.disk.freeBytes).toBeGreaterThan(0);
    expect(sys.capacity.users).toBeGreaterThanOrEqual(1);
    expect(sys.capacity.limits.callsPerUser).toBe(4);

    const certs = (await roles.operator.get('/api/certificates')).json;
    expect(certs.ca.isCa).toBe(true);
    expect(certs.identity.subjectAltNames).toEqual(expect.arrayContaining(['IP:127.0.0.1']));
    expect(certs.identity.fingerprintSha256).toBe(s.ts.server.certificates.fingerprintSha256);
    const pem = await roles.operator.get('/api/certificates/identity.pem');
    expect(pem.status).toBe(200);
    expect(pem.text).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(pem.text).not.toMatch(/PRIVATE KEY/);

    // Two wrong passwords ban the pair (auth.pairFailures 2): a warning the log view shows.
    const bad = await phone(s.ts, '2001', 'Wrong-Password-Secret');
    await bad.register();
    await bad.register();
    await bad.register();
    const log = (await roles.operator.get('/api/system/log')).json.items as { level: string; msg: string; fields: string }[];
    expect(log.some((l) => l.level === 'warn' && /temporary ban/.test(l.msg))).toBe(true);
    expect(JSON.stringify(log)).not.toContain('Wrong-Password-Secret');
  }, 60_000);

  it('downloads a backup, stages an upload on another server and applies it at the next start', async () => {
    const dl = await roles.security.get('/api/system/backup');
    expect(dl.status).toBe(200);
    expect(dl.headers['content-disposition']).toMatch(/attachment; filename="switchboard-backup-.*\.swb"/);
    const manifest = decodeBackup(dl.body, SCHEMA_VERSION).manifest;
    expect(manifest.files.map((f) => f.name)).toContain('certs/ca.key');
    const audit = await roles.security.get('/api/audit?action=backup');
    expect(audit.json.items[0]).toMatchObject({ actor: 'sec', action: 'download backup', target: 'system:backup' });

    // A fresh server takes the upload; nothing changes until it starts again.
    const fresh = await startWithApi();
    const dataDir = fresh.ts.dataDir;
    try {
      const junk = await fresh.admin.request('POST', '/api/system/restore', { raw: Buffer.from('junk'), contentType: 'application/octet-stream' });
      expect(junk.status).toBe(400);
      expect(junk.json.message).toMatch(/not a complete gzip file/);
      const up = await fresh.admin.request('POST', '/api/system/restore', { raw: dl.body, contentType: 'application/octet-stream' });
      expect(up.status, up.text).toBe(201);
      expect(up.json.pending.createdAt).toBe(manifest.createdAt);
      expect(statSync(join(dataDir, PENDING_RESTORE)).mode & 0o777).toBe(0o600);
      expect((await fresh.admin.get('/api/system/restore')).json.pending.schemaVersion).toBe(SCHEMA_VERSION);
      expect(await fresh.ts.server.store.users.getByExtension('2001')).toBeUndefined();
      // Cancel, and stage again.
      expect((await fresh.admin.delete('/api/system/restore')).status).toBe(204);
      expect((await fresh.admin.get('/api/system/restore')).json.pending).toBeNull();
      expect((await fresh.admin.delete('/api/system/restore')).status).toBe(404);
      expect((await fresh.admin.request('POST', '/api/system/restore', { raw: dl.body, contentType: 'application/octet-stream' })).status).toBe(201);
    } finally {
      await fresh.ts.stop();
    }
    // What `switchboard start` does first.
    const log = captureLogger();
    const aside = await applyStagedRestore(dataDir, log);
    expect(aside).not.toBeNull();
    expect(readdirSync(aside!).sort()).toEqual(expect.arrayContaining(['certs', 'switchboard.db']));
    expect(existsSync(join(dataDir, PENDING_RESTORE))).toBe(false);
    expect(log.entries.some((e) => e.level === 'warn' && /restored the staged backup/.test(e.msg ?? ''))).toBe(true);
    const ts = await startTestServer({ dataDir, http: true });
    others.push(ts);
    await expectRestored(ts);
  }, 120_000);

  it('sets a staged backup that no longer checks out aside and starts on the current data', async () => {
    const dir = tempDataDir();
    writeFileSync(join(dir, PENDING_RESTORE), 'not a backup');
    chmodSync(join(dir, PENDING_RESTORE), 0o600);
    const log = captureLogger();
    expect(await applyStagedRestore(dir, log)).toBeNull();
    expect(existsSync(join(dir, 'restore-refused.swb'))).toBe(true);
    expect(log.entries.some((e) => e.level === 'error' && /staged restore refused/.test(e.msg ?? ''))).toBe(true);
  });
});

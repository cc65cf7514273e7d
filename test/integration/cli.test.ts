// The `switchboard` command as scripts use it: real processes, real files.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDataDir } from './lib/server.ts';
import { TestClient } from './lib/sip-client.ts';

const BIN = new URL('../../bin/switchboard.mjs', import.meta.url).pathname;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts the server as a child process and resolves once it prints its ready line. */
function startServer(args: string[]): Promise<{ child: ChildProcess; ready: string }> {
  // No management HTTPS unless a test asks (its default 0.0.0.0:7071 would clash between parallel servers).
  const http = [...(args.includes('--http') ? [] : ['--http', '127.0.0.1:0']), ...(args.includes('--provisioning') ? [] : ['--provisioning', '127.0.0.1:0'])];
  const child = spawn(process.execPath, [BIN, 'start', ...args, ...http], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('Switchboard ready'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, ready: line });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

describe('user commands', () => {
  const dataDir = tempDataDir();

  it('adds, lists (without secrets) and removes users', () => {
    const add = cli('user', 'add', '--ext', '1001', '--password', 'Ward-4-Secret', '--name', 'Ward 4', '--data-dir', dataDir);
    expect(add).toMatchObject({ code: 0, stdout: 'added 1001\n' });
    const list = cli('user', 'list', '--json', '--data-dir', dataDir);
    expect(list.code).toBe(0);
    const users = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(users).toEqual([expect.objectContaining({ extension: '1001', name: 'Ward 4', authUser: '1001', enabled: true })]);
    expect(list.stdout).not.toContain('Ward-4-Secret');
    expect(cli('user', 'remove', '--ext', '1001', '--data-dir', dataDir).code).toBe(0);
    expect(JSON.parse(cli('user', 'list', '--json', '--data-dir', dataDir).stdout)).toEqual([]);
  });

  it('refuses bad input with exit code 2 and one line saying why', () => {
    cli('user', 'add', '--ext', '1002', '--password', 'Str0ng-Secret', '--data-dir', dataDir);
    for (const r of [
      cli('user', 'add', '--ext', '1002', '--password', 'Str0ng-Secret', '--data-dir', dataDir), // duplicate
      cli('user', 'add', '--ext', 'bad ext', '--password', 'Str0ng-Secret', '--data-dir', dataDir),
      cli('user', 'add', '--ext', '20a1', '--password', 'Str0ng-Secret', '--data-dir', dataDir),
      cli('user', 'add', '--ext', '1004', '--password', '123456', '--data-dir', dataDir),
      cli('user', 'add', '--ext', '1003', '--data-dir', dataDir), // no password
      cli('user', 'remove', '--ext', '4040', '--data-dir', dataDir),
      cli('user', 'frobnicate'),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim().length).toBeGreaterThan(10);
    }
  });

  it('refuses weak passwords and extensions off the pattern saying why, and generates a strong password on request', () => {
    const weak = cli('user', 'add', '--ext', '1005', '--password', 'Desk-1005-x', '--data-dir', dataDir);
    expect(weak.stderr.trim()).toBe('switchboard: --password: must not contain the extension (1005)');
    expect(cli('user', 'add', '--ext', '20a1', '--password', 'Str0ng-Secret', '--data-dir', dataDir).stderr.trim())
      .toBe('switchboard: --ext: must be digits only, 2 to 15 of them');
    const gen = cli('user', 'add', '--ext', '1006', '--password', 'generate', '--data-dir', dataDir);
    expect(gen.code).toBe(0);
    const password = /^password: (\S+)$/m.exec(gen.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z2-9]{16}$/);
    expect(cli('user', 'list', '--json', '--data-dir', dataDir).stdout).not.toContain(password);
    const set = cli('user', 'set', '--ext', '1006', '--password', 'generate', '--data-dir', dataDir);
    expect(set.stdout).toMatch(/^updated 1006\npassword: [A-Za-z2-9]{16}\n$/);
    expect(set.stdout).not.toContain(password);
    // Renumbering says what the auth user does.
    expect(cli('user', 'set', '--ext', '1006', '--new-ext', '1007', '--data-dir', dataDir).stdout)
      .toContain('the auth user followed it (was 1006, now 1007)');
    expect(cli('user', 'set', '--ext', '1007', '--auth-user', 'desk7', '--data-dir', dataDir).code).toBe(0);
    expect(cli('user', 'set', '--ext', '1007', '--new-ext', '1008', '--data-dir', dataDir).stdout).toContain('the auth user stays desk7');
    // The rules are settings.
    const rules = cli('user', 'rules', '--password-min-length', '12', '--data-dir', dataDir);
    expect(JSON.parse(rules.stdout)).toMatchObject({ password: { minLength: 12, refuseGuessable: true } });
    expect(cli('user', 'add', '--ext', '1009', '--password', 'Str0ng-Pass', '--data-dir', dataDir).stderr.trim())
      .toBe('switchboard: --password: must have at least 12 characters');
    expect(cli('user', 'rules', '--password-min-length', '8', '--data-dir', dataDir).code).toBe(0);
  });

  it('imports CSV only when every row is good, unless --partial; reports bad rows by number', () => {
    const file = path.join(dataDir, 'users.csv');
    writeFileSync(file, 'extension,name,password\n2001,Alice,Alice-Desk-Pw\n2002,"Bob, Jr.",Bobs-Desk-Pw\n,NoExt,pw-c\n2003,Carol,\n');
    const none = cli('user', 'import', file, '--data-dir', dataDir);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('nothing imported: 2 of 4 rows have errors (fix them, or --partial to import the good rows)\n');
    expect(cli('user', 'list', '--json', '--search', '200', '--data-dir', dataDir).stdout).toBe('[]\n');
    const r = cli('user', 'import', file, '--partial', '--data-dir', dataDir);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('2 added');
    expect(r.stderr).toMatch(/row 4/);
    expect(r.stderr).toMatch(/row 5/);
    const names = (JSON.parse(cli('user', 'list', '--json', '--data-dir', dataDir).stdout) as Array<{ name: string }>).map((u) => u.name);
    expect(names).toEqual(expect.arrayContaining(['Alice', 'Bob, Jr.']));
    expect(cli('user', 'import', path.join(dataDir, 'missing.csv'), '--data-dir', dataDir).code).toBe(2);
  });

  it('imports a big file with progress on stderr, refusing formula cells per row where a field cannot hold one', () => {
    const file = path.join(dataDir, 'big.csv');
    const rows = Array.from({ length: 3000 }, (_, i) => `${40000 + i},"=HYPERLINK(""x${i}"")",Big-File-Pw-${i}`);
    writeFileSync(file, ['extension,fullName,password', ...rows, '=1+1,Formula,Big-File-Pw', '49999,B,Big-File-Pw', '@5,C,Big-File-Pw'].join('\n'));
    const r = cli('user', 'import', file, '--partial', '--data-dir', dataDir);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('imported: 3001 added, 0 updated, 2 errors\n');
    expect(r.stderr).toMatch(/^importing 3003 rows\n/);
    expect(r.stderr).toContain('3003 of 3003 rows (100%)\n');
    expect(r.stderr).not.toMatch(/^row \d+ \(4\d{4}\)/m);
    expect(r.stderr).toContain('row 3002 (=1+1): extension: a spreadsheet formula is not allowed here (the cell starts with "=")');
    expect(r.stderr).toContain('row 3004 (@5): extension: a spreadsheet formula is not allowed here (the cell starts with "@")');
    const users = JSON.parse(cli('user', 'list', '--json', '--search', '4000', '--data-dir', dataDir).stdout) as Array<{ extension: string; name: string }>;
    // Free text keeps what was written; an export would guard it (see test/integration/api/csv-safety.test.ts).
    expect(users.find((u) => u.extension === '40001')?.name).toBe('=HYPERLINK("x1")');
  });
});

describe('start, certificates and live changes', () => {
  it('refuses bad settings with exit code 2', () => {
    const dataDir = tempDataDir();
    const bad = cli('start', '--sip-udp', '127.0.0.1:99999', '--data-dir', dataDir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sip\.udp/);
    const cfg = path.join(dataDir, 'bad.json');
    writeFileSync(cfg, '{ not json');
    expect(cli('start', '--config', cfg, '--data-dir', dataDir).code).toBe(2);
    writeFileSync(cfg, JSON.stringify({ registrar: { minExpiresSec: 'soon' } }));
    const typed = cli('start', '--config', cfg, '--data-dir', dataDir);
    expect(typed.code).toBe(2);
    expect(typed.stderr).toMatch(/registrar\.minExpiresSec/);
  });

  it('has no CA to export before the first start', () => {
    const r = cli('cert', 'export-ca', '--out', path.join(tempDataDir(), 'ca.pem'), '--data-dir', tempDataDir());
    expect(r.code).toBe(2);
  });

  it('starts, exports the CA that signs its TLS identity, takes users added while running, stops on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const tlsPort = await freePort();
    const { child, ready } = await startServer([
      '--data-dir', dataDir, '--domain', 'cli.test', '--log-level', 'warn',
      '--sip-udp', `127.0.0.1:${port}`, '--sip-tcp', `127.0.0.1:${port}`, '--sip-tls', `127.0.0.1:${tlsPort}`,
    ]);
    expect(ready).toContain(`udp 127.0.0.1:${port}`);
    expect(ready).toContain(`tls 127.0.0.1:${tlsPort}`);

    const pem = path.join(dataDir, 'ca.pem');
    const der = path.join(dataDir, 'ca.der');
    expect(cli('cert', 'export-ca', '--out', pem, '--data-dir', dataDir).code).toBe(0);
    expect(cli('cert', 'export-ca', '--der', '--out', der, '--data-dir', dataDir).code).toBe(0);
    const ca = new X509Certificate(readFileSync(pem));
    expect(new X509Certificate(readFileSync(der)).fingerprint256).toBe(ca.fingerprint256);
    const identity = new X509Certificate(readFileSync(path.join(dataDir, 'certs', 'server.crt')));
    expect(identity.verify(ca.publicKey)).toBe(true);
    expect(identity.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(identity.subjectAltName).toContain('URI:sip:cli.test');

    expect(cli('user', 'add', '--ext', '5001', '--password', 'Tls-Phone-Pw', '--data-dir', dataDir).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1200)); // one directory poll interval and then some
    const tls = await new TestClient('tls', '127.0.0.1', tlsPort, { ca: readFileSync(pem) }).open();
    try {
      expect((await tls.register('5001', 'Tls-Phone-Pw')).status).toBe(200);
    } finally {
      tls.close();
    }

    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

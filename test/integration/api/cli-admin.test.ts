// The management interface as scripts use it: `switchboard start --http`
// prints the one-time password once; `switchboard admin reset-password`
// recovers access from the machine, while the server runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, tempDataDir } from '../lib/server.ts';
import { ApiClient } from './client.ts';

const BIN = new URL('../../../bin/switchboard.mjs', import.meta.url).pathname;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function startServer(dataDir: string, httpPort: number): Promise<{ child: ChildProcess; out: () => string; ready: string }> {
  const sip = await freePort();
  const tls = await freePort();
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--log-level', 'info',
    '--sip-udp', `127.0.0.1:${sip}`, '--sip-tcp', `127.0.0.1:${sip}`, '--sip-tls', `127.0.0.1:${tls}`, '--http', `127.0.0.1:${httpPort}`,
    '--provisioning', '127.0.0.1:0',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', () => {
      const line = out.split('\n').find((l) => l.startsWith('Switchboard ready'));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  return { child, out: () => out, ready };
}

async function stop(child: ChildProcess, output: () => string): Promise<void> {
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(`${code} ${signal}`)));
  child.kill('SIGTERM');
  expect(await exited, output().slice(-2000)).toBe('0 null');
}

const NEW_PASSWORD = 'Script-Chosen-Pass-9';

describe('switchboard start --http and admin reset-password', () => {
  it('prints the one-time password once, and reset-password recovers a locked-out account', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const first = await startServer(dataDir, port);
    expect(first.ready).toContain(`https 127.0.0.1:${port}`);
    const lines = first.out().split('\n');
    const pwLines = lines.filter((l) => l.startsWith('Initial admin password: '));
    expect(pwLines).toHaveLength(1);
    const initial = pwLines[0]!.slice('Initial admin password: '.length);
    expect(initial.length).toBeGreaterThanOrEqual(16);
    expect(lines.filter((l) => l.includes(initial))).toHaveLength(1); // in no log line

    const ca = readFileSync(path.join(dataDir, 'certs', 'ca.crt'), 'utf8');
    const c = new ApiClient(`https://127.0.0.1:${port}`, ca);
    await c.loginChanging('admin', initial, NEW_PASSWORD);
    expect((await c.get('/api/users')).status).toBe(200);

    // Lock the account out from another client, then recover from the machine.
    const attacker = new ApiClient(`https://127.0.0.1:${port}`, ca);
    for (let i = 0; i < 5; i++) expect((await attacker.login('admin', `guess-${i}`)).status).toBe(401);
    expect((await attacker.login('admin', NEW_PASSWORD)).status).toBe(423);

    const reset = cli('admin', 'reset-password', '--data-dir', dataDir);
    expect(reset.code, reset.stderr).toBe(0);
    const m = /^One-time password for admin: (\S+)$/m.exec(reset.stdout);
    expect(m).not.toBeNull();
    const oneTime = m![1]!;
    expect(oneTime).not.toBe(initial);
    expect((await c.get('/api/users')).status).toBe(401); // its sessions ended
    const relog = new ApiClient(`https://127.0.0.1:${port}`, ca);
    expect((await relog.login('admin', NEW_PASSWORD)).status).toBe(401);
    const login = await relog.login('admin', oneTime); // the lock no longer applies to the new password
    expect(login.status).toBe(200);
    expect(login.json.mustChangePassword).toBe(true);
    const audit = await (async () => {
      await relog.post('/api/session/password', { currentPassword: oneTime, newPassword: NEW_PASSWORD });
      await relog.login('admin', NEW_PASSWORD);
      return relog.get('/api/audit?target=admin:admin');
    })();
    expect(audit.json.items.map((e: { action: string }) => e.action)).toContain('reset-password (command line)');
    await stop(first.child, first.out);

    const second = await startServer(dataDir, port);
    expect(second.out()).not.toContain('Initial admin password');
    await stop(second.child, second.out);
  }, 120_000); // two server processes and several CLI runs: slow on a loaded machine, not a speed test

  it('refuses an unknown account with exit code 2, and creates admin on an empty database', () => {
    const dataDir = tempDataDir();
    const created = cli('admin', 'reset-password', '--data-dir', dataDir);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^One-time password for admin: \S{16,}$/m);
    const unknown = cli('admin', 'reset-password', '--user', 'nobody', '--data-dir', dataDir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toEqual(['switchboard: no administrator named nobody']);
  }, 60_000);
});

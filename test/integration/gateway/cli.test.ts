// `switchboard gateway ...` and `user set --upstream-*` as an administrator
// runs them: real processes on a real SQLite data directory.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_DEFAULTS } from '../../../src/model/gateway.ts';
import { openStore } from '../../../src/store/index.ts';
import { cli } from '../lib/cli.ts';
import { tempDataDir } from '../lib/server.ts';

let dir: string;
const sb = (...args: string[]) => cli(...args, '--data-dir', dir);

async function stored<T>(fn: (s: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const store = openStore(dir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dir = tempDataDir();
  await stored(async (s) => {
    for (const ext of ['1001', '1002', '1003']) await s.users.add({ extension: ext, password: 'Handset-pw-1', name: `User ${ext}` });
  });
});

// Each command is a process of its own (a second or two on a loaded machine).
describe('switchboard gateway', { timeout: 180_000 }, () => {
  it('sets every kind of setting from its flag, shows them, and names the flag of a bad value', async () => {
    const set = await sb('gateway', 'set', '--mode', 'gateway', '--default-domain', 'pbx.example.com', '--transport', 'tcp', '--sips', 'on',
      '--register-expires', '600', '--max-pending', '4', '--dns-method', 'srv', '--codecs', 'PCMA,G722', '--dtmf-rfc2833', 'off',
      '--blacklist-timeout', '60', '--legacy-tls', 'on', '--trusted-server', 'on', '--profile', 'dect-400');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const shown = await sb('gateway', 'show', '--json');
    expect(JSON.parse(shown.stdout)).toEqual({
      ...GATEWAY_DEFAULTS, mode: 'gateway', defaultDomain: 'pbx.example.com', transport: 'tcp', sips: true, registerExpiresSec: 600,
      maxPendingRegistrations: 4, dnsMethod: 'srv', codecs: ['PCMA', 'G722'], dtmfRfc2833: false, blacklistTimeoutSec: 60,
      legacyTls: true, trustedServer: true, profile: 'dect-400',
    });
    expect((await sb('gateway', 'show')).stdout).toMatch(/^--register-expires\s+600$/m);
    const bad = await sb('gateway', 'set', '--register-expires', '5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--register-expires: must be at least 30');
    expect((await sb('gateway', 'set', '--sips', 'maybe')).stderr).toContain('--sips: must be on or off');
    expect((await sb('gateway', 'set', '--transport', 'sctp')).stderr).toContain('--transport:');
    expect((await sb('gateway', 'set')).code).toBe(2);
    expect((await sb('gateway', 'set', '--trusted-server', 'off')).code).toBe(0);
  });

  it('adds, lists and removes proxies; a fifth is refused', async () => {
    for (const [i, uri] of ['sip:192.0.2.1:5061;transport=tls', 'sip:192.0.2.2', 'sip:192.0.2.3', 'sip:192.0.2.4'].entries()) {
      const r = await sb('gateway', 'proxy', 'add', '--uri', uri, '--priority', String(i + 1), '--weight', '100');
      expect(r.stderr).toBe('');
    }
    const fifth = await sb('gateway', 'proxy', 'add', '--uri', 'sip:192.0.2.5');
    expect(fifth.code).toBe(2);
    expect(fifth.stderr).toContain('--uri: at most 4 proxies');
    const list = JSON.parse((await sb('gateway', 'proxy', 'list', '--json')).stdout);
    expect(list.map((p: { uri: string }) => p.uri)[0]).toBe('sip:192.0.2.1:5061;transport=tls');
    expect((await sb('gateway', 'proxy', 'remove', String(list[0].id))).code).toBe(0);
    expect((await sb('gateway', 'proxy', 'remove', 'sip:192.0.2.2')).code).toBe(0);
    expect((await sb('gateway', 'proxy', 'remove', 'sip:192.0.2.2')).code).toBe(2);
    expect((await sb('gateway', 'proxy', 'list')).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('writes lines with user set, lists them without passwords, switches them on and off, removes them', async () => {
    const add = await sb('user', 'set', '--ext', '1001', '--upstream-user', '41510', '--upstream-password', 'Upstream-Secret-7',
      '--ipei', '05003 0733588', '--access-code', '1234', '--standby-text', 'Ward 3');
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain('gateway line 1001\tupstream=41510');
    expect(add.stdout).not.toContain('Upstream-Secret-7');
    expect((await sb('user', 'set', '--ext', '1002', '--ipei', '050030733588')).stderr).toContain('give --upstream-user');
    expect((await sb('user', 'set', '--ext', '1002', '--upstream-user', 'b', '--ipei', '050030733588')).stderr).toContain('already the handset of 1001');
    expect((await sb('user', 'set', '--ext', '1002', '--upstream-user', 'b', '--ipei', '0500')).stderr).toContain('--ipei: must be an IPEI');
    expect((await sb('user', 'set', '--ext', '1002', '--upstream-user', 'b')).code).toBe(0);

    const lines = await sb('gateway', 'lines');
    expect(lines.stdout).toContain('1001\tupstream=41510\tauth-user=-\tpassword=set\tipei=05003 0733588');
    expect(lines.stdout).not.toContain('Upstream-Secret-7');
    expect(JSON.parse((await sb('gateway', 'lines', '--json')).stdout).map((l: { extension: string }) => l.extension)).toEqual(['1001', '1002']);

    expect((await sb('gateway', 'disable', '--all')).stdout).toContain('disabled 2 line(s): 1001 1002');
    const typo = await sb('gateway', 'enable', '1001', '1009');
    expect(typo.stderr).toContain('no gateway line for 1009');
    expect(await stored((s) => s.gateway.getLine('1001'))).toMatchObject({ disabled: true });
    expect((await sb('gateway', 'enable', '1001')).code).toBe(0);
    expect(await stored((s) => s.gateway.listLines())).toMatchObject([{ extension: '1001', disabled: false }, { extension: '1002', disabled: true }]);

    // The line follows its user's renumbering; --no-upstream removes it and leaves the user.
    expect((await sb('user', 'set', '--ext', '1002', '--new-ext', '2002')).code).toBe(0);
    expect((await sb('user', 'set', '--ext', '2002', '--no-upstream')).stdout).toContain('removed the gateway line of 2002');
    expect(await stored((s) => s.gateway.listLines())).toMatchObject([{ extension: '1001' }]);
    expect(await stored((s) => s.users.getByExtension('2002'))).toBeDefined();
  });

  it('refuses a line over the capacity profile and a profile below the lines there are', async () => {
    await stored(async (s) => {
      for (let i = 0; i < 11; i++) {
        await s.users.add({ extension: String(3000 + i), password: 'Handset-pw-1' });
        if (i < 10) await s.gateway.setLine({ extension: String(3000 + i), upstreamUser: `u${i}` });
      }
    });
    // 1001 and ten more: 11 lines; dect-200 takes 12.
    expect((await sb('gateway', 'set', '--profile', 'dect-200')).code).toBe(0);
    expect((await sb('user', 'set', '--ext', '3010', '--upstream-user', 'u10')).code).toBe(0);
    const over = await sb('user', 'set', '--ext', '1003', '--upstream-user', 'over');
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('the capacity profile dect-200 allows 12 gateway users');
    expect((await sb('gateway', 'set', '--profile', 'dect-400')).code).toBe(0);
    expect((await sb('user', 'set', '--ext', '1003', '--upstream-user', 'over')).code).toBe(0);
    const lower = await sb('gateway', 'set', '--profile', 'dect-200');
    expect(lower.code).toBe(2);
    expect(lower.stderr).toContain('--profile: the capacity profile dect-200 allows 12 gateway users (lines) and 13 exist');
  });

  it('round-trips the users file: export without passwords, import keeps them, a new line without one starts disabled', async () => {
    const out = path.join(dir, 'users.csv');
    expect((await sb('provision', 'gateway-users', '--ext', '1001,1003', '--out', out)).code).toBe(0);
    const exported = readFileSync(out, 'utf8');
    expect(exported).not.toContain('Upstream-Secret-7');
    expect(exported).toContain('05003 0733588,1234,Ward 3,41510,');
    await stored((s) => s.gateway.removeLine('1003'));
    const edited = exported.replace('Ward 3', 'Ward 5') + ',,@SUM(1),x,,,,,false,false,false,3005\r\n';
    writeFileSync(out, edited);
    const dry = await sb('gateway', 'import', out, '--dry-run');
    expect(dry.code).toBe(2); // a row was refused
    expect(dry.stdout).toContain('dry run: would have added 1, updated 1, 1 error(s); nothing was changed');
    expect(await stored((s) => s.gateway.getLine('1003'))).toBeUndefined();
    const r = await sb('gateway', 'import', out, '--json');
    expect(JSON.parse(r.stdout).rows).toEqual([
      { row: 2, extension: '1001', action: 'updated', passwordKept: true },
      { row: 3, extension: '1003', action: 'added', needsPassword: true },
      { row: 4, extension: 'x', action: 'error', error: expect.stringContaining('spreadsheet formula') },
    ]);
    const lines = await stored((s) => s.gateway.linesWithSecrets());
    expect(lines.find((l) => l.extension === '1001')).toMatchObject({ password: 'Upstream-Secret-7', standbyText: 'Ward 5' });
    expect(lines.find((l) => l.extension === '1003')).toMatchObject({ password: '', disabled: true, upstreamUser: 'over' });
  });
});

// `switchboard provision gateway-users` as a script runs it: a real process
// on a real SQLite data directory, users put in through the store.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayUserOf, parseGatewayUsers } from '../../src/provisioning/gateway-users.ts';
import { openStore } from '../../src/store/index.ts';
import { cli } from './lib/cli.ts';
import { tempDataDir } from './lib/server.ts';

describe('provision gateway-users from the command line', () => {
  it('writes the users file without passwords by default, with them on request, and only the chosen users', async () => {
    const dir = tempDataDir();
    const store = openStore(dir);
    try {
      await store.users.add({ extension: '1001', password: 'Handset-1001-pw', name: 'Ward 3' });
      await store.users.add({ extension: '1002', password: '=Handset-1002', enabled: false, forwardUnconditional: '1001' });
      await store.users.add({ extension: '1003', password: 'Handset-1003-pw', authUser: 'dect1003' });
    } finally {
      await store.close();
    }

    const csv = await cli('provision', 'gateway-users', '--data-dir', dir);
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    expect(csv.stdout).not.toContain('Handset-');
    expect(csv.stdout.split('\r\n')[0]).toBe('ipei,accessCode,standbyText,username,domain,displayName,authUser,callForward,disabled,dectToDect,adminRights,extension');
    const read = parseGatewayUsers(csv.stdout);
    expect(read.errors).toEqual([]);
    expect(read.users.map((u) => [u.username, u.authPassword, u.disabled, u.callForward, u.authUser])).toEqual([
      ['1001', null, false, '', '1001'], ['1002', null, true, '1001', '1002'], ['1003', null, false, '', 'dect1003'],
    ]);

    const out = path.join(dir, 'gateway-users.json');
    const json = await cli('provision', 'gateway-users', '--format', 'json', '--with-passwords', '--domain', 'example.com', '--out', out, '--data-dir', dir);
    expect(json.code).toBe(0);
    expect(json.stdout).toContain(`wrote 3 users to ${out} (with passwords`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const written = parseGatewayUsers(readFileSync(out, 'utf8'));
    expect(written.users[0]).toEqual(gatewayUserOf(
      { extension: '1001', name: 'Ward 3', authUser: '1001', password: 'Handset-1001-pw', enabled: true, forwardUnconditional: null }, 'example.com'));
    expect(written.users.map((u) => u.authPassword)).toEqual(['Handset-1001-pw', '=Handset-1002', 'Handset-1003-pw']);

    const some = await cli('provision', 'gateway-users', '--ext', '1003,1001', '--data-dir', dir);
    expect(parseGatewayUsers(some.stdout).users.map((u) => u.username)).toEqual(['1001', '1003']);

    const missing = await cli('provision', 'gateway-users', '--ext', '1009', '--data-dir', dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no user 1009');
    const bad = await cli('provision', 'gateway-users', '--format', 'xml', '--data-dir', dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format: must be csv or json');
    const badDomain = await cli('provision', 'gateway-users', '--domain', 'a b', '--data-dir', dir);
    expect(badDomain.code).toBe(2);
  });
});

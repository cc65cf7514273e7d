// `switchboard user set` feature options, `huntgroup` and `shortcode`, as scripts use them.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDataDir } from './lib/server.ts';

const BIN = new URL('../../bin/switchboard.mjs', import.meta.url).pathname;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('user set: telephony features', () => {
  const dataDir = tempDataDir();
  const d = ['--data-dir', dataDir];

  it('sets and clears forwarding, do not disturb, follow me and pickup group', () => {
    expect(cli('user', 'add', '--ext', '1001', '--password', 'Str0ng-Desk-Pw', ...d).code).toBe(0);
    const set = cli('user', 'set', '--ext', '1001', '--forward-busy', '2000', '--forward-no-answer', '3000', '--forward-no-answer-sec', '20',
      '--dnd', 'on', '--dnd-exceptions', '1002,1003', '--follow-me', '1005', '--pickup-group', 'ward', ...d);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const [u] = JSON.parse(cli('user', 'list', '--json', ...d).stdout) as Record<string, unknown>[];
    expect(u).toMatchObject({ forwardBusy: '2000', forwardNoAnswer: '3000', forwardNoAnswerSec: 20, forwardNumber: '2000',
      dnd: true, dndExceptions: ['1002', '1003'], followMe: '1005', pickupGroup: 'ward', forwardUnconditional: null });
    expect(cli('user', 'list', ...d).stdout).toContain('dnd(+2) fwd-busy=2000 fwd-no-answer=3000/20s follow-me=1005 pickup=ward');
    expect(cli('user', 'set', '--ext', '1001', '--forward-busy', 'off', '--dnd', 'off', '--dnd-exceptions', 'none', '--follow-me', 'off',
      '--forward-no-answer-sec', 'default', ...d).code).toBe(0);
    const [v] = JSON.parse(cli('user', 'list', '--json', ...d).stdout) as Record<string, unknown>[];
    expect(v).toMatchObject({ forwardBusy: null, dnd: false, dndExceptions: [], followMe: null, forwardNoAnswerSec: null, forwardNumber: '2000' });
  });

  it('names the option at fault', () => {
    const cases: [string[], RegExp][] = [
      [['--forward-no-answer-sec', '3'], /^switchboard: --forward-no-answer-sec: /],
      [['--dnd', 'maybe'], /^switchboard: --dnd: /],
      [['--dnd-exceptions', '1,1'], /^switchboard: --dnd-exceptions: /],
      [['--follow-me', '1001'], /^switchboard: --follow-me: /],
      [['--pickup-group', 'a b'], /^switchboard: --pickup-group: /],
    ];
    for (const [args, re] of cases) {
      const r = cli('user', 'set', '--ext', '1001', ...args, ...d);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});

describe('huntgroup and shortcode commands', () => {
  const dataDir = tempDataDir();
  const d = ['--data-dir', dataDir];

  it('adds, lists, changes, logs members out and removes a hunt group', () => {
    for (const ext of ['1001', '1002']) expect(cli('user', 'add', '--ext', ext, '--password', 'Str0ng-Desk-Pw', ...d).code).toBe(0);
    const add = cli('huntgroup', 'add', '--number', '600', '--name', 'Ward', '--strategy', 'rotary', '--members', '1001,1002', '--no-answer-sec', '20', '--overflow', '601', ...d);
    expect(add.stderr).toBe('');
    expect(cli('huntgroup', 'set', '--number', '600', '--logout', '1002', ...d).code).toBe(0);
    expect(cli('huntgroup', 'list', ...d).stdout).toBe('600\tWard\trotary\tmembers=1001,1002(out)\tno-answer=20s\toverflow=601\n');
    expect(cli('huntgroup', 'set', '--number', '600', '--strategy', 'ring-all', '--overflow', 'off', ...d).code).toBe(0);
    const [g] = JSON.parse(cli('huntgroup', 'list', '--json', ...d).stdout) as Record<string, unknown>[];
    expect(g).toMatchObject({ strategy: 'ring-all', overflow: null, members: [{ extension: '1001', loggedIn: true }, { extension: '1002', loggedIn: false }] });
    const clash = cli('user', 'add', '--ext', '600', '--password', 'Str0ng-Desk-Pw', ...d);
    expect([clash.code, clash.stderr]).toEqual([2, 'switchboard: extension: 600 is the number of a hunt group\n']);
    const bad = cli('huntgroup', 'add', '--number', '601', '--name', 'x', '--strategy', 'random', ...d);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^switchboard: --strategy: /);
    expect(cli('huntgroup', 'remove', '--number', '600', ...d).code).toBe(0);
    expect(cli('huntgroup', 'list', ...d).stdout).toBe('');
  });

  it('lists the default short codes, sets, moves and removes one, refusing clashes', () => {
    expect(cli('shortcode', 'list', ...d).stdout.split('\n')).toContain('*07*N#\tforward-number');
    expect(cli('shortcode', 'set', '--code', '*99', '--feature', 'huntgroup-login', '--value', '600', '--position', '0', ...d).code).toBe(0);
    expect(cli('shortcode', 'list', ...d).stdout.split('\n')[0]).toBe('*99\thuntgroup-login\t600');
    expect(cli('shortcode', 'set', '--code', '*99', '--feature', 'voicemail', ...d).code).toBe(0);
    expect(cli('shortcode', 'list', ...d).stdout.split('\n')[0]).toBe('*99\tvoicemail');
    const clash = cli('shortcode', 'set', '--code', '100N', '--feature', 'park', ...d);
    expect([clash.code, clash.stderr]).toEqual([2, 'switchboard: code: 100N would catch calls to extension 1001\n']);
    const unknown = cli('shortcode', 'set', '--code', '*98', '--feature', 'teleport', ...d);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^switchboard: --feature: /);
    expect(cli('shortcode', 'remove', '--code', '*99', ...d).code).toBe(0);
  });
});

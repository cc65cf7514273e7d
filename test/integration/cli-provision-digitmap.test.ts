// `switchboard provision digitmap` as an administrator runs it: the real
// command in a child process on a rules file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './lib/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-digitmap-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchboard provision digitmap', () => {
  it('prints the maps and the errors of a CSV rules file, and JSON with --json', async () => {
    const file = join(dir, 'rules.csv');
    await writeFile(
      file,
      [
        '"Name","Pattern","Translation","IsInternalExtension"',
        '"Lisbon 5 digit 2","^((8047[0-9])|(8063[0-9]))$","+3512131$1","True"',
        '"Keep plus","^\\+(\\d*)$","+$1","False"',
      ].join('\n'),
    );
    const text = await cli('provision', 'digitmap', '--rules', file, '--e911-dial-string', '112', '--e911-dial-mask', '999');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('dialplan.1.originaldigitmap=^((8047[0-9])|(8063[0-9]))$@+3512131$1@1|^\\+(\\d*)$@+$1@0\n');
    expect(text.stdout).toContain('dialplan.1.digitmap=8047x|8063x|112|999\n');
    expect(text.stdout).toMatch(/DIALPLANERROR: step 4: rule 2 "Keep plus"/);

    const json = await cli('provision', 'digitmap', '--rules', file, '--json');
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { digitMap: string; translations: unknown[]; errors: string[] };
    expect(result.digitMap).toBe('8047x|8063x');
    expect(result.translations).toHaveLength(2);
    expect(result.errors).toHaveLength(1);
  });

  it('refuses a bad rules file with exit code 2 and one line saying why', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '[{"pattern":"^1$","translation":"1","isInternalExtension":"maybe"}]');
    const r = await cli('provision', 'digitmap', '--rules', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('switchboard: --rules: rule 1: IsInternalExtension must be True or False\n');
    const missing = await cli('provision', 'digitmap', '--rules', join(dir, 'none.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^switchboard: --rules: cannot read /);
  });
});

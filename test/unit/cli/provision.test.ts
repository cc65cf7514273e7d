// The `provision` group is shared by several subcommand modules: whichever
// registers first creates it, the others get the same one.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { provisionCommand } from '../../../src/cli/provision.ts';

describe('provisionCommand', () => {
  it('creates the group once and returns it to every later caller', () => {
    const program = new Command('switchboard');
    const first = provisionCommand(program);
    first.command('one');
    const second = provisionCommand(program);
    second.command('two');
    expect(second).toBe(first);
    expect(program.commands.filter((c) => c.name() === 'provision')).toHaveLength(1);
    expect(first.commands.map((c) => c.name())).toEqual(['one', 'two']);
  });
});

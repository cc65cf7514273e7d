import type { Command } from 'commander';

/**
 * The `switchboard provision` command group, created by whichever
 * subcommand registers first; the others add to it.
 */
export function provisionCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'provision')
    ?? program.command('provision').description('phone provisioning: device files, dial plans, the handset gateway users file');
}

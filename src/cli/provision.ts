// The `switchboard provision …` command group. Several modules add
// subcommands to it; whichever registers first creates it, the others get the
// same group, so registration order does not matter.
import type { Command } from 'commander';

export function provisionCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'provision')
    ?? program.command('provision').description('phone provisioning: device files, dial plans, the handset gateway users file');
}

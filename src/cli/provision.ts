// The `switchboard provision` group. Several parts add subcommands to it
// (render, dial plans, DHCP options); each gets the group from here.
import type { Command } from 'commander';

/** The `provision` command group, created on first use. */
export function provisionCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'provision')
    ?? program.command('provision').description('phone provisioning: the files devices get, dial plans, DHCP options');
}

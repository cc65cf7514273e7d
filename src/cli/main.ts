import { Command, CommanderError } from 'commander';
import { registerStartCommand } from './start.ts';
import { registerUserCommands } from './users.ts';
import { registerCertCommands } from './certs.ts';
import { registerTrunkCommands } from './trunks.ts';
import { registerHuntGroupCommands } from './huntgroups.ts';
import { registerAppDataCommands } from './appdata.ts';
import { registerCallsCommand } from './calls.ts';
import { registerAdminCommands } from './admin.ts';
import { CliError } from './common.ts';
import { registerStatusCommand } from './status.ts';
import { registerBansCommands } from './bans.ts';
import { registerSystemCommands } from './system.ts';
import { registerTrustedPeerCommands } from './trusted-peers.ts';
import { registerParkCommands } from './park.ts';
import { registerBackupCommands } from './backup.ts';
import { registerVoicemailCommands } from './voicemail.ts';
import { registerProvisionGatewayUsersCommand } from './provision-gateway-users.ts';
import { registerProvisionDigitmapCommand } from './provision-digitmap.ts';
import { registerDeviceCommands } from './devices.ts';
import { registerGatewayCommands } from './gateway.ts';
import { registerGatewayStatusCommands } from './gateway-status.ts';

/**
 * `switchboard` command line. Exit codes: 0 ok, 2 bad input (one line on
 * stderr saying why), 1 anything else.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('switchboard')
    .description('Switchboard SIP communications server')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  registerStartCommand(program);
  registerUserCommands(program);
  registerCertCommands(program);
  registerStatusCommand(program);
  registerBansCommands(program);
  registerSystemCommands(program);
  registerTrustedPeerCommands(program);
  registerTrunkCommands(program);
  registerHuntGroupCommands(program);
  registerAppDataCommands(program);
  registerCallsCommand(program);
  registerAdminCommands(program);
  registerParkCommands(program);
  registerBackupCommands(program);
  registerVoicemailCommands(program);
  registerProvisionGatewayUsersCommand(program);
  registerProvisionDigitmapCommand(program);
  registerDeviceCommands(program);
  registerGatewayCommands(program);
  // After the gateway settings commands: it adds status and reregister to their `gateway` command.
  registerGatewayStatusCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; commander already printed its reason otherwise.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`switchboard: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}

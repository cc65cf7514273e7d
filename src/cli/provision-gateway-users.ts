// `switchboard provision gateway-users`: the handset gateway's users file
// (SPEC §5.8) from the users in the store; passwords only when asked (B-16).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { gatewayUsersToCsv, gatewayUsersToJson } from '../provisioning/gateway-users.ts';
import { GatewayUsersSelectionError, gatewayUsersFromStore } from '../provisioning/gateway-users-source.ts';
import { hostSchema } from '../provisioning/host.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore, type StoreLocation } from './common.ts';
import { provisionCommand } from './provision.ts';

interface Options extends StoreLocation {
  format: string;
  withPasswords?: boolean;
  out?: string;
  domain?: string;
  ext?: string;
}

export function registerProvisionGatewayUsersCommand(program: Command): void {
  provisionCommand(program)
    .command('gateway-users')
    .description("write the handset gateway's users file (CSV or JSON) from the users and their gateway lines; passwords are left out unless --with-passwords")
    .option('--format <format>', 'csv or json', 'csv')
    .option('--with-passwords', 'include the SIP passwords (keep the file secret); also when the gateway setting strip-passwords-on-export is off')
    .option('--out <file>', 'write to this file (mode 600) instead of standard output')
    .option('--domain <domain>', "each user's domain (default: empty, the gateway's default domain)")
    .option('--ext <list>', 'only these extensions, comma-separated (default: every user)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: Options) => {
      if (o.format !== 'csv' && o.format !== 'json') throw new CliError('--format: must be csv or json');
      const domain = o.domain ?? '';
      if (domain !== '' && !hostSchema.safeParse(domain).success) throw new CliError('--domain: must be a host name or an IP address');
      const only = o.ext === undefined ? undefined : new Set(o.ext.split(',').map((e) => e.trim()).filter((e) => e !== ''));
      const { users, withPasswords } = await withStore(o, async (s) => {
        try {
          // The gateway's stripPasswordsOnExport off puts them in without asking (B-16).
          const withPasswords = o.withPasswords === true || !(await s.gateway.settings()).stripPasswordsOnExport;
          return { users: await gatewayUsersFromStore(s, { domain, ...(only ? { only } : {}) }), withPasswords };
        } catch (err) {
          if (err instanceof GatewayUsersSelectionError) throw new CliError(err.tooMany ? `${err.message} with --ext` : err.message);
          throw err;
        }
      });
      const text = (o.format === 'json' ? gatewayUsersToJson : gatewayUsersToCsv)(users, withPasswords);
      if (o.out === undefined) {
        process.stdout.write(text);
        return;
      }
      await writeFile(o.out, text, { mode: 0o600 });
      print(`wrote ${users.length} users to ${o.out}${withPasswords ? ' (with passwords: keep it secret)' : ''}`);
    });
}

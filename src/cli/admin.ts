// `switchboard admin reset-password`: recovers access to the management API
// from the machine itself (whoever can read the data directory owns the
// server anyway). Works while the server runs: it reads accounts and
// sessions from the same database.
import type { Command } from 'commander';
import { passwordPolicySchema } from '../config/schema.ts';
import { INITIAL_ADMIN, resetAdminPassword } from '../security/admin-auth.ts';
import { isStoreError } from '../store/errors.ts';
import { PASSWORD_POLICY_KEY } from '../api/context.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, openCliStore, print, type StoreLocation } from './common.ts';

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('management API administrator accounts');
  admin
    .command('reset-password')
    .description('give an administrator a new one-time password (printed once; must be changed at the next login)')
    .option('--user <name>', 'account name', INITIAL_ADMIN)
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { user: string } & StoreLocation) => {
      const store = await openCliStore(o);
      let password: string;
      try {
        const stored = passwordPolicySchema.safeParse(await store.admin.settings.get(PASSWORD_POLICY_KEY));
        const policy = stored.success ? stored.data : passwordPolicySchema.parse({});
        password = await resetAdminPassword(store.admin, o.user, policy);
      } catch (err) {
        if (isStoreError(err)) throw new CliError(err.code === 'not-found' ? `no administrator named ${o.user}` : err.message);
        throw err;
      } finally {
        await store.close();
      }
      print(`One-time password for ${o.user}: ${password}`);
    });
}

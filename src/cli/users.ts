import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { featureSummary, USER_FEATURE_KEYS } from '../model/user-features.ts';
import type { User } from '../store/types.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { registerUserSetCommand } from './user-set.ts';
import { registerUserShowCommand } from './user-show.ts';

const PROGRESS_EVERY_MS = 2000;

/** What `user list --json` prints per user: every field except secrets. */
function publicView(u: User) {
  return {
    extension: u.extension,
    name: u.name,
    fullName: u.fullName,
    authUser: u.authUser,
    enabled: u.enabled,
    callWaiting: u.callWaiting,
    codecs: u.codecs,
    maxCalls: u.maxCalls,
    noAnswerTimeoutSec: u.noAnswerTimeoutSec,
    outboundCalls: u.outboundCalls,
    ...Object.fromEntries(USER_FEATURE_KEYS.map((k) => [k, u[k]])),
  };
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users and extensions (works while the server runs)');

  user
    .command('add')
    .description('add a user')
    .requiredOption('--ext <extension>', 'extension number')
    .requiredOption('--password <secret>', 'SIP password (login code)')
    .option('--name <name>', 'account name (default: the extension)')
    .option('--full-name <name>', 'display name')
    .option('--auth-user <user>', 'SIP digest user name (default: the extension)')
    .option('--voicemail-code <digits>', 'mailbox PIN')
    .option('--disabled', 'create the user disabled')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { ext: string; password: string; name?: string; fullName?: string; authUser?: string; voicemailCode?: string; disabled?: boolean; dataDir?: string; store?: string }) => {
      const u = await withStore(o, async (s) =>
        await s.users.add({
          extension: o.ext,
          password: o.password,
          name: o.name,
          fullName: o.fullName,
          authUser: o.authUser,
          voicemailCode: o.voicemailCode,
          enabled: !o.disabled,
        }),
      );
      print(`added ${u.extension}`);
    });

  user
    .command('list')
    .description('list users')
    .option('--search <text>', 'filter by extension, name or auth user')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { search?: string; json?: boolean; dataDir?: string; store?: string }) => {
      const users = await withStore(o, async (s) => {
        const all: User[] = [];
        for (let offset = 0; ; offset += 1000) {
          const page = await s.users.list({ offset, limit: 1000, search: o.search });
          all.push(...page);
          if (page.length < 1000) return all;
        }
      });
      if (o.json) {
        print(JSON.stringify(users.map(publicView)));
        return;
      }
      for (const u of users) {
        const features = featureSummary(u);
        print(`${u.extension}\t${u.name}\t${u.fullName}\t${u.enabled ? 'enabled' : 'disabled'}${features.length > 0 ? `\t${features.join(' ')}` : ''}`);
      }
    });

  registerUserSetCommand(user);
  registerUserShowCommand(user);

  user
    .command('remove')
    .description('remove a user')
    .requiredOption('--ext <extension>', 'extension number')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { ext: string; dataDir?: string; store?: string }) => {
      await withStore(o, async (s) => await s.users.remove(o.ext));
      print(`removed ${o.ext}`);
    });

  user
    .command('import')
    .description('import users from CSV (header row; columns extension,name,password; optional outboundCalls yes/no)')
    .argument('<file>', 'CSV file')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (file: string, o: { dataDir?: string; store?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      // Progress on stderr (stdout keeps the one-line result): when the file is read, then every few seconds.
      let shown = 0;
      const onProgress = (done: number, total: number) => {
        const now = Date.now();
        if (done !== 0 && done !== total && now - shown < PROGRESS_EVERY_MS) return;
        shown = now;
        process.stderr.write(done === 0 ? `importing ${total} rows\n` : `${done} of ${total} rows (${Math.floor((done * 100) / total)}%)\n`);
      };
      const rows = await withStore(o, async (s) => await s.users.importCsv(text, { onProgress }));
      let errors = 0;
      const counts = { added: 0, updated: 0 };
      for (const r of rows) {
        if (r.action === 'error') {
          errors++;
          process.stderr.write(`row ${r.row} (${r.extension || '?'}): ${r.error}\n`);
        } else counts[r.action]++;
      }
      print(`imported: ${counts.added} added, ${counts.updated} updated, ${errors} errors`);
      if (errors > 0) process.exitCode = 2;
    });
}

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ApiError } from '../api/errors.ts';
import { runImport, type ImportReportRow } from '../api/user-import.ts';
import { jsonRows } from '../api/user-io.ts';
import { UserCsvError, userCsvCount, userCsvRows, type UserCsvRow } from '../model/user-csv.ts';
import { featureSummary, USER_FEATURE_KEYS } from '../model/user-features.ts';
import {
  generateSipPassword, USER_RULES_DEFAULTS, USER_RULES_KEY, userRuleIssues, userRulesOf, userRulesSchema,
} from '../model/user-rules.ts';
import type { User } from '../store/types.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { onOff } from './options.ts';
import { registerUserSetCommand } from './user-set.ts';
import { registerUserShowCommand } from './user-show.ts';

const PROGRESS_EVERY_MS = 2000;

/** What `user list --json` prints per user: every field except secrets. */
function publicView(u: User) {
  return {
    extension: u.extension,
    name: u.name,
    authUser: u.authUser,
    enabled: u.enabled,
    callWaiting: u.callWaiting,
    codecs: u.codecs,
    maxCalls: u.maxCalls,
    noAnswerTimeoutSec: u.noAnswerTimeoutSec,
    outboundCalls: u.outboundCalls,
    voicemail: u.voicemail,
    mwi: u.mwi,
    ...Object.fromEntries(USER_FEATURE_KEYS.map((k) => [k, u[k]])),
  };
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users and extensions (works while the server runs)');

  user
    .command('add')
    .description('add a user')
    .requiredOption('--ext <extension>', 'extension number')
    .requiredOption('--password <secret>', 'SIP password (login code); "generate" makes a strong one and prints it once')
    .option('--name <name>', 'display name (caller ID, status)')
    .addOption(new Option('--full-name <name>', 'old name of --name').hideHelp())
    .option('--auth-user <user>', 'SIP digest user name the phone logs in with (default: the extension)')
    .option('--voicemail-code <digits>', 'mailbox PIN')
    .option('--disabled', 'create the user disabled')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { ext: string; password: string; name?: string; fullName?: string; authUser?: string; voicemailCode?: string; disabled?: boolean; dataDir?: string; store?: string }) => {
      const generated = o.password === 'generate';
      const u = await withStore(o, async (s) => {
        const rules = userRulesOf(await s.admin.settings.get(USER_RULES_KEY));
        const input = {
          extension: o.ext,
          password: generated ? generateSipPassword(rules) : o.password,
          name: o.name ?? o.fullName,
          authUser: o.authUser,
          voicemailCode: o.voicemailCode,
          enabled: !o.disabled,
        };
        const issues = userRuleIssues(input, rules);
        if (issues.length > 0) throw new CliError(issues.map((i) => `${i.path === 'extension' ? '--ext' : '--password'}: ${i.message}`).join('; '));
        return await s.users.add(input);
      });
      print(`added ${u.extension}`);
      // Shown this once: it is stored for digest authentication and never printed again.
      if (generated) print(`password: ${u.password}`);
    });

  user
    .command('list')
    .description('list users')
    .option('--search <text>', 'filter by extension, display name or auth user')
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
        print(`${u.extension}\t${u.name}\t${u.authUser}\t${u.enabled ? 'enabled' : 'disabled'}${features.length > 0 ? `\t${features.join(' ')}` : ''}`);
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
    .description('import users from the file the web UI or GET /api/users/export writes (CSV or JSON): new extensions are added, ' +
      'existing ones updated; a file with any bad row changes nothing unless --partial')
    .argument('<file>', 'CSV (header row: extension,name,authUser,password,... as exported) or JSON (an array of users)')
    .option('--format <csv|json>', 'file format (default: by the file name, else by its first character)')
    .option('--dry-run', 'check every row and report what would change; change nothing')
    .option('--partial', 'apply the good rows of a file with bad ones')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (file: string, o: { format?: string; dryRun?: boolean; partial?: boolean; dataDir?: string; store?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      const { total, rows } = await importFile(file, text, o.format);
      // Progress on stderr (stdout keeps the one-line result): when the file is read, then every few seconds.
      process.stderr.write(`importing ${total} rows\n`);
      let shown = 0;
      const counted = async function* () {
        let done = 0;
        for await (const r of rows()) {
          yield r;
          done++;
          const now = Date.now();
          if (done === total || now - shown >= PROGRESS_EVERY_MS) {
            shown = now;
            process.stderr.write(`${done} of ${total} rows (${Math.floor((done * 100) / total)}%)\n`);
          }
        }
      };
      const report: ImportReportRow[] = [];
      const applied = await withStore(o, async (s) => {
        const rules = userRulesOf(await s.admin.settings.get(USER_RULES_KEY));
        return await runImport(s, counted, { dryRun: o.dryRun ?? false, partial: o.partial ?? false, rules }, report);
      });
      const counts = { add: 0, update: 0, error: 0 };
      for (const r of report) {
        counts[r.action]++;
        if (r.action === 'error') process.stderr.write(`row ${r.row} (${r.extension || '?'}): ${r.error}\n`);
        else if (o.dryRun) print(`row ${r.row} (${r.extension}): would ${r.action}${r.changes?.length ? ` ${r.changes.join(' ')}` : ''}`);
      }
      if (o.dryRun) print(`dry run: would add ${counts.add}, update ${counts.update}; ${counts.error} errors; nothing changed`);
      else if (applied) print(`imported: ${counts.add} added, ${counts.update} updated, ${counts.error} errors`);
      else print(`nothing imported: ${counts.error} of ${report.length} rows have errors (fix them, or --partial to import the good rows)`);
      if (counts.error > 0) process.exitCode = 2;
    });

  user
    .command('rules')
    .description('show or change the rules new extensions and SIP passwords must meet')
    .option('--extension-pattern <regex>', `regular expression an extension must match as a whole (default ${USER_RULES_DEFAULTS.extensionPattern})`)
    .option('--extension-hint <words>', 'the pattern in words, for messages ("extension: must be <words>")')
    .option('--password-min-length <n>', `fewest characters of a SIP password (default ${USER_RULES_DEFAULTS.password.minLength})`)
    .option('--refuse-guessable <on|off>', 'refuse repeats, runs, common words and the extension in a password (default on)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { extensionPattern?: string; extensionHint?: string; passwordMinLength?: string; refuseGuessable?: string; dataDir?: string; store?: string }) => {
      const rules = await withStore(o, async (s) => {
        const current = userRulesOf(await s.admin.settings.get(USER_RULES_KEY));
        if ([o.extensionPattern, o.extensionHint, o.passwordMinLength, o.refuseGuessable].every((v) => v === undefined)) return current;
        const next = userRulesSchema.safeParse({
          extensionPattern: o.extensionPattern ?? current.extensionPattern,
          extensionHint: o.extensionHint ?? (o.extensionPattern === undefined ? current.extensionHint : undefined),
          password: {
            minLength: o.passwordMinLength === undefined ? current.password.minLength : Number(o.passwordMinLength),
            refuseGuessable: onOff('--refuse-guessable', o.refuseGuessable) ?? current.password.refuseGuessable,
          },
        });
        if (!next.success) throw new CliError(next.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        await s.admin.settings.set({ [USER_RULES_KEY]: next.data });
        return next.data;
      });
      print(JSON.stringify(rules, null, 2));
    });
}

/** The rows of an import file, CSV or JSON; a file that cannot be read at all is refused before anything changes. */
async function importFile(file: string, text: string, format: string | undefined): Promise<{ total: number; rows: () => AsyncIterable<UserCsvRow> | Iterable<UserCsvRow> }> {
  const json = format === undefined ? /\.json$/i.test(file) || /^\ufeff?\s*[[{]/.test(text) : format === 'json';
  if (format !== undefined && format !== 'csv' && format !== 'json') throw new CliError('--format: must be csv or json');
  try {
    if (json) {
      let body: unknown;
      try {
        body = JSON.parse(text.replace(/^\ufeff/, ''));
      } catch (err) {
        throw new CliError(`${file}: not JSON (${(err as Error).message})`);
      }
      const rows = jsonRows(body);
      return { total: rows.length, rows: () => rows };
    }
    return { total: await userCsvCount(text), rows: () => userCsvRows(text) };
  } catch (err) {
    if (err instanceof UserCsvError || err instanceof ApiError) throw new CliError(`${file}: ${err.message.replace(/^file: /, '')}`);
    throw err;
  }
}

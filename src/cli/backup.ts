// `switchboard backup --out FILE` (safe while the server runs) and
// `switchboard restore --in FILE --data-dir NEW` (into a new data directory).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BackupError, createBackup, readBackup, restoreInto, writePrivateFile } from '../ops/backup.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, resolveDataDir } from './common.ts';

async function asCliError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message);
    throw err;
  }
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write a consistent backup of the data directory (database, CA, TLS identity, config.json); works while the server runs')
    .requiredOption('--out <file>', 'the backup file to write (mode 0600: it holds the CA key and password hashes)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .option('--config <file>', 'a config file kept outside the data directory, to include as config.json')
    .action(async (o: { out: string; dataDir?: string; store?: string; config?: string }) => {
      const { archive, manifest } = await asCliError(() => createBackup(resolveDataDir(o.dataDir), { storeUrl: o.store, configFile: o.config }));
      await writePrivateFile(o.out, archive);
      print(`backup written to ${o.out}: ${manifest.files.map((f) => f.name).join(', ')} (schema ${manifest.schemaVersion}, ${archive.length} bytes)`);
    });
  program
    .command('restore')
    .description('restore a backup into a new data directory, then start the server on it')
    .requiredOption('--in <file>', 'the backup file')
    .requiredOption('--data-dir <dir>', 'a data directory without a database (created if missing)')
    .action(async (o: { in: string; dataDir: string }) => {
      const data = await readFile(o.in).catch((err: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read ${o.in}: ${err.code ?? err.message}`);
      });
      const dir = resolveDataDir(o.dataDir);
      const contents = await asCliError(async () => readBackup(data));
      await asCliError(() => restoreInto(dir, contents));
      const m = contents.manifest;
      print(`restored the backup of ${new Date(m.createdAt).toISOString()} (Switchboard ${m.version}) into ${dir}: ` +
        `${m.files.map((f) => f.name).join(', ')}`);
      if (contents.files.has('config.json')) print(`start it with: switchboard start --data-dir ${dir} --config ${dir}/config.json`);
      else print(`start it with: switchboard start --data-dir ${dir}`);
    });
}
